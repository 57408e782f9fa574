"""Connecting channels; replaying inbound events."""

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from pydantic import ValidationError

from adesso.accounts.models import Organization
from adesso.channels.base import ConnectError
from adesso.channels.models import Channel, EventState, InboundEvent
from adesso.channels.registry import KINDS, get_kind
from adesso.lib.codes import hash_secret, new_secret
from adesso.lib.errors import ActionError


def do_create_channel(
    org: Organization, kind: str, name: str, config: dict[str, Any] | None = None
) -> tuple[Channel, str]:
    """Create a channel; returns it and its inbound token (only the hash is kept).

    The kind first connects it with its provider (Telegram: getMe, setWebhook), outside
    any transaction; a refusal stores nothing and is shown to the admin.
    """
    if kind not in KINDS:
        raise ActionError(
            _("Unknown channel kind %(kind)s; available: %(kinds)s") % {"kind": kind, "kinds": ", ".join(KINDS)},
            "invalid_kind",
        )
    adapter = get_kind(kind)
    try:
        clean = adapter.config_schema.model_validate(config or {})
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"])
        raise ActionError(
            _("Invalid configuration: %s") % (f"{where}: {error['msg']}" if where else error["msg"]), "invalid_config"
        ) from None
    token = "ach_" + new_secret()
    channel = Channel(
        organization=org,
        kind=kind,
        name=name.strip(),
        config=clean.model_dump(mode="json"),
        token_hash=hash_secret(token),
    )
    try:
        adapter.connect(channel)
    except ConnectError as exc:
        raise ActionError(str(exc), exc.code) from None
    channel.save(force_insert=True)
    return channel, token


REPLAYABLE = (EventState.QUARANTINED, EventState.FAILED, EventState.IGNORED)


def do_replay_event(event: InboundEvent) -> InboundEvent:
    """Process a stored event again from its raw body (after a fix, or a provider's
    outage): it goes back to the queue with fresh attempts. A message it already made is
    not made twice (intake is idempotent on the provider's message id)."""
    from adesso.channels.pipeline import enqueue_after_commit

    if event.state not in REPLAYABLE:
        raise ActionError(_("Only quarantined, failed or ignored events can be replayed."), "not_replayable")
    now = timezone.now()
    with transaction.atomic():
        InboundEvent.objects.filter(pk=event.pk, state=event.state).update(
            state=EventState.ACCEPTED,
            attempts=0,
            error="",
            next_attempt_at=now,
            leased_until=None,
            lease="",
        )
        enqueue_after_commit()
    event.refresh_from_db()
    return event
