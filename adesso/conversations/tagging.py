"""Tags on conversations: add and remove, each an event in the conversation's log.

Kept apart from actions.py (intake, replies, assignment, status), which is long
enough already. Any agent of the organisation may tag; a new name creates the tag.
"""

from __future__ import annotations

import re

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from adesso.accounts.models import User
from adesso.conversations.events import record_event
from adesso.conversations.models import Conversation, EventKind, Tag
from adesso.lib.errors import ActionError

MAX_TAG_CHARS = 40
MAX_TAGS_PER_CONVERSATION = 20
# Letters (any script), digits, spaces, and - _ . / + &: no commas, quotes or markup.
_ALLOWED = re.compile(r"^[\w .\-/+&]+$")


def clean_tag_name(raw: str) -> str:
    """The stored form of a tag: spaces collapsed, lower case; ActionError if unusable."""
    name = " ".join(str(raw).split()).lower()
    if not name:
        raise ActionError(_("Write a tag."), "invalid_tag")
    if len(name) > MAX_TAG_CHARS or not _ALLOWED.match(name):
        raise ActionError(
            _("A tag is up to %(n)d letters, digits, spaces or - _ . / + &.") % {"n": MAX_TAG_CHARS},
            "invalid_tag",
        )
    return name


def tags_for(user: User) -> QuerySet[Tag]:
    return Tag.objects.filter(organization_id=user.organization_id).order_by("name")


def _get_or_create_tag(organization_id: int, name: str) -> Tag:
    tag = Tag.objects.filter(organization_id=organization_id, name=name).first()
    if tag is not None:
        return tag
    try:
        with transaction.atomic():
            return Tag.objects.create(organization_id=organization_id, name=name)
    except IntegrityError:  # created meanwhile by someone else
        return Tag.objects.get(organization_id=organization_id, name=name)


def _locked_names(conversation: Conversation) -> list[str]:
    """The conversation's tag names as stored, its row locked (PostgreSQL) until commit,
    so that two agents tagging at once keep `tag_names` whole."""
    qs = Conversation.objects.select_for_update().filter(pk=conversation.pk)
    return list(qs.values_list("tag_names", flat=True).get() or [])


def do_tag(actor: User, conversation: Conversation, raw_name: str) -> Tag:
    """Put a tag on the conversation (created for the organisation if new). Tagging
    twice changes nothing and records nothing."""
    if conversation.organization_id != actor.organization_id:
        raise ActionError(_("No such conversation."), "not_found")
    name = clean_tag_name(raw_name)
    with transaction.atomic():
        tag = _get_or_create_tag(conversation.organization_id, name)
        names = _locked_names(conversation)
        if name in names:
            conversation.tag_names = names
            return tag
        if len(names) >= MAX_TAGS_PER_CONVERSATION:
            raise ActionError(
                _("A conversation can have at most %(n)d tags.") % {"n": MAX_TAGS_PER_CONVERSATION}, "too_many_tags"
            )
        conversation.tags.add(tag)
        conversation.tag_names = sorted({*names, name})
        conversation.save(update_fields=["tag_names"])
        record_event(conversation, EventKind.TAGGED, actor, {"tag": name})
    return tag


def do_untag(actor: User, conversation: Conversation, raw_name: str) -> bool:
    """Take a tag off the conversation; False (and no event) if it did not have it."""
    if conversation.organization_id != actor.organization_id:
        raise ActionError(_("No such conversation."), "not_found")
    name = " ".join(str(raw_name).split()).lower()
    with transaction.atomic():
        names = _locked_names(conversation)
        tag = Tag.objects.filter(organization_id=conversation.organization_id, name=name).first()
        if tag is None or name not in names:
            conversation.tag_names = names
            return False
        conversation.tags.remove(tag)
        conversation.tag_names = [n for n in names if n != name]
        conversation.save(update_fields=["tag_names"])
        record_event(conversation, EventKind.UNTAGGED, actor, {"tag": name})
    return True
