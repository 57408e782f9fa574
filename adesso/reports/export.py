"""A report as CSV, for the API and the page's download links."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.http import HttpResponse

GROUP_COLUMNS = [
    "conversations", "answered", "within_target", "missed", "waiting_in_time", "within_target_share",
    "breaches", "first_response_p50_s", "first_response_p90_s", "first_response_max_s",
]


def csv_response(data: dict[str, Any], table: str) -> HttpResponse:
    """`table` "groups": one row per group then the totals; "backlog": one row per hour."""
    out = io.StringIO()
    writer = csv.writer(out)
    if table == "backlog":
        series = data["backlog"]["series"]
        writer.writerow(["hour", "total", *(_safe(s["name"]) for s in series)])
        for i, hour in enumerate(data["backlog"]["hours"]):
            writer.writerow([hour, _cell(data["backlog"]["total"][i]), *(_cell(s["values"][i]) for s in series)])
    else:
        buckets = [b["label"] for b in data["buckets"]]
        writer.writerow([data["by"], "key", *GROUP_COLUMNS, *(f"first_response {b}" for b in buckets)])
        for row in [*data["groups"], data["totals"]]:
            writer.writerow([_safe(row["name"]), row["key"], *(_cell(row[c]) for c in GROUP_COLUMNS),
                             *row["distribution"]])
    suffix = "-backlog" if table == "backlog" else ""
    name = f"adesso-report-{data['by']}-{data['from']}-{data['to']}{suffix}.csv"
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _cell(value: Any) -> Any:
    return "" if value is None else value


def _safe(text: str) -> str:
    """A name as a spreadsheet cell: never a formula (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
