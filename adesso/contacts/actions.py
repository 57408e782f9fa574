"""State changes for contacts: resolving a sender, editing, merging and undoing merges."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from adesso.channels.registry import get_kind
from adesso.contacts.models import Contact, ContactIdentity, ContactMerge, IdentityKind, Tier
from adesso.conversations.events import record_event
from adesso.conversations.models import Conversation, EventKind
from adesso.lib import batch, rowsql
from adesso.lib.addresses import normalize_email, normalize_phone
from adesso.lib.errors import ActionError

if TYPE_CHECKING:
    from adesso.accounts.models import User
    from adesso.channels.base import InboundSender
    from adesso.channels.models import Channel


def _wanted(channel: Channel, sender: InboundSender) -> list[tuple[str, str]]:
    """The identities a sender shows, the channel's own first."""
    kind = get_kind(channel.kind)
    wanted: list[tuple[str, str]] = [(kind.identity_kind, kind.identity_value(channel, sender.external_id))]
    email = normalize_email(sender.email)
    phone = normalize_phone(sender.phone)
    # A kind whose identity is the address itself (email) names it once, not twice.
    if email and (IdentityKind.EMAIL, email) not in wanted:
        wanted.append((IdentityKind.EMAIL, email))
    if phone and (IdentityKind.PHONE, phone) not in wanted:
        wanted.append((IdentityKind.PHONE, phone))
    return wanted


def _lookup(organization_id: int, wanted: list[tuple[str, str]]) -> dict[tuple[str, str], Contact]:
    """The contacts owning these identities (one query)."""
    # Hand-written SQL: this runs for every message received, and the ORM spends
    # four times longer compiling the same join than the database takes to answer
    # it (docs/performance.md). One hit per wanted address on the unique index.
    pairs = " OR ".join(["(i.kind = %s AND i.value = %s)"] * len(wanted))
    sql = (
        "SELECT c.*, i.kind AS identity_kind, i.value AS identity_value,"  # noqa: S608 (placeholders only)
        " i.unreachable_at AS identity_unreachable_at"
        " FROM contacts_contactidentity i JOIN contacts_contact c ON c.id = i.contact_id"
        f" WHERE i.organization_id = %s AND ({pairs})"
    )
    # Any: each row is a Contact carrying the matched identity's kind and value.
    rows: Any = Contact.objects.raw(sql, [organization_id, *(part for pair in wanted for part in pair)])
    return {(c.identity_kind, c.identity_value): c for c in rows}


# Identities looked up at once for a batch of the inbound pipeline (a few hundred
# pairs per statement keeps well inside every database's limit on parameters).
PREFETCH_CHUNK = 300


def prefetch_contacts(channel: Channel, senders: list[InboundSender]) -> None:
    """In a batch of the inbound pipeline (adesso.lib.batch): look up the identities of
    all the batch's senders at once, so that `do_resolve_contact` asks nothing more for
    them. Outside a batch it does nothing."""
    if not batch.active():
        return
    known = batch.memo(("contacts.known", channel.organization_id), dict)
    wanted = list(dict.fromkeys(w for sender in senders for w in _wanted(channel, sender) if w not in known))
    for start in range(0, len(wanted), PREFETCH_CHUNK):
        chunk = wanted[start : start + PREFETCH_CHUNK]
        found = _lookup(channel.organization_id, chunk)
        known.update({w: found.get(w) for w in chunk})


