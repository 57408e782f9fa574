"""Two agents answering the same customer at once: before a public reply goes out,
check that nobody wrote in the conversation since the sender last looked."""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext as _

from adesso.accounts.models import User
from adesso.conversations.models import Conversation, Direction, Message
from adesso.lib.errors import ActionError

STALE = "stale_reply"


def newer_messages(conversation: Conversation, seen_code: str) -> list[Message]:
    """Customer messages and human public replies written after the message `seen_code`,
    oldest first. Notes and automatic messages do not count: they answer nobody."""
    seen = conversation.messages.filter(code=seen_code).values_list("created_at", "pk").first()
    if seen is None:
        raise ActionError(_("The last message you saw is not part of this conversation."), "unknown_message")
    at, pk = seen
    return list(
        conversation.messages.filter(Q(created_at__gt=at) | Q(created_at=at, pk__gt=pk))
        .filter(Q(direction=Direction.INCOMING) | Q(internal=False, auto=False))
        .select_related("author")
        .order_by("created_at", "pk")
    )


def check_not_stale(agent: User, conversation: Conversation, seen_code: str | None) -> None:
    """Raise ActionError `stale_reply` when another reply or a customer message arrived
    after `seen_code` (the newest message the agent's page or client had). None: no check."""
    if not seen_code:
        return
    newer = newer_messages(conversation, seen_code)
    if not newer:
        return
    last = newer[-1]
    if last.direction == Direction.INCOMING:
        message = _(
            "The customer wrote again after you opened this conversation: read the new "
            "message before you send your reply."
        )
    elif last.author_id == agent.pk:
        message = _(
            "You already replied after you opened this conversation: check the timeline before you send this reply too."
        )
    else:
        name = last.author.display_name if last.author else "Adesso"
        message = _(
            "%(name)s replied to the customer after you opened this conversation: read "
            "their reply before you send yours."
        ) % {"name": name}
    raise ActionError(message, STALE)
