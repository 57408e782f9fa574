"""The only writers of the audit log: one keyword-only constructor per action.

Each is called by the action that does the thing (inside its transaction, so an
action rolled back leaves no entry), or by the view that shows or hands out data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from adesso.audit.context import current_ip, current_user
from adesso.audit.models import AuditAction, AuditEntry

if TYPE_CHECKING:
    from adesso.accounts.models import Organization, User
    from adesso.channels.models import Channel
    from adesso.contacts.models import Contact


def _write(
    organization_id: int,
    actor: User | None,
    action: AuditAction,
    kind: str,
    code: str,
    data: dict[str, Any] | None = None,
) -> AuditEntry:
    actor = actor if actor is not None else current_user()
    return AuditEntry.objects.create(
        organization_id=organization_id,
        actor=actor,
        actor_email=actor.email if actor is not None else "",
        action=action,
        object_kind=kind,
        object_code=code,
        data=data or {},
        ip=current_ip(),
    )


# -- contacts ------------------------------------------------------------------------------


def contact_changed(*, actor: User | None, contact: Contact, fields: list[str]) -> AuditEntry:
    """Which fields changed; never their values (they are personal data)."""
    return _write(
        contact.organization_id, actor, AuditAction.CONTACT_CHANGED, "contact", contact.code, {"fields": sorted(fields)}
    )


def contact_merged(*, actor: User | None, source: Contact, target: Contact) -> AuditEntry:
    return _write(
        target.organization_id, actor, AuditAction.CONTACT_MERGED, "contact", target.code, {"source": source.code}
    )


def contact_unmerged(*, actor: User | None, source: Contact, target: Contact) -> AuditEntry:
    return _write(
        target.organization_id, actor, AuditAction.CONTACT_UNMERGED, "contact", target.code, {"source": source.code}
    )


def consent_changed(*, actor: User | None, contact: Contact, consent: str) -> AuditEntry:
    return _write(
        contact.organization_id, actor, AuditAction.CONSENT_CHANGED, "contact", contact.code, {"consent": consent}
    )


def export_viewed(*, actor: User, contact: Contact) -> AuditEntry:
    return _write(contact.organization_id, actor, AuditAction.EXPORT_VIEWED, "contact", contact.code)


def contact_exported(*, actor: User, contact: Contact, redacted: bool, via: str) -> AuditEntry:
    return _write(
        contact.organization_id,
        actor,
        AuditAction.CONTACT_EXPORTED,
        "contact",
        contact.code,
        {"redacted": redacted, "via": via},
    )


def contact_erased(*, actor: User | None, contact: Contact, counts: dict[str, int]) -> AuditEntry:
    return _write(
        contact.organization_id, actor, AuditAction.CONTACT_ERASED, "contact", contact.code, {"counts": counts}
    )


# -- agents --------------------------------------------------------------------------------


def role_changed(*, actor: User | None, agent: User, before: str, after: str) -> AuditEntry:
    return _write(
        agent.organization_id, actor, AuditAction.ROLE_CHANGED, "agent", agent.code, {"before": before, "after": after}
    )


def agent_invited(*, actor: User | None, organization_id: int, invitation_code: str, role: str) -> AuditEntry:
    return _write(organization_id, actor, AuditAction.AGENT_INVITED, "invitation", invitation_code, {"role": role})


def agent_deactivated(*, actor: User | None, agent: User) -> AuditEntry:
    return _write(agent.organization_id, actor, AuditAction.AGENT_DEACTIVATED, "agent", agent.code)


def agent_reactivated(*, actor: User | None, agent: User) -> AuditEntry:
    return _write(agent.organization_id, actor, AuditAction.AGENT_REACTIVATED, "agent", agent.code)


def two_factor_enabled(*, actor: User) -> AuditEntry:
    return _write(actor.organization_id, actor, AuditAction.TWO_FACTOR_ENABLED, "agent", actor.code)


def two_factor_disabled(*, actor: User, agent: User) -> AuditEntry:
    return _write(agent.organization_id, actor, AuditAction.TWO_FACTOR_DISABLED, "agent", agent.code)


def recovery_code_used(*, actor: User, remaining: int) -> AuditEntry:
    return _write(
        actor.organization_id, actor, AuditAction.RECOVERY_CODE_USED, "agent", actor.code, {"remaining": remaining}
    )


# -- channels and settings ---------------------------------------------------------------------


def channel_created(*, actor: User | None, channel: Channel) -> AuditEntry:
    return _write(
        channel.organization_id, actor, AuditAction.CHANNEL_CREATED, "channel", channel.code, {"kind": channel.kind}
    )


def channel_changed(*, actor: User | None, channel: Channel, fields: list[str]) -> AuditEntry:
    """Which settings changed (names only: a secret's value is never written here)."""
    return _write(
        channel.organization_id, actor, AuditAction.CHANNEL_CHANGED, "channel", channel.code, {"fields": sorted(fields)}
    )


def settings_changed(*, actor: User | None, organization: Organization, area: str, fields: list[str]) -> AuditEntry:
    return _write(
        organization.pk,
        actor,
        AuditAction.SETTINGS_CHANGED,
        "organization",
        organization.code,
        {"area": area, "fields": sorted(fields)},
    )


def retention_run(*, organization: Organization, counts: dict[str, int]) -> AuditEntry:
    """The worker applied the organisation's retention policy (actor: the system)."""
    return AuditEntry.objects.create(
        organization=organization,
        action=AuditAction.RETENTION_RUN,
        object_kind="organization",
        object_code=organization.code,
        data={"counts": counts},
    )
