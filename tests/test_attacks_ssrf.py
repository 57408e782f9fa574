"""Finding 2 of issue 14 (SSRF): a tenant admin points a channel at our own networks.

The "internal services" are real servers on loopback; the operator's allow-list
(ADESSO_OUTBOUND_ALLOW, which tests/conftest.py sets to loopback for the other tests)
is emptied, as in production, or narrowed to one address.
"""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from adesso.channels.actions import do_create_channel
from adesso.channels.models import Channel
from adesso.conversations.actions import do_send_reply
from adesso.conversations.models import Conversation, ConversationEvent
from adesso.lib import netguard
from adesso.lib.errors import ActionError
from adesso.outbox.models import Delivery
from tests.builders import AgentApi, ApiChannel, inbound_payload, make_agent, make_org, receive_inbound

pytestmark = pytest.mark.django_db

INTERNAL = b"root:x:0:0:SECRET-INTERNAL-ANSWER"


class _Internal(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.server.hits += 1
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status = self.server.status
        self.send_response(status)
        self.send_header("Content-Length", str(len(INTERNAL)))
        self.end_headers()
        self.wfile.write(INTERNAL)

    def log_message(self, *args) -> None:
        pass


def _serve(host: str = "127.0.0.1", status: int = 500) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer((host, 0), _Internal)
    server.daemon_threads = True
    server.hits, server.status = 0, status
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def internal():
    servers: list[ThreadingHTTPServer] = []

    def start(host: str = "127.0.0.1", status: int = 500) -> ThreadingHTTPServer:
        servers.append(_serve(host, status))
        return servers[-1]

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def tcp_listener():
    """A bare TCP server on loopback counting the connections it accepts (an internal
    IMAP or SMTP server, or anything else)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.settimeout(0.2)
    state = {"accepted": 0, "stop": False}

    def loop() -> None:
        while not state["stop"]:
            try:
                conn, _ = sock.accept()
            except OSError:
                continue
            state["accepted"] += 1
            conn.close()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    yield sock.getsockname()[1], state
    state["stop"] = True
    thread.join(2)
    sock.close()


REFUSED_URLS = [
    "http://127.0.0.1:{port}/hook",
    "http://localhost:{port}/hook",
    "http://[::1]:{port}/hook",
    "http://[::ffff:127.0.0.1]:{port}/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://[fd00:ec2::254]/latest/meta-data/",
    "http://10.0.0.5/hook",
    "http://172.16.3.4/hook",
    "http://192.168.1.1/hook",
    "http://100.64.0.1/hook",
    "http://0.0.0.0:{port}/hook",
    "http://224.0.0.1/hook",
    "http://240.0.0.1/hook",
    "http://[fe80::1]/hook",
    "http://[64:ff9b::7f00:1]/hook",
    "http://[2002:7f00:1::]/hook",
    "http://2130706433:{port}/hook",  # 127.0.0.1 as one number
    "http://0x7f.1:{port}/hook",
    "http://does-not-resolve.invalid/hook",
]


@pytest.mark.parametrize("template", REFUSED_URLS)
def test_an_admin_cannot_point_a_webhook_at_our_networks(settings, internal, template):
    settings.ADESSO_OUTBOUND_ALLOW = []
    server = internal()
    url = template.format(port=server.server_port)
    admin = make_agent(make_org(), "Anna", role="admin")
    answer = AgentApi(admin).post("/channels", {"kind": "api", "name": "Hook", "config": {"webhook_url": url}})
    assert answer.status_code == 400, answer.content
    assert answer.json()["error"] == "invalid_config"
    assert "not allowed" in answer.json()["message"] or "could not be resolved" in answer.json()["message"]
    assert not Channel.objects.filter(kind="api").exists()
    assert server.hits == 0


@pytest.mark.parametrize("part", ["imap", "smtp"])
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "169.254.169.254", "10.1.2.3", "::1"])
def test_an_admin_cannot_point_imap_or_smtp_at_our_networks(settings, part, host):
    settings.ADESSO_OUTBOUND_ALLOW = []
    config = {"address": "assistenza@rossi.example"}
    config[part] = {"host": host, "port": 25, "user": "u", "password": "p"}
    with pytest.raises(ActionError) as refused:
        do_create_channel(make_org(), "email", "Posta", config)
    assert refused.value.code == "invalid_config"
    assert "not allowed" in str(refused.value)


def test_an_edit_cannot_point_a_channel_at_our_networks(settings):
    from adesso.channels.actions import do_update_channel

    channel, _ = do_create_channel(make_org(), "api", "App", {"webhook_url": "http://127.0.0.1:9/hook"})
    settings.ADESSO_OUTBOUND_ALLOW = []
    with pytest.raises(ActionError) as refused:
        do_update_channel(channel, "App", {"webhook_url": "http://169.254.169.254/latest/meta-data/"})
    assert refused.value.code == "invalid_config"
    channel.refresh_from_db()
    assert channel.config["webhook_url"] == "http://127.0.0.1:9/hook"


def _conversation(client, url: str):
    org = make_org()
    channel, token = do_create_channel(org, "api", "App", {"webhook_url": url})
    answer = receive_inbound(client, ApiChannel(channel, token), inbound_payload(sender_id="cust-1"))
    return make_agent(org), Conversation.objects.get(code=answer["conversation"]), channel


def _send(agent, conversation, capture):
    with capture(execute=True):
        return do_send_reply(agent, conversation, "Il rimborso è partito.")


def test_an_address_allowed_when_saved_is_checked_again_at_connect_time(
    client, settings, internal, django_capture_on_commit_callbacks
):
    server = internal()
    agent, conversation, channel = _conversation(client, f"http://127.0.0.1:{server.server_port}/hook")
    settings.ADESSO_OUTBOUND_ALLOW = []  # the name now points inside (DNS rebinding)
    message = _send(agent, conversation, django_capture_on_commit_callbacks)
    assert server.hits == 0
    delivery = Delivery.objects.get(message=message)
    assert delivery.status == "failed"
    assert "not allowed" in delivery.last_error
    channel.refresh_from_db()
    assert not channel.is_enabled
    assert "not allowed" in channel.disabled_reason


def test_the_connection_goes_to_the_address_that_was_checked(
    client, settings, internal, monkeypatch, django_capture_on_commit_callbacks
):
    """A rebinding DNS name: the first answer is allowed, every later one internal. The
    guard resolves once per connection and connects to the address it checked."""
    checked = internal("127.0.0.1", status=200)
    port = checked.server_port
    inside = ThreadingHTTPServer(("127.0.0.2", port), _Internal)  # same port: only the address differs
    inside.daemon_threads, inside.hits, inside.status = True, 0, 200
    threading.Thread(target=inside.serve_forever, daemon=True).start()
    settings.ADESSO_OUTBOUND_ALLOW = ["127.0.0.1/32"]
    real = socket.getaddrinfo
    answers = {"count": 0}

    def rebinding(host, *args, **kwargs):
        if host != "hook.rebind.test":
            return real(host, *args, **kwargs)
        answers["count"] += 1
        ip = "127.0.0.1" if answers["count"] == 1 else "127.0.0.2"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    try:
        agent, conversation, _ = _conversation(client, f"http://hook.rebind.test:{port}/hook")
        answers["count"] = 0  # saving resolved it once; each connection resolves afresh
        message = _send(agent, conversation, django_capture_on_commit_callbacks)
        assert Delivery.objects.get(message=message).status == "sent"
        assert (checked.hits, inside.hits) == (1, 0)
        assert answers["count"] == 1
    finally:
        inside.shutdown()
        inside.server_close()


@pytest.mark.parametrize("status", [500, 422, 410])
def test_a_failed_delivery_keeps_the_status_never_the_answer(
    client, internal, status, django_capture_on_commit_callbacks
):
    server = internal(status=status)
    agent, conversation, channel = _conversation(client, f"http://127.0.0.1:{server.server_port}/hook")
    message = _send(agent, conversation, django_capture_on_commit_callbacks)
    assert server.hits == 1
    delivery = Delivery.objects.get(message=message)
    assert delivery.last_error.startswith(f"The webhook answered {status}")
    assert b"SECRET" not in delivery.last_error.encode()
    channel.refresh_from_db()
    assert "SECRET" not in channel.disabled_reason
    for event in ConversationEvent.objects.filter(conversation=conversation):
        assert "SECRET" not in str(event.data)
    page = client
    page.force_login(agent)
    assert b"SECRET" not in page.get(f"/c/{conversation.code}/").content


def test_smtp_and_imap_connect_only_to_checked_addresses(settings, tcp_listener):
    port, state = tcp_listener
    config = {
        "address": "assistenza@rossi.example",
        "imap": {"host": "127.0.0.1", "port": port, "ssl": False, "user": "u", "password": "p"},
        "smtp": {"host": "127.0.0.1", "port": port, "security": "none"},
    }
    channel, _ = do_create_channel(make_org(), "email", "Posta", config)  # allowed: loopback in tests
    settings.ADESSO_OUTBOUND_ALLOW = []
    from adesso.channels.email.config import EmailConfig
    from adesso.channels.email.imap import connect

    with pytest.raises(netguard.OutboundRefused):
        connect(EmailConfig.model_validate(channel.config).imap)
    backend = netguard.GuardedSmtpBackend(host="127.0.0.1", port=port, timeout=2)
    with pytest.raises(netguard.OutboundRefused):
        backend.open()
    assert state["accepted"] == 0


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.0.0.1",
        "100.64.1.1",
        "169.254.169.254",
        "::1",
        "::ffff:10.0.0.1",
        "fc00::1",
        "fe80::1",
        "ff02::1",
        "64:ff9b::a00:1",
        "2002:a00:1::",
        "::",
        "0.0.0.0",
        "198.18.0.1",
    ],
)
def test_refused_ranges(settings, address):
    import ipaddress

    settings.ADESSO_OUTBOUND_ALLOW = []
    assert netguard.is_refused(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "8.8.8.8"])
def test_public_addresses_pass(settings, address):
    import ipaddress

    settings.ADESSO_OUTBOUND_ALLOW = []
    assert not netguard.is_refused(ipaddress.ip_address(address))
