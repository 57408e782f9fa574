"""Insights: the sentiment of texts, on the company's own server (adesso/insights)."""

from __future__ import annotations

from typing import Any, Literal

from ninja import Field, Router, Schema

from adesso.api.request import AgentRequest
from adesso.api.schemas import BodyIn, ErrorOut
from adesso.insights.sentiment import classify

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
