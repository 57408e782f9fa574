"""The Bot API client (adesso/channels/telegram/botapi.py) against real sockets on
127.0.0.1: what a failure means for a send (never sent: safe to repeat; sent and no
answer: maybe done), kept-alive connections, and the environment's proxy.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator

import pytest

from adesso.channels.telegram import botapi

TOKEN = "7301234567:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"
OK = b'{"ok":true,"result":{"message_id":42}}'


class RawServer:
    """A TCP server on 127.0.0.1 whose every connection runs `serve(conn)`; it counts
    connections and keeps each request's head."""

    def __init__(self, serve: Callable[[RawServer, socket.socket], None]) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.connections = 0
        self.heads: list[bytes] = []
        self._serve = serve
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(self, conn), daemon=True).start()

    def read_request(self, conn: socket.socket) -> bytes | None:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return None
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = next(
            (int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")),
            0,
        )
        while len(body) < length:
            body += conn.recv(65536)
        self.heads.append(head)
        return head

    def close(self) -> None:
        self.sock.close()


def answer_keep_alive(server: RawServer, conn: socket.socket) -> None:
    with conn:
        while server.read_request(conn) is not None:
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(OK), OK)
            )


def hang_up_after_reading(server: RawServer, conn: socket.socket) -> None:
    server.read_request(conn)
    conn.close()


def never_answer(server: RawServer, conn: socket.socket) -> None:
    server.read_request(conn)
    threading.Event().wait(5)
    conn.close()


@pytest.fixture
def serve(settings) -> Iterator[Callable[..., RawServer]]:
    servers: list[RawServer] = []

    def start(behaviour: Callable[[RawServer, socket.socket], None], as_api: bool = True) -> RawServer:
        server = RawServer(behaviour)
        servers.append(server)
        if as_api:
            settings.ADESSO_TELEGRAM_API_BASE = server.url
        return server

    yield start
    for server in servers:
        server.close()


def test_sends_share_one_kept_alive_connection(serve):
    api = serve(answer_keep_alive)
    for n in range(5):
        assert botapi.call(TOKEN, "sendMessage", {"chat_id": 111222333, "text": f"Grazie, è la {n + 1}ª"}) == {
            "message_id": 42
        }
    assert api.connections == 1
    assert api.heads[0].startswith(f"POST /bot{TOKEN}/sendMessage HTTP/1.1".encode())


def test_a_connection_idle_past_the_expiry_is_not_reused(serve, monkeypatch):
    api = serve(answer_keep_alive)
    botapi.call(TOKEN, "getMe")
    monkeypatch.setattr(botapi, "KEEPALIVE_EXPIRY", 0.0)
    threading.Event().wait(0.01)
    botapi.call(TOKEN, "getMe")
    assert api.connections == 2


def test_nobody_listening_is_not_sent_and_says_no_token(settings):
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    settings.ADESSO_TELEGRAM_API_BASE = f"http://127.0.0.1:{port}"
    with pytest.raises(botapi.NotSent) as caught:
        botapi.call(TOKEN, "sendMessage", {"chat_id": 1, "text": "Ciao"})
    assert TOKEN not in str(caught.value) and TOKEN.split(":")[1] not in repr(caught.value)


def test_a_server_hanging_up_after_the_request_is_no_answer(serve):
    serve(hang_up_after_reading)
    with pytest.raises(botapi.NoAnswer) as caught:
        botapi.call(TOKEN, "sendMessage", {"chat_id": 1, "text": "Ciao"})
    assert TOKEN not in str(caught.value)


def test_a_server_that_never_answers_is_no_answer_after_the_timeout(serve):
    serve(never_answer)
    with pytest.raises(botapi.NoAnswer):
        botapi.call(TOKEN, "sendMessage", {"chat_id": 1, "text": "Ciao"}, timeout=0.3)


def test_a_proxy_from_the_environment_carries_the_call(serve, settings, monkeypatch):
    proxy = serve(answer_keep_alive, as_api=False)
    settings.ADESSO_TELEGRAM_API_BASE = "http://api.telegram.invalid"  # resolvable only by the proxy
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", "")
    assert botapi.call(TOKEN, "getMe") == {"message_id": 42}
    assert proxy.heads[0].startswith(f"POST http://api.telegram.invalid/bot{TOKEN}/getMe HTTP/1.1".encode())


def test_no_proxy_bypasses_it(serve, monkeypatch):
    proxy = serve(answer_keep_alive, as_api=False)
    api = serve(answer_keep_alive)
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    botapi.call(TOKEN, "getMe")
    assert (api.connections, proxy.connections) == (1, 0)


def test_a_redirect_is_not_followed(serve):
    def redirect(server: RawServer, conn: socket.socket) -> None:
        with conn:
            server.read_request(conn)
            conn.sendall(b"HTTP/1.1 302 Found\r\nLocation: http://169.254.169.254/\r\nContent-Length: 0\r\n\r\n")

    api = serve(redirect)
    with pytest.raises(botapi.BotApiError) as caught:
        botapi.call(TOKEN, "getMe")
    assert caught.value.status == 302 and api.connections == 1
