"""One shape for every channel kind (issue 10): the same files in each kind's package,
its section in docs/channels.md and its captured payloads; and templates and views ask
the kind what it can do (`channel.capabilities`), never compare it with a kind's name.

Everything here runs over the registry, so a new kind is held to it on arrival. The
payloads themselves are checked by tests/test_channel_fixtures.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.urls import reverse

from adesso.channels import registry
from adesso.channels.base import InboundMessage, InboundSender
from adesso.channels.models import Channel
from adesso.channels.registry import get_kind
from adesso.intake.actions import do_receive_message
from tests.builders import make_agent, make_org

ROOT = Path(__file__).resolve().parent.parent
ADESSO = ROOT / "adesso"
KINDS = sorted(registry.KINDS)
# The files of a kind (docs/channels.md, "The files of a kind").
FILES = (
    "__init__.py",
    "apps.py",
    "adapter.py",
    "views.py",
    "forms.py",
    "urls.py",
    "templates/{kind}_channel/_config.html",
)


def kind_name_comparison() -> re.Pattern[str]:
    """A kind's name compared with something called kind: `channel.kind == "email"`,
    `"email" != kind`, `kind in ("api", "email")`, `kind="email"` / `channel__kind__in=[...]`
    in a query. Not an HTML attribute (`data-kind="api"`) nor another kind (`mail.kind`
    of a mail is "bounce", never a channel kind)."""
    name = "|".join(re.escape(kind) for kind in KINDS)
    quoted = rf"""["'](?:{name})["']"""
    return re.compile(
        rf"(?<![-\w.])[\w.]*kind\s*(?:==|!=)\s*{quoted}"
        rf"|{quoted}\s*(?:==|!=)\s*[\w.]*kind\b"
        rf"|(?<![-\w.])[\w.]*kind(?:__in|__exact|__iexact)?\s*=\s*[(\[]?\s*{quoted}"
        rf"|\bkind\s+(?:not\s+)?in\s+[(\[{{][^)\]}}]*{quoted}"
    )


def templates_and_views() -> list[Path]:
    """Every template, everything of the agent UI (adesso/front), and every view module."""
    found = set(ADESSO.rglob("templates/**/*.html")) | set((ADESSO / "front").rglob("*.py"))
    found |= set(ADESSO.rglob("views.py")) | set(ADESSO.rglob("views_*.py")) | set(ADESSO.rglob("views/*.py"))
    return sorted(found)


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_has_the_same_files(kind):
    package = ROOT / Path(*registry.package(kind).split("."))
    adapter = get_kind(kind)
    # A kind fed by REST clients has its routes in the REST API (`api_router`) instead.
    wanted = [name.format(kind=kind) for name in FILES if not (name == "urls.py" and adapter.api_router)]

    missing = [name for name in wanted if not (package / name).is_file()]

    assert missing == []
    assert f"\n## {adapter.label}\n" in (ROOT / "docs" / "channels.md").read_text(), "its section of docs/channels.md"
    assert sorted((ROOT / "tests" / "fixtures" / "channels" / kind).glob("*.json")), "its captured payloads"


def test_no_template_or_view_names_a_kind():
    pattern = kind_name_comparison()
    files = templates_and_views()

    named = [
        f"{path.relative_to(ROOT)}:{number}: {match.group(0)}"
        for path in files
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        for match in pattern.finditer(line)
    ]

    assert len(files) > 50  # the scan found the templates and views
    assert named == [], "ask channel.capabilities instead"


@pytest.mark.parametrize(
    "line",
    [
        '{% if other and m.channel.kind == "email" %}',
        "if channel.kind != 'telegram':",
        'if "api" == conversation.channel.kind:',
        'Channel.objects.filter(organization=org, kind="email")',
        'messages.filter(channel__kind__in=["email", "telegram"])',
        'if kind in ("api", "email"):',
    ],
)
def test_the_scan_sees_a_kind_compared_by_name(line):
    assert kind_name_comparison().search(line)


@pytest.mark.parametrize(
    "line",
    [
        '<fieldset class="channel-config" data-kind="api">',
        '{% if mail.kind == "bounce" %}',
        '<input type="email" name="email">',
        'values = {"email": "", "name": ""}',
        "{% if channel.capabilities.originals %}",
    ],
)
def test_the_scan_leaves_other_uses_of_the_words_alone(line):
    assert not kind_name_comparison().search(line)


@pytest.mark.django_db
@pytest.mark.parametrize("kind", KINDS)
def test_the_original_of_a_message_is_offered_where_the_kind_keeps_it(client, kind):
    """The "Show original" link comes from the kind's `original_view`, not from its name."""
    org = make_org()
    giulia = make_agent(org, "Giulia")
    channel = Channel.objects.create(organization=org, kind=kind, name="Canale")
    received = do_receive_message(channel, InboundMessage("m-1", InboundSender("c-1", name="Mario"), "Buongiorno"))
    client.force_login(giulia)

    page = client.get(reverse("front:conversation", args=[received.conversation.code]))

    assert page.status_code == 200
    view = channel.capabilities["originals"]
    link = f'href="{reverse(view, args=[received.message.code])}"' if view else 'class="small muted original-link"'
    assert (link in page.content.decode()) == bool(view)
