"""The reply coach: coach a draft; an organisation's own rules (admins); statistics
(supervisors)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.core.exceptions import PermissionDenied
from ninja import Field, Query, Router, Schema, Status

from adesso.accounts.access import for_role
from adesso.accounts.models import Role
from adesso.api.request import AgentRequest
from adesso.api.schemas import BodyIn, Code, ErrorOut
from adesso.coach import actions, stats
from adesso.coach.access import access_rule_by_code
from adesso.coach.models import CoachRule
from adesso.conversations.access import access_conversation_by_code

router = Router()


class CoachIn(BodyIn):
    text: str = Field(..., max_length=20_000)
    language: Literal["it", "en"] | None = Field(None, description="the draft's language; detected when missing")
    conversation: str | None = Field(None, pattern=r"^[A-Za-z0-9_-]{1,64}$",
                                     description="a conversation's code, for the customer's context")


class FindingOut(Schema):
    pattern: str
    start: int
    end: int
    reason: str
    suggestion: str
    severity: str
    label: str
    words: str
    rule: str
    layer: str
    replace_start: int = Field(..., description="the suggestion replaces text[replace_start:replace_end]: "
                               "the whole sentences holding the flagged words")
    replace_end: int


class CheckOut(Schema):
    id: str
    label: str
    met: bool
    expected: bool
    hint: str
    words: str


class ScoreOut(Schema):
    total: int = Field(..., description="0-100: expected good practices met, less 15 per serious finding; "
                       "a reply with a serious finding scores 0-49, one without 50-100")
    checks: list[CheckOut]
    context: dict[str, Any]


class CoachOut(Schema):
    language: str
    findings: list[FindingOut]
    score: ScoreOut


@router.post("", response={200: CoachOut, 400: ErrorOut, 404: ErrorOut})
def coach_draft(request: AgentRequest, payload: CoachIn) -> dict[str, Any]:
    """What in a draft customers never want to hear, why, and a rewrite; and a score for
    what good replies do. `start`/`end` are character offsets in `text`."""
    conversation = (access_conversation_by_code(request.auth, payload.conversation)
                    if payload.conversation else None)
    report = actions.coach_draft(request.auth, payload.text, payload.language, conversation)
    return report.as_dict()


class DismissIn(BodyIn):
    pattern: str = Field(..., max_length=40, description="the finding's `pattern` (a rule id)")
    layer: Literal["pattern", "shape", "similarity", "learned", ""] = ""
    conversation: str | None = Field(None, pattern=r"^[A-Za-z0-9_-]{1,64}$", description="a conversation's code")
    text: str = Field("", max_length=1000, description="the sentence the finding was in (optional): kept as "
                      "an example that does not say the rule, for the organisation's learned layer")


class DismissOut(Schema):
    pattern: str
    created_at: dt.datetime


@router.post("/dismissals", response={201: DismissOut, 400: ErrorOut, 404: ErrorOut})
def dismiss(request: AgentRequest, payload: DismissIn) -> Status:
    """An agent marks a finding as not applicable (recorded per rule, without the draft;
    supervisors see the counts in GET /coach/stats `dismissals`)."""
    conversation = (access_conversation_by_code(request.auth, payload.conversation)
                    if payload.conversation else None)
    d = actions.do_dismiss(request.auth, payload.pattern, conversation, payload.layer, payload.text)
    return Status(201, {"pattern": d.pattern, "created_at": d.created_at})


class ExampleIn(BodyIn):
    pattern: str = Field(..., max_length=40, description="a built-in rule id")
    text: str = Field(..., max_length=1000, description="a sentence that says what the rule names")
    language: Literal["it", "en"] | None = None


class ExampleOut(Schema):
    pattern: str
    language: str
    positive: bool
    created_at: dt.datetime


@router.post("/examples", response={201: ExampleOut, 400: ErrorOut, 403: ErrorOut})
@for_role(Role.SUPERVISOR, "Only supervisors can mark examples for the reply coach")
def mark_example(request: AgentRequest, payload: ExampleIn) -> Status:
    """A supervisor marks a sentence as an example of a rule: it trains the organisation's
    learned layer (`adesso traincoach --organisation CODE`, used only when it scores at
    least as well as the shipped layer on a held-out part)."""
    e = actions.do_mark_example(request.auth, payload.pattern, payload.text, payload.language)
    return Status(201, {"pattern": e.pattern, "language": e.language, "positive": e.positive,
                        "created_at": e.created_at})


class RuleIn(BodyIn):
    pattern: str = Field(..., max_length=40, description="a new id of your own, or a built-in id to extend")
    language: Literal["it", "en"]
    phrases: list[str] = Field(..., max_length=actions.MAX_PHRASES)
    reason: str = Field("", max_length=1000)
    suggestion: str = Field("", max_length=1000)
    severity: Literal["serious", "warning"] = "serious"
    is_active: bool = True


class RuleOut(Schema):
    code: str
    pattern: str
    language: str
    phrases: list[str]
    reason: str
    suggestion: str
    severity: str
    is_active: bool
    updated_at: dt.datetime


def _rule(r: CoachRule) -> dict[str, Any]:
    return {"code": r.code, "pattern": r.pattern, "language": r.language, "phrases": r.phrases,
            "reason": r.reason, "suggestion": r.suggestion, "severity": r.severity,
            "is_active": r.is_active, "updated_at": r.updated_at}


def _admin(request: AgentRequest) -> None:
    if not request.auth.is_admin:
        raise PermissionDenied("Only admins can manage the reply coach's rules")


@router.get("/rules", response={200: list[RuleOut], 403: ErrorOut})
@for_role(Role.ADMIN, "Only admins can manage the reply coach's rules")
def list_rules(request: AgentRequest) -> list[dict[str, Any]]:
    """Your organisation's own rules (admins)."""
    _admin(request)
    return [_rule(r) for r in CoachRule.objects.filter(organization_id=request.auth.organization_id).order_by("id")]


