"""The process report and the topic report: what the insights pages show and
GET /api/v1/insights/processes and /topics answer.

A conversation belongs to the process of the topic its first customer message was
filed in (adesso/insights/topics.py; the topic's process is set by a supervisor or
suggested, adesso/insights/processes.py). For each process, over a window (the
conversations started in it) and optionally one channel and one team:

- volume: conversations; CSAT: the mean of the CSAT answers (1-5) of those
  conversations and the share satisfied (4 or 5);
- first response: p50 and p90 (nearest rank) of the time to the first human answer;
- reopenings: a resolved conversation opened again (`status_changed` from resolved to
  open); transfers: `transferred` events;
- sentiment: the share of the conversations' customer messages that are positive,
  neutral and negative;
- its top three criticisms and praises (the topics of its negative and positive first
  messages), each with up to three quotes (nearest the topic's centre, personal data
  hidden as the privacy settings ask), and the same figures for the window before it
  (the trend).

Every figure is a grouped query (COUNT, AVG, one ORDER BY ... OFFSET per percentile);
nothing loops over the conversations in Python.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, QuerySet, Sum
from django.db.models.functions import TruncDate, TruncWeek
from django.http import HttpResponse

from adesso.accounts.models import Team
from adesso.channels.models import Channel
from adesso.conversations.models import Conversation, ConversationEvent, EventKind, Status
from adesso.insights.models import MessageSentiment, Polarity, Process, Topic
from adesso.insights.processes import display_name
from adesso.insights.topics import unpack
from adesso.surveys.models import Kind, Survey

TOP = 3
QUOTES = 3
QUOTE_POOL = 200  # the latest messages of a topic among which its quotes are chosen
SATISFIED = 4  # CSAT 4 or 5
LABELS = ("positive", "neutral", "negative")
NONE = ""  # the key of the conversations with no process


@dataclass(frozen=True)
class Window:
    """Conversations started in [start, end), local days in `tz`; and filters."""

    start: dt.datetime
    end: dt.datetime
    tz: ZoneInfo
    channel: Channel | None = None
    team: Team | None = None

    def before(self) -> Window:
        """The window of the same length just before this one (the trend)."""
        length = self.end - self.start
        return Window(self.start - length, self.start, self.tz, self.channel, self.team)


def _conversations(organization_id: int, window: Window, prefix: str = "") -> Q:
    """The filter on conversations (reached through `prefix`) of the window."""
    q = Q(
        **{
            f"{prefix}organization_id": organization_id,
            f"{prefix}created_at__gte": window.start,
            f"{prefix}created_at__lt": window.end,
        }
    )
    if window.channel is not None:
        q &= Q(**{f"{prefix}channel_id": window.channel.pk})
    if window.team is not None:
        q &= Q(**{f"{prefix}team_id": window.team.pk})
    return q


def _firsts(organization_id: int, window: Window) -> QuerySet[MessageSentiment]:
    """The first customer message of each conversation of the window (one per
    conversation), whose topic gives the conversation's process."""
    return MessageSentiment.objects.filter(
        _conversations(organization_id, window, "message__conversation__"),
        organization_id=organization_id,
        first=True,
    )


# Through a conversation, the process of its first message's topic (the join is one row
# per conversation: one first message each).
VIA = "messages__sentiment__topic__process_id"
FIRST = {"messages__sentiment__first": True}


def _empty() -> dict[str, Any]:
    return {
        "conversations": 0,
        "answered": 0,
        "csat_answers": 0,
        "csat_mean": None,
        "csat_satisfied_share": None,
        "first_response_p50_s": None,
        "first_response_p90_s": None,
        "reopenings": 0,
        "transfers": 0,
        "messages_analysed": 0,
        "sentiment": {label: None for label in LABELS},
    }


