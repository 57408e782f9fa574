"""The agent web UI through the Django test client: login, inbox, contacts, merge, search,
attachments, language, and 404 for other organisations. The conversation page is in
test_front_conversation.py."""

import base64
import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from adesso.contacts.models import Contact, ContactMerge
from adesso.conversations.actions import do_assign
from adesso.conversations.models import Attachment, Conversation, Message
from tests.builders import (
    inbound_payload,
    make_agent,
    make_api_channel,
    make_org,
    make_team,
    receive_inbound,
)

pytestmark = pytest.mark.django_db

def receive(ch, sender_id="cust-1", text="Buongiorno, il mio ordine?", **extra):
    body = receive_inbound(Client(), ch, inbound_payload(sender_id=sender_id, text=text, **extra))
    return Conversation.objects.get(code=body["conversation"])


def logged_in(agent):
    client = Client()
    client.force_login(agent)
    return client


def codes_in(html):
    return re.findall(r'data-conversation="([a-z0-9]+)"', html)


@dataclass
class Shop:
    org: Any
    giulia: Any
    marco: Any
    team: Any
    web: Any
    app: Any


def make_shop():
    """Pasticceria Rossi: Giulia (English UI) and Marco, one team, two channels."""
    org = make_org()
    giulia = make_agent(org, "Giulia", language="en")
    marco = make_agent(org, "Marco", language="en")
    team = make_team(org, "Ordini", [giulia])
    return Shop(org, giulia, marco, team, make_api_channel(org, "Sito web"), make_api_channel(org, "App"))


@pytest.fixture
def shop():
    return make_shop()


def test_login_page_logs_in_and_out():
    org = make_org()
    agent = make_agent(org, "Giulia", language="en")
    client = Client()
    assert client.get("/").status_code == 302
    r = client.post("/login/", {"username": agent.email, "password": "wrong"})
    assert r.status_code == 200
    assert "Wrong email or password" in r.content.decode()
    r = client.post("/login/", {"username": agent.email, "password": "correct-horse-battery"})
    assert r.status_code == 302
    page = client.get("/").content.decode()
    assert "Giulia" in page
    assert 'action="/logout/"' in page
    assert client.post("/logout/").status_code == 302
    assert client.get("/").status_code == 302


def test_inbox_tabs_and_filters(shop):
    giulia, marco, team, web, app = shop.giulia, shop.marco, shop.team, shop.web, shop.app
    unassigned = receive(web, "c-1")
    mine = receive(web, "c-2")
    theirs = receive(app, "c-3")
    done = receive(web, "c-4")
    do_assign(giulia, mine, giulia)
    do_assign(giulia, theirs, marco, team)
    Conversation.objects.filter(pk=done.pk).update(status="resolved")
    client = logged_in(giulia)

    def listed(**params):
        r = client.get("/", params)
        assert r.status_code == 200
        return set(codes_in(r.content.decode()))

    assert listed() == {unassigned.code, mine.code, theirs.code}
    assert listed(tab="mine") == {mine.code}
    assert listed(tab="unassigned") == {unassigned.code}
    assert listed(tab="team") == {theirs.code}
    assert listed(status="resolved") == {done.code}
    assert listed(status="all") == {unassigned.code, mine.code, theirs.code, done.code}
    assert listed(channel=app.channel.code) == {theirs.code}
    assert listed(team=team.code) == {theirs.code}
    assert listed(tab="mine", channel=app.channel.code) == set()
    # Nonsense filters fall back to the defaults instead of failing.
    assert listed(tab="nope", status="nope") == {unassigned.code, mine.code, theirs.code}


