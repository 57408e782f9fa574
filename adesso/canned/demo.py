"""Canned replies and tags for the demo organisation (seeddemo): something to find
when a team types `/` in the reply box or filters the inbox by tag."""

from __future__ import annotations

from adesso.accounts.models import User
from adesso.canned.actions import do_save
from adesso.conversations.models import Conversation
from adesso.conversations.tagging import do_tag

# (shortcut, title, language, body): shared, written the way the reply coach likes.
REPLIES = [
    (
        "conferma",
        "Ordine confermato",
        "it",
        "Ciao {contact_first_name}, sono {agent_name}: ho controllato il suo ordine ed è confermato. "
        "Le scrivo appena parte, entro oggi.",
    ),
    (
        "rimborso",
        "Rimborso avviato",
        "it",
        "Ciao {contact_first_name}, ci dispiace molto per il disagio: ho già avviato il rimborso, lo riceverà "
        "entro 3 giorni lavorativi. Se le serve altro sono qui. {agent_name}",
    ),
    (
        "grazie",
        "Grazie",
        "it",
        "Grazie {contact_first_name}, è stato un piacere aiutarla. A presto da tutta la pasticceria! {agent_name}",
    ),
    (
        "refund",
        "Refund started",
        "en",
        "Hi {contact_first_name}, I'm sorry about this: I've started your refund and it will reach you within "
        "3 working days. I'm here if you need anything else. {agent_name}",
    ),
    (
        "shipping",
        "Christmas delivery",
        "en",
        "Hi {contact_first_name}, orders placed by 18 December arrive before Christmas. "
        "I can help you place yours now if you like. {agent_name}",
    ),
]

# Tags for the demo's live conversations, in the order seeddemo receives them.
TAGS = [["ordine"], ["ordine"], ["rimborso", "spedizione"], ["estero"], ["senza glutine"]]


def seed_workspace(admin: User, conversations: list[Conversation]) -> None:
    for shortcut, title, language, body in REPLIES:
        do_save(admin, None, shortcut=shortcut, title=title, language=language, body=body, shared=True)
    for conversation, names in zip(conversations, TAGS, strict=False):
        for name in names:
            do_tag(admin, conversation, name)
