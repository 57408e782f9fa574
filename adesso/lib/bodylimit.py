"""A limit on every request body, applied before anything reads it.

Wraps the WSGI and ASGI applications (adesso/wsgi.py, adesso/asgi.py), outside
Django: a declared Content-Length over the path's limit is answered 413 at once,
without reading a byte; a body without one (chunked) is read into memory only up to
the limit, then refused or handed to Django whole with its length. Django never
parses, and never spools to disk, more than the limit.

The limits are `settings.ADESSO_BODY_LIMITS`: (regular expression on the path,
bytes), the first match wins; `settings.ADESSO_BODY_LIMIT` for every other path.
"""

from __future__ import annotations

import io
import re
from collections.abc import Awaitable, Callable, Iterable
from functools import lru_cache
from typing import Any

from django.conf import settings

TOO_LARGE = b'{"error": "too_large", "message": "The request body is larger than this address accepts."}'
_CHUNK = 64 * 1024


@lru_cache(maxsize=8)
def _compiled(rules: tuple[tuple[str, int], ...]) -> list[tuple[re.Pattern[str], int]]:
    return [(re.compile(pattern), limit) for pattern, limit in rules]


def limit_for(path: str) -> int:
    rules = tuple((str(p), int(n)) for p, n in getattr(settings, "ADESSO_BODY_LIMITS", ()))
    for pattern, limit in _compiled(rules):
        if pattern.match(path):
            return limit
    return int(getattr(settings, "ADESSO_BODY_LIMIT", 1024 * 1024))


def _declared(value: str | bytes | None) -> int | None:
    """The Content-Length, or -1 when it is not a number (refused like a large one)."""
    if value is None or value in ("", b""):
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    return int(text) if text.strip().isdigit() else -1


def _over(declared: int | None, limit: int) -> bool:
    return declared is not None and (declared < 0 or declared > limit)


class BodyLimitWSGI:
    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        limit = limit_for(environ.get("PATH_INFO", ""))
        declared = _declared(environ.get("CONTENT_LENGTH"))
        if _over(declared, limit):
            return _refuse(start_response)
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if declared is None and chunked:
            body = _read_upto(environ["wsgi.input"], limit)
            if body is None:
                return _refuse(start_response)
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
        return self.app(environ, start_response)


def _read_upto(stream: Any, limit: int) -> bytes | None:
    """The whole stream if it has at most `limit` bytes, else None (reading stops there)."""
    data = bytearray()
    while True:
        chunk = stream.read(min(_CHUNK, limit + 1 - len(data)))
        if not chunk:
            return bytes(data)
        data += chunk
        if len(data) > limit:
            return None


def _refuse(start_response: Callable[..., Any]) -> list[bytes]:
    # Connection: close: the unread body is not ours to drain.
    start_response(
        "413 Request Entity Too Large",
        [("Content-Type", "application/json"), ("Content-Length", str(len(TOO_LARGE))), ("Connection", "close")],
    )
    return [TOO_LARGE]


Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class BodyLimitASGI:
    def __init__(self, app: Callable[..., Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = limit_for(scope.get("path", ""))
        headers = dict(scope.get("headers") or [])
        if _over(_declared(headers.get(b"content-length")), limit):
            await _refuse_asgi(send)
            return
        # Read the body here, in memory and only up to the limit, then replay it.
        messages, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                messages.append(message)
                break
            size += len(message.get("body", b""))
            if size > limit:
                await _refuse_asgi(send)
                return
            messages.append(message)
            if not message.get("more_body", False):
                break
        replay = iter(messages)

        async def replayed() -> dict[str, Any]:
            return next(replay, None) or await receive()

        await self.app(scope, replayed, send)


async def _refuse_asgi(send: Send) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(TOO_LARGE)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": TOO_LARGE})