def _percentiles(rows: QuerySet[Any], answered: int) -> tuple[int | None, int | None]:
    """p50 and p90 (nearest rank) of the first response of `rows`, by the database."""
    if not answered:
        return None, None
    ordered = (
        rows.filter(first_response_at__isnull=False)
        .annotate(wait=ExpressionWrapper(F("first_response_at") - F("created_at"), output_field=DurationField()))
        .order_by("wait")
        .values_list("wait", flat=True)
    )
    out = []
    for share in (0.5, 0.9):
        rank = max(1, math.ceil(share * answered))
        found = list(ordered[rank - 1 : rank])
        out.append(round(max(0.0, found[0].total_seconds())) if found else None)
    return out[0], out[1]


def figures(organization_id: int, window: Window, percentiles: bool = True) -> dict[Any, dict[str, Any]]:
    """Each process's figures, keyed by the process's id; NONE for the conversations
    without one (their first message has no topic, or its topic no process, or it was
    not analysed), "all" for every conversation of the window. Counts of NONE are those
    of all less those of the processes."""
    out: dict[Any, dict[str, Any]] = defaultdict(_empty)
    conversations = Conversation.objects.filter(_conversations(organization_id, window))
    mapped = conversations.filter(**FIRST, **{f"{VIA}__isnull": False})
    # Volume and answered.
    totals = conversations.aggregate(n=Count("pk"), answered=Count("first_response_at"))
    out["all"].update(conversations=totals["n"], answered=totals["answered"])
    for key, n, answered in (
        mapped.values_list(VIA)
        .annotate(n=Count("pk", distinct=True), answered=Count("first_response_at"))
        .values_list(VIA, "n", "answered")
    ):
        out[key].update(conversations=n, answered=answered)
    # CSAT answers of those conversations.
    surveys = Survey.objects.filter(
        _conversations(organization_id, window, "conversation__"), kind=Kind.CSAT, score__isnull=False
    )
    csat = {"n": Count("pk"), "total": Sum("score"), "ok": Count("pk", filter=Q(score__gte=SATISFIED))}
    found = surveys.aggregate(**csat)
    _csat(out["all"], found["n"], found["total"], found["ok"])
    for key, n, total, ok in (
        surveys.filter(**{f"conversation__{k}": v for k, v in FIRST.items()}, **{f"conversation__{VIA}__isnull": False})
        .values_list(f"conversation__{VIA}")
        .annotate(**csat)
        .values_list(f"conversation__{VIA}", "n", "total", "ok")
    ):
        _csat(out[key], n, total, ok)
    # Reopenings and transfers (events of those conversations, whenever they happened).
    reopened = Q(kind=EventKind.STATUS_CHANGED, data__from=Status.RESOLVED, data__to=Status.OPEN)
    events = ConversationEvent.objects.filter(
        _conversations(organization_id, window, "conversation__"), organization_id=organization_id
    ).filter(reopened | Q(kind=EventKind.TRANSFERRED))
    counted = {"reopenings": Count("pk", filter=reopened), "transfers": Count("pk", filter=~reopened)}
    out["all"].update(events.aggregate(**counted))
    for key, reopenings, transfers in (
        events.filter(**{f"conversation__{k}": v for k, v in FIRST.items()}, **{f"conversation__{VIA}__isnull": False})
        .values_list(f"conversation__{VIA}")
        .annotate(**counted)
        .values_list(f"conversation__{VIA}", "reopenings", "transfers")
    ):
        out[key].update(reopenings=reopenings, transfers=transfers)
    # Sentiment of all the customer messages of those conversations.
    analysed = MessageSentiment.objects.filter(
        _conversations(organization_id, window, "message__conversation__"), organization_id=organization_id
    )
    labels: dict[Any, dict[str, int]] = defaultdict(dict)
    for label, n in analysed.values_list("label").annotate(n=Count("pk")).values_list("label", "n"):
        labels["all"][label] = n
    for key, label, n in (
        analysed.filter(
            **{f"message__conversation__{k}": v for k, v in FIRST.items()},
            **{f"message__conversation__{VIA}__isnull": False},
        )
        .values_list(f"message__conversation__{VIA}", "label")
        .annotate(n=Count("pk"))
        .values_list(f"message__conversation__{VIA}", "label", "n")
    ):
        labels[key][label] = n
    # The conversations without a process: all of them less the processes'.
    none, processes = out[NONE], [row for key, row in out.items() if key not in ("all", NONE)]
    for field in ("conversations", "answered", "reopenings", "transfers", "csat_answers", "csat_ok", "csat_sum"):
        none[field] = out["all"].get(field, 0) - sum(row.get(field, 0) for row in processes)
    _csat(none, none["csat_answers"], none["csat_sum"], none["csat_ok"])
    mapped_labels = [counts for k, counts in labels.items() if k not in ("all", NONE)]
    labels[NONE] = {
        label: labels["all"].get(label, 0) - sum(c.get(label, 0) for c in mapped_labels) for label in LABELS
    }
    for key, counts in labels.items():
        total = sum(counts.values())
        out[key]["messages_analysed"] = total
        out[key]["sentiment"] = {label: round(counts.get(label, 0) / total, 4) if total else None for label in LABELS}
    for row in out.values():
        row.pop("csat_ok", None)
        row.pop("csat_sum", None)
    if percentiles:
        for key, row in out.items():
            if key == "all":
                rows = conversations
            elif key == NONE:
                rows = conversations.exclude(pk__in=mapped.values("pk"))
            else:
                rows = mapped.filter(**{VIA: key})
            row["first_response_p50_s"], row["first_response_p90_s"] = _percentiles(rows, row["answered"])
    return out


