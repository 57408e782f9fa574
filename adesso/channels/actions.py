"""Connecting channels."""

from typing import Any

from django.utils.translation import gettext as _
from pydantic import ValidationError

from adesso.accounts.models import Organization
from adesso.channels.models import Channel
from adesso.channels.registry import KINDS, get_kind
from adesso.lib.codes import hash_secret, new_secret
from adesso.lib.errors import ActionError


def do_create_channel(
    org: Organization, kind: str, name: str, config: dict[str, Any] | None = None
) -> tuple[Channel, str]:
    """Create a channel; returns it and its inbound token (only the hash is kept)."""
    if kind not in KINDS:
        raise ActionError(
            _("Unknown channel kind %(kind)s; available: %(kinds)s")
            % {"kind": kind, "kinds": ", ".join(KINDS)},
            "invalid_kind",
        )
    try:
        clean = get_kind(kind).config_schema.model_validate(config or {})
    except ValidationError as exc:
        raise ActionError(_("Invalid configuration: %s") % exc.errors()[0]["msg"], "invalid_config") from None
    token = "ach_" + new_secret()
    channel = Channel.objects.create(
        organization=org, kind=kind, name=name.strip(),
        config=clean.model_dump(mode="json"), token_hash=hash_secret(token),
    )
    return channel, token
