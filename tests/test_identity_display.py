"""Identities read as kind and value ("Email address mario@example.com", "Handle on
Sito web c-1001"), never as the stored code ("api 2xtczwea75zh/c-1001")."""

import pytest

from tests.builders import AgentApi
from tests.test_front_views import logged_in, make_shop, receive

pytestmark = pytest.mark.django_db


def test_the_contact_page_shows_each_address_by_kind_and_value():
    shop = make_shop()
    conversation = receive(shop.web, "c-1001", sender={"email": "Mario@Example.com", "phone": "333 1234567"})

    html = logged_in(shop.giulia).get(f"/contacts/{conversation.contact.code}/").content.decode()

    assert "Handle on Sito web</span> c-1001" in html
    assert "Email address</span> mario@example.com" in html
    assert "Phone number</span> +393331234567" in html
    assert f"{shop.web.channel.code}/c-1001" not in html


def test_the_merge_confirmation_shows_addresses_the_same_way():
    shop = make_shop()
    first = receive(shop.web, "c-1", sender={"email": "mario@example.com"})
    second = receive(shop.app, "c-2")

    html = (
        logged_in(shop.giulia)
        .get(f"/contacts/{first.contact.code}/merge", {"other": second.contact.code})
        .content.decode()
    )

    assert "Handle on App</span> c-2" in html
    assert f"{shop.app.channel.code}/c-2" not in html


def test_the_api_gives_a_label_and_a_display_value_beside_the_stored_one():
    shop = make_shop()
    conversation = receive(shop.web, "c-1001", sender={"email": "mario@example.com"})

    body = AgentApi(shop.giulia).get(f"/contacts/{conversation.contact.code}").json()

    assert sorted(body["identities"], key=lambda i: i["kind"]) == [
        {
            "kind": "api",
            "value": f"{shop.web.channel.code}/c-1001",
            "label": "Handle",
            "display": "c-1001",
            "channel": shop.web.channel.code,
            # Reachable: no delivery there was refused (test_contract_issue10.py sets these).
            "unreachable_at": None,
            "unreachable_reason": "",
        },
        {
            "kind": "email",
            "value": "mario@example.com",
            "label": "Email address",
            "display": "mario@example.com",
            "channel": None,
            "unreachable_at": None,
            "unreachable_reason": "",
        },
    ]


def test_the_conversation_sidebar_shows_the_customer_handle():
    shop = make_shop()
    conversation = receive(shop.web, "c-1001", sender={"email": "mario@example.com"})

    html = logged_in(shop.giulia).get(f"/c/{conversation.code}/").content.decode()

    assert 'class="small identity identity-api"><span class="muted">Handle on Sito web</span> c-1001' in html
    assert f"{shop.web.channel.code}/c-1001" not in html
