"""Every channel kind Adesso knows, in one place. Adding a kind: copy a package
(adesso/channels/telegram/ has every file a kind has), list it here; its `urls.py`
is mounted at /channels/<kind>/ by `urlpatterns()` (docs/channels.md)."""

from __future__ import annotations

from functools import cache
from importlib.util import find_spec
from typing import TYPE_CHECKING

from django.conf import settings
from django.urls import URLResolver, include, path
from django.utils.module_loading import import_string

from adesso.channels.base import ChannelKind

if TYPE_CHECKING:
    from ninja import Router

    from adesso.channels.models import Channel

KINDS: dict[str, str] = {
    "api": "adesso.channels.api.adapter.ApiChannel",
    "email": "adesso.channels.email.adapter.EmailChannel",
    "telegram": "adesso.channels.telegram.adapter.TelegramChannel",
    "webchat": "adesso.channels.webchat.adapter.WebchatChannel",
}

# Kinds not yet on the shape of docs/channels.md: their inbound routes would be
# mounted by hand and their inbound addresses written here until they move (none left).
NOT_YET_CONVERTED: dict[str, str] = {}


@cache
def get_kind(kind: str) -> ChannelKind:
    """The adapter for a kind; KeyError for an unknown kind."""
    return import_string(KINDS[kind])()  # type: ignore[no-any-return]


def package(kind: str) -> str:
    """The dotted path of a kind's package (`adesso.channels.telegram`)."""
    return KINDS[kind].rsplit(".", 2)[0]


def urlpatterns() -> list[URLResolver]:
    """Each converted kind's `urls.py` at /channels/<kind>/ (included once, from adesso/urls.py);
    a kind without one (a test's stand-in) has no routes."""
    return [
        # A kind may choose its own prefix (`url_prefix`: the web chat's /chat/).
        path(getattr(get_kind(kind), "url_prefix", f"channels/{kind}/"), include(f"{package(kind)}.urls"))
        for kind in KINDS
        if kind not in NOT_YET_CONVERTED and find_spec(f"{package(kind)}.urls") is not None
    ]


def api_routers() -> list[tuple[str, Router]]:
    """Each kind's REST router (`api_router`: a kind fed by REST clients), with the prefix
    adesso/api/api.py mounts it at: /api/v1/inbound."""
    return [
        ("/inbound", import_string(get_kind(kind).api_router))
        for kind in KINDS
        if kind not in NOT_YET_CONVERTED and get_kind(kind).api_router
    ]


def inbound_route(kind: str) -> str:
    """The URL name of a kind's inbound view: in its `urls.py`, or in the REST API."""
    return f"api:{kind}_channel_inbound" if get_kind(kind).api_router else f"{kind}_channel:inbound"


def inbound_url(channel: Channel) -> str | None:
    """Where the channel's provider posts its events, if it posts (absolute)."""
    if channel.kind in NOT_YET_CONVERTED:
        legacy = NOT_YET_CONVERTED[channel.kind]
        return settings.SITE_URL.rstrip("/") + legacy.format(code=channel.code) if legacy else None
    try:
        return get_kind(channel.kind).inbound_url(channel)
    except KeyError:
        return None


def webhook_urls(channel: Channel) -> dict[str, str] | None:
    """For a kind whose providers need several callback addresses: name -> URL."""
    try:
        return get_kind(channel.kind).webhook_urls(channel)
    except KeyError:
        return None
