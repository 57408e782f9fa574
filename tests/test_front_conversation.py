"""The conversation page through the Django test client: timeline, reply, note,
transfer with a handover note, status, snooze, priority, live partials."""

import base64
import datetime as dt
import zoneinfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from adesso.conversations.actions import do_assign, do_send_reply
from adesso.conversations.models import Conversation, ConversationEvent, Message
from adesso.front.snooze import preset_time
from tests.test_front_views import logged_in, make_shop, receive

pytestmark = pytest.mark.django_db

ROME = zoneinfo.ZoneInfo("Europe/Rome")


@pytest.fixture
def shop():
    return make_shop()


def test_conversation_page_shows_the_whole_timeline_across_channels(shop):
    """Acceptance 5: one contact known by email and by phone, one timeline."""
    giulia, web, app = shop.giulia, shop.web, shop.app
    by_email = receive(web, "web-1", "Il pacco non è arrivato",
                       sender={"email": "mario@example.com"})
    Conversation.objects.filter(pk=by_email.pk).update(status="resolved")
    by_phone = receive(app, "app-9", "Vi scrivo anche da qui",
                       sender={"email": "mario@example.com", "phone": "333 1234567"})
    assert by_phone.contact_id == by_email.contact_id
    kinds = set(by_phone.contact.identities.values_list("kind", flat=True))
    assert {"email", "phone"} <= kinds
    html = logged_in(giulia).get(f"/c/{by_phone.code}/").content.decode()
    assert "Il pacco non è arrivato" in html
    assert "Vi scrivo anche da qui" in html
    assert html.index("Il pacco non è arrivato") < html.index("Vi scrivo anche da qui")
    assert "Other conversations, on every channel" in html
    assert f'href="/c/{by_email.code}/"' in html  # the earlier conversation, marked
    assert "Conversation on Sito web" in html
    assert f'href="/contacts/{by_phone.contact.code}/"' in html


def test_conversation_and_contact_pages_query_count_does_not_grow(shop):
    giulia, marco, web, app = shop.giulia, shop.marco, shop.web, shop.app
    client = logged_in(giulia)

    def queries(url):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx)

    def earlier(i):  # another conversation on another channel, with a reply and a transfer
        old = receive(web, f"mario-{i}", f"Vecchia {i}", sender={"email": "mario@example.com"})
        do_send_reply(marco, old, "Risposta")
        do_assign(marco, old, giulia, note="Passo a Giulia")
        Conversation.objects.filter(pk=old.pk).update(status="resolved")

    earlier(0)
    c = receive(app, "mario", "Prima", sender={"email": "mario@example.com"})
    small = (queries(f"/c/{c.code}/"), queries(f"/contacts/{c.contact.code}/"),
             queries(f"/c/{c.code}/timeline"))
    for i in range(1, 4):
        earlier(i)
    for i in range(10):
        receive(app, "mario", f"Ancora {i}", attachments=[
            {"filename": f"foto{i}.txt", "content_base64": base64.b64encode(b"x").decode()}])
        do_send_reply(giulia if i % 2 else marco, c, f"Risposta {i}", internal=bool(i % 3))
    big = (queries(f"/c/{c.code}/"), queries(f"/contacts/{c.contact.code}/"),
           queries(f"/c/{c.code}/timeline"))
    assert big == small


def test_customer_html_is_rendered_sanitised_and_text_escaped(shop):
    giulia, web = shop.giulia, shop.web
    c = receive(web, text="<b>not bold</b>")
    receive(web, text="", html="<p>Grazie <strong>mille</strong><script>alert(1)</script></p>")
    html = logged_in(giulia).get(f"/c/{c.code}/").content.decode()
    assert "&lt;b&gt;not bold&lt;/b&gt;" in html
    assert "<strong>mille</strong>" in html
    assert "alert(1)" not in html


def test_reply_and_internal_note(shop):
    giulia, web = shop.giulia, shop.web
    c = receive(web)
    client = logged_in(giulia)
    r = client.post(f"/c/{c.code}/reply", {"text": "Arriva domani, ci scusi.", "internal": "0"})
    assert r.status_code == 302
    reply = Message.objects.get(direction="outgoing", internal=False)
    assert reply.text == "Arriva domani, ci scusi."
    c.refresh_from_db()
    assert c.assignee == giulia and c.waiting_since is None
    r = client.post(f"/c/{c.code}/reply", {"text": "Cliente gentile, verificare corriere", "internal": "1"})
    assert r.status_code == 302
    assert Message.objects.get(internal=True).text == "Cliente gentile, verificare corriere"
    page = client.get(f"/c/{c.code}/").content.decode()
    assert "Arriva domani, ci scusi." in page
    assert "Cliente gentile, verificare corriere" in page
    assert "msg-note" in page
    r = client.post(f"/c/{c.code}/reply", {"text": "   ", "internal": "0"})
    assert r.status_code == 400
    assert "The reply is empty." in r.content.decode()
    assert client.get(f"/c/{c.code}/reply").status_code == 405


