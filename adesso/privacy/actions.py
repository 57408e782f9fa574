"""Privacy state changes: consent on a contact, an organisation's privacy settings."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from adesso.accounts.access import require_admin
from adesso.accounts.models import User
from adesso.audit import events as audit
from adesso.contacts.models import Consent, Contact
from adesso.lib.errors import ActionError
from adesso.privacy.models import PrivacySettings, TwoFactorPolicy, privacy_of
from adesso.privacy.redact import KINDS

# Upper bounds that catch a typo (10 years), not a policy.
MAX_MONTHS = 120
MAX_DAYS = 3650


def do_set_consent(actor: User, contact: Contact, consent: str, source: str = "", notes: str | None = None) -> Contact:
    """Record the contact's consent (given, refused, withdrawn or not recorded), how it
    was obtained, and the processing notes."""
    if consent not in Consent.values:
        raise ActionError(_("Consent must be given, refused, withdrawn or empty."), "invalid_consent")
    if contact.erased_at is not None:
        raise ActionError(_("This contact was erased."), "erased")
    fields = []
    if consent != contact.consent:
        contact.consent = consent
        contact.consent_at = timezone.now() if consent else None
        fields += ["consent", "consent_at"]
    if source.strip()[:200] != contact.consent_source:
        contact.consent_source = source.strip()[:200]
        fields.append("consent_source")
    if notes is not None and notes.strip() != contact.processing_notes:
        contact.processing_notes = notes.strip()[:10_000]
        fields.append("processing_notes")
    if fields:
        contact.updated_at = timezone.now()
        with transaction.atomic():
            contact.save(update_fields=[*fields, "updated_at"])
            if "consent" in fields:
                audit.consent_changed(actor=actor, contact=contact, consent=consent)
            if set(fields) - {"consent", "consent_at"}:
                audit.contact_changed(
                    actor=actor, contact=contact, fields=[f for f in fields if f not in ("consent", "consent_at")]
                )
    return contact


def _period(value: Any, limit: int, label: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ActionError(_("%(field)s must be a whole number.") % {"field": label}, "invalid_period") from None
    if isinstance(value, bool) or not 1 <= number <= limit:
        raise ActionError(
            _("%(field)s must be between 1 and %(max)d, or empty for no limit.") % {"field": label, "max": limit},
            "invalid_period",
        )
    return number


def do_save_privacy_settings(admin: User, **changes: Any) -> PrivacySettings:
    """Retention periods (empty: keep), the kinds of data redacted, the two-factor policy."""
    require_admin(admin)
    current = privacy_of(admin.organization_id)
    fields = []
    periods = {
        "resolved_conversation_months": (MAX_MONTHS, _("Months to keep resolved conversations")),
        "inbound_event_days": (MAX_DAYS, _("Days to keep raw inbound events")),
        "audit_days": (MAX_DAYS, _("Days to keep the audit log")),
    }
    for field, (limit, label) in periods.items():
        if field in changes:
            value = _period(changes[field], limit, label)
            if value != getattr(current, field):
                setattr(current, field, value)
                fields.append(field)
    if "redact_kinds" in changes:
        kinds = [k for k in KINDS if k in set(changes["redact_kinds"] or [])]
        unknown = set(changes["redact_kinds"] or []) - set(KINDS)
        if unknown:
            raise ActionError(
                _("Unknown kind of data: %(kinds)s") % {"kinds": ", ".join(sorted(unknown))}, "invalid_kind"
            )
        if kinds != current.redact_kinds:
            current.redact_kinds = kinds
            fields.append("redact_kinds")
    if "two_factor" in changes and changes["two_factor"] != current.two_factor:
        if changes["two_factor"] not in TwoFactorPolicy.values:
            raise ActionError(_("Unknown two-factor policy."), "invalid_policy")
        current.two_factor = changes["two_factor"]
        fields.append("two_factor")
    if fields:
        if current.has_retention:
            current.retention_due_at = timezone.now()  # the next timer tick applies it
            fields.append("retention_due_at")
        else:
            current.retention_due_at = None
            fields.append("retention_due_at")
        with transaction.atomic():
            current.save(update_fields=fields)
            audit.settings_changed(
                actor=admin,
                organization=admin.organization,
                area="privacy",
                fields=[f for f in fields if f != "retention_due_at"],
            )
    return current
