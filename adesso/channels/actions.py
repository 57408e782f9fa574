"""Connecting channels; replaying inbound events."""

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from pydantic import ValidationError

from adesso.accounts.models import Organization, User
from adesso.channels.base import ConnectError
from adesso.channels.models import Channel, EventState, InboundEvent
from adesso.channels.registry import KINDS, get_kind
from adesso.lib import netguard
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
    try:
        netguard.check_config(clean)  # again at every connection: adesso/lib/netguard.py
    except netguard.OutboundRefused as exc:
        raise ActionError(_("Invalid configuration: %s") % exc, "invalid_config") from None
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
    with transaction.atomic():
        channel.save(force_insert=True)
        from adesso.audit import events as audit

        # The actor is the request's agent (admins create channels); none from a command.
        audit.channel_created(actor=None, channel=channel)
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


def do_update_channel(channel: Channel, name: str, config: dict[str, Any]) -> Channel:
    """Save an admin's edit (the channels page). Secrets are write-only: a secret left
    empty keeps the stored one; settings the form does not show (a generated webhook
    secret, the bot's id) are kept. The kind connects again (Telegram: getMe and
    setWebhook with the new token) before anything is stored; a refusal stores nothing."""
    from adesso.channels.secrets import get_path, paths_for

    merged: dict[str, Any] = {**channel.config, **config}
    for path in paths_for(channel.kind):
        if not get_path(config, path) and get_path(channel.config, path):
            merged = _set_path(merged, path, get_path(channel.config, path))
    adapter = get_kind(channel.kind)
    try:
        clean = adapter.config_schema.model_validate(merged)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"])
        raise ActionError(
            _("Invalid configuration: %s") % (f"{where}: {error['msg']}" if where else error["msg"]), "invalid_config"
        ) from None
    try:
        netguard.check_config(clean)
    except netguard.OutboundRefused as exc:
        raise ActionError(_("Invalid configuration: %s") % exc, "invalid_config") from None
    name = name.strip()
    if not name:
        raise ActionError(_("The name is empty."), "invalid_name")
    trial = Channel(
        pk=channel.pk,
        organization_id=channel.organization_id,
        code=channel.code,
        kind=channel.kind,
        name=name,
        config=clean.model_dump(mode="json"),
    )
    try:
        adapter.connect(trial)
    except ConnectError as exc:
        raise ActionError(str(exc), exc.code) from None
    from adesso.audit import events as audit

    changed = sorted({k for k in {*channel.config, *trial.config} if channel.config.get(k) != trial.config.get(k)})
    changed += ["name"] if trial.name != channel.name else []
    channel.name, channel.config = trial.name, trial.config
    with transaction.atomic():
        channel.save(update_fields=["name", "config"])
        # Which settings changed, by name: never a value (secrets among them).
        audit.channel_changed(actor=None, channel=channel, fields=changed)
    return channel


def _set_path(config: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    head, rest = path[0], path[1:]
    if not rest:
        return {**config, head: value}
    inner = config.get(head)
    return {**config, head: _set_path(inner if isinstance(inner, dict) else {}, rest, value)}


def do_set_channel_enabled(actor: User, channel: Channel, enabled: bool) -> Channel:
    """Disable a channel (nothing is accepted or sent on it; the reason says who) or
    enable it again (the reason is cleared)."""
    channel.is_enabled = enabled
    channel.disabled_reason = (
        "" if enabled else _("Disabled by %(admin)s on the channels page.") % {"admin": actor.display_name}
    )
    from adesso.audit import events as audit

    with transaction.atomic():
        channel.save(update_fields=["is_enabled", "disabled_reason"])
        audit.channel_changed(actor=actor, channel=channel, fields=["is_enabled"])
    return channel


def do_test_channel(channel: Channel) -> str:
    """The kind's own test (ChannelKind.test_connection); ActionError with what failed."""
    try:
        return get_kind(channel.kind).test_connection(channel)
    except KeyError:
        raise ActionError(_("Unknown channel kind %s") % channel.kind, "invalid_kind") from None
    except ConnectError as exc:
        raise ActionError(str(exc), exc.code) from None
