"""Finding 5 of issue 14: huge request bodies, refused before anything is read or
written to disk. The real server (granian, as the Procfile runs it) serves the real
WSGI application; the attacks are raw sockets."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import pytest

from tests.support.servers import web_server

GB = 1024**3
BOUNDARY = "----adesso-attack"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """granian with the Procfile's web options; its temporary directory and media root
    are ours to inspect."""
    tmp_path = tmp_path_factory.mktemp("web")
    scratch, media = tmp_path / "tmp", tmp_path / "media"
    scratch.mkdir()
    media.mkdir()
    env = {
        **os.environ,
        "ADESSO_VAR_DIR": str(tmp_path / "var"),
        "MEDIA_ROOT": str(media),
        "TMPDIR": str(scratch),
        "DJANGO_SETTINGS_MODULE": "adesso.settings",
    }
    env.pop("DATABASE_URL", None)
    with web_server(env, tmp_path / "web.log", ready_path=None) as port:
        yield port, scratch, media


def _files(*roots: Path) -> list[Path]:
    return [p for root in roots for p in root.rglob("*") if p.is_file()]


def _status(sock: socket.socket) -> int:
    answer = b""
    while b"\r\n" not in answer:
        chunk = sock.recv(4096)
        if not chunk:
            break
        answer += chunk
    return int(answer.split(b" ", 2)[1])


def _claim(port: int, path: str, length: int, sent: int = 256 * 1024) -> tuple[int, float]:
    """A multipart POST claiming `length` bytes, of which `sent` are sent: the status and
    the seconds it took to come."""
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
            f"Content-Length: {length}\r\n\r\n"
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="attachment-1"; filename="big.bin"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        sock.sendall(head)
        try:
            sock.sendall(b"A" * sent)
        except OSError:
            pass  # the server already answered and closed
        return _status(sock), time.monotonic() - start


@pytest.mark.parametrize(
    ("path", "length"),
    [
        ("/mail/inbound/mailgun/anychannel", GB),
        ("/login/", 537 * 1024 * 1024),
        ("/api/v1/inbound/anychannel", GB),
        ("/c/anyconversation/reply", GB),
        ("/settings/autoreplies", 50 * 1024**2),
    ],
)
def test_a_claimed_huge_body_is_refused_at_once_and_nothing_is_written(server, path, length):
    port, scratch, media = server
    status, seconds = _claim(port, path, length)
    assert status == 413
    assert seconds < 2
    assert _files(scratch, media) == []


def test_a_streamed_body_without_length_is_cut_at_the_limit(server):
    """Chunked transfer: no Content-Length to judge; the server counts while reading."""
    port, scratch, media = server
    chunk = b"A" * (1024 * 1024)
    framed = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    sent = 0
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            b"POST /login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n\r\n"
        )
        sock.setblocking(False)
        answer = b""
        while sent < 537 * 1024 * 1024 and not answer:
            try:
                sock.send(framed)
                sent += len(chunk)
            except BlockingIOError:
                time.sleep(0.01)
            except OSError:
                break
            try:
                answer = sock.recv(4096)
            except BlockingIOError:
                pass
        sock.settimeout(10)
        if not answer:
            answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:100]
    assert sent < 64 * 1024 * 1024  # the rest was never asked for
    assert time.monotonic() - start < 5
    assert _files(scratch, media) == []


def test_a_body_within_the_limit_goes_on_to_django(server):
    port, _, _ = server
    body = b"username=anna%40example.com&password=x"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            b"POST /login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        assert _status(sock) == 403  # Django's CSRF check: the body reached Django


def test_the_limits_per_path(settings):
    from adesso.lib.bodylimit import limit_for

    assert limit_for("/login/") == 8 * 1024
    assert limit_for("/mail/inbound/mailgun/abc") == settings.ADESSO_MAX_MAIL_BYTES
    assert limit_for("/api/v1/inbound/abc") == settings.ADESSO_MAX_BODY_BYTES
    assert limit_for("/api/v1/conversations/abc") == 1024 * 1024
    assert limit_for("/c/abc/reply") > 10 * settings.ADESSO_MAX_ATTACHMENT_BYTES


def test_the_asgi_side_refuses_too(settings):
    """The `live` process serves HTTP through ASGI: a claimed or streamed body over the
    limit never reaches Django."""
    import asyncio

    from adesso.lib.bodylimit import BodyLimitASGI

    reached: list[bytes] = []

    async def app(scope, receive, send):
        reached.append((await receive())["body"])

    async def run(headers, chunks):
        sent: list[dict] = []
        queue = [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)]

        async def receive():
            return queue.pop(0)

        async def send(message):
            sent.append(message)

        scope = {"type": "http", "path": "/login/", "headers": headers}
        await BodyLimitASGI(app)(scope, receive, send)
        return sent[0]["status"] if sent else None

    assert asyncio.run(run([(b"content-length", str(GB).encode())], [b""])) == 413
    assert asyncio.run(run([], [b"A" * 4096] * 3)) == 413
    assert reached == []
    assert asyncio.run(run([], [b"ok=1"])) is None
    assert reached == [b"ok=1"]
