"""Insights: the sentiment of texts, on the company's own server (adesso/insights)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import Http404
from ninja import Field, Query, Router, Schema

from adesso.accounts.access import for_role
from adesso.accounts.models import Role
from adesso.api.request import AgentRequest
from adesso.api.schemas import BodyIn, ErrorOut
from adesso.insights.access import access_topic_by_code
from adesso.insights.sentiment import classify
from adesso.insights.topics import do_merge_topics, do_rename_topic, topic_report

router = Router()
MAX_TEXTS = 1000


class SentimentIn(BodyIn):
    texts: list[str] = Field(..., min_length=1, max_length=MAX_TEXTS, description="up to 1,000 texts")
    language: Literal["it", "en"] | None = Field(
        None, description="optional: the model is multilingual, so the language only documents the caller's intent"
    )


class SentimentResult(Schema):
    label: Literal["positive", "neutral", "negative"]
    score: float = Field(..., description="polarity, P(positive) - P(negative), from -1 to 1")
    confidence: float = Field(..., description="the probability of the label")


class SentimentOut(Schema):
    results: list[SentimentResult]


@router.post("/sentiment", response={200: SentimentOut, 400: ErrorOut, 401: ErrorOut, 413: ErrorOut, 422: ErrorOut})
def sentiment(request: AgentRequest, payload: SentimentIn) -> dict[str, Any]:
    """The sentiment of each text, in order (the organisation's own classifier when it
    trained a better one; docs/insights.md)."""
    found = classify(payload.texts, request.auth.organization)
    return {"results": [{"label": s.label, "score": s.score, "confidence": s.confidence} for s in found]}


class QuoteOut(Schema):
    text: str
    message: str
    conversation: str


class TopicProcessOut(Schema):
    code: str
    name: str


class TopicOut(Schema):
    code: str
    name: str
    polarity: Literal["negative", "positive"]
    keywords: list[str]
    messages: int = Field(..., description="first messages of the last `days` days (or of the period) in this topic")
    previous: int = Field(..., description="the same in the `days` days (or the period) before (the trend)")
    quotes: list[QuoteOut]
    process: TopicProcessOut | None = Field(None, description="the business process the topic belongs to")


class TopicFilters(Schema):
    polarity: Literal["negative", "positive"] | None = None
    days: int = Field(30, ge=1, le=366, description="the last `days` days, unless `from` or `to` is given")
    from_: str | None = Field(
        None,
        alias="from",
        max_length=32,
        description="a period of whole days instead (as the report page): first day, YYYY-MM-DD",
    )
    to: str | None = Field(None, max_length=32, description="last day, included, YYYY-MM-DD")
    channel: str | None = Field(None, max_length=64, description="a channel's code: only its conversations")
    team: str | None = Field(None, max_length=64, description="a team's code: only its conversations")


class TopicRenameIn(BodyIn):
    name: str = Field(..., min_length=1, max_length=120)


class TopicMergeIn(BodyIn):
    into: str = Field(..., min_length=1, max_length=16, description="the code of the topic it becomes part of")


@router.get("/topics", response={200: list[TopicOut], 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut})
@for_role(Role.SUPERVISOR, "Only supervisors and admins see the topics")
def topics(request: AgentRequest, filters: Query[TopicFilters]) -> Any:
    """The recurring topics of criticism and praise, most frequent first, with keywords,
    quotes, their process and the trend, as the insights report page shows them
    (supervisors and admins): conversations started in the last `days` days, or in the
    period `from`-`to`, of one channel or team."""
    from django.utils import timezone

    from adesso.insights.report import Window, filters_for
    from adesso.insights.report import topics as topic_list
    from adesso.lib.errors import ActionError
    from adesso.reports.periods import default_timezone, parse_period

    org_id = request.auth.organization_id
    channel, team = filters_for(org_id, filters.channel, filters.team)
    if filters.from_ or filters.to:
        try:
            period = parse_period(filters.from_, filters.to)
        except ActionError as exc:
            from adesso.api.api import error

            return error(request, 422, exc.code, exc.message)
        window = Window(period.start, period.end, period.tz, channel, team)
    else:
        now = timezone.now()
        window = Window(now - dt.timedelta(days=filters.days), now, default_timezone(), channel, team)
    return topic_list(org_id, window, filters.polarity)


@router.patch(
    "/topics/{code}",
    response={200: TopicOut, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
)
@for_role(Role.SUPERVISOR, "Only supervisors and admins rename topics")
def rename_topic(request: AgentRequest, code: str, payload: TopicRenameIn) -> Any:
    """Give a topic a name of the supervisor's choosing (kept by later runs)."""
    topic = access_topic_by_code(request.auth, code)
    do_rename_topic(request.auth, topic, payload.name)
    return _one(request, topic.code)


@router.post(
    "/topics/{code}/merge",
    response={200: TopicOut, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
)
@for_role(Role.SUPERVISOR, "Only supervisors and admins merge topics")
def merge_topic(request: AgentRequest, code: str, payload: TopicMergeIn) -> Any:
    """Make this topic part of another (`into`): its messages move there, and later runs
    file it there too. Answers the topic it became part of."""
    source = access_topic_by_code(request.auth, code)
    target = access_topic_by_code(request.auth, payload.into)
    do_merge_topics(request.auth, source, target)
    return _one(request, target.code)


def _one(request: AgentRequest, code: str) -> Any:
    for topic in topic_report(request.auth.organization, None, 30):
        if topic["code"] == code:
            return topic
    raise Http404("No such topic")