def test_transfer_needs_a_note_and_the_note_is_shown_at_the_top(shop):
    giulia, marco, team, web = shop.giulia, shop.marco, shop.team, shop.web
    c = receive(web)
    do_send_reply(giulia, c, "Ciao, guardo subito")
    client = logged_in(giulia)
    r = client.post(f"/c/{c.code}/assign", {"assignee": marco.code, "note": ""})
    assert r.status_code == 400
    assert "A transfer needs a handover note" in r.content.decode()
    c.refresh_from_db()
    assert c.assignee == giulia
    note = "Ha già mandato la foto dello scontrino: serve solo il rimborso."
    r = client.post(f"/c/{c.code}/assign",
                    {"assignee": marco.code, "team": team.code, "note": note})
    assert r.status_code == 302
    c.refresh_from_db()
    assert c.assignee == marco and c.team == team
    page = logged_in(marco).get(f"/c/{c.code}/").content.decode()
    top = page[page.index('id="handover-note"'):page.index('id="timeline"')]
    assert note in top
    assert "transferred the conversation from Giulia to Marco" in page
    assert ConversationEvent.objects.filter(conversation=c, kind="transferred").count() == 1


def test_resolve_reopen_and_priority(shop):
    giulia, web = shop.giulia, shop.web
    c = receive(web)
    client = logged_in(giulia)
    page = client.get(f"/c/{c.code}/").content.decode()
    assert 'name="reason"' in page  # unanswered: resolving asks why
    refused = client.post(f"/c/{c.code}/status", {"status": "resolved"})
    assert refused.status_code == 400
    assert "has no answer yet" in refused.content.decode()
    assert client.post(f"/c/{c.code}/status", {"status": "resolved", "reason": "Solo un grazie"}).status_code == 302
    c.refresh_from_db()
    assert c.status == "resolved" and c.resolved_at is not None
    page = client.get(f"/c/{c.code}/").content.decode()
    assert 'data-status="resolved"' in page and ">Reopen<" in page
    assert "changed the status from Open to Resolved" in page
    assert client.post(f"/c/{c.code}/status", {"status": "open"}).status_code == 302
    assert client.post(f"/c/{c.code}/status", {"status": "bogus"}).status_code == 400
    assert client.post(f"/c/{c.code}/priority", {"priority": "3"}).status_code == 302
    c.refresh_from_db()
    assert (c.status, c.priority) == ("open", 3)
    assert client.post(f"/c/{c.code}/priority", {"priority": "x"}).status_code == 400


def test_snooze_with_preset_and_local_time(shop):
    giulia, web = shop.giulia, shop.web
    c = receive(web)
    client = logged_in(giulia)
    before = timezone.now()
    # Past the SLA due time: the page asks first (tests/test_snooze_warnings.py), then it is done.
    assert client.post(f"/c/{c.code}/snooze", {"preset": "1h", "confirmed": "1"}).status_code == 302
    c.refresh_from_db()
    assert c.status == "snoozed"
    assert dt.timedelta(minutes=59) < c.snoozed_until - before < dt.timedelta(minutes=61)
    day = (timezone.localdate() + dt.timedelta(days=3)).isoformat()
    assert client.post(f"/c/{c.code}/snooze", {"until": f"{day}T10:30", "confirmed": "1"}).status_code == 302
    c.refresh_from_db()
    assert c.snoozed_until == dt.datetime.fromisoformat(f"{day}T10:30").replace(tzinfo=ROME)
    assert "until" in client.get(f"/c/{c.code}/").content.decode()
    r = client.post(f"/c/{c.code}/snooze", {"until": "2020-01-01T09:00"})
    assert r.status_code == 400
    assert "Snooze until a time in the future." in r.content.decode()
    r = client.post(f"/c/{c.code}/snooze", {"until": "tomorrow-ish"})
    assert r.status_code == 400
    assert "Pick a date and time" in r.content.decode()


def test_snooze_presets_in_the_site_time_zone():
    monday_noon = dt.datetime(2026, 11, 23, 12, 0, tzinfo=ROME)  # a Monday
    assert preset_time("tomorrow", monday_noon, ROME) == dt.datetime(2026, 11, 24, 9, 0, tzinfo=ROME)
    assert preset_time("monday", monday_noon, ROME) == dt.datetime(2026, 11, 30, 9, 0, tzinfo=ROME)
    late_sunday = dt.datetime(2026, 11, 29, 23, 30, tzinfo=ROME)
    assert preset_time("monday", late_sunday, ROME) == dt.datetime(2026, 11, 30, 9, 0, tzinfo=ROME)
    assert preset_time("1h", monday_noon, ROME) == monday_noon + dt.timedelta(hours=1)
    assert preset_time("never", monday_noon, ROME) is None


def test_live_partials_for_header_and_timeline(shop):
    giulia, web = shop.giulia, shop.web
    c = receive(web, text="Prima domanda")
    client = logged_in(giulia)
    header = client.get(f"/c/{c.code}/header").content.decode()
    assert header.strip().startswith('<header id="conversation-header"')
    assert f'data-live="conversation:{c.code}"' in header
    receive(web, text="Seconda domanda")
    timeline = client.get(f"/c/{c.code}/timeline").content.decode()
    assert timeline.strip().startswith('<div id="timeline"')
    assert "Prima domanda" in timeline and "Seconda domanda" in timeline
