"""The coach's actions: coach a draft for an agent (with the conversation's context and
the organisation's own rules), check a reply before it is sent, record what was sent,
and let admins manage their organisation's rules and settings."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from adesso.accounts.models import User
from adesso.coach.engine import Context, Report, coach
from adesso.coach.models import (
    CoachDismissal,
    CoachExample,
    CoachFinding,
    CoachRecord,
    CoachRule,
    CoachSettings,
    ExampleSource,
    OnSend,
    Severity,
)
from adesso.coach.rules import BUILTIN_IDS, OrgRuleData, Rule, RuleError, org_rules
from adesso.coach.text import detect_language
from adesso.conversations.files import OutgoingFile
from adesso.conversations.models import Conversation, Direction, Message
from adesso.lib.errors import ActionError

MAX_PHRASES = 50
MAX_PHRASE_CHARS = 200
RULE_ID = re.compile(r"^[a-z][a-z0-9_]{1,39}$")


def organization_rules(organization_id: int) -> tuple[Rule, ...]:
    items = CoachRule.objects.filter(organization_id=organization_id, is_active=True).order_by("id")
    return org_rules([
        OrgRuleData(pattern=r.pattern, language=r.language, phrases=r.phrases, reason=r.reason,
                     suggestion=r.suggestion, severity=r.severity)
        for r in items
    ])


def conversation_context(conversation: Conversation) -> Context:
    """The customer's language, latest messages, tier and name."""
    contact = conversation.contact
    texts = list(
        Message.objects.filter(conversation=conversation, direction=Direction.INCOMING, internal=False)
        .order_by("-created_at")
        .values_list("text", flat=True)[:3]
    )
    return Context(
        customer_language=conversation.language or contact.language or "",
        customer_messages=[t[:4000] for t in reversed(texts)],
        tier=contact.tier,
        name=contact.name,
    )


def _ui_language(agent: User) -> str:
    active = (get_language() or agent.language or "en")[:2]
    return active if active in ("it", "en") else "en"


def coach_draft(agent: User, text: str, language: str | None = None,
                conversation: Conversation | None = None) -> Report:
    """Coach a draft for `agent`: built-in and organisation rules, the conversation's context,
    the learned layer (the organisation's own when it trained a good one)."""
    from adesso.coach.learned import learned_layer
    from adesso.coach.similarity import similarity_layer
    from adesso.coach.training_own import classifier_for

    context = conversation_context(conversation) if conversation is not None else None
    similarity = similarity_layer()
    learned = learned_layer(classifier_for(agent.organization_id)) if similarity is not None else None
    return coach(text, language, context, rules=organization_rules(agent.organization_id),
                 ui_language=_ui_language(agent), similarity=similarity, learned=learned)


def on_send_setting(organization_id: int) -> str:
    found = CoachSettings.objects.filter(organization_id=organization_id).values_list("on_send", flat=True).first()
    return found or OnSend.WARN


def check_before_send(agent: User, conversation: Conversation, text: str, confirmed: bool) -> Report:
    """Coach a public reply about to be sent. A serious finding left in it asks for
    confirmation (ActionError `coach_confirm`, unless `confirmed`) or, when the
    organisation blocks, refuses it (`coach_blocked`)."""
    report = coach_draft(agent, text, conversation=conversation)
    serious = report.serious
    if not serious:
        return report
    mode = on_send_setting(agent.organization_id)
    labels = ", ".join(dict.fromkeys(f.label for f in serious))
    if mode == OnSend.BLOCK:
        raise ActionError(
            _("The reply still says what customers never want to hear (%(labels)s): rewrite it before sending.")
            % {"labels": labels}, "coach_blocked")
    if mode == OnSend.WARN and not confirmed:
        raise ActionError(
            _("The reply still says what customers never want to hear (%(labels)s). Send it anyway?")
            % {"labels": labels}, "coach_confirm")
    return report


def do_record_coaching(agent: User, message: Message, report: Report, confirmed: bool = False) -> CoachRecord:
    """Keep what the coach found in a sent reply (pattern ids only, no text), for statistics."""
    now = timezone.now()
    with transaction.atomic():
        record = CoachRecord.objects.create(
            organization_id=agent.organization_id, agent=agent, message=message, language=report.language,
            score=report.total, serious=len(report.serious), confirmed=confirmed and bool(report.serious),
            created_at=now,
        )
        seen: set[str] = set()
        rows = []
        for f in report.findings:
            if f.pattern in seen:
                continue
            seen.add(f.pattern)
            rows.append(CoachFinding(record=record, organization_id=agent.organization_id, agent=agent,
                                     pattern=f.pattern, severity=f.severity, created_at=now))
        CoachFinding.objects.bulk_create(rows)
    return record


def send_checked_reply(agent: User, conversation: Conversation, text: str, internal: bool,
                       confirmed: bool, attachments: Sequence[OutgoingFile] = ()) -> Message:
    """do_send_reply with the coach in front of public replies, and their record after."""
    from adesso.conversations.actions import do_send_reply

    report = None if internal or not text.strip() else check_before_send(agent, conversation, text, confirmed)
    with transaction.atomic():  # the reply and its coaching record commit together
        message = do_send_reply(agent, conversation, text, internal=internal, attachments=attachments)
        if report is not None:
            do_record_coaching(agent, message, report, confirmed)
    return message


# -- an organisation's rules (admins) --------------------------------------------------------


def _require_admin(agent: User) -> None:
    if not agent.is_admin:
        raise ActionError(_("Only admins can change the reply coach's rules."), "forbidden")


