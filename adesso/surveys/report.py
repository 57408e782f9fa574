"""Response rates per channel: what GET /api/v1/insights/surveys answers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Avg, Count, Q

from adesso.surveys.models import Survey


def response_rates(
    organization_id: int, since: dt.datetime, until: dt.datetime, channel_code: str | None = None
) -> list[dict[str, Any]]:
    """Surveys sent in [since, until) per channel and survey kind (averages of different
    scales are never mixed): sent, answered (a score), with a reason, the response rate
    and the average score. One grouped query."""
    found = Survey.objects.filter(organization_id=organization_id, sent_at__gte=since, sent_at__lt=until)
    if channel_code:
        found = found.filter(channel__code=channel_code)
    rows = (
        found.values("channel__code", "channel__name", "channel__kind", "kind")
        .annotate(
            sent=Count("pk"),
            answered=Count("pk", filter=Q(score__isnull=False)),
            with_reason=Count("pk", filter=~Q(reason="")),
            average=Avg("score"),
        )
        .order_by("channel__name", "channel__code", "kind")
    )
    return [
        {
            "channel": row["channel__code"],
            "channel_name": row["channel__name"],
            "channel_kind": row["channel__kind"],
            "kind": row["kind"],
            "sent": row["sent"],
            "answered": row["answered"],
            "with_reason": row["with_reason"],
            "response_rate": round(row["answered"] / row["sent"], 4) if row["sent"] else 0.0,
            "average_score": None if row["average"] is None else round(float(row["average"]), 2),
        }
        for row in rows
    ]
