"""Read-only questions about contacts: who sent a message before a merge, and how an
address reads to a person."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, replace

from django.utils.translation import gettext as _

from adesso.contacts.models import Contact, ContactIdentity, ContactMerge, IdentityKind


@dataclass(frozen=True)
class MergedSender:
    """Until `until`, the conversation's customer messages came from `name`."""

    until: dt.datetime
    name: str


def merged_senders(conversation_ids: Iterable[int]) -> dict[int, list[MergedSender]]:
    """For each conversation a merge moved (and no undo gave back): who its customer was
    before each merge, oldest merge first. Two queries, whatever the number of conversations.

    A merge moves whole conversations to the target contact; the messages written
    before it were still sent by the source, and keep its name in the timeline.
    """
    from adesso.conversations.models import ConversationEvent, EventKind

    ids = set(conversation_ids)
    if not ids:
        return {}
    rows = list(
        ConversationEvent.objects.filter(conversation_id__in=ids, kind=EventKind.CONTACT_MERGED)
        .order_by("created_at", "pk")
        .values_list("conversation_id", "created_at", "data")
    )
    merge_ids = {data.get("merge") for _conv, _at, data in rows if isinstance(data.get("merge"), int)}
    if not merge_ids:
        return {}
    live = {
        m.pk: m.source.display_name
        for m in ContactMerge.objects.filter(pk__in=merge_ids, undone_at__isnull=True).select_related("source")
    }
    out: dict[int, list[MergedSender]] = {}
    for conversation_id, at, data in rows:
        name = live.get(data.get("merge"))
        if name is not None:
            out.setdefault(conversation_id, []).append(MergedSender(at, name))
    return out


def sender_at(merges: list[MergedSender], at: dt.datetime, current: str) -> str:
    """The name a customer message written at `at` was sent under: the source of the
    first merge that came after it, else the conversation's contact today."""
    return next((m.name for m in merges if at < m.until), current)


@dataclass(frozen=True)
class IdentityView:
    """An address as agents read it: "Email address" mario@example.com, "Handle on
    Sito web" c-1001, never the stored form "api 2xtczwea75zh/c-1001"."""

    kind: str
    label: str
    value: str
    channel: str = ""  # the channel's code, for identities that only mean something there
    # When and why the channel could no longer deliver to it (cleared when they write again).
    unreachable_at: dt.datetime | None = None
    unreachable_reason: str = ""


def identity_view(identity: ContactIdentity, channel_names: dict[str, str]) -> IdentityView:
    """`channel_names`: channel code -> name, for identities qualified by their channel."""
    if identity.kind == IdentityKind.EMAIL:
        return IdentityView(identity.kind, _("Email address"), identity.value)
    if identity.kind == IdentityKind.PHONE:
        return IdentityView(identity.kind, _("Phone number"), identity.value)
    channel, sep, handle = identity.value.partition("/")
    if sep and handle:
        name = channel_names.get(channel)
        label = _("Handle on %(channel)s") % {"channel": name} if name else _("Handle")
        return IdentityView(identity.kind, label, handle, channel)
    return IdentityView(identity.kind, _("Handle"), identity.value)


def identity_views(identities: list[ContactIdentity], organization_id: int) -> list[IdentityView]:
    """The views of one contact's identities, with channel names read in one query."""
    from adesso.channels.models import Channel

    codes = {i.value.partition("/")[0] for i in identities if i.kind not in (IdentityKind.EMAIL, IdentityKind.PHONE)}
    names = (
        dict(Channel.objects.filter(organization_id=organization_id, code__in=codes).values_list("code", "name"))
        if codes
        else {}
    )
    return [
        replace(identity_view(i, names), unreachable_at=i.unreachable_at, unreachable_reason=i.unreachable_reason)
        if i.unreachable_at
        else identity_view(i, names)
        for i in identities
    ]


def contact_handles(contact: Contact) -> list[IdentityView]:
    """The contact's handles on channels (not email or phone, which agents see as such)."""
    handles = list(
        contact.identities.exclude(kind__in=[IdentityKind.EMAIL, IdentityKind.PHONE]).order_by("kind", "value")
    )
    return identity_views(handles, contact.organization_id) if handles else []
