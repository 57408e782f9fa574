"""The Italian catalogue is complete and current, and Italian agents see no English.

To update the catalogue after changing UI strings:
    cd adesso && ../.venv/bin/adesso makemessages -l it --add-location=file --no-obsolete \
        --ignore=static --ignore=__pycache__
    (translate the new entries in adesso/locale/it/LC_MESSAGES/django.po)
    ../.venv/bin/adesso compilemessages -l it
"""

import gettext
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client

import adesso
from adesso.conversations.actions import do_assign, do_change_status, do_send_reply
from adesso.conversations.models import Conversation
from tests.builders import inbound_payload, make_agent, make_api_channel, make_org, make_team, receive_inbound

SOURCE = Path(adesso.__file__).parent
PO = SOURCE / "locale" / "it" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
MAKEMESSAGES = {"locale": ["it"], "add_location": "file", "no_obsolete": True,
                "ignore_patterns": ["static", "__pycache__"], "verbosity": 0}


def parse_po(path):
    """Entries of a .po file as dicts: msgid, plural, msgstrs, flags; obsolete ones left out."""
    entries, entry, field = [], None, None
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if not line.strip():
            if entry is not None:
                entries.append(entry)
            entry, field = None, None
            continue
        if line.startswith("#~"):
            entry = None
            continue
        entry = entry if entry is not None else {"msgid": "", "plural": None, "msgstrs": {}, "flags": ""}
        if line.startswith("#,"):
            entry["flags"] += line[2:]
        elif line.startswith("#"):
            continue
        else:
            match = re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d\])?) "(.*)"$', line)
            if match:
                field = match.group(1)
                value = match.group(2)
            else:
                value = line.strip()[1:-1]
            value = value.encode().decode("unicode_escape").encode("latin-1").decode("utf-8")
            if field == "msgctxt":
                entry["msgid"] = value + "\x04" + entry["msgid"]
            elif field == "msgid":
                entry["msgid"] += value
            elif field == "msgid_plural":
                entry["plural"] = (entry["plural"] or "") + value
            else:
                entry["msgstrs"][field] = entry["msgstrs"].get(field, "") + value
    return [e for e in entries if e["msgid"]]


def test_catalogue_has_no_untranslated_or_fuzzy_entries():
    entries = parse_po(PO)
    assert len(entries) > 100
    untranslated = [e["msgid"] for e in entries if not all(e["msgstrs"].values())]
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]
    assert untranslated == []
    assert fuzzy == []
    stats = subprocess.run(["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(PO)],
                           capture_output=True, text=True, check=True)
    assert "untranslated" not in stats.stderr and "fuzzy" not in stats.stderr, stats.stderr


def test_catalogue_is_up_to_date_with_the_sources(tmp_path, monkeypatch, settings):
    """makemessages over a copy of the sources changes no entry: nothing new, nothing stale."""
    copy = tmp_path / "adesso"
    shutil.copytree(SOURCE, copy, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "static"))
    monkeypatch.chdir(copy)
    settings.LOCALE_PATHS = [copy / "locale"]
    call_command("makemessages", **MAKEMESSAGES)
    fresh = parse_po(copy / "locale" / "it" / "LC_MESSAGES" / "django.po")
    committed = parse_po(PO)
    assert sorted(e["msgid"] for e in fresh) == sorted(e["msgid"] for e in committed), (
        "adesso/locale/it is stale: run makemessages (see this module's docstring)")
    assert [e["msgid"] for e in fresh if "fuzzy" in e["flags"] or not all(e["msgstrs"].values())] == []
    # And the compiled catalogue is the .po compiled.
    compiled = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "-o", str(compiled), str(PO)], check=True)
    with MO.open("rb") as committed_mo, compiled.open("rb") as fresh_mo:
        assert gettext.GNUTranslations(committed_mo)._catalog == gettext.GNUTranslations(fresh_mo)._catalog


class VisibleText(HTMLParser):
    """Text nodes and the attributes people read (placeholder, title, aria-label)."""

    def __init__(self):
        super().__init__()
        self.chunks, self.skip = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.skip += 1
        self.chunks += [v for k, v in attrs if k in ("placeholder", "title", "aria-label") and v]

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.skip -= 1

    def handle_data(self, data):
        if not self.skip and data.strip():
            self.chunks.append(data)


