"""Reports (first responses, targets, breaches, backlog) and the staffing planner."""

from __future__ import annotations

from typing import Any, Literal

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.utils import timezone
from ninja import Field, Query, Router, Schema

from adesso.accounts.access import for_role
from adesso.accounts.models import Role
from adesso.api.request import AgentRequest
from adesso.api.schemas import ErrorOut
from adesso.lib.errors import ActionError
from adesso.reports import planner, queries
from adesso.reports.export import csv_response
from adesso.reports.periods import parse_period, parse_timezone

router = Router()


class ReportFilters(Schema):
    from_: str | None = Field(None, alias="from", max_length=32,
                              description="first day, YYYY-MM-DD (default: 6 days before `to`)")
    to: str | None = Field(None, max_length=32, description="last day, included, YYYY-MM-DD (default: today)")
    by: Literal["channel", "kind", "team", "agent"] = Field("channel", description="how to group the figures")
    timezone: str | None = Field(None, max_length=64, description="days and hours in this zone (default Europe/Rome)")
    format: Literal["json", "csv"] = Field("json", description="json, or csv for a spreadsheet")
    table: Literal["groups", "backlog"] = Field(
        "groups", description="with format=csv: groups (one row per group) or backlog (one row per hour)")


class BucketOut(Schema):
    label: str
    up_to_seconds: int | None = Field(description="upper bound (included); null for the last, open bucket")


class FiguresOut(Schema):
    key: str = Field(description="the channel's, team's or agent's code, the channel kind; empty for none")
    name: str
    conversations: int = Field(description="conversations started in the period")
    answered: int = Field(description="of those, with a human first response")
    within_target: int = Field(description="answered at or before the first-response due time")
    missed: int = Field(description="answered late, or still unanswered past the due time")
    waiting_in_time: int = Field(description="unanswered, not yet due (not in the share)")
    within_target_share: float | None = Field(description="within_target / (within_target + missed)")
    breaches: int = Field(description="sla_breached events in the period (any clock)")
    first_response_p50_s: int | None
    first_response_p90_s: int | None
    first_response_max_s: int | None
    distribution: list[int] = Field(description="first responses per bucket, in the order of `buckets`")


class SeriesOut(Schema):
    key: str
    name: str
    values: list[int | None]


class BacklogOut(Schema):
    hours: list[str] = Field(description="the start of each local hour of the period")
    total: list[int | None] = Field(description="conversations waiting for a human answer then; null: future")
    series: list[SeriesOut]


class TagCountOut(Schema):
    tag: str
    conversations: int = Field(description="conversations started in the period with this tag")
    unresolved: int = Field(description="of those, not resolved yet")


class ReportOut(Schema):
    from_: str = Field(alias="from")
    to: str
    timezone: str
    by: str
    scope: str = Field(description="organization, or own (an agent sees only their conversations)")
    buckets: list[BucketOut]
    totals: FiguresOut
    groups: list[FiguresOut]
    backlog: BacklogOut
    tags: list[TagCountOut] = Field(description="conversations started in the period, per tag, most used first")


# With format=csv the same 200 answers a CSV file: documented beside the JSON.
CSV_ANSWER = {
    "responses": {
        200: {
            "content": {
                "text/csv": {
                    "schema": {"type": "string", "description": "one row per group (table=groups) or hour (backlog)"}
                }
            }
        }
    }
}


@router.get("", response={200: ReportOut, 422: ErrorOut}, by_alias=True, openapi_extra=CSV_ANSWER)
def report(request: AgentRequest, filters: Query[ReportFilters]) -> Any:
    """First response times (distribution, p50/p90/max), the share answered within the
    target, SLA breaches and the backlog by hour, for a period of whole local days,
    grouped by channel, channel kind, team or agent. Agents see their own
    conversations' figures; supervisors and admins the organisation's.
    `format=csv` returns the same as a CSV file."""
    try:
        period = parse_period(filters.from_, filters.to, filters.timezone)
    except ActionError as exc:
        return _unprocessable(request, exc)
    data = queries.report(request.auth, period, filters.by)
    if filters.format == "csv":
        return csv_response(data, filters.table)
    return data


def _unprocessable(request: AgentRequest, exc: ActionError) -> HttpResponse:
    from adesso.api.api import error

    return error(request, 422, exc.code, exc.message)


class PlanFilters(Schema):
    weeks: float = Field(planner.DEFAULT_WEEKS, gt=0, le=52, description="average over the last N weeks")
    target_minutes: float | None = Field(None, gt=0, le=10_080,
                                         description="first-response target (default: the organisation's)")
    share: float = Field(planner.DEFAULT_SHARE, gt=0, lt=1, description="share to answer within the target")
    handle_minutes: float | None = Field(None, gt=0, le=1440,
                                         description="mean handling time (default: estimated, else 6)")
    timezone: str | None = Field(None, max_length=64, description="hours of the week in this zone")


class PlanHourOut(Schema):
    weekday: int = Field(description="0 = Monday ... 6 = Sunday")
    hour: int
    arrivals_per_hour: float
    load_erlangs: float
    agents: int


class PlanOut(Schema):
    hours: list[PlanHourOut]
    max_agents: int
    agent_hours_per_week: int
    handle_seconds: float
    handle_source: str = Field(description="parameter, data (estimated) or default")
    target_seconds: int
    share: float
    weeks: float
    timezone: str
    source: str
    from_: str = Field(alias="from")
    to: str
    customer_turns: int


@router.get("/staffing", response={200: PlanOut, 403: ErrorOut, 422: ErrorOut}, by_alias=True)
@for_role(Role.SUPERVISOR, "Only supervisors and admins plan staffing")
def staffing(request: AgentRequest, params: Query[PlanFilters]) -> Any:
    """The staffing planner: agents needed per hour of the week (Erlang C) so that
    `share` of customer turns get a human answer within the target, from the arrivals
    of the last `weeks` weeks. Supervisors and admins only."""
    if not request.auth.is_supervisor:
        raise PermissionDenied("Only supervisors and admins plan staffing")
    try:
        plan_input = planner.PlanInput(weeks=params.weeks, target_minutes=params.target_minutes,
                                       share=params.share, handle_minutes=params.handle_minutes,
                                       tz=parse_timezone(params.timezone))
        return planner.plan_from_database(request.auth.organization_id, plan_input, timezone.now())
    except ActionError as exc:
        return _unprocessable(request, exc)