@router.post("/rules", response={201: RuleOut, 400: ErrorOut, 403: ErrorOut})
@for_role(Role.ADMIN, "Only admins can manage the reply coach's rules")
def create_rule(request: AgentRequest, payload: RuleIn) -> Status:
    _admin(request)
    return Status(201, _rule(actions.do_save_rule(request.auth, None, payload.dict())))


@router.put("/rules/{code}", response={200: RuleOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut})
@for_role(Role.ADMIN, "Only admins can manage the reply coach's rules")
def update_rule(request: AgentRequest, code: Code, payload: RuleIn) -> dict[str, Any]:
    _admin(request)
    return _rule(actions.do_save_rule(request.auth, access_rule_by_code(request.auth, code), payload.dict()))


@router.delete("/rules/{code}", response={204: None, 403: ErrorOut, 404: ErrorOut})
@for_role(Role.ADMIN, "Only admins can manage the reply coach's rules")
def delete_rule(request: AgentRequest, code: Code) -> Status:
    _admin(request)
    actions.do_delete_rule(request.auth, access_rule_by_code(request.auth, code))
    return Status(204, None)


class SettingsIn(BodyIn):
    on_send: Literal["warn", "block", "off"]


class SettingsOut(Schema):
    on_send: str


@router.get("/settings", response={200: SettingsOut, 403: ErrorOut})
@for_role(Role.ADMIN, "Only admins can manage the reply coach's rules")
def get_settings(request: AgentRequest) -> dict[str, Any]:
    _admin(request)
    return {"on_send": actions.on_send_setting(request.auth.organization_id)}


@router.put("/settings", response={200: SettingsOut, 400: ErrorOut, 403: ErrorOut})
@for_role(Role.ADMIN, "Only admins can manage the reply coach's rules")
def put_settings(request: AgentRequest, payload: SettingsIn) -> dict[str, Any]:
    """What happens on send when a serious finding remains: warn (confirm), block, off."""
    _admin(request)
    return {"on_send": actions.do_set_on_send(request.auth, payload.on_send).on_send}


class StatsFilters(Schema):
    days: int = Field(56, ge=7, le=366, description="how far back")
    bucket: Literal["day", "week"] = "week"
    agent: str | None = Field(None, max_length=64, description="an agent's code")
    team: str | None = Field(None, max_length=64, description="a team's code")


@router.get("/stats", response={200: dict[str, Any], 403: ErrorOut, 404: ErrorOut})
@for_role(Role.SUPERVISOR, "Only supervisors can see coaching statistics")
def get_stats(request: AgentRequest, filters: Query[StatsFilters]) -> dict[str, Any]:
    """How often each pattern appears in sent replies, per period, by agent or team
    (supervisors): `periods`, `replies` per period, `patterns` {id: counts per period},
    `agents` [{code, name, replies, findings, per_100}], `dismissals` {id: findings agents
    marked as not applicable}."""
    if not request.auth.is_supervisor:
        raise PermissionDenied("Only supervisors can see coaching statistics")
    return stats.coaching_stats(request.auth, days=filters.days, bucket=filters.bucket,
                                agent_code=filters.agent, team_code=filters.team)
