"""Survey response rates per channel (adesso/surveys), at /api/v1/insights/surveys."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.utils import timezone
from ninja import Field, Query, Router, Schema

from adesso.accounts.access import for_role
from adesso.accounts.models import Role
from adesso.api.request import AgentRequest
from adesso.api.schemas import ErrorOut
from adesso.surveys.report import response_rates

router = Router()


class SurveyFilters(Schema):
    days: int = Field(30, ge=1, le=366, description="surveys sent in the last `days` days")
    channel: str | None = Field(None, max_length=64, description="a channel's code: only its surveys")


class SurveyRateOut(Schema):
    channel: str
    channel_name: str
    channel_kind: str
    kind: Literal["csat", "nps", "ces"]
    sent: int
    answered: int = Field(..., description="surveys answered with a score")
    with_reason: int = Field(..., description="answers with a reason in the customer's words")
    response_rate: float = Field(..., description="answered / sent, from 0 to 1")
    average_score: float | None = Field(..., description="on the kind's own scale")


class SurveyRatesOut(Schema):
    since: dt.datetime
    until: dt.datetime
    channels: list[SurveyRateOut]


@router.get("", response={200: SurveyRatesOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut})
@for_role(Role.SUPERVISOR, "Only supervisors and admins see the survey figures")
def survey_rates(request: AgentRequest, filters: Query[SurveyFilters]) -> dict[str, Any]:
    """Surveys sent, answered and answered with a reason, the response rate and the
    average score, per channel and survey kind (supervisors and admins)."""
    until = timezone.now()
    since = until - dt.timedelta(days=filters.days)
    rows = response_rates(request.auth.organization_id, since, until, filters.channel)
    return {"since": since, "until": until, "channels": rows}