def _csat(row: dict[str, Any], n: int, total: float | None, ok: int) -> None:
    row["csat_answers"], row["csat_sum"], row["csat_ok"] = n, float(total or 0), ok
    row["csat_mean"] = round(float(total or 0) / n, 2) if n else None
    row["csat_satisfied_share"] = round(ok / n, 4) if n else None


def _hidden(organization_id: int) -> list[str]:
    from adesso.privacy.models import privacy_of

    return list(privacy_of(organization_id).redact_kinds)


def quotes(topic: Topic, organization_id: int, window: Window | None, hidden: list[str]) -> list[dict[str, str]]:
    """Up to three of the topic's messages (of the window, when given) nearest its centre."""
    from adesso.privacy.redact import redact

    members = MessageSentiment.objects.filter(topic=topic, vector__isnull=False)
    if window is not None:
        members = members.filter(_conversations(organization_id, window, "message__conversation__"))
    pool = list(
        members.select_related("message__conversation")
        .only("vector", "message__text", "message__code", "message__conversation__code")
        .order_by("-message__created_at")[:QUOTE_POOL]
    )
    centre = unpack(topic.centroid)
    pool.sort(key=lambda m: -float(unpack(m.vector) @ centre))
    return [
        {
            "text": redact(m.message.text[:280], hidden) if hidden else m.message.text[:280],
            "message": m.message.code,
            "conversation": m.message.conversation.code,
        }
        for m in pool
        if m.message.text
    ][:QUOTES]


def _topic_counts(organization_id: int, window: Window, **where: Any) -> dict[int, int]:
    return dict(
        _firsts(organization_id, window)
        .filter(topic__isnull=False, **where)
        .values_list("topic_id")
        .annotate(n=Count("pk"))
        .values_list("topic_id", "n")
    )


def _topic_out(topic: Topic, n: int, before: int, quoted: list[dict[str, str]]) -> dict[str, Any]:
    return {
        "code": topic.code,
        "name": topic.name,
        "polarity": topic.polarity,
        "keywords": topic.keywords,
        "messages": n,
        "previous": before,
        "quotes": quoted,
        "process": None if topic.process is None else {"code": topic.process.code, "name": display_name(topic.process)},
    }


def topics(
    organization_id: int, window: Window, polarity: str | None = None, with_quotes: bool = True
) -> list[dict[str, Any]]:
    """The topics (not merged into another) with first messages in the window or still
    found by the last run: their count in the window and in the one before, keywords,
    quotes and process; most frequent first."""
    now_counts = _topic_counts(organization_id, window)
    before_counts = _topic_counts(organization_id, window.before())
    found = (
        Topic.objects.filter(organization_id=organization_id, merged_into__isnull=True)
        .filter(Q(active=True) | Q(pk__in=list(now_counts)))
        .select_related("process")
    )
    if polarity:
        found = found.filter(polarity=polarity)
    hidden = _hidden(organization_id)
    ordered = sorted(found, key=lambda t: (-now_counts.get(t.pk, 0), t.name))
    return [
        _topic_out(
            t,
            now_counts.get(t.pk, 0),
            before_counts.get(t.pk, 0),
            quotes(t, organization_id, window, hidden) if with_quotes else [],
        )
        for t in ordered
    ]


