"""A small client of the Telegram Bot API: `POST <base>/bot<token>/<method>`.

The base comes from settings.ADESSO_TELEGRAM_API_BASE at each call (the tests point it
at a server on 127.0.0.1). Every answer is JSON `{"ok", "result"}` or `{"ok": false,
"error_code", "description", "parameters": {"retry_after"}}`.
"""

from __future__ import annotations

import json
import os
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import urllib3
from django.conf import settings
from urllib3 import exceptions as u3

from adesso.lib import netguard

# Long polling waits this long at most on Telegram's side; the HTTP timeout is longer.
TIMEOUT = 10.0
# Kept-alive connections idle this long are closed before the next call (as netguard's
# clients do), rather than risk one the server is closing as we send on it.
KEEPALIVE_EXPIRY = netguard.KEEPALIVE_EXPIRY


class BotApiError(Exception):
    """Telegram answered, and not with ok; `status` is its error_code (or the HTTP status)."""

    def __init__(self, status: int, description: str, retry_after: float | None = None) -> None:
        super().__init__(f"Telegram answered {status}: {description}")
        self.status = status
        self.description = description
        self.retry_after = retry_after


class NotSent(Exception):
    """The request never left (connection refused, DNS, connect timeout): safe to repeat."""


class NoAnswer(Exception):
    """The request left but no answer came back: it may have been done."""


def base() -> str:
    return str(getattr(settings, "ADESSO_TELEGRAM_API_BASE", "https://api.telegram.org")).rstrip("/")


def call(
    token: str,
    method: str,
    data: dict[str, Any] | None = None,
    files: dict[str, tuple[str, bytes, str]] | None = None,
    timeout: float = TIMEOUT,
) -> Any:
    """Call a method; returns its `result`. Raises BotApiError, NotSent or NoAnswer.
    Never puts the token in an exception's text."""
    url = f"{base()}/bot{token}/{method}"
    limits = urllib3.Timeout(connect=min(timeout, 5.0), read=timeout)
    with _errors("call"):
        if files:
            fields: dict[str, Any] = {k: str(v) for k, v in (data or {}).items()}
            fields.update(files)
            response = _pool(url).request("POST", url, fields=fields, timeout=limits, retries=False)
        else:
            body = json.dumps(data or {}, ensure_ascii=False, separators=(",", ":")).encode()
            response = _pool(url).request("POST", url, body=body, headers=_JSON, timeout=limits, retries=False)
    return _result(response.status, response.data)


def download(token: str, file_path: str, limit: int, timeout: float = 30.0) -> bytes:
    """A file by the path getFile gave; BotApiError 413 past `limit` bytes."""
    url = f"{base()}/file/bot{token}/{file_path}"
    content = b""
    with _errors("download from"):
        response = _pool(url).request(
            "GET", url, timeout=urllib3.Timeout(connect=5.0, read=timeout), retries=False, preload_content=False
        )
        try:
            if response.status != 200:
                raise BotApiError(response.status, "the file could not be downloaded")
            for chunk in response.stream(65536):
                content += chunk
                if len(content) > limit:
                    raise BotApiError(413, f"the file is larger than {limit} bytes")
        finally:
            response.release_conn()
    return content


_JSON = {"Content-Type": "application/json"}


@contextmanager
def _errors(what: str) -> Iterator[None]:
    """urllib3's exceptions in the Bot API client's terms; never their text (the URL
    carries the token)."""
    try:
        yield
    except (u3.ConnectTimeoutError, u3.ProxyError, u3.SSLError, u3.LocationValueError) as exc:
        # Connecting (DNS, refused, connect timeout, the proxy, the TLS handshake): nothing left.
        raise NotSent(f"Could not {what} Telegram ({type(exc).__name__})") from None
    except u3.HTTPError as exc:
        # Sent, and the answer lost or cut (read timeout, connection reset, a bad answer).
        raise NoAnswer(f"No answer from Telegram after sending ({type(exc).__name__})") from None


# One pool manager per process (and per proxy), kept open: calls to the Bot API reuse a
# kept-alive connection. urllib3 rather than httpx here: a send is the most frequent
# outbound call (every acknowledgement), and urllib3 costs about 0.33 ms of CPU a call
# where httpx costs 0.56 (docs/performance.md, session 9). The operator's own endpoint,
# so not address-guarded; TLS verified with the process's one context; no redirects
# (retries=False: a redirect answer is returned, and read as "not a Bot API answer");
# the environment's proxy settings honoured, as httpx did.
_lock = threading.Lock()
_managers: dict[tuple[int, str], urllib3.PoolManager] = {}
_last_used: dict[tuple[int, str], float] = {}


def _pool(url: str) -> urllib3.PoolManager:
    key = (os.getpid(), _proxy_for(url))
    manager = _managers.get(key)
    if manager is None:
        with _lock:
            manager = _managers.get(key)
            if manager is None:
                options: dict[str, Any] = {"maxsize": 20, "block": False, "ssl_context": netguard.tls_context()}
                if key[1]:
                    manager = urllib3.ProxyManager(key[1], **options)
                else:
                    manager = urllib3.PoolManager(**options)
                _managers[key] = manager
    now = time.monotonic()
    if now - _last_used.get(key, now) > KEEPALIVE_EXPIRY:
        manager.clear()
    _last_used[key] = now
    return manager


_PROXY_VARIABLES = tuple(
    n for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy") for n in (name, name.upper())
)
_proxy_seen: dict[tuple[Any, ...], str] = {}


def _proxy_for(url: str) -> str:
    """The environment's proxy for this URL ("" for none), as urllib reads it (about
    70 us a lookup: remembered while the environment's proxy variables stay the same)."""
    parts = urlsplit(url)
    key = (parts.scheme, parts.hostname, *(os.environ.get(n) for n in _PROXY_VARIABLES))
    proxy = _proxy_seen.get(key)
    if proxy is None:
        bypass = urllib.request.proxy_bypass(parts.hostname or "")
        proxy = "" if bypass else urllib.request.getproxies().get(parts.scheme, "")
        _proxy_seen[key] = proxy
    return proxy


def _result(status: int, body: bytes) -> Any:
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise BotApiError(status, f"not a Bot API answer (HTTP {status})")
    if data.get("ok") is True:
        return data.get("result")
    parameters = data.get("parameters")
    retry_after = parameters.get("retry_after") if isinstance(parameters, dict) else None
    code = data.get("error_code")
    code = code if isinstance(code, int) else status
    description = " ".join(str(data.get("description") or "").split())[:300]
    raise BotApiError(code, description, float(retry_after) if isinstance(retry_after, int) else None)