def english_fragments():
    """Literal pieces of every msgid whose Italian differs, minus words Italian uses too."""
    with MO.open("rb") as f:
        catalog = gettext.GNUTranslations(f)._catalog
    italian = " ".join(str(v) for v in catalog.values())
    fragments = set()
    for key, value in catalog.items():
        msgid = (key[0] if isinstance(key, tuple) else key).split("\x04")[-1]
        if not msgid or msgid == value:
            continue
        text = re.sub(r"<[^>]+>", "%s", msgid)
        for piece in re.split(r"%\(\w+\)[sd]|%s|[()«»:,.…]", text):
            piece = piece.strip()
            if len(piece) >= 2 and re.search(r"[A-Za-z]", piece) and not re.search(
                rf"(?<!\w){re.escape(piece)}(?!\w)", italian
            ):
                fragments.add(piece)
    return fragments


def english_in(html, fragments):
    parser = VisibleText()
    parser.feed(html)
    text = "\n".join(parser.chunks)
    return sorted(f for f in fragments if re.search(rf"(?<!\w){re.escape(f)}(?!\w)", text))


@pytest.mark.django_db
def test_italian_agent_sees_no_english():
    org = make_org()
    giulia = make_agent(org, "Giulia", language="it")
    marco = make_agent(org, "Marco", language="it")
    team = make_team(org, "Ordini", [giulia, marco])
    web, app = make_api_channel(org, "Sito web"), make_api_channel(org, "Negozio")
    client = Client()

    def receive(ch, sender, text, **sender_extra):
        body = receive_inbound(client, ch, inbound_payload(sender_id=sender, text=text, sender=sender_extra))
        return Conversation.objects.get(code=body["conversation"])

    earlier = receive(web, "w-1", "Il pacco è arrivato rotto", email="mario@example.com")
    do_send_reply(giulia, earlier, "Ci dispiace molto, lo sostituiamo subito.")
    do_change_status(giulia, earlier, "resolved")
    c = receive(app, "a-1", "Quando arriva il rimborso?", email="mario@example.com", phone="3331234567")
    do_send_reply(giulia, c, "Verifico con l'amministrazione", internal=True)
    do_assign(giulia, c, giulia, team)
    do_assign(giulia, c, marco, team, note="Ha già inviato la foto del pacco rotto.")
    receive(web, "w-2", "Salve", name="Mario Rossi", email="mario@example.com")  # a merge suggestion
    agent = Client()
    agent.force_login(marco)
    fragments = english_fragments()
    assert {"Inbox", "Reply", "Resolve", "Handover note", "Waiting for"} <= fragments
    pages = ["/", "/?tab=mine", "/?status=all", f"/c/{c.code}/", f"/c/{earlier.code}/", "/contacts/",
             f"/contacts/{c.contact.code}/", "/search?q=rimborso"]
    for url in pages:
        r = agent.get(url)
        assert r.status_code == 200, url
        html = r.content.decode()
        assert '<html lang="it">' in html
        assert english_in(html, fragments) == [], url
    page = agent.get(f"/c/{c.code}/").content.decode()
    assert "Nota di passaggio di consegne" in page
    assert "ha trasferito la conversazione da Giulia a Marco" in page
    assert "Rispondi" in page and "Risolvi" in page and "Posticipa" in page
    # The refusal of a transfer without a note, in Italian too.
    r = agent.post(f"/c/{c.code}/assign", {"assignee": giulia.code})
    assert "serve una nota di passaggio di consegne" in r.content.decode()
    assert english_in(r.content.decode(), fragments) == []


GETTEXT_NAMES = {"_", "gettext", "gettext_lazy", "ngettext", "ngettext_lazy", "pgettext", "pgettext_lazy", "npgettext"}


def test_no_translated_string_is_written_inside_an_f_string():
    # xgettext cannot read a call inside an f-string's braces: such a string never
    # reaches the catalogue, so Italian users see it in English (a chart's "No data for
    # this period." did) while the catalogue tests above stay green.
    import ast

    found = []
    for path in sorted(SOURCE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.JoinedStr):
                continue
            for inner in ast.walk(node):
                if isinstance(inner, ast.Call) and isinstance(inner.func, ast.Name) and inner.func.id in GETTEXT_NAMES:
                    found.append(f"{path.relative_to(SOURCE)}:{inner.lineno}")
    assert found == [], f"gettext inside f-strings (move the call out of the braces): {found}"
