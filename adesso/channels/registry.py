"""Every channel kind Adesso knows, in one place. Adding a kind: copy a package, list it here."""

from functools import cache

from django.utils.module_loading import import_string

from adesso.channels.base import ChannelKind

KINDS: dict[str, str] = {
    "api": "adesso.channels.api.adapter.ApiChannel",
    "email": "adesso.channels.email.adapter.EmailChannel",
}


@cache
def get_kind(kind: str) -> ChannelKind:
    """The adapter for a kind; KeyError for an unknown kind."""
    return import_string(KINDS[kind])()  # type: ignore[no-any-return]