def test_inbox_tabs_partial_counts(shop):
    giulia, web = shop.giulia, shop.web
    c = receive(web, "c-1")
    receive(web, "c-2")
    do_assign(giulia, c, giulia)
    html = logged_in(giulia).get("/inbox/tabs", {"tab": "mine"}).content.decode()
    assert html.strip().startswith('<nav id="inbox-tabs"')
    counts = dict(re.findall(r'tab=(\w+)[^>]*>[^<]*<span class="count">(\d+)</span>', html))
    assert counts == {"all": "2", "mine": "1", "unassigned": "1", "team": "0"}
    assert 'href="?tab=mine"' in html and 'aria-current="page"' in html


def test_inbox_oldest_waiting_first_with_waiting_time(shop):
    giulia, web, app = shop.giulia, shop.web, shop.app
    now = timezone.now()
    fresh, old, older = receive(web, "c-1"), receive(web, "c-2"), receive(app, "c-3")
    Conversation.objects.filter(pk=fresh.pk).update(waiting_since=now - dt.timedelta(minutes=12))
    Conversation.objects.filter(pk=old.pk).update(waiting_since=now - dt.timedelta(hours=3, minutes=5))
    Conversation.objects.filter(pk=older.pk).update(waiting_since=now - dt.timedelta(days=2, hours=1))
    html = logged_in(giulia).get("/").content.decode()
    assert codes_in(html) == [older.code, old.code, fresh.code]
    assert "12 min" in html
    assert "3 h 5 min" in html
    assert "2 days" in html
    assert "Mario Bianchi" in html and "Sito web" in html and "Buongiorno, il mio ordine?" in html


def test_inbox_list_partial_is_what_the_page_refetches(shop):
    giulia, web = shop.giulia, shop.web
    c = receive(web)
    r = logged_in(giulia).get("/inbox/list", {"tab": "unassigned"})
    html = r.content.decode()
    assert r.status_code == 200
    assert html.strip().startswith('<section id="inbox-list"')
    assert "<html" not in html
    assert codes_in(html) == [c.code]
    assert 'hx-get="/inbox/list?tab=unassigned"' in html


def test_inbox_query_count_does_not_grow_with_page_size(shop, django_assert_num_queries):
    giulia, marco, team, web, app = shop.giulia, shop.marco, shop.team, shop.web, shop.app
    for i in range(30):
        c = receive(web if i % 2 else app, f"c-{i}")
        if i % 3:
            do_assign(marco, c, marco if i % 2 else giulia, team)
    client = logged_in(giulia)
    keep = list(Conversation.objects.order_by("pk").values_list("pk", flat=True)[:3])
    Conversation.objects.exclude(pk__in=keep).update(status="pending")
    # session, agent, teams, my teams, channels, tab counts, page count, page rows, the bell,
    # tags and agents (the tag filter and the bulk actions' bar)
    with django_assert_num_queries(11):
        r = client.get("/")
    assert len(codes_in(r.content.decode())) == 3
    Conversation.objects.update(status="open")
    with django_assert_num_queries(11):
        r = client.get("/")
    assert len(codes_in(r.content.decode())) == 25
    with django_assert_num_queries(4):  # session, agent, page count, page rows
        r = client.get("/inbox/list")
    assert len(codes_in(r.content.decode())) == 25
    second = client.get("/", {"page": 2}).content.decode()
    assert len(codes_in(second)) == 5
    assert "Page 2 of 2" in second
    assert not set(codes_in(second)) & set(codes_in(r.content.decode()))


def test_contact_list_query_count_does_not_grow_with_page_size(shop, django_assert_num_queries):
    giulia, web, app = shop.giulia, shop.web, shop.app
    for i in range(3):
        receive(web, f"c-{i}")
    client = logged_in(giulia)
    with django_assert_num_queries(5):  # session, agent, count, page, the bell
        r = client.get("/contacts/")
    assert r.content.decode().count('data-contact=') == 3
    for i in range(3, 30):
        receive(app, f"c-{i}")
    with django_assert_num_queries(5):
        r = client.get("/contacts/")
    assert r.content.decode().count('data-contact=') == 25
    r = client.get("/contacts/", {"q": "nobody-like-this"})
    assert "No contact matches your search." in r.content.decode()