def do_resolve_contact(channel: Channel, sender: InboundSender, defer: bool = False) -> Contact:
    """The contact a sender is, creating it or adding addresses to it as needed.

    Call inside the intake transaction. The sender's channel identity decides
    first; else a known email or phone (the API channel is the company's own
    trusted system, so its addresses identify). An address already owned by
    another contact is not moved: the two contacts become a merge suggestion.
    A contact created here is marked `is_new` (it has no conversation yet).
    In a batch (`prefetch_contacts`) the identities come from the batch's lookup,
    kept up to date with the contacts and identities the batch creates. `defer` (a batch
    applied optimistically, `batch.deferring()`): a new contact and its identities are
    inserted with the batch's other rows when it ends; until then the contact has no
    primary key, and the batch's lookup hands the same object to the sender's later
    messages.
    """
    wanted = _wanted(channel, sender)
    known: dict[tuple[str, str], Contact | None] = batch.memo(("contacts.known", channel.organization_id), dict)
    if all(w in known for w in wanted):
        found = {w: c for w in wanted if (c := known[w]) is not None}
    else:
        found = _lookup(channel.organization_id, wanted)
    contact = next((found[w] for w in wanted if w in found), None)
    own = found.get(wanted[0])
    if own is not None and getattr(own, "identity_unreachable_at", None) is not None:
        do_clear_unreachable(channel.organization_id, *wanted[0])
        own.identity_unreachable_at = None  # type: ignore[attr-defined]
    if contact is None:
        contact = rowsql.new(
            Contact,
            organization_id=channel.organization_id,
            name=sender.name,
            email=normalize_email(sender.email),
            phone=normalize_phone(sender.phone),
            language=sender.language,
        )
        if not (defer and batch.insert_later(contact)):
            rowsql.insert(contact)
        contact.is_new = True  # type: ignore[attr-defined]
    else:
        while contact.merged_into_id is not None:  # identities follow merges; be safe anyway
            contact = Contact.objects.get(pk=contact.merged_into_id)
        changed = []
        for field, value in (
            ("name", sender.name),
            ("email", normalize_email(sender.email)),
            ("phone", normalize_phone(sender.phone)),
        ):
            if value and not getattr(contact, field):
                setattr(contact, field, value)
                changed.append(field)
        if changed:
            contact.updated_at = timezone.now()
            if contact.pk is not None:  # else it waits for the batch's flush, with these values
                contact.save(update_fields=[*changed, "updated_at"])
    missing = [w for w in wanted if w not in found]
    for k, v in missing:
        identity = rowsql.new(
            ContactIdentity, organization_id=channel.organization_id, contact=contact, kind=k, value=v
        )
        if not ((defer or contact.pk is None) and batch.insert_later(identity)):
            rowsql.insert(identity)
    known.update({w: found[w] for w in wanted if w in found})
    known.update({w: contact for w in missing})
    return contact


CONTACT_EDITABLE = ("name", "email", "phone", "language", "tier", "notes")


def do_update_contact(actor: User, contact: Contact, **changes: Any) -> Contact:
    """Edit a contact's details. Email and phone are normalised and become identities."""
    fields = []
    for field, value in changes.items():
        if field not in CONTACT_EDITABLE or value is None:
            continue
        if field == "email" and value:
            value = normalize_email(value)
            if not value:
                raise ActionError(_("That is not a valid email address."), "invalid_email")
        if field == "phone" and value:
            value = normalize_phone(value)
            if not value:
                raise ActionError(_("That is not a valid phone number."), "invalid_phone")
        if field == "tier" and value not in Tier.values:
            raise ActionError(_("Unknown tier."), "invalid_tier")
        setattr(contact, field, value)
        fields.append(field)
    if fields:
        contact.updated_at = timezone.now()
        with transaction.atomic():
            contact.save(update_fields=[*fields, "updated_at"])
            for kind in (IdentityKind.EMAIL, IdentityKind.PHONE):
                value = getattr(contact, kind)
                if kind in fields and value:
                    # Claim the address only if nobody has it; else it stays a suggestion.
                    ContactIdentity.objects.get_or_create(
                        organization_id=contact.organization_id,
                        kind=kind,
                        value=value,
                        defaults={"contact": contact},
                    )
            from adesso.audit import events as audit

            audit.contact_changed(actor=actor, contact=contact, fields=fields)
    return contact


def merge_suggestions(contact: Contact) -> list[Contact]:
    """Other live contacts sharing an email or phone with this one."""
    addresses = Q(pk__in=[])
    own = list(contact.identities.filter(kind__in=[IdentityKind.EMAIL, IdentityKind.PHONE]))
    emails = {i.value for i in own if i.kind == IdentityKind.EMAIL} | ({contact.email} - {""})
    phones = {i.value for i in own if i.kind == IdentityKind.PHONE} | ({contact.phone} - {""})
    if emails:
        addresses |= Q(email__in=emails) | Q(identities__kind=IdentityKind.EMAIL, identities__value__in=emails)
    if phones:
        addresses |= Q(phone__in=phones) | Q(identities__kind=IdentityKind.PHONE, identities__value__in=phones)
    return list(
        Contact.objects.filter(addresses, organization_id=contact.organization_id, merged_into__isnull=True)
        .exclude(pk=contact.pk)
        .distinct()
        .order_by("created_at")[:20]
    )


