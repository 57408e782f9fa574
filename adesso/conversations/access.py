"""The only way views fetch conversations, messages and contacts: scoped to the
caller's organisation (and, as roles grow, to their rights). 404 is decided here."""

from django.db.models import QuerySet
from django.http import Http404

from adesso.accounts.models import User
from adesso.contacts.models import Contact, ContactMerge
from adesso.conversations.models import Attachment, Conversation


def conversations_for(user: User) -> QuerySet[Conversation]:
    return Conversation.objects.filter(organization_id=user.organization_id)


def access_conversation_by_code(user: User, code: str) -> Conversation:
    try:
        return conversations_for(user).select_related(
            "contact", "channel", "assignee", "team"
        ).get(code=code)
    except Conversation.DoesNotExist:
        raise Http404("No such conversation") from None


def contacts_for(user: User) -> QuerySet[Contact]:
    return Contact.objects.filter(organization_id=user.organization_id)


def access_contact_by_code(user: User, code: str) -> Contact:
    try:
        return contacts_for(user).get(code=code)
    except Contact.DoesNotExist:
        raise Http404("No such contact") from None


def access_merge_by_id(user: User, merge_id: int) -> ContactMerge:
    try:
        return ContactMerge.objects.select_related("source", "target").get(
            organization_id=user.organization_id, pk=merge_id
        )
    except ContactMerge.DoesNotExist:
        raise Http404("No such merge") from None


def access_attachment_by_code(user: User, code: str) -> Attachment:
    try:
        return Attachment.objects.get(organization_id=user.organization_id, code=code)
    except Attachment.DoesNotExist:
        raise Http404("No such attachment") from None
