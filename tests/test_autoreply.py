"""Never silence: every customer turn gets one instant acknowledgement, in the customer's
language, with an honest estimate; an update comes before that promise can break."""

import datetime as dt

import pytest
from django.utils import timezone

from adesso.accounts.models import Presence
from adesso.autoreply.actions import do_check_promises, do_save_template
from adesso.channels.base import InboundMessage, InboundSender
from adesso.conversations.actions import do_send_reply
from adesso.conversations.models import Conversation, ConversationEvent, Message
from adesso.conversations.queries import silent
from adesso.intake.actions import do_receive_message
from adesso.lib.errors import ActionError
from adesso.routing.actions import do_set_presence
from adesso.routing.estimate import friendly_minutes
from tests.builders import AgentApi, customer_writes, make_agent, make_api_channel, make_org

pytestmark = pytest.mark.django_db


def acks(conversation: Conversation) -> list[Message]:
    return list(Message.objects.filter(conversation=conversation, auto=True).order_by("pk"))


def conv(body: dict) -> Conversation:
    return Conversation.objects.get(code=body["conversation"])


def test_one_acknowledgement_per_turn_in_the_customers_language():
    org = make_org(ack=True, auto_assign=True)
    ch = make_api_channel(org)
    agent = make_agent(org, "Giulia")
    do_set_presence(agent, Presence.ONLINE)
    italian = conv(customer_writes(ch, "Buongiorno, il mio ordine non è ancora arrivato", sender_id="a"))
    [ack] = acks(italian)
    assert ack.text.startswith("Ciao Mario, abbiamo ricevuto il tuo messaggio.")
    # 6 minutes of handling by default, promised with room: within 9.
    assert "entro 9 minuti" in ack.text and "messaggio automatico" in ack.text
    assert ack.direction == "outgoing" and ack.auto
    # More messages in the same turn: no second acknowledgement.
    customer_writes(ch, "Ah, il numero è 1234", sender_id="a")
    customer_writes(ch, "Grazie", sender_id="a")
    assert len(acks(italian)) == 1
    # Answered, then the customer writes again: a new turn, a new acknowledgement.
    do_send_reply(agent, italian, "Eccoci, lo controllo subito")
    customer_writes(ch, "Grazie, aspetto", sender_id="a")
    assert len(acks(italian)) == 2
    english = conv(customer_writes(ch, "Hello, my parcel never arrived. Can you help?", sender_id="b"))
    [ack] = acks(english)
    assert ack.text.startswith("Hi Mario, we have your message.") and "automatic message" in ack.text
    assert english.language == "en"


def test_the_api_marks_acknowledgements_auto_and_they_never_count_as_answers():
    org = make_org(ack=True)
    ch = make_api_channel(org)
    agent = make_agent(org)
    c = conv(customer_writes(ch, "Nessuno mi risponde?"))
    detail = AgentApi(agent).get(f"/conversations/{c.code}").json()
    outgoing = [m for m in detail["messages"] if m["direction"] == "outgoing"]
    assert [m["auto"] for m in outgoing] == [True]
    c.refresh_from_db()
    assert c.waiting_since is not None and c.first_response_at is None
    assert list(silent(agent).values_list("pk", flat=True)) == [c.pk]


def test_machines_get_no_acknowledgement():
    org = make_org(ack=True)
    ch = make_api_channel(org)
    inbound = InboundMessage(external_id="ooo-1", sender=InboundSender("robot"), text="Sono fuori ufficio",
                             automated=True)
    received = do_receive_message(ch.channel, inbound)
    assert acks(received.conversation) == []


def test_estimate_follows_the_live_queue_and_says_the_position_when_asked():
    org = make_org(ack=True, auto_assign=True)
    ch = make_api_channel(org)
    # Nobody online: the honest answer is the SLA's time, one hour.
    c = conv(customer_writes(ch, "C'è qualcuno?", sender_id="a"))
    event = ConversationEvent.objects.get(conversation=c, kind="auto_sent")
    assert event.data["basis"] == "sla" and 3500 <= event.data["estimate_seconds"] <= 3600
    assert "entro 1 ora" in acks(c)[0].text
    # One agent online, capacity 1 and busy: the next customers queue up, and are told so.
    agent = make_agent(org, "Giulia")
    agent.capacity = 1
    agent.save()
    do_set_presence(agent, Presence.ONLINE)
    first = conv(customer_writes(ch, "Primo", sender_id="b"))
    assert first.assignee == agent
    second = conv(customer_writes(ch, "Quante persone ci sono prima di me?", sender_id="c"))
    third = conv(customer_writes(ch, "How long do I have to wait?", sender_id="d"))
    estimates = [ConversationEvent.objects.get(conversation=x, kind="auto_sent").data for x in (first, second, third)]
    assert [e["basis"] for e in estimates] == ["agent", "queue", "queue"]
    assert estimates[0]["estimate_seconds"] < estimates[1]["estimate_seconds"] < estimates[2]["estimate_seconds"]
    assert "Sei il numero 2 in coda." in acks(second)[0].text  # the first waiting one is ahead
    assert "You are number 3 in the queue." in acks(third)[0].text
    assert "in coda" not in acks(first)[0].text  # not asked, not said


