"""Two agents on one conversation: a reply written while someone else wrote is held back
with a warning (the reply view and the API), and the websocket tells each agent who
else has the conversation open or is typing in it."""

import os

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.test import Client

from adesso.conversations.actions import do_send_reply
from adesso.conversations.models import Conversation, Message
from adesso.lib.codes import new_code
from adesso.realtime.consumers import AgentConsumer
from tests.builders import AgentApi, customer_writes, make_agent, make_api_channel, make_org

pytestmark = pytest.mark.django_db(transaction=True)

IN_MEMORY = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
# The scaled setup: every websocket process on one Redis (as tests/test_redis_setup.py).
REDIS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            "hosts": [os.environ.get("ADESSO_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")],
            "prefix": "adesso-test-" + new_code(6),
        },
    }
}


def shop():
    org = make_org()
    giulia = make_agent(org, "Giulia", language="en")
    marco = make_agent(org, "Marco", language="en")
    ch = make_api_channel(org)
    conversation = Conversation.objects.get(code=customer_writes(ch, "Il pacco non è arrivato")["conversation"])
    return giulia, marco, ch, conversation


def opened_by(agent, conversation):
    """The agent's browser: the conversation page as drawn, and the newest message it carries."""
    client = Client()
    client.force_login(agent)
    page = client.get(f"/c/{conversation.code}/")
    assert page.status_code == 200
    seen = page.context["last_message"]
    assert f'name="last_message" value="{seen}"' in page.content.decode()
    return client, seen


def test_a_reply_after_the_customer_wrote_again_is_held_with_a_send_anyway():
    giulia, _, ch, conversation = shop()
    client, seen = opened_by(giulia, conversation)
    customer_writes(ch, "Avete notizie?")

    r = client.post(f"/c/{conversation.code}/reply", {"text": "Arriva domani", "internal": "0", "last_message": seen})

    assert r.status_code == 409
    page = r.content.decode()
    assert "The customer wrote again after you opened this conversation" in page
    assert 'id="stale-send-anyway"' in page
    assert "Arriva domani" in page  # the draft is kept
    assert not Message.objects.filter(conversation=conversation, direction="outgoing").exists()
    newest = conversation.messages.order_by("-created_at", "-pk").first()
    assert r.context["last_message"] == newest.code  # the page now shows the new message

    r = client.post(
        f"/c/{conversation.code}/reply", {"text": "Arriva domani", "stale_confirmed": "1", "last_message": seen}
    )
    assert r.status_code == 302
    assert Message.objects.filter(conversation=conversation, direction="outgoing").get().text == "Arriva domani"


def test_a_reply_after_another_agent_replied_names_them_and_the_fresh_page_sends():
    giulia, marco, _, conversation = shop()
    client, seen = opened_by(giulia, conversation)
    do_send_reply(marco, conversation, "Ci penso io, verifico con il corriere")

    r = client.post(f"/c/{conversation.code}/reply", {"text": "Arriva domani", "last_message": seen})

    assert r.status_code == 409
    assert "Marco replied to the customer after you opened this conversation" in r.content.decode()
    r = client.post(
        f"/c/{conversation.code}/reply", {"text": "Arriva domani", "last_message": r.context["last_message"]}
    )
    assert r.status_code == 302
    assert conversation.messages.filter(direction="outgoing", author=giulia).count() == 1


def test_notes_and_automatic_messages_never_hold_a_reply_and_notes_are_never_held():
    giulia, marco, ch, conversation = shop()
    client, seen = opened_by(giulia, conversation)
    do_send_reply(marco, conversation, "Il corriere dice domani", internal=True)
    customer_writes(ch, "Grazie")

    r = client.post(f"/c/{conversation.code}/reply", {"text": "Nota mia", "internal": "1", "last_message": seen})
    assert r.status_code == 302  # a note reaches no customer: never held

    _, fresh = opened_by(giulia, conversation)
    do_send_reply(marco, conversation, "Un'altra nota", internal=True)
    r = client.post(f"/c/{conversation.code}/reply", {"text": "Arriva domani", "last_message": fresh})
    assert r.status_code == 302


