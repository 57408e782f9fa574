"""Saving and deleting canned replies. Anyone keeps their own; shared ones belong to
supervisors and admins."""

from __future__ import annotations

import re

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from adesso.accounts.models import User
from adesso.canned.access import may_change
from adesso.canned.models import CannedReply, Language
from adesso.canned.texts import Filling, fill, first_name, validate_body
from adesso.conversations.models import Conversation
from adesso.lib.errors import ActionError

SHORTCUT = re.compile(r"^[a-z0-9][a-z0-9_-]{0,29}$")


def clean_shortcut(raw: str) -> str:
    shortcut = raw.strip().lstrip("/").lower()
    if not SHORTCUT.match(shortcut):
        raise ActionError(
            _("The shortcut is 1-30 lower-case letters, digits, - or _, such as rimborso."), "invalid_shortcut"
        )
    return shortcut


def do_save(
    agent: User,
    canned: CannedReply | None,
    *,
    shortcut: str,
    title: str,
    language: str,
    body: str,
    shared: bool,
) -> CannedReply:
    """Create (`canned` None) or change a canned reply. A shared one (for everyone in the
    organisation) only by a supervisor or an admin; a personal one by its owner."""
    if shared and not agent.is_supervisor:
        raise PermissionDenied(_("Only supervisors and admins write shared replies."))
    if canned is not None and not may_change(agent, canned):
        raise PermissionDenied(_("You cannot change this reply."))
    shortcut = clean_shortcut(shortcut)
    title = " ".join(title.split())[:100] or shortcut
    if language not in Language.values:
        raise ActionError(_("The language must be it or en."), "invalid_language")
    body = validate_body(body)
    now = timezone.now()
    if canned is None:
        canned = CannedReply(organization_id=agent.organization_id, created_at=now)
    canned.owner = None if shared else agent  # may_change: a personal one is already theirs
    canned.shortcut, canned.title, canned.language, canned.body = shortcut, title, language, body
    canned.updated_at = now
    try:
        with transaction.atomic():
            canned.save()
    except IntegrityError:
        raise ActionError(
            _("There is already a reply /%(shortcut)s in this language.") % {"shortcut": shortcut},
            "already_exists",
        ) from None
    return canned


def do_delete(agent: User, canned: CannedReply) -> None:
    if not may_change(agent, canned):
        raise PermissionDenied(_("You cannot delete this reply."))
    canned.delete()


def render_for(agent: User, canned: CannedReply, conversation: Conversation) -> str:
    """The reply's text for this conversation, placeholders filled."""
    return fill(
        canned.body,
        Filling(
            contact_first_name=first_name(conversation.contact.name),
            agent_name=agent.display_name,
            conversation_code=conversation.code,
        ),
    )