def _clean_rule(data: dict[str, Any]) -> dict[str, Any]:
    pattern = str(data.get("pattern", "")).strip().lower()
    if not RULE_ID.match(pattern):
        raise ActionError(_("The rule id must be 2-40 lower-case letters, digits or _, starting with a letter."),
                          "invalid_pattern")
    language = data.get("language")
    if language not in ("it", "en"):
        raise ActionError(_("The language must be it or en."), "invalid_language")
    raw = data.get("phrases", [])
    phrases_in: Sequence[Any] = raw.splitlines() if isinstance(raw, str) else raw
    phrases = [str(p).strip() for p in phrases_in if str(p).strip()]
    if not phrases:
        raise ActionError(_("Write at least one phrase to flag."), "no_phrases")
    if len(phrases) > MAX_PHRASES or any(len(p) > MAX_PHRASE_CHARS for p in phrases):
        raise ActionError(_("At most %(n)d phrases of up to %(c)d characters each.")
                          % {"n": MAX_PHRASES, "c": MAX_PHRASE_CHARS}, "too_many_phrases")
    severity = data.get("severity") or Severity.SERIOUS
    if severity not in Severity.values:
        raise ActionError(_("The severity must be serious or warning."), "invalid_severity")
    reason = str(data.get("reason") or "").strip()[:1000]
    suggestion = str(data.get("suggestion") or "").strip()[:1000]
    if pattern not in BUILTIN_IDS and not reason:
        raise ActionError(_("A new rule needs a reason: why customers should not hear this."), "no_reason")
    try:
        org_rules([OrgRuleData(pattern, language, phrases)])
    except RuleError as exc:
        raise ActionError(_("A phrase cannot be used: %(error)s") % {"error": exc}, "invalid_phrase") from None
    return {"pattern": pattern, "language": language, "phrases": phrases, "severity": severity,
            "reason": reason, "suggestion": suggestion, "is_active": bool(data.get("is_active", True))}


def do_save_rule(admin: User, rule: CoachRule | None, data: dict[str, Any]) -> CoachRule:
    """Create (rule None) or update an organisation's rule."""
    _require_admin(admin)
    values = _clean_rule(data)
    now = timezone.now()
    if rule is None:
        return CoachRule.objects.create(organization_id=admin.organization_id, created_by=admin,
                                        created_at=now, updated_at=now, **values)
    if rule.organization_id != admin.organization_id:
        raise ActionError(_("No such rule."), "not_found")
    for key, value in values.items():
        setattr(rule, key, value)
    rule.updated_at = now
    rule.save(update_fields=[*values, "updated_at"])
    return rule


def do_delete_rule(admin: User, rule: CoachRule) -> None:
    _require_admin(admin)
    if rule.organization_id != admin.organization_id:
        raise ActionError(_("No such rule."), "not_found")
    rule.delete()


def do_set_on_send(admin: User, on_send: str) -> CoachSettings:
    _require_admin(admin)
    if on_send not in OnSend.values:
        raise ActionError(_("On send must be warn, block or off."), "invalid_on_send")
    settings, _created = CoachSettings.objects.update_or_create(
        organization_id=admin.organization_id, defaults={"on_send": on_send, "updated_at": timezone.now()}
    )
    return settings


# -- dismissals (agents) -----------------------------------------------------------------------

LAYERS = ("pattern", "shape", "similarity", "learned")
MAX_EXAMPLE_CHARS = 1000


def do_dismiss(agent: User, pattern: str, conversation: Conversation | None = None, layer: str = "",
               text: str = "") -> CoachDismissal:
    """An agent marks a finding as not applicable: recorded per rule. With `text` (the
    sentence the finding was in) the sentence is also kept as an example that does not
    say the rule, for the organisation's learned layer (CoachExample)."""
    pattern = str(pattern or "").strip()
    known = set(BUILTIN_IDS) | set(
        CoachRule.objects.filter(organization_id=agent.organization_id).values_list("pattern", flat=True)
    )
    if pattern not in known:
        raise ActionError(_("No such rule."), "unknown_pattern")
    if layer and layer not in LAYERS:
        raise ActionError(_("The layer must be pattern, shape, similarity or learned."), "invalid_layer")
    if conversation is not None and conversation.organization_id != agent.organization_id:
        raise ActionError(_("No such conversation."), "not_found")
    now = timezone.now()
    text = str(text or "").strip()[:MAX_EXAMPLE_CHARS]
    with transaction.atomic():
        if text and pattern in BUILTIN_IDS:
            CoachExample.objects.create(organization_id=agent.organization_id, pattern=pattern,
                                        language=detect_language(text), text=text, positive=False,
                                        source=ExampleSource.DISMISSAL, agent=agent, created_at=now)
        return CoachDismissal.objects.create(organization_id=agent.organization_id, agent=agent,
                                             conversation=conversation, pattern=pattern, layer=layer,
                                             created_at=now)


def do_mark_example(supervisor: User, pattern: str, text: str, language: str | None = None) -> CoachExample:
    """A supervisor marks a sentence as an example of a built-in rule: it teaches the
    organisation's learned layer (`adesso traincoach --organisation`)."""
    if not supervisor.is_supervisor:
        raise ActionError(_("Only supervisors can mark examples for the reply coach."), "forbidden")
    pattern = str(pattern or "").strip()
    if pattern not in BUILTIN_IDS:
        raise ActionError(_("No such rule."), "unknown_pattern")
    text = str(text or "").strip()
    if not text or len(text) > MAX_EXAMPLE_CHARS:
        raise ActionError(_("Write the sentence (up to %(c)d characters).") % {"c": MAX_EXAMPLE_CHARS},
                          "invalid_text")
    if language not in ("it", "en"):
        language = detect_language(text)
    return CoachExample.objects.create(organization_id=supervisor.organization_id, pattern=pattern,
                                       language=language, text=text, positive=True,
                                       source=ExampleSource.SUPERVISOR, agent=supervisor,
                                       created_at=timezone.now())
