"""The reason given to resolve a conversation whose customer had no answer is shown
again: in the timeline and in the API's conversation detail."""

import pytest

from adesso.conversations.actions import do_change_status
from tests.builders import AgentApi
from tests.test_front_views import logged_in, make_shop, receive

pytestmark = pytest.mark.django_db


def test_the_timeline_shows_why_no_answer_was_needed():
    shop = make_shop()
    conversation = receive(shop.web, text="Grazie, tutto a posto!")
    client = logged_in(shop.giulia)

    r = client.post(
        f"/c/{conversation.code}/status", {"status": "resolved", "reason": "Il cliente ringraziava soltanto"}
    )
    html = client.get(f"/c/{conversation.code}/timeline").content.decode()

    assert r.status_code == 302
    assert "changed the status from Open to Resolved" in html
    assert "Resolved without an answer, because" in html
    assert 'class="event-note event-reason"' in html
    assert "Il cliente ringraziava soltanto" in html


def test_a_resolve_after_an_answer_shows_no_reason_box():
    shop = make_shop()
    conversation = receive(shop.web)
    client = logged_in(shop.giulia)
    client.post(f"/c/{conversation.code}/reply", {"text": "Ecco il numero di spedizione.", "internal": "0"})

    client.post(f"/c/{conversation.code}/status", {"status": "resolved"})
    html = client.get(f"/c/{conversation.code}/timeline").content.decode()

    assert "event-reason" not in html
    assert "changed the status from Open to Resolved" in html


def test_the_api_detail_carries_the_reason():
    shop = make_shop()
    api = AgentApi(shop.giulia)
    answered = receive(shop.web, "a")
    silent = receive(shop.app, "b")
    do_change_status(shop.giulia, silent, "resolved", "Spam")

    detail = api.get(f"/conversations/{silent.code}").json()
    other = api.get(f"/conversations/{answered.code}").json()

    assert detail["resolution_reason"] == "Spam"
    assert other["resolution_reason"] is None
