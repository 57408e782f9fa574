"""The silence guard lists exactly the conversations whose customer's last message
has no human answer (auto acknowledgements and notes are not answers)."""

import datetime as dt

import pytest
from django.utils import timezone

from adesso.conversations.actions import do_change_status, do_send_auto_message, do_send_reply
from adesso.conversations.models import Conversation
from adesso.lib.errors import ActionError
from tests.builders import AgentApi, customer_writes, make_agent, make_api_channel, make_org

pytestmark = pytest.mark.django_db


def conv(body: dict) -> Conversation:
    return Conversation.objects.get(code=body["conversation"])


def test_guard_lists_exactly_the_unanswered(client):
    org = make_org()
    agent = make_agent(org, language="en")
    ch = make_api_channel(org)
    unanswered = conv(customer_writes(ch, "Nessuno mi risponde", sender_id="a"))
    acked = conv(customer_writes(ch, "Solo il messaggio automatico", sender_id="b"))
    do_send_auto_message(acked, "Abbiamo ricevuto il tuo messaggio: ti rispondiamo entro 20 minuti.",
                         "acknowledgement")
    noted = conv(customer_writes(ch, "Solo una nota interna", sender_id="c"))
    do_send_reply(agent, noted, "Chiedere al magazzino", internal=True)
    answered = conv(customer_writes(ch, "Risposto", sender_id="d"))
    do_send_reply(agent, answered, "Eccoci: il pacco parte oggi.")
    wrote_again = conv(customer_writes(ch, "Prima domanda", sender_id="e"))
    do_send_reply(agent, wrote_again, "Risposta alla prima")
    customer_writes(ch, "Seconda domanda", sender_id="e")
    pending = conv(customer_writes(ch, "In attesa senza risposta", sender_id="f"))
    do_change_status(agent, pending, "pending")
    closed_why = conv(customer_writes(ch, "Grazie mille!", sender_id="g"))
    do_change_status(agent, closed_why, "resolved", "Solo un ringraziamento")
    closed_answered = conv(customer_writes(ch, "Ok", sender_id="h"))
    do_send_reply(agent, closed_answered, "Perfetto, buona giornata!")
    do_change_status(agent, closed_answered, "resolved")
    customer_writes(make_api_channel(make_org("Altra")), "Altra azienda", sender_id="z")
    ages = {unanswered: 50, acked: 40, noted: 30, wrote_again: 20, pending: 10}
    for c, minutes in ages.items():
        Conversation.objects.filter(pk=c.pk).update(waiting_since=timezone.now() - dt.timedelta(minutes=minutes))

    body = AgentApi(agent).get("/silence").json()

    expected = [unanswered.code, acked.code, noted.code, wrote_again.code, pending.code]
    assert [i["code"] for i in body["items"]] == expected
    assert body["count"] == 5
    assert 49 * 60 <= body["items"][0]["waiting_seconds"] <= 51 * 60
    client.force_login(agent)
    page = client.get("/silence").content.decode()
    assert [page.index(c.code) for c in ages] == sorted(page.index(c.code) for c in ages)
    assert answered.code not in page and closed_why.code not in page and closed_answered.code not in page


def test_auto_message_is_marked_and_leaves_the_wait(client):
    org = make_org()
    agent = make_agent(org)
    c = conv(customer_writes(make_api_channel(org)))
    before = (c.waiting_since, c.first_response_due_at)
    do_send_auto_message(c, "Ricevuto: ti rispondiamo entro 15 minuti.", "acknowledgement")
    c.refresh_from_db()
    assert (c.waiting_since, c.first_response_due_at) == before
    assert c.first_response_at is None
    messages = AgentApi(agent).get(f"/conversations/{c.code}").json()["messages"]
    assert [(m["direction"], m["auto"], m["author"]) for m in messages] == [
        ("incoming", False, None), ("outgoing", True, None)]


def test_resolving_an_unanswered_conversation_needs_a_reason():
    org = make_org()
    agent = make_agent(org)
    c = conv(customer_writes(make_api_channel(org)))
    with pytest.raises(ActionError) as refused:
        do_change_status(agent, c, "resolved")
    assert refused.value.code == "unanswered"
    c.refresh_from_db()
    assert c.status == "open"
    r = AgentApi(agent).post(f"/conversations/{c.code}/status", {"status": "resolved"})
    assert r.status_code == 400
    assert r.json()["error"] == "unanswered"
    do_change_status(agent, c, "resolved", "Spam")
    c.refresh_from_db()
    assert (c.status, c.waiting_since) == ("resolved", None)


def test_guard_query_count_does_not_grow(django_assert_num_queries):
    org = make_org()
    agent = make_agent(org)
    ch = make_api_channel(org)
    api = AgentApi(agent)
    customer_writes(ch, sender_id="x0")
    api.get("/silence")
    with django_assert_num_queries(4):  # token, page, count, the page's surveys
        api.get("/silence")
    for n in range(10):
        customer_writes(ch, sender_id=f"x{n + 1}")
    with django_assert_num_queries(4):
        api.get("/silence")
