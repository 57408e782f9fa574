"""Routing keeps one person per customer: sticky to the last agent, then language and
skills, load-balanced, VIP and loyal first in the queue, reopened to the same agent."""

import pytest

from adesso.accounts.models import Presence
from adesso.channels.base import InboundMessage, InboundSender
from adesso.contacts.models import Contact
from adesso.conversations.actions import do_assign, do_change_status, do_send_reply
from adesso.conversations.models import Conversation, ConversationEvent
from adesso.intake.actions import do_receive_message
from adesso.lib.errors import ActionError
from adesso.routing.actions import do_set_presence, do_update_routing
from adesso.routing.engine import queue_position
from tests.builders import AgentApi, customer_writes, make_agent, make_api_channel, make_org

pytestmark = pytest.mark.django_db


def conv(body: dict) -> Conversation:
    return Conversation.objects.select_related("assignee", "contact").get(code=body["conversation"])


def online(*agents):
    for agent in agents:
        do_set_presence(agent, Presence.ONLINE)


@pytest.fixture
def after_commit(django_capture_on_commit_callbacks):
    """Run the callbacks actions leave for after commit (the queue hand-out) right away."""
    def run(action, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return action(*args, **kwargs)
    return run


def test_a_returning_contact_goes_to_their_previous_agent_when_available():
    org = make_org(auto_assign=True)
    ch = make_api_channel(org)
    giulia, marco = make_agent(org, "Giulia"), make_agent(org, "Marco")
    online(giulia)
    first = conv(customer_writes(ch, "Il mio ordine è in ritardo", sender_id="anna"))
    assert first.assignee == giulia
    do_send_reply(giulia, first, "Ci pensiamo noi: parte oggi.")
    do_change_status(giulia, first, "resolved")
    # Marco comes online with nothing to do; Giulia has other work: Anna still goes to Giulia.
    online(marco)
    other = conv(customer_writes(ch, "Buongiorno", sender_id="luca"))
    assert other.assignee == marco
    customer_writes(ch, "Ciao", sender_id="sara")
    again = conv(customer_writes(ch, "Sono di nuovo io, una domanda sulla fattura", sender_id="anna"))
    assert again.pk != first.pk
    assert again.assignee == giulia
    event = ConversationEvent.objects.get(conversation=again, kind="assigned")
    assert event.data == {"to": giulia.code, "reason": "sticky"}


def test_sticky_gives_way_when_the_agent_is_offline_or_full():
    org = make_org(auto_assign=True)
    ch = make_api_channel(org)
    giulia, marco = make_agent(org, "Giulia"), make_agent(org, "Marco")
    online(giulia)
    first = conv(customer_writes(ch, "Prima volta", sender_id="anna"))
    do_send_reply(giulia, first, "Eccoci")
    do_change_status(giulia, first, "resolved")
    do_set_presence(giulia, Presence.OFFLINE)
    online(marco)
    assert conv(customer_writes(ch, "Seconda volta", sender_id="anna")).assignee == marco
    # Full: capacity reached, the contact goes to someone else rather than waiting.
    boss = make_agent(org, "Capo", role="supervisor")
    online(giulia)
    do_update_routing(boss, giulia, capacity=0)
    bruno_first = conv(customer_writes(ch, "Altra", sender_id="bruno"))
    assert bruno_first.assignee == marco


def test_language_skill_and_load_decide_among_the_rest():
    org = make_org(auto_assign=True)
    ch = make_api_channel(org)
    boss = make_agent(org, "Capo", role="supervisor")
    it_agent, en_agent = make_agent(org, "Giulia", language="it"), make_agent(org, "John", language="en")
    online(it_agent, en_agent)
    english = conv(customer_writes(ch, "Hello, my parcel never arrived, can you help?", sender_id="a"))
    assert (english.language, english.assignee) == ("en", en_agent)
    italian = conv(customer_writes(ch, "Buongiorno, il pacco non è mai arrivato", sender_id="b"))
    assert (italian.language, italian.assignee) == ("it", it_agent)
    # Load: two bilingual agents, the one with fewer open conversations gets the next one.
    do_update_routing(boss, en_agent, languages=["it", "en"])
    assert conv(customer_writes(ch, "Ancora un problema col pacco", sender_id="c")).assignee == en_agent
    assert conv(customer_writes(ch, "Il mio ordine non è arrivato", sender_id="d")).assignee in (it_agent, en_agent)
    # Skill: only agents with it.
    do_update_routing(boss, it_agent, skills=["Fatture"])
    billing = conv(customer_writes(ch, "Fattura sbagliata", sender_id="e"))
    billing.assignee = None
    billing.skill = "fatture"
    billing.save()
    from adesso.routing.engine import candidates, choose
    chosen = choose(billing, candidates(org.pk), None)
    assert chosen is not None and chosen[0].agent_id == it_agent.pk


def test_nobody_free_queues_vip_and_loyal_first_and_the_queue_moves_when_an_agent_frees(after_commit):
    org = make_org(auto_assign=True)
    ch = make_api_channel(org)
    boss = make_agent(org, "Capo", role="supervisor")
    giulia = make_agent(org, "Giulia")
    do_update_routing(boss, giulia, capacity=1)
    online(giulia)
    busy = conv(customer_writes(ch, "Primo", sender_id="a"))
    assert busy.assignee == giulia
    standard = conv(customer_writes(ch, "Secondo", sender_id="b"))
    loyal = conv(customer_writes(ch, "Terzo", sender_id="c"))
    vip = conv(customer_writes(ch, "Quarto", sender_id="d"))
    Contact.objects.filter(pk=loyal.contact_id).update(tier="loyal")
    Contact.objects.filter(pk=vip.contact_id).update(tier="vip")
    for c in (standard, loyal, vip):
        c.refresh_from_db()
        assert c.assignee is None and c.queued_at is not None
    assert [queue_position(conv({"conversation": c.code})) for c in (vip, loyal, standard)] == [1, 2, 3]
    do_send_reply(giulia, busy, "Fatto")
    after_commit(do_change_status, giulia, busy, "resolved")
    vip.refresh_from_db()
    standard.refresh_from_db()
    assert vip.assignee == giulia and vip.queued_at is None
    assert standard.assignee is None
    # A new agent coming online takes the next in line at once.
    marco = make_agent(org, "Marco")
    do_update_routing(boss, marco, capacity=1)
    after_commit(do_set_presence, marco, Presence.ONLINE)
    loyal.refresh_from_db()
    assert loyal.assignee == marco


def test_a_reopened_conversation_goes_back_to_the_agent_who_had_it():
    org = make_org(auto_assign=True)
    ch = make_api_channel(org)
    giulia, marco = make_agent(org, "Giulia"), make_agent(org, "Marco")
    online(giulia, marco)
    first = conv(customer_writes(ch, "Domanda", sender_id="anna"))
    owner = first.assignee
    do_send_reply(owner, first, "Risposta")
    do_change_status(owner, first, "pending")
    # The other agent is now the less loaded one: the conversation still goes back.
    customer_writes(ch, "Altro cliente", sender_id="luca")
    again = conv(customer_writes(ch, "Non ha funzionato", sender_id="anna"))
    assert again.pk == first.pk and again.status == "open" and again.assignee == owner
    # A resolved one reopened by a reply in its thread (email) goes back to the same agent too.
    do_send_reply(owner, again, "Riprova ora")
    do_change_status(owner, again, "resolved")
    inbound = InboundMessage(external_id="m-thread", sender=InboundSender("anna"), text="Ancora no",
                             thread=again.code)
    received = do_receive_message(ch.channel, inbound)
    assert received.conversation.pk == first.pk
    assert received.conversation.status == "open" and received.conversation.assignee_id == owner.pk


def test_going_offline_hands_waiting_customers_back_to_the_queue(after_commit):
    org = make_org(auto_assign=True)
    ch = make_api_channel(org)
    giulia, marco = make_agent(org, "Giulia"), make_agent(org, "Marco")
    online(giulia)
    waiting = conv(customer_writes(ch, "Aiuto", sender_id="anna"))
    assert waiting.assignee == giulia
    online(marco)
    after_commit(do_set_presence, giulia, Presence.OFFLINE)
    waiting.refresh_from_db()
    assert waiting.assignee == marco


def test_a_transfer_without_a_note_is_refused_and_the_note_is_kept():
    org = make_org(auto_assign=True)
    ch = make_api_channel(org)
    giulia, marco = make_agent(org, "Giulia"), make_agent(org, "Marco")
    online(giulia)
    c = conv(customer_writes(ch, "Aiuto", sender_id="anna"))
    with pytest.raises(ActionError) as refused:
        do_assign(giulia, c, marco)
    assert refused.value.code == "note_required"
    do_assign(giulia, c, marco, note="Vuole il rimborso, ordine 1234: già verificato")
    assert ConversationEvent.objects.get(conversation=c, kind="transferred").data["note"].startswith("Vuole")


def test_routing_off_leaves_conversations_for_people_to_take():
    org = make_org(auto_assign=False)
    ch = make_api_channel(org)
    online(make_agent(org))
    c = conv(customer_writes(ch, "Ciao"))
    assert c.assignee is None and c.queued_at is None


def test_presence_and_routing_settings_through_the_api():
    org = make_org(auto_assign=True)
    agent, boss = make_agent(org, "Giulia"), make_agent(org, "Capo", role="supervisor")
    api, boss_api = AgentApi(agent), AgentApi(boss)
    r = api.send("put", "/me/presence", '{"presence": "online"}')
    assert r.status_code == 200, r.content
    assert r.json()["presence"] == "online"
    assert api.send("put", "/me/presence", '{"presence": "busy"}').status_code == 422
    r = boss_api.patch(f"/agents/{agent.code}", {"capacity": 3, "languages": ["it", "en"], "skills": ["resi"]})
    assert r.status_code == 200, r.content
    assert r.json()["capacity"] == 3 and r.json()["languages"] == ["en", "it"]
    assert api.patch(f"/agents/{boss.code}", {"capacity": 9}).status_code == 403
    listed = {a["code"]: a for a in boss_api.get("/routing/agents").json()["items"]}
    assert listed[agent.code]["presence"] == "online" and listed[agent.code]["open_conversations"] == 0
    assert boss_api.patch(f"/agents/{agent.code}", {"capacity": -1}).status_code == 422