def test_an_update_comes_before_the_promise_breaks_and_never_after_an_answer():
    org = make_org(ack=True, auto_assign=True)
    ch = make_api_channel(org)
    agent = make_agent(org, "Giulia")
    do_set_presence(agent, Presence.ONLINE)
    c = conv(customer_writes(ch, "Il rimborso non è arrivato", sender_id="a"))
    c.refresh_from_db()
    promise, check = c.promise_at, c.promise_check_at
    assert promise is not None and check < promise
    assert do_check_promises(check - dt.timedelta(seconds=1)) == 0
    # At the check the estimate is fine (the agent is there): look again just before the promise.
    assert do_check_promises(check) == 1
    c.refresh_from_db()
    assert c.promise_check_at == promise - dt.timedelta(seconds=60)
    assert len(acks(c)) == 1
    # Still no answer a minute before the promise: the customer hears from us first.
    assert do_check_promises(c.promise_check_at) == 1
    messages = acks(c)
    assert len(messages) == 2 and messages[1].text.startswith("Ci stiamo mettendo più del previsto")
    update = ConversationEvent.objects.filter(conversation=c, kind="auto_sent").order_by("pk").last()
    assert update.data["purpose"] == "update"
    c.refresh_from_db()
    assert c.promise_at > promise
    # The agent answers: the next check clears the promise and sends nothing.
    do_send_reply(agent, c, "Eccoci: il rimborso parte oggi.")
    c.refresh_from_db()
    assert c.promise_at is None and c.promise_check_at is None
    assert do_check_promises(timezone.now() + dt.timedelta(hours=3)) == 0
    assert len(acks(c)) == 2


def test_templates_are_the_organisations_own_and_checked():
    org = make_org(ack=True)
    admin, agent = make_agent(org, "Admin", role="admin"), make_agent(org, "Giulia")
    with pytest.raises(ActionError) as forbidden:
        do_save_template(agent, "ack", "it", "Entro {estimate}")
    assert forbidden.value.code == "forbidden"
    for bad, code in (("Ciao {nome}, entro {estimate}", "invalid_template"), ("Ciao {name", "invalid_template"),
                      ("Ti rispondiamo presto", "invalid_template")):
        with pytest.raises(ActionError) as refused:
            do_save_template(admin, "ack", "it", bad)
        assert refused.value.code == code
    do_save_template(admin, "ack", "it", "Grazie {name}! Ti risponde una persona di {organization} entro {estimate}.")
    c = conv(customer_writes(make_api_channel(org), "Buongiorno, una domanda"))
    assert acks(c)[0].text == f"Grazie Mario! Ti risponde una persona di {org.name} entro 1 ora."
    api = AgentApi(admin)
    r = api.send("put", "/autoreplies/update/en", '{"text": "Sorry, a bit longer: by {time}."}')
    assert r.status_code == 200, r.content
    listed = {(t["purpose"], t["language"]): t["text"] for t in api.get("/autoreplies").json()}
    assert listed[("update", "en")] == "Sorry, a bit longer: by {time}."
    assert listed[("ack", "en")].startswith("Hi {name}")
    assert AgentApi(agent).send("put", "/autoreplies/ack/en", '{"text": "x {time}"}').status_code == 403
    assert api.send("put", "/autoreplies/ack/fr", '{"text": "x {time}"}').status_code == 400
    # Empty restores the built-in wording.
    assert api.send("put", "/autoreplies/update/en", '{"text": ""}').json()["text"].startswith("This is taking")


def test_turned_off_by_the_organisation():
    org = make_org(ack=False)
    c = conv(customer_writes(make_api_channel(org), "Buongiorno"))
    assert acks(c) == []


@pytest.mark.parametrize(("seconds", "minutes"), [(10, 2), (361, 7), (16 * 60, 20), (61 * 60, 75), (4 * 3600 + 1, 300)])
def test_promises_are_rounded_up_to_figures_people_use(seconds, minutes):
    assert friendly_minutes(seconds) == minutes
