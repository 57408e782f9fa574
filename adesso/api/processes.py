"""The process report (adesso/insights/report.py) at /api/v1/insights/processes: what
the insights report page shows, as JSON or CSV."""

from __future__ import annotations

from typing import Any, Literal

from ninja import Field, Query, Router, Schema

from adesso.accounts.access import for_role
from adesso.accounts.models import Role
from adesso.api.request import AgentRequest
from adesso.api.schemas import ErrorOut
from adesso.insights.report import Window, csv_download, filters_for, process_report
from adesso.lib.errors import ActionError
from adesso.reports.periods import parse_period

router = Router()


class ProcessFilters(Schema):
    from_: str | None = Field(
        None, alias="from", max_length=32, description="first day, YYYY-MM-DD (default: 6 days before `to`)"
    )
    to: str | None = Field(None, max_length=32, description="last day, included, YYYY-MM-DD (default: today)")
    channel: str | None = Field(None, max_length=64, description="a channel's code: only its conversations")
    team: str | None = Field(None, max_length=64, description="a team's code: only its conversations")
    timezone: str | None = Field(None, max_length=64, description="days in this zone (default Europe/Rome)")
    format: Literal["json", "csv"] = Field("json", description="json, or csv for a spreadsheet")


class SentimentShareOut(Schema):
    positive: float | None
    neutral: float | None
    negative: float | None


class ProcessFiguresOut(Schema):
    conversations: int = Field(description="conversations started in the period")
    answered: int = Field(description="of those, with a human first response")
    csat_answers: int = Field(description="CSAT answers (1-5) of those conversations")
    csat_mean: float | None
    csat_satisfied_share: float | None = Field(description="answers of 4 or 5, from 0 to 1")
    first_response_p50_s: int | None
    first_response_p90_s: int | None
    reopenings: int = Field(description="resolved, then opened again")
    transfers: int
    messages_analysed: int = Field(description="customer messages with a sentiment")
    sentiment: SentimentShareOut = Field(description="shares of those messages, from 0 to 1")


class TrendOut(Schema):
    conversations: int
    csat_mean: float | None
    csat_satisfied_share: float | None
    reopenings: int
    transfers: int
    negative_share: float | None


class RefOut(Schema):
    code: str
    name: str


class QuoteOut(Schema):
    text: str
    message: str
    conversation: str


class ProcessTopicOut(Schema):
    code: str
    name: str
    polarity: Literal["negative", "positive"]
    keywords: list[str]
    messages: int = Field(description="first messages of the period in this topic")
    previous: int = Field(description="the same in the period before (the trend)")
    quotes: list[QuoteOut]
    process: RefOut | None


class ProcessOut(Schema):
    code: str
    key: str = Field(description="a default process's key (delivery, billing, product, staff, website); else empty")
    name: str
    owner: RefOut | None
    figures: ProcessFiguresOut
    previous: TrendOut = Field(description="the period of the same length before")
    criticisms: list[ProcessTopicOut] = Field(description="its three most frequent topics of criticism")
    praises: list[ProcessTopicOut] = Field(description="its three most frequent topics of praise")


class ProcessReportOut(Schema):
    from_: str = Field(alias="from")
    to: str
    previous_from: str
    previous_to: str
    timezone: str
    channel: str | None
    team: str | None
    processes: list[ProcessOut]
    unmapped: ProcessFiguresOut = Field(description="the conversations of the period with no process")
    totals: ProcessFiguresOut = Field(description="all the conversations of the period")
    totals_previous: TrendOut


CSV_ANSWER = {
    "responses": {200: {"content": {"text/csv": {"schema": {"type": "string", "description": "one row per process"}}}}}
}


@router.get(
    "",
    response={200: ProcessReportOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    by_alias=True,
    openapi_extra=CSV_ANSWER,
)
@for_role(Role.SUPERVISOR, "Only supervisors and admins see the process report")
def processes(request: AgentRequest, filters: Query[ProcessFilters]) -> Any:
    """Per business process, for the conversations started in a period (and one channel
    or team): volume, CSAT, first response p50/p90, reopenings, transfers, the
    sentiment shares, its top three criticisms and praises with quotes, and the period
    before (the trend). `format=csv` returns the same as a CSV file."""
    try:
        period = parse_period(filters.from_, filters.to, filters.timezone)
    except ActionError as exc:
        from adesso.api.api import error

        return error(request, 422, exc.code, exc.message)
    channel, team = filters_for(request.auth.organization_id, filters.channel, filters.team)
    data = process_report(request.auth.organization_id, Window(period.start, period.end, period.tz, channel, team))
    if filters.format == "csv":
        return csv_download(data)
    return data
