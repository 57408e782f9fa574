"""Report figures as text for pages and emails: locale-formatted shares and durations."""

from __future__ import annotations

from typing import Any

from adesso.lib.charts import format_number
from adesso.lib.durations import duration_text

# Below this share answered within the target, the figure is shown as a problem.
SHARE_OK = 0.95


def _duration(seconds: int | None) -> str:
    return "-" if seconds is None else duration_text(seconds)


def figures_row(figures: dict[str, Any]) -> dict[str, Any]:
    """One group's figures (queries.Figures.as_dict()) plus their display text."""
    share = figures["within_target_share"]
    return {
        **figures,
        "share_text": "-" if share is None else f"{format_number(share * 100, 1)} %",
        "share_class": "" if share is None else ("share-ok" if share >= SHARE_OK else "share-low"),
        "p50_text": _duration(figures["first_response_p50_s"]),
        "p90_text": _duration(figures["first_response_p90_s"]),
        "max_text": _duration(figures["first_response_max_s"]),
    }
