"""The web chat's live side (issue 11): the visitor's websocket (origin, token, catch-up
by cursor without duplicates, new replies pushed) and the widget's weight."""

from __future__ import annotations

import gzip
import json

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.test import Client

from adesso.asgi import application
from adesso.channels.actions import do_create_channel
from adesso.channels.pipeline import do_process_events
from adesso.channels.webchat.views import WIDGET
from adesso.conversations.actions import do_send_reply
from adesso.conversations.models import Conversation
from tests.builders import make_agent, make_org

SHOP = "https://www.pasticceria.example"


def test_the_widget_is_served_and_weighs_under_50_kb_gzipped(client):
    r = client.get("/chat/widget.js")

    assert r.status_code == 200
    assert r["Content-Type"].startswith("application/javascript")
    body = b"".join(r.streaming_content) if r.streaming else r.content
    assert body == WIDGET.read_bytes()
    size = len(gzip.compress(body, 9))
    print(f"\nwidget.js: {len(body)} bytes, {size} gzipped")
    assert size < 50 * 1024
    assert b"attachShadow" in body and b"localStorage" in body and b"document.cookie" not in body


def _visitor_writes(channel, text: str, echo_id: str, token: str = "") -> str:
    client = Client()
    headers = {"Origin": SHOP}
    if not token:
        r = client.post(f"/chat/{channel.code}/session", "{}", content_type="application/json", headers=headers)
        token = r.json()["token"]
    r = client.post(
        f"/chat/{channel.code}/messages",
        json.dumps({"text": text, "echo_id": echo_id}),
        content_type="application/json",
        headers={**headers, "Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 202, r.content
    do_process_events()
    return token


async def _open(channel, origin: str = SHOP) -> tuple[WebsocketCommunicator, bool]:
    socket = WebsocketCommunicator(application, f"/chat/ws/{channel.code}/", headers=[(b"origin", origin.encode())])
    connected, _ = await socket.connect()
    return socket, connected


@pytest.mark.django_db(transaction=True)
def test_the_socket_catches_up_after_a_cursor_and_pushes_new_replies_once():
    org = make_org()
    channel, _ = do_create_channel(org, "webchat", "Chat", {"allowed_origins": [SHOP]})
    token = _visitor_writes(channel, "Buongiorno", "e1")
    _visitor_writes(channel, "Ci siete?", "e2", token)
    conversation = Conversation.objects.get()
    first_id = conversation.messages.order_by("pk").first().pk
    giulia = make_agent(org, "Giulia")

    async def scenario() -> list[dict]:
        socket, connected = await _open(channel)
        assert connected
        await socket.send_json_to({"token": token, "after": first_id})  # reconnecting: saw e1 already
        heard = [await socket.receive_json_from(timeout=5)]
        from channels.db import database_sync_to_async

        await database_sync_to_async(do_send_reply)(giulia, conversation, "Sì, eccoci.")
        heard.append(await socket.receive_json_from(timeout=5))
        assert await socket.receive_nothing(timeout=1.2)  # polled twice more: nothing repeated
        await socket.disconnect()
        return heard

    catch_up, pushed = async_to_sync(scenario)()

    assert [m["echo_id"] for m in catch_up["messages"]] == ["e2"]
    assert [(m["from"], m["text"]) for m in pushed["messages"]] == [("agent", "Sì, eccoci.")]
    assert pushed["cursor"] == conversation.messages.order_by("pk").last().pk


@pytest.mark.django_db(transaction=True)
def test_the_socket_refuses_a_foreign_origin_and_a_bad_token():
    org = make_org()
    channel, _ = do_create_channel(org, "webchat", "Chat", {"allowed_origins": [SHOP]})
    token = _visitor_writes(channel, "Buongiorno", "e1")
    other, _ = do_create_channel(org, "webchat", "Altra chat", {"allowed_origins": [SHOP]})

    async def scenario() -> tuple[bool, object, object]:
        foreign, connected = await _open(channel, "https://evil.example")
        await foreign.disconnect()
        wrong, ok = await _open(other)
        assert ok
        await wrong.send_json_to({"token": token, "after": 0})  # a token of another channel
        closed = await wrong.receive_output(timeout=5)
        forged, ok = await _open(channel)
        await forged.send_json_to({"token": token[:-3] + "abc", "after": 0})
        closed_too = await forged.receive_output(timeout=5)
        return connected, closed, closed_too

    connected, closed, closed_too = async_to_sync(scenario)()

    assert connected is False
    assert closed == {"type": "websocket.close", "code": 4401}
    assert closed_too == {"type": "websocket.close", "code": 4401}


@pytest.mark.django_db(transaction=True)
def test_typing_goes_both_ways_through_the_conversations_presence_group():
    from adesso.realtime.publish import conversation_group

    org = make_org()
    channel, _ = do_create_channel(org, "webchat", "Chat", {"allowed_origins": [SHOP]})
    token = _visitor_writes(channel, "Buongiorno", "e1")
    conversation = Conversation.objects.get()
    group = conversation_group(org.pk, conversation.code)

    async def scenario() -> tuple[dict, dict]:
        from channels.layers import get_channel_layer

        layer = get_channel_layer()
        agent_page = await layer.new_channel()
        await layer.group_add(group, agent_page)
        socket, _ = await _open(channel)
        await socket.send_json_to({"token": token, "after": 0})
        await socket.receive_json_from(timeout=5)  # the catch-up
        await socket.send_json_to({"typing": True})
        told = await layer.receive(agent_page)
        agent = {"conversation": conversation.code, "tab": "t1", "agent": "giulia", "name": "Giulia", "state": "typing"}
        await layer.group_send(group, {"type": "adesso.presence", "presence": agent})
        heard = await socket.receive_json_from(timeout=5)
        await socket.disconnect()
        return told, heard

    told, heard = async_to_sync(scenario)()

    assert told["presence"]["state"] == "typing" and told["presence"]["agent"] == "visitor"
    assert told["presence"]["name"] == "Web chat"
    assert heard == {"typing": True}
