"""`adesso findtopics` finds the topics and gives each new one its suggested process at
once, as the daily run does, instead of leaving it without one until the next run."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from adesso.insights.models import Topic
from tests.test_insights_processes import _shop, _topic_with
from tests.test_insights_topics import BILLING, LATE

pytestmark = pytest.mark.django_db


def test_findtopics_gives_the_topics_it_finds_their_suggested_process():
    org, _ = _shop()  # Casalinghi Ferri: late deliveries, broken appliances, double charges
    assert not Topic.objects.filter(organization=org).exists()
    out = io.StringIO()
    call_command("findtopics", organization=org.code, stdout=out)
    topics = Topic.objects.filter(organization=org, merged_into__isnull=True)
    assert topics.exists()
    assert _topic_with(org, LATE).process.key == "delivery"
    assert _topic_with(org, BILLING).process.key == "billing"
    assert "given a suggested process" in out.getvalue()