def _trend(now: dict[str, Any], before: dict[str, Any]) -> dict[str, Any]:
    """The window before's main figures, beside this one's."""
    keys = ("conversations", "csat_mean", "csat_satisfied_share", "reopenings", "transfers")
    return {k: before[k] for k in keys} | {"negative_share": before["sentiment"]["negative"]}


def process_report(organization_id: int, window: Window) -> dict[str, Any]:
    """Every process of the organisation with its figures, its top three criticisms and
    praises with quotes, and the window before's figures; then the conversations with
    no process and all of them."""
    previous = window.before()
    now_figures = figures(organization_id, window)
    before_figures = figures(organization_id, previous, percentiles=False)
    processes = list(
        Process.objects.filter(organization_id=organization_id).select_related("owner").order_by("created_at", "pk")
    )
    now_counts = _topic_counts(organization_id, window, topic__process__isnull=False)
    before_counts = _topic_counts(organization_id, previous, topic__process__isnull=False)
    by_process: dict[int, list[Topic]] = defaultdict(list)
    for topic in Topic.objects.filter(pk__in=list(now_counts)).select_related("process"):
        if topic.process_id is not None:
            by_process[topic.process_id].append(topic)
    hidden = _hidden(organization_id)
    rows = []
    for process in processes:
        mine = sorted(by_process.get(process.pk, []), key=lambda t: (-now_counts[t.pk], t.name))
        top = {
            polarity: [
                _topic_out(t, now_counts[t.pk], before_counts.get(t.pk, 0), quotes(t, organization_id, window, hidden))
                for t in [t for t in mine if t.polarity == polarity][:TOP]
            ]
            for polarity in (Polarity.NEGATIVE, Polarity.POSITIVE)
        }
        rows.append(
            {
                "code": process.code,
                "key": process.key,
                "name": display_name(process),
                "owner": None
                if process.owner is None
                else {"code": process.owner.code, "name": process.owner.display_name},
                "figures": now_figures.get(process.pk, _empty()),
                "previous": _trend(now_figures.get(process.pk, _empty()), before_figures.get(process.pk, _empty())),
                "criticisms": top[Polarity.NEGATIVE],
                "praises": top[Polarity.POSITIVE],
            }
        )
    return {
        "from": window.start.astimezone(window.tz).date().isoformat(),
        "to": (window.end.astimezone(window.tz) - dt.timedelta(days=1)).date().isoformat(),
        "previous_from": previous.start.astimezone(window.tz).date().isoformat(),
        "previous_to": (previous.end.astimezone(window.tz) - dt.timedelta(days=1)).date().isoformat(),
        "timezone": str(window.tz),
        "channel": window.channel.code if window.channel else None,
        "team": window.team.code if window.team else None,
        "processes": rows,
        "unmapped": now_figures.get(NONE, _empty()),
        "totals": now_figures["all"],
        "totals_previous": _trend(now_figures["all"], before_figures.get("all", _empty())),
    }