def test_contact_list_search(shop):
    giulia, web = shop.giulia, shop.web
    receive(web, "c-1", sender={"name": "Anna Verdi", "email": "anna@example.com"})
    receive(web, "c-2", sender={"name": "Luca Neri", "phone": "+39 333 1234567"})
    client = logged_in(giulia)
    assert "Anna Verdi" in client.get("/contacts/", {"q": "anna@"}).content.decode()
    page = client.get("/contacts/", {"q": "333"}).content.decode()
    assert "Luca Neri" in page and "Anna Verdi" not in page


def test_contact_page_edit(shop):
    giulia, web = shop.giulia, shop.web
    c = receive(web, sender={"email": "mario@example.com"})
    contact = c.contact
    client = logged_in(giulia)
    page = client.get(f"/contacts/{contact.code}/").content.decode()
    assert "mario@example.com" in page and "Mario Bianchi" in page
    assert f'href="/c/{c.code}/"' in page
    r = client.post(f"/contacts/{contact.code}/edit", {
        "name": "Mario Bianchi", "email": "Mario.B@Example.com", "phone": "333 765 4321",
        "language": "it", "tier": "vip", "notes": "Cliente dal 2019",
    })
    assert r.status_code == 302
    contact.refresh_from_db()
    assert (contact.email, contact.phone, contact.tier) == ("mario.b@example.com", "+393337654321", "vip")
    assert contact.identities.filter(kind="phone", value="+393337654321").exists()
    r = client.post(f"/contacts/{contact.code}/edit", {"email": "not-an-email"})
    assert r.status_code == 400
    assert "That is not a valid email address." in r.content.decode()


def test_merge_suggestion_merge_and_undo(shop):
    giulia, web, app = shop.giulia, shop.web, shop.app
    first = receive(web, "web-1", "Da sito", sender={"email": "mario@example.com"}).contact
    second = receive(app, "app-1", "Da app").contact  # no address yet: a second contact
    client = logged_in(giulia)
    client.post(f"/contacts/{second.code}/edit", {"email": "mario@example.com"})
    page = client.get(f"/contacts/{first.code}/").content.decode()
    assert "Merge into this" in page and f'value="{second.code}"' in page
    r = client.post(f"/contacts/{first.code}/merge", {"other": second.code})
    assert r.status_code == 302
    second.refresh_from_db()
    assert second.merged_into == first
    target_page = client.get(f"/contacts/{first.code}/").content.decode()
    assert "Da sito" in target_page and "Da app" in target_page
    assert "Undo" in target_page
    source_page = client.get(f"/contacts/{second.code}/").content.decode()
    assert 'id="merged-notice"' in source_page
    assert f'href="/contacts/{first.code}/"' in source_page
    assert 'id="contact-form"' not in source_page
    r = client.post(f"/contacts/{second.code}/edit", {"email": "altro@example.com"})
    assert r.status_code == 400
    assert "This contact was merged" in r.content.decode()
    merge = ContactMerge.objects.get()
    assert client.post(f"/merges/{merge.pk}/undo").status_code == 302
    second.refresh_from_db()
    assert second.merged_into is None
    assert second.conversations.count() == 1
    # By email, and refusals shown on the page.
    r = client.post(f"/contacts/{first.code}/merge", {"other": "MARIO@example.com"})
    assert r.status_code == 400  # the email is this contact's own
    assert "cannot be merged into itself" in r.content.decode()
    r = client.post(f"/contacts/{first.code}/merge", {"other": "nobody@example.com"})
    assert r.status_code == 400
    assert "No contact has that code or email address." in r.content.decode()


