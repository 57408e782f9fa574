"""What Adesso stores about people, and why: the privacy page's table (docs/privacy.md)."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _


@dataclass(frozen=True)
class Category:
    name: str
    what: str
    why: str
    kept: str
    erased: str


def categories() -> list[Category]:
    """Each category of data, in the agent's language."""
    return [
        Category(
            _("Contacts"),
            _(
                "Name, email, phone, language, tier, notes, consent and processing notes; the addresses "
                "(identities) each channel knows them by."
            ),
            _("To recognise a customer on every channel and answer them in their language."),
            _("Until erased."),
            _("Emptied: name, addresses, notes and identities removed; the row stays for the figures."),
        ),
        Category(
            _("Conversations and messages"),
            _(
                "What customers wrote and what agents answered (text and HTML), internal notes, subject, "
                "status, assignee, times."
            ),
            _("To answer, to hand over between agents, and to measure service levels."),
            _("Resolved conversations: the months set below, then their content is removed."),
            _("Texts, subjects and previews emptied; times and statuses stay for the reports."),
        ),
        Category(
            _("Attachments and original mails"),
            _("Files sent and received, and each email as it arrived or left (.eml)."),
            _("To show the customer's files to agents and to thread email replies."),
            _("With their conversation."),
            _("Files deleted from storage, rows removed."),
        ),
        Category(
            _("Raw inbound events"),
            _("Each provider's payload as received (webhooks, mail fetched), before processing."),
            _("To process every message exactly once and to replay one after a fault."),
            _("The days set below after processing."),
            _("Emptied where they carried the contact's messages or name its addresses."),
        ),
        Category(
            _("Timeline events and notifications"),
            _(
                "What happened to each conversation (assignments, status changes, delivery errors) and "
                "the agents' notifications."
            ),
            _("The timeline, reports, SLA and live updates."),
            _("With their conversation."),
            _("Details naming the contact removed; notifications deleted."),
        ),
        Category(
            _("Outgoing deliveries"),
            _("Each send of a reply, its attempts and the provider's error."),
            _("Retries with backoff, and showing why a reply did not arrive."),
            _("With their conversation."),
            _("Errors emptied."),
        ),
        Category(
            _("Agents"),
            _("Name, email, role, language, presence log, hashed password and API tokens, two-factor devices."),
            _("Logging in, routing and the staffing planner."),
            _("Until the agent is removed by the organisation."),
            _("Not affected by a contact's erasure."),
        ),
        Category(
            _("Audit log"),
            _(
                "Who viewed or exported a contact, erased one, or changed contacts, roles, channels and "
                "settings: actor, action, object code, time, IP address. No names or addresses of contacts."
            ),
            _("Accountability: showing who did what with personal data."),
            _("The days set below, or for ever."),
            _("Kept: it names contacts only by code."),
        ),
    ]
