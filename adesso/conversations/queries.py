"""Read-side queries shared by the API and the agent UI. Counts stay constant
with page size: every relation a list shows is joined or prefetched."""

from __future__ import annotations

from django.db.models import F, Prefetch, QuerySet

from adesso.accounts.models import User
from adesso.contacts.models import Contact
from adesso.conversations.access import conversations_for
from adesso.conversations.models import (
    Attachment,
    Conversation,
    ConversationEvent,
    EventKind,
    Message,
    Status,
)

ORDERINGS = {
    # Longest waiting first; those not waiting after, most recently active first.
    "waiting": (F("waiting_since").asc(nulls_last=True), F("updated_at").desc()),
    # Least time left on the service level first; those without a clock after.
    "sla": (F("sla_due_at").asc(nulls_last=True), F("waiting_since").asc(nulls_last=True)),
    "-updated": (F("updated_at").desc(),),
    "updated": (F("updated_at").asc(),),
    "-created": (F("created_at").desc(),),
    "created": (F("created_at").asc(),),
}


class FilterError(ValueError):
    pass


def inbox(
    user: User,
    *,
    status: str | None = "open",
    assignee: str | None = None,
    team: str | None = None,
    channel: str | None = None,
    ordering: str = "waiting",
    tag: str | None = None,
) -> QuerySet[Conversation]:
    """Conversations the agent may see, filtered.

    assignee: "me", "none" or an agent's code. team: a team's code, or "mine"
    for the agent's teams. status: one status, "all", or None for all. tag: a tag's name.
    """
    qs = conversations_for(user).select_related("channel", "contact", "assignee", "team")
    if status and status != "all":
        if status not in Status.values:
            raise FilterError(f"Unknown status {status!r}; use one of {', '.join(Status.values)} or all")
        qs = qs.filter(status=status)
    if assignee == "me":
        qs = qs.filter(assignee=user)
    elif assignee == "none":
        qs = qs.filter(assignee__isnull=True)
    elif assignee:
        qs = qs.filter(assignee__code=assignee)
    if team == "mine":
        qs = qs.filter(team__members=user)
    elif team:
        qs = qs.filter(team__code=team)
    if channel:
        qs = qs.filter(channel__code=channel)
    if tag:
        # Through the join table (indexed), not the denormalised names.
        qs = qs.filter(tags__name=" ".join(tag.split()).lower())
    if ordering not in ORDERINGS:
        raise FilterError(f"Unknown ordering {ordering!r}; use one of {', '.join(ORDERINGS)}")
    return qs.order_by(*ORDERINGS[ordering], "pk")


def silent(user: User) -> QuerySet[Conversation]:
    """The silence guard: every conversation whose customer's last message has no
    human answer yet, whatever its status, oldest wait first.

    `waiting_since` is set by a customer's message and cleared only by a human,
    public reply (automatic acknowledgements and internal notes leave it), or by a
    person resolving with a recorded reason.
    """
    return (
        conversations_for(user)
        .filter(waiting_since__isnull=False)
        .select_related("channel", "contact", "assignee", "team")
        .order_by("waiting_since", "pk")
    )


def messages_with_details() -> QuerySet[Message]:
    return Message.objects.select_related("author").prefetch_related(
        Prefetch("attachments", queryset=Attachment.objects.order_by("pk"))
    )


def conversation_messages(conversation: Conversation) -> list[Message]:
    return list(messages_with_details().filter(conversation=conversation).order_by("created_at", "pk"))


def contact_history(contact: Contact, exclude: Conversation | None = None, limit: int = 200) -> list[Message]:
    """The contact's messages on every channel, oldest first (the latest `limit`)."""
    qs = messages_with_details().select_related("conversation", "channel").filter(conversation__contact=contact)
    if exclude is not None:
        qs = qs.exclude(conversation=exclude)
    latest = list(qs.order_by("-created_at", "-pk")[:limit])
    latest.reverse()
    return latest


def conversation_events(conversation: Conversation) -> list[ConversationEvent]:
    return list(
        ConversationEvent.objects.select_related("actor").filter(conversation=conversation).order_by("created_at", "pk")
    )


def resolution_reason(events: list[ConversationEvent]) -> str | None:
    """Why the latest resolve that left the customer's message unanswered needed no answer."""
    for event in reversed(events):
        if event.kind == EventKind.STATUS_CHANGED and event.data.get("unanswered"):
            return str(event.data.get("reason") or "") or None
    return None


def handover_note(events: list[ConversationEvent]) -> ConversationEvent | None:
    """The latest transfer's note: what the current agent must read first."""
    for event in reversed(events):
        if event.kind == EventKind.TRANSFERRED and event.data.get("note"):
            return event
    return None
