"""Every channel kind, checked the same way (as Zulip's `check_webhook` checks its
integrations): payloads in the provider's documented format under
tests/fixtures/channels/<kind>/*.json, each with what `identify` and `parse` must make
of it; and every kind's package has the same files. A new kind joins by adding its
fixtures; nothing here names a kind, except the allowlist of those not yet converted."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from django.template.loader import get_template
from django.test import RequestFactory
from django.urls import reverse
from django.utils.module_loading import import_string

from adesso.channels import registry
from adesso.channels.models import Channel
from adesso.channels.registry import get_kind
from tests.builders import make_org

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "channels"
DOCS = ROOT / "docs" / "channels.md"
# The files every kind's package has (docs/channels.md, "The files of a kind").
SHAPE = ("__init__.py", "adapter.py", "views.py", "urls.py", "forms.py", "templates/{kind}_channel/_config.html")
# Not yet on the pipeline and the shape: their intake predates it (issue 10). Remove a
# kind from here when it is converted; the tests below then hold it to the shape.
NOT_YET_CONVERTED: set[str] = set()
CONVERTED = [kind for kind in registry.KINDS if kind not in NOT_YET_CONVERTED]
CASES = [(kind, path) for kind in CONVERTED for path in sorted((FIXTURES / kind).glob("*.json"))]


def test_the_allowlist_is_the_registrys():
    assert set(registry.NOT_YET_CONVERTED) == NOT_YET_CONVERTED
    assert NOT_YET_CONVERTED < set(registry.KINDS)


@pytest.mark.parametrize("kind", CONVERTED)
def test_every_kind_has_the_same_files(kind):
    package = ROOT / Path(*registry.package(kind).split("."))
    adapter = get_kind(kind)
    # A kind fed by REST clients has its routes in the REST API (`api_router`), not a urls.py.
    shape = [name for name in SHAPE if not (name == "urls.py" and adapter.api_router)]
    missing = [name.format(kind=kind) for name in shape if not (package / name.format(kind=kind)).is_file()]
    assert missing == []
    assert len(list((FIXTURES / kind).glob("*.json"))) >= 5, "captured payloads of the provider"
    assert adapter.inbound_path == reverse(registry.inbound_route(kind), kwargs={"channel_code": "{code}"}).replace(
        "%7Bcode%7D", "{code}"
    )
    form = import_string(adapter.config_form)()
    assert get_template(f"{kind}_channel/_config.html").render({"form": form})
    assert f"\n## {adapter.label}\n" in DOCS.read_text(), "its section of docs/channels.md"
    assert set(adapter.capabilities()) == {
        "attachments",
        "templates",
        "public_replies",
        "reply_window",
        "typing",
        "edits",
        "subjects",
        "originals",
    }


def normalised(item: Any) -> dict[str, Any]:
    """A normalised event as a fixture writes it: its type, and its fields that are not
    empty (dates as ISO 8601, bytes in base64)."""

    def plain(value: Any) -> Any:
        if isinstance(value, dt.datetime):
            return value.isoformat()
        if isinstance(value, bytes):
            return base64.b64encode(value).decode()
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items() if v not in ("", None, [], False)}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value

    return {"type": type(item).__name__, **plain(dataclasses.asdict(item))}


@pytest.mark.django_db
@pytest.mark.parametrize(("kind", "path"), CASES, ids=[f"{k}/{p.stem}" for k, p in CASES])
def test_captured_payloads_become_the_expected_events(kind, path):
    fixture = json.loads(path.read_text())
    channel = Channel.objects.create(organization=make_org(), kind=kind, name=kind, config=fixture.get("config", {}))
    adapter = get_kind(kind)
    if "request" in fixture:
        # A provider that posts a form, or wraps the event: the request as it posts it,
        # and the kind takes the raw event out of it (what the webhook stores).
        [body] = adapter.raw_events(channel, provider_request(fixture["request"]))
    else:
        body = json.dumps(fixture["body"], ensure_ascii=False).encode()

    identity = adapter.identify(channel, body)
    parsed = adapter.parse(channel, body)

    assert dataclasses.asdict(identity) == fixture["event"]
    assert [normalised(item) for item in parsed] == fixture["expected"]


def provider_request(spec: dict[str, Any]) -> Any:
    """A POST as the provider sends it: `content_type` and `body` (a form's fields, or
    a JSON document)."""
    content_type, body = spec["content_type"], spec["body"]
    factory = RequestFactory()
    if content_type.startswith("multipart/form-data"):
        return factory.post("/", data=body)
    if content_type.startswith("application/x-www-form-urlencoded"):
        return factory.post("/", data=urlencode(body), content_type=content_type)
    return factory.post("/", data=json.dumps(body, ensure_ascii=False).encode(), content_type=content_type)
