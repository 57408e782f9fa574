"""An organisation retrains the sentiment classifier on its own survey answers (the
score is the label) with one command; the new classifier is used only when it scores
better on a held-out part than the one in use, else the one in use stays."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from adesso.conversations.models import Conversation
from adesso.insights import sentiment
from adesso.insights.management.commands.trainsentiment import survey_label
from adesso.insights.models import SentimentModel
from adesso.surveys.models import Survey
from tests.builders import customer_writes, make_api_channel, make_org

pytestmark = pytest.mark.django_db


def _answers(org, n: int = 60) -> None:
    """Vivaio Conti's customers answer "puntuale come sempre" with a 1 (their irony
    about a late nursery delivery), which the shipped classifier reads as praise."""
    ch = make_api_channel(org)
    customer_writes(ch, "Buongiorno, le piante ordinate?", sender_id="giada")
    conversation = Conversation.objects.get(organization=org)
    now = timezone.now()
    surveys = []
    for i in range(n):
        if i % 2:
            reason, score = f"Ordine {i}: puntuali come sempre, eh.", 1
        else:
            reason, score = f"Le piante dell'ordine {i} sono arrivate sane e rigogliose.", 5
        surveys.append(
            Survey(
                organization=org,
                conversation=conversation,
                contact=conversation.contact,
                channel=conversation.channel,
                kind="csat",
                language="it",
                state="reasoned",
                score=score,
                reason=reason,
                answered_at=now,
                expires_at=now,
            )
        )
    # An answer without a reason teaches nothing and is left out.
    surveys.append(
        Survey(
            organization=org,
            conversation=conversation,
            contact=conversation.contact,
            channel=conversation.channel,
            kind="csat",
            language="it",
            state="answered",
            score=4,
            answered_at=now,
            expires_at=now,
        )
    )
    Survey.objects.bulk_create(surveys)


def test_survey_answers_retrain_and_the_better_model_is_used_else_the_old_stays():
    org = make_org("Vivaio Conti")
    _answers(org)
    out = io.StringIO()
    call_command("trainsentiment", organization=org.code, surveys=True, stdout=out)
    assert "60 survey answers with a reason" in out.getvalue()
    own = SentimentModel.objects.get(organization=org)
    assert own.examples == 60 and own.in_use, out.getvalue()
    assert own.accuracy > own.shipped_accuracy
    assert "the new one is in use" in out.getvalue()
    assert sentiment.classifier_for(org) is not sentiment.shipped_classifier()
    first = own.trained_at

    # The same answers again: the new classifier is no better than the one in use,
    # which stays (and says so).
    out = io.StringIO()
    call_command("trainsentiment", organization=org.code, surveys=True, stdout=out)
    assert "not better, the one in use is kept" in out.getvalue()
    assert SentimentModel.objects.get(organization=org).trained_at == first


def test_too_few_answers_get_a_clear_error():
    org = make_org("Vivaio Conti")
    _answers(org, n=10)
    with pytest.raises(CommandError, match="at least 50"):
        call_command("trainsentiment", organization=org.code, surveys=True, stdout=io.StringIO())
    with pytest.raises(CommandError, match="--organization"):
        call_command("trainsentiment", surveys=True)


def test_each_kind_of_score_becomes_a_label():
    assert [survey_label("csat", s) for s in range(1, 6)] == [
        "negative", "negative", "neutral", "positive", "positive",
    ]  # fmt: skip
    assert [survey_label("nps", s) for s in (0, 6, 7, 8, 9, 10)] == [
        "negative", "negative", "neutral", "neutral", "positive", "positive",
    ]  # fmt: skip
    assert [survey_label("ces", s) for s in (1, 3, 4, 5, 7)] == [
        "positive", "positive", "neutral", "negative", "negative",
    ]  # fmt: skip
