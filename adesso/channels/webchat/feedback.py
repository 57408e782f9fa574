"""Feedback buttons in the widget: the survey a resolution sends (adesso.surveys, on the
conversation's own channel, as text) carries its scale in the REST list, so the widget
shows one button per score. A tap sends the score as the visitor's message, which is how
every text channel answers (intake's `surveys.awaiting` / `do_record_answer`, as a
Telegram reply keyboard does); the follow-up "why" is then an ordinary text answer."""

from __future__ import annotations

from typing import Any


def survey_scales(organization_id: int, conversation_ids: set[int], codes: list[str]) -> dict[str, dict[str, Any]]:
    """message code -> {"kind", "low", "high", "open"} for the survey questions among
    `codes` (automatic messages); `open` while the survey still waits for its score."""
    from adesso.conversations.models import ConversationEvent, EventKind
    from adesso.surveys.models import State, Survey

    if not codes:
        return {}
    found: dict[str, dict[str, Any]] = {}
    rows = ConversationEvent.objects.filter(
        organization_id=organization_id,
        conversation_id__in=conversation_ids,
        kind=EventKind.AUTO_SENT,
        data__message__in=codes,
        data__purpose="survey",
    ).values_list("data", flat=True)
    for data in rows:
        scale = data.get("scale") if isinstance(data, dict) else None
        if not isinstance(scale, list) or len(scale) != 2 or not all(isinstance(v, int) for v in scale):
            continue
        found[str(data["message"])] = {
            "survey": str(data.get("survey") or ""),
            "kind": str(data.get("kind") or ""),
            "low": scale[0],
            "high": scale[1],
        }
    if found:
        waiting = set(
            Survey.objects.filter(
                organization_id=organization_id,
                code__in=[s["survey"] for s in found.values()],
                state=State.SENT,
            ).values_list("code", flat=True)
        )
        for item in found.values():
            item["open"] = item.pop("survey") in waiting
    return found
