"""A small client of the Telegram Bot API: `POST <base>/bot<token>/<method>`.

The base comes from settings.ADESSO_TELEGRAM_API_BASE at each call (the tests point it
at a server on 127.0.0.1). Every answer is JSON `{"ok", "result"}` or `{"ok": false,
"error_code", "description", "parameters": {"retry_after"}}`.
"""

from __future__ import annotations

from typing import Any

import httpx
from django.conf import settings

from adesso.lib import netguard

# Long polling waits this long at most on Telegram's side; the HTTP timeout is longer.
TIMEOUT = 10.0


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
    limits = httpx.Timeout(timeout, connect=min(timeout, 5.0))
    client = _client()
    try:
        if files:
            response = client.post(url, data={k: str(v) for k, v in (data or {}).items()}, files=files, timeout=limits)
        else:
            response = client.post(url, json=data or {}, timeout=limits)
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.ProxyError) as exc:
        raise NotSent(f"Could not connect to Telegram ({type(exc).__name__})") from None
    except httpx.TransportError as exc:
        raise NoAnswer(f"No answer from Telegram after sending ({type(exc).__name__})") from None
    except httpx.HTTPError as exc:  # e.g. an invalid URL: its text would carry the token
        raise NotSent(f"Could not call Telegram ({type(exc).__name__})") from None
    return _result(response)


def download(token: str, file_path: str, limit: int, timeout: float = 30.0) -> bytes:
    """A file by the path getFile gave; BotApiError 413 past `limit` bytes."""
    url = f"{base()}/file/bot{token}/{file_path}"
    content = b""
    try:
        with _client().stream("GET", url, timeout=httpx.Timeout(timeout, connect=5.0)) as response:
            if response.status_code != 200:
                raise BotApiError(response.status_code, "the file could not be downloaded")
            for chunk in response.iter_bytes():
                content += chunk
                if len(content) > limit:
                    raise BotApiError(413, f"the file is larger than {limit} bytes")
    except httpx.HTTPError as exc:  # never its text: the URL carries the token
        raise NotSent(f"Could not download from Telegram ({type(exc).__name__})") from None
    return content


def _client() -> httpx.Client:
    """The process's pooled client for the Bot API (keep-alive: one connection serves
    many sends): the operator's own endpoint, so not address-guarded; TLS verified with
    the process's one context, no redirects followed."""
    return netguard.pooled_client("telegram", guarded=False)


def _result(response: httpx.Response) -> Any:
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise BotApiError(response.status_code, f"not a Bot API answer (HTTP {response.status_code})")
    if data.get("ok") is True:
        return data.get("result")
    parameters = data.get("parameters")
    retry_after = parameters.get("retry_after") if isinstance(parameters, dict) else None
    code = data.get("error_code")
    status = code if isinstance(code, int) else response.status_code
    description = " ".join(str(data.get("description") or "").split())[:300]
    raise BotApiError(status, description, float(retry_after) if isinstance(retry_after, int) else None)