def do_merge_contacts(actor: User | None, source: Contact, target: Contact) -> ContactMerge:
    """Move everything of `source` to `target`; `source` stays, marked merged, for undo."""
    if source.organization_id != target.organization_id:
        raise ActionError(_("Contacts of different organisations cannot be merged."), "cross_org")
    if source.pk == target.pk:
        raise ActionError(_("A contact cannot be merged into itself."), "same_contact")
    if source.merged_into_id or target.merged_into_id:
        raise ActionError(_("One of these contacts is already merged."), "already_merged")
    now = timezone.now()
    with transaction.atomic():
        # Compare-and-set: of two merges of one contact racing, one wins.
        claimed = Contact.objects.filter(pk=source.pk, merged_into__isnull=True).update(
            merged_into=target, updated_at=now
        )
        if not claimed:
            raise ActionError(_("One of these contacts is already merged."), "already_merged")
        source.merged_into, source.updated_at = target, now
        identity_ids = list(source.identities.values_list("pk", flat=True))
        conversation_ids = list(source.conversations.values_list("pk", flat=True))
        ContactIdentity.objects.filter(pk__in=identity_ids).update(contact=target)
        Conversation.objects.filter(pk__in=conversation_ids).update(contact=target)
        before: dict[str, str] = {}
        for field in ("name", "email", "phone", "language"):
            if not getattr(target, field) and getattr(source, field):
                before[field] = getattr(target, field)
                setattr(target, field, getattr(source, field))
        if source.tier != Tier.STANDARD and target.tier == Tier.STANDARD:
            before["tier"] = target.tier
            target.tier = source.tier
        target.updated_at = now
        target.save(update_fields=["name", "email", "phone", "language", "tier", "updated_at"])
        merge = ContactMerge.objects.create(
            organization_id=target.organization_id,
            source=source,
            target=target,
            moved_identity_ids=identity_ids,
            moved_conversation_ids=conversation_ids,
            actor=actor,
            target_before=before,
        )
        data = {"source": source.code, "target": target.code, "merge": merge.pk}
        for conversation in Conversation.objects.filter(pk__in=conversation_ids):
            record_event(conversation, EventKind.CONTACT_MERGED, actor, data)
        from adesso.audit import events as audit

        audit.contact_merged(actor=actor, source=source, target=target)
    return merge


def do_undo_merge(actor: User | None, merge: ContactMerge) -> Contact:
    """Give back to the source contact what the merge moved; returns the source."""
    if merge.undone_at is not None:
        raise ActionError(_("This merge was already undone."), "already_undone")
    if merge.target.merged_into_id is not None:
        # What moved now sits on the later target: undo that merge first.
        raise ActionError(
            _("The contact this one was merged into has since been merged too: undo that merge first."),
            "already_merged",
        )
    now = timezone.now()
    with transaction.atomic():
        # Compare-and-set: of two undos racing, one wins and the other is refused.
        claimed = ContactMerge.objects.filter(pk=merge.pk, undone_at__isnull=True).update(
            undone_at=now, undone_by=actor
        )
        if not claimed:
            raise ActionError(_("This merge was already undone."), "already_undone")
        merge.undone_at, merge.undone_by = now, actor
        source = merge.source
        target = merge.target
        # Details the merge filled in go back, unless an agent has changed them since.
        restored = [f for f in merge.target_before if getattr(target, f) == getattr(source, f)]
        for field in restored:
            setattr(target, field, merge.target_before[field])
        if restored:
            target.updated_at = now
            target.save(update_fields=[*restored, "updated_at"])
        ContactIdentity.objects.filter(pk__in=merge.moved_identity_ids, contact=merge.target).update(contact=source)
        conversations = Conversation.objects.filter(pk__in=merge.moved_conversation_ids, contact=merge.target)
        moved = list(conversations)
        conversations.update(contact=source)
        source.merged_into = None
        source.updated_at = now
        source.save(update_fields=["merged_into", "updated_at"])
        data = {"source": source.code, "target": merge.target.code, "merge": merge.pk}
        for conversation in moved:
            record_event(conversation, EventKind.CONTACT_UNMERGED, actor, data)
        from adesso.audit import events as audit

        audit.contact_unmerged(actor=actor, source=source, target=merge.target)
    return source


def do_mark_unreachable(organization_id: int, kind: str, value: str, reason: str) -> int:
    """A channel cannot deliver to this address any more (Telegram: the customer blocked
    the bot): flag the identity, with when and why, for agents to see on the contact.
    Returns how many identities were flagged (0 for an address no contact has)."""
    return ContactIdentity.objects.filter(organization_id=organization_id, kind=kind, value=value).update(
        unreachable_at=timezone.now(), unreachable_reason=reason[:500]
    )


def do_clear_unreachable(organization_id: int, kind: str, value: str) -> int:
    """The customer wrote again from this address: it reaches them again."""
    return ContactIdentity.objects.filter(
        organization_id=organization_id, kind=kind, value=value, unreachable_at__isnull=False
    ).update(unreachable_at=None, unreachable_reason="")