def csat_over_time(organization_id: int, window: Window) -> dict[str, Any]:
    """Mean CSAT of the answers given in the window, per channel and day (per week when
    the window is longer than two months): labels, and per channel its means."""
    weekly = (window.end - window.start) > dt.timedelta(days=62)
    trunc = (TruncWeek if weekly else TruncDate)("answered_at", tzinfo=window.tz)
    answers = Survey.objects.filter(
        organization_id=organization_id,
        kind=Kind.CSAT,
        score__isnull=False,
        answered_at__gte=window.start,
        answered_at__lt=window.end,
    )
    if window.channel is not None:
        answers = answers.filter(channel_id=window.channel.pk)
    if window.team is not None:
        answers = answers.filter(conversation__team_id=window.team.pk)
    rows = (
        answers.annotate(bucket=trunc)
        .values_list("bucket", "channel__name")
        .annotate(mean=Avg("score"), n=Count("pk"))
        .values_list("bucket", "channel__name", "mean", "n")
    )
    start = window.start.astimezone(window.tz).date()
    last = (window.end.astimezone(window.tz) - dt.timedelta(days=1)).date()
    if weekly:
        start -= dt.timedelta(days=start.weekday())
    days: list[dt.date] = []
    day = start
    while day <= last:
        days.append(day)
        day += dt.timedelta(days=7 if weekly else 1)
    index = {d: i for i, d in enumerate(days)}
    series: dict[str, list[float | None]] = {}
    for bucket, channel, mean, _n in rows:
        if isinstance(bucket, dt.datetime):
            bucket = bucket.date()
        if bucket in index:
            series.setdefault(channel, [None] * len(days))[index[bucket]] = round(float(mean), 2)
    return {
        "weekly": weekly,
        "days": [d.isoformat() for d in days],
        "series": [{"name": name, "values": values} for name, values in sorted(series.items())],
    }


def filters_for(
    organization_id: int, channel_code: str | None, team_code: str | None
) -> tuple[Channel | None, Team | None]:
    """The channel and team a report is filtered by, from their codes: 404 for one that
    is not the organisation's."""
    from django.http import Http404

    channel = team = None
    if channel_code:
        channel = Channel.objects.filter(organization_id=organization_id, code=channel_code).first()
        if channel is None:
            raise Http404("No such channel")
    if team_code:
        team = Team.objects.filter(organization_id=organization_id, code=team_code).first()
        if team is None:
            raise Http404("No such team")
    return channel, team


CSV_COLUMNS = [
    "conversations",
    "answered",
    "csat_answers",
    "csat_mean",
    "csat_satisfied_share",
    "first_response_p50_s",
    "first_response_p90_s",
    "reopenings",
    "transfers",
    "messages_analysed",
]


def csv_text(data: dict[str, Any]) -> str:
    """The process report as CSV: one row per process (then the conversations without
    one, then all), its figures, the window before's, and its top criticisms and praises."""
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "process",
            "code",
            "owner",
            *CSV_COLUMNS,
            "positive_share",
            "neutral_share",
            "negative_share",
            "previous_conversations",
            "previous_csat_mean",
            "previous_reopenings",
            "previous_transfers",
            "criticisms",
            "praises",
        ]
    )

    def cell(value: Any) -> Any:
        return "" if value is None else value

    def row(
        name: str,
        code: str,
        owner: str,
        figures_: dict[str, Any],
        previous: dict[str, Any] | None,
        criticisms: list[dict[str, Any]],
        praises: list[dict[str, Any]],
    ) -> None:
        writer.writerow(
            [
                _safe(name),
                code,
                _safe(owner),
                *(cell(figures_[c]) for c in CSV_COLUMNS),
                *(cell(figures_["sentiment"][label]) for label in LABELS),
                *(cell((previous or {}).get(k)) for k in ("conversations", "csat_mean", "reopenings", "transfers")),
                _safe(" | ".join(f"{t['name']} ({t['messages']})" for t in criticisms)),
                _safe(" | ".join(f"{t['name']} ({t['messages']})" for t in praises)),
            ]
        )

    for p in data["processes"]:
        row(
            p["name"],
            p["code"],
            p["owner"]["name"] if p["owner"] else "",
            p["figures"],
            p["previous"],
            p["criticisms"],
            p["praises"],
        )
    row("-", "", "", data["unmapped"], None, [], [])
    row("*", "", "", data["totals"], data["totals_previous"], [], [])
    return out.getvalue()


def _safe(text: str) -> str:
    """A name as a spreadsheet cell: never a formula (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") and text != "-" else text


def csv_download(data: dict[str, Any]) -> HttpResponse:
    """The process report as a CSV file to download (the page's link and the API's `format=csv`)."""
    response = HttpResponse(csv_text(data), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="adesso-processes-{data["from"]}-{data["to"]}.csv"'
    return response
