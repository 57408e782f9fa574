"""The contact actions called directly: update, merge suggestions, merge and undo."""

import pytest

from adesso.contacts.actions import (
    do_merge_contacts,
    do_undo_merge,
    do_update_contact,
    merge_suggestions,
)
from adesso.contacts.models import Contact
from adesso.conversations.models import Conversation
from adesso.lib.errors import ActionError
from tests.builders import customer_writes, make_agent, make_api_channel, make_org

pytestmark = pytest.mark.django_db


def contact_writing(ch, sender_id, **sender):
    code = customer_writes(ch, sender_id=sender_id, sender=sender)["conversation"]
    return Conversation.objects.get(code=code).contact


def test_undo_gives_back_the_details_the_merge_filled_in_unless_edited_since():
    org = make_org()
    giulia = make_agent(org)
    ch = make_api_channel(org)
    target = contact_writing(ch, "a", name="")
    source = contact_writing(ch, "b", name="Mario", email="mario@example.com", phone="3331234567")
    do_update_contact(giulia, source, tier="vip", language="it")
    merge = do_merge_contacts(giulia, source, target)
    target.refresh_from_db()
    assert (target.name, target.email, target.tier, target.language) == (
        "Mario",
        "mario@example.com",
        "vip",
        "it",
    )
    # An agent corrects the name after the merge: the undo keeps the correction.
    do_update_contact(giulia, target, name="Mario Bianchi")

    do_undo_merge(giulia, merge)

    target.refresh_from_db()
    assert (target.name, target.email, target.phone, target.tier, target.language) == (
        "Mario Bianchi",
        "",
        "",
        "standard",
        "",
    )
    source.refresh_from_db()
    assert (source.name, source.email, source.tier, source.merged_into) == (
        "Mario",
        "mario@example.com",
        "vip",
        None,
    )


def test_a_contact_is_merged_once():
    org = make_org()
    giulia = make_agent(org)
    ch = make_api_channel(org)
    a, b, c = (contact_writing(ch, s) for s in "abc")
    do_merge_contacts(giulia, a, b)
    stale = Contact.objects.get(pk=a.pk)
    stale.merged_into = None  # as a second request that loaded `a` before the merge sees it

    with pytest.raises(ActionError) as refused:
        do_merge_contacts(giulia, stale, c)

    assert refused.value.code == "already_merged"
    assert Contact.objects.get(pk=a.pk).merged_into == b
    assert Conversation.objects.filter(contact=c).count() == 1


def test_a_merge_is_undone_once():
    org = make_org()
    giulia = make_agent(org)
    ch = make_api_channel(org)
    merge = do_merge_contacts(giulia, contact_writing(ch, "a"), contact_writing(ch, "b"))
    stale = type(merge).objects.get(pk=merge.pk)
    do_undo_merge(giulia, merge)

    with pytest.raises(ActionError) as refused:
        do_undo_merge(giulia, stale)

    assert refused.value.code == "already_undone"


def test_merge_suggestions_share_an_email_or_phone_and_skip_merged_contacts():
    org = make_org()
    giulia = make_agent(org)
    ch = make_api_channel(org)
    mario = contact_writing(ch, "a", email="mario@example.com", phone="3331234567")
    same_email = contact_writing(ch, "b")
    same_phone = contact_writing(ch, "c")
    unrelated = contact_writing(ch, "d", email="lucia@example.com")
    do_update_contact(giulia, same_email, email="MARIO@example.com")
    do_update_contact(giulia, same_phone, phone="+39 333 123 4567")

    assert merge_suggestions(mario) == [same_email, same_phone]
    assert merge_suggestions(unrelated) == []
    do_merge_contacts(giulia, same_email, mario)
    assert merge_suggestions(mario) == [same_phone]
