"""Insights: the sentiment of texts, on the company's own server (adesso/insights)."""

from __future__ import annotations

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


class TopicOut(Schema):
    code: str
    name: str
    polarity: Literal["negative", "positive"]
    keywords: list[str]
    messages: int = Field(..., description="first messages of the last `days` days in this topic")
    previous: int = Field(..., description="the same in the `days` days before (the trend)")
    quotes: list[QuoteOut]


class TopicFilters(Schema):
    polarity: Literal["negative", "positive"] | None = None
    days: int = Field(30, ge=1, le=366)


class TopicRenameIn(BodyIn):
    name: str = Field(..., min_length=1, max_length=120)


class TopicMergeIn(BodyIn):
    into: str = Field(..., min_length=1, max_length=16, description="the code of the topic it becomes part of")


@router.get("/topics", response={200: list[TopicOut], 401: ErrorOut, 403: ErrorOut, 422: ErrorOut})
@for_role(Role.SUPERVISOR, "Only supervisors and admins see the topics")
def topics(request: AgentRequest, filters: Query[TopicFilters]) -> Any:
    """The recurring topics of criticism and praise, most frequent first, with keywords,
    quotes and the trend (supervisors and admins)."""
    return topic_report(request.auth.organization, filters.polarity, filters.days)


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