def test_api_answers_409_when_the_client_has_not_seen_the_newest_message():
    giulia, _, ch, conversation = shop()
    api = AgentApi(giulia)
    seen = api.get(f"/conversations/{conversation.code}").json()["messages"][-1]["code"]
    customer_writes(ch, "Avete notizie?")

    r = api.post(f"/conversations/{conversation.code}/messages", {"text": "Arriva domani", "if_last_message": seen})

    assert r.status_code == 409, r.content
    assert r.json()["error"] == "stale_reply"
    assert "wrote again" in r.json()["message"]
    newest = api.get(f"/conversations/{conversation.code}").json()["messages"][-1]["code"]
    r = api.post(f"/conversations/{conversation.code}/messages", {"text": "Arriva domani", "if_last_message": newest})
    assert r.status_code == 201, r.content
    r = api.post(
        f"/conversations/{conversation.code}/messages", {"text": "Nota", "internal": True, "if_last_message": seen}
    )
    assert r.status_code == 201, r.content
    r = api.post(f"/conversations/{conversation.code}/messages", {"text": "Senza controllo"})
    assert r.status_code == 201, r.content


def test_api_refuses_a_message_code_from_elsewhere():
    giulia, _, ch, conversation = shop()
    other = Conversation.objects.get(code=customer_writes(ch, "Altro", sender_id="cust-2")["conversation"])
    elsewhere = other.messages.get().code

    r = AgentApi(giulia).post(
        f"/conversations/{conversation.code}/messages", {"text": "Arriva domani", "if_last_message": elsewhere}
    )

    assert r.status_code == 400
    assert r.json()["error"] == "unknown_message"


def test_openapi_documents_the_409_and_the_field():
    doc = Client().get("/api/v1/openapi.json").json()
    operation = doc["paths"]["/api/v1/conversations/{code}/messages"]["post"]
    assert "409" in operation["responses"]
    schema = doc["components"]["schemas"]["ReplyIn"]["properties"]
    assert "if_last_message" in schema


async def socket_of(agent):
    communicator = WebsocketCommunicator(AgentConsumer.as_asgi(), "/ws/agent/")
    communicator.scope["user"] = agent
    connected, _ = await communicator.connect()
    assert connected
    return communicator


@pytest.mark.parametrize("layer", [IN_MEMORY, REDIS], ids=["one live process", "redis"])
def test_agents_on_the_same_conversation_hear_each_other_and_no_one_else_does(layer, settings):
    settings.CHANNEL_LAYERS = layer
    giulia, marco, _, conversation = shop()
    stranger = make_agent(make_org("Altra azienda"), "Sarah", language="en")
    code = conversation.code

    @async_to_sync
    async def scenario():
        g, m, s = await socket_of(giulia), await socket_of(marco), await socket_of(stranger)
        await g.send_json_to({"watch": code})
        await s.send_json_to({"watch": code})  # not their organisation's: ignored
        assert await g.receive_nothing(timeout=0.3)
        await m.send_json_to({"watch": code})
        heard_by_giulia = await g.receive_json_from(timeout=2)
        heard_by_marco = await m.receive_json_from(timeout=2)  # Giulia answers the newcomer
        await m.send_json_to({"typing": True})
        typing = await g.receive_json_from(timeout=2)
        await m.disconnect()
        left = await g.receive_json_from(timeout=2)
        assert await s.receive_nothing(timeout=0.3)
        await g.disconnect()
        await s.disconnect()
        return heard_by_giulia, heard_by_marco, typing, left

    heard_by_giulia, heard_by_marco, typing, left = scenario()
    assert heard_by_giulia["presence"] | {"tab": ""} == {
        "conversation": code,
        "tab": "",
        "agent": marco.code,
        "name": "Marco",
        "state": "viewing",
    }
    assert (heard_by_marco["presence"]["agent"], heard_by_marco["presence"]["state"]) == (giulia.code, "viewing")
    assert (typing["presence"]["agent"], typing["presence"]["state"]) == (marco.code, "typing")
    assert (left["presence"]["agent"], left["presence"]["state"]) == (marco.code, "left")
