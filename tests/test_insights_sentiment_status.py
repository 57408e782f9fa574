"""`adesso insights status`: a backlog's progress in the worker, from its InsightsRun,
and the customer messages still waiting for their sentiment."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from adesso.insights.models import InsightsRun
from tests.builders import customer_writes, make_api_channel, make_org

pytestmark = pytest.mark.django_db


def test_status_shows_the_backlog_progress_and_what_waits(settings):
    settings.INSIGHTS_ANALYSE_LIVE = False  # nothing analysed: the message waits
    org = make_org("Ferramenta Greco")
    customer_writes(make_api_channel(org), "Il trapano non funziona.", sender_id="ugo")
    InsightsRun.objects.create(organization=org, kind=InsightsRun.Kind.ANALYSIS, state="running", done=300, total=1000)
    out = io.StringIO()
    call_command("insights", "status", organization=org.code, stdout=out)
    text = out.getvalue()
    assert f"{org.code}: 1 customer messages waiting" in text
    assert "Analysing messages: Running, 300 of 1000 (30%)" in text
    with pytest.raises(CommandError, match="No organisation"):
        call_command("insights", "status", organization="nobody")
