"""Merging contacts in the UI asks first (GET shows both contacts, only that page's POST
merges), and every message keeps the name it was sent under after a merge."""

import re

import pytest

from adesso.contacts.models import ContactMerge
from adesso.conversations.models import Message
from tests.builders import AgentApi
from tests.test_front_views import logged_in, make_shop, receive

pytestmark = pytest.mark.django_db


def sender_of(html, message):
    """The name shown at the head of a message in a rendered timeline."""
    found = re.search(rf'id="m-{message.code}">\s*<header>\s*<strong>(.*?)</strong>', html)
    assert found, message.code
    return found.group(1)


def customer_message(conversation, text):
    return Message.objects.get(conversation=conversation, text=text)


def two_marios(shop):
    """One customer known twice: by email on the web site, by an app id under a nickname."""
    by_web = receive(shop.web, "web-1", "Da sito", sender={"email": "mario@example.com"})
    by_app = receive(shop.app, "app-1", "Da app", sender={"name": "Mariolino"})
    return by_web, by_app


def test_the_contact_page_never_merges_in_one_click():
    shop = make_shop()
    by_web, by_app = two_marios(shop)
    client = logged_in(shop.giulia)
    client.post(f"/contacts/{by_app.contact.code}/edit", {"email": "mario@example.com"})

    page = client.get(f"/contacts/{by_web.contact.code}/").content.decode()

    assert f'value="{by_app.contact.code}"' in page  # the suggestion
    merge_forms = re.findall(r'<form method="(\w+)" action="/contacts/[a-z0-9]+/merge"', page)
    assert merge_forms == ["get", "get"]  # the suggestion and the free field both ask first


def test_confirmation_shows_both_contacts_and_merges_only_on_post():
    shop = make_shop()
    by_web, by_app = two_marios(shop)
    client = logged_in(shop.giulia)
    url = f"/contacts/{by_web.contact.code}/merge"

    asked = client.get(url, {"other": by_app.contact.code})

    assert asked.status_code == 200
    html = asked.content.decode()
    assert 'id="merge-confirm-form"' in html
    assert "Mariolino" in html and "Mario Bianchi" in html
    assert "mario@example.com" in html  # the addresses of each, as a person reads them
    assert "Merge Mariolino into Mario Bianchi" in html
    assert ContactMerge.objects.count() == 0

    done = client.post(url, {"other": by_app.contact.code})

    assert done.status_code == 302
    by_app.contact.refresh_from_db()
    assert by_app.contact.merged_into == by_web.contact


def test_confirmation_refuses_what_cannot_be_merged():
    shop = make_shop()
    by_web, _by_app = two_marios(shop)
    client = logged_in(shop.giulia)
    url = f"/contacts/{by_web.contact.code}/merge"

    itself = client.get(url, {"other": by_web.contact.code})
    nobody = client.get(url, {"other": "nobody@example.com"})

    assert itself.status_code == 400
    assert "cannot be merged into itself" in itself.content.decode()
    assert nobody.status_code == 400
    assert "No contact has that code or email address." in nobody.content.decode()
    assert ContactMerge.objects.count() == 0


def test_messages_keep_the_name_they_were_sent_under():
    shop = make_shop()
    by_web, by_app = two_marios(shop)
    client = logged_in(shop.giulia)
    client.post(f"/contacts/{by_web.contact.code}/merge", {"other": by_app.contact.code})
    # After the merge the app id leads to the kept contact: this one is Mario Bianchi's.
    receive(shop.app, "app-1", "Dopo l'unione", sender={"name": "Mariolino"})
    before, after = customer_message(by_app, "Da app"), customer_message(by_app, "Dopo l'unione")

    conversation_page = client.get(f"/c/{by_app.code}/").content.decode()
    contact_page = client.get(f"/contacts/{by_web.contact.code}/").content.decode()
    other_page = client.get(f"/c/{by_web.code}/").content.decode()  # the app one is "earlier" here

    assert sender_of(conversation_page, before) == "Mariolino"
    assert sender_of(conversation_page, after) == "Mario Bianchi"
    assert sender_of(contact_page, before) == "Mariolino"
    assert sender_of(other_page, before) == "Mariolino"
    assert sender_of(other_page, customer_message(by_web, "Da sito")) == "Mario Bianchi"


def test_after_an_undo_and_a_chain_of_merges_each_name_is_still_right():
    shop = make_shop()
    by_web, by_app = two_marios(shop)
    third = receive(shop.web, "web-3", "Terzo", sender={"name": "Sig. Bianchi"})
    client = logged_in(shop.giulia)
    client.post(f"/contacts/{by_web.contact.code}/merge", {"other": by_app.contact.code})
    client.post(f"/merges/{ContactMerge.objects.get().pk}/undo")
    undone = client.get(f"/c/{by_app.code}/").content.decode()
    # Mariolino into Mario Bianchi, then Mario Bianchi into Sig. Bianchi.
    client.post(f"/contacts/{by_web.contact.code}/merge", {"other": by_app.contact.code})
    client.post(f"/contacts/{third.contact.code}/merge", {"other": by_web.contact.code})

    chained = client.get(f"/c/{third.code}/").content.decode()

    assert sender_of(undone, customer_message(by_app, "Da app")) == "Mariolino"
    assert sender_of(chained, customer_message(by_app, "Da app")) == "Mariolino"
    assert sender_of(chained, customer_message(by_web, "Da sito")) == "Mario Bianchi"
    assert sender_of(chained, customer_message(third, "Terzo")) == "Sig. Bianchi"


def test_the_api_gives_each_customer_message_the_name_it_was_sent_under():
    shop = make_shop()
    by_web, by_app = two_marios(shop)
    client = logged_in(shop.giulia)
    client.post(f"/contacts/{by_web.contact.code}/merge", {"other": by_app.contact.code})
    receive(shop.app, "app-1", "Dopo l'unione")

    body = AgentApi(shop.giulia).get(f"/conversations/{by_web.code}").json()

    assert [(m["text"], m["sender"]) for m in body["messages"]] == [("Da sito", "Mario Bianchi")]
    assert [(m["text"], m["sender"]) for m in body["history"]] == [
        ("Da app", "Mariolino"),
        ("Dopo l'unione", "Mario Bianchi"),
    ]