def test_search_finds_messages_and_contacts(shop):
    giulia, web = shop.giulia, shop.web
    c = receive(web, text="Vorrei il rimborso del pacco", sender={"name": "Anna Verdi"})
    other_org = make_api_channel(make_org("Altra"))
    receive(other_org, text="Anche io voglio un rimborso")
    client = logged_in(giulia)
    html = client.get("/search", {"q": "rimborso"}).content.decode()
    assert f'href="/c/{c.code}/#m-' in html
    assert "Vorrei il rimborso del pacco" in html
    assert "Anche io voglio" not in html
    html = client.get("/search", {"q": "Anna"}).content.decode()
    assert f'href="/contacts/{c.contact.code}/"' in html
    assert client.get("/search").status_code == 200


def test_attachment_is_served_to_its_organisation_only(shop):
    giulia, web = shop.giulia, shop.web
    content = base64.b64encode(b"<html><script>alert(1)</script></html>").decode()
    c = receive(web, attachments=[
        {"filename": "scontrino.html", "content_type": "text/html", "content_base64": content}])
    attachment = Attachment.objects.get()
    client = logged_in(giulia)
    assert f'href="/attachments/{attachment.code}"' in client.get(f"/c/{c.code}/").content.decode()
    r = client.get(f"/attachments/{attachment.code}")
    assert r.status_code == 200
    assert b"".join(r.streaming_content) == b"<html><script>alert(1)</script></html>"
    assert r["Content-Disposition"].startswith("attachment")  # never rendered inline
    assert r["Content-Type"] == "application/octet-stream"
    stranger = make_agent(make_org("Altra"))
    assert logged_in(stranger).get(f"/attachments/{attachment.code}").status_code == 404


def test_another_organisations_objects_are_404(shop):
    giulia, web, app = shop.giulia, shop.web, shop.app
    c = receive(web, sender={"email": "mario@example.com"})
    other = receive(app, "x-2", sender={"email": "mario2@example.com"})
    client = logged_in(giulia)
    client.post(f"/contacts/{c.contact.code}/merge", {"other": other.contact.code})
    merge = ContactMerge.objects.get()
    stranger = logged_in(make_agent(make_org("Altra")))
    for url in (f"/c/{c.code}/", f"/c/{c.code}/header", f"/c/{c.code}/timeline",
                f"/contacts/{c.contact.code}/"):
        assert stranger.get(url).status_code == 404, url
    for url, data in ((f"/c/{c.code}/reply", {"text": "x"}), (f"/c/{c.code}/status", {"status": "resolved"}),
                      (f"/c/{c.code}/assign", {}), (f"/c/{c.code}/snooze", {"preset": "1h"}),
                      (f"/c/{c.code}/priority", {"priority": "3"}),
                      (f"/contacts/{c.contact.code}/edit", {"name": "x"}),
                      (f"/contacts/{c.contact.code}/merge", {"other": other.contact.code}),
                      (f"/merges/{merge.pk}/undo", {})):
        assert stranger.post(url, data).status_code == 404, url
    # Picking another organisation's agent or contact is a 404 too, never a cross-org change.
    assert client.post(f"/c/{c.code}/assign",
                       {"assignee": make_agent(make_org("Terza")).code}).status_code == 404
    c.refresh_from_db()
    assert c.status == "open" and c.assignee is None
    assert Message.objects.filter(direction="outgoing").count() == 0
    assert Contact.objects.get(pk=other.contact.pk).merged_into_id == c.contact.pk


def test_language_preference_is_stored_and_followed(shop):
    giulia = shop.giulia
    client = logged_in(giulia)
    assert ">Inbox<" in client.get("/").content.decode()
    r = client.post("/language", {"language": "it", "next": "/contacts/"})
    assert r.status_code == 302 and r["Location"] == "/contacts/"
    giulia.refresh_from_db()
    assert giulia.language == "it"
    assert "Contatti" in client.get("/contacts/").content.decode()
    r = client.post("/language", {"language": "xx", "next": "https://evil.example.com/"})
    assert r["Location"] == "/"
    giulia.refresh_from_db()
    assert giulia.language == "it"
