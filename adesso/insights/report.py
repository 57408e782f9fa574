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
  messages and survey reasons), each with up to three quotes (nearest the topic's centre, personal data
  hidden as the privacy settings ask), and the same figures for the window before it
  (the trend).

Every figure is a grouped query over the window's conversations (COUNT and SUM of
per-conversation lookups by key; the percentiles by ROW_NUMBER); nothing loops over
the conversations in Python.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import (
    Avg,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models import (
    Window as Over,
)
from django.db.models.functions import RowNumber, TruncDate, TruncWeek
from django.http import HttpResponse

from adesso.accounts.models import Team
from adesso.channels.models import Channel
from adesso.conversations.models import Conversation, ConversationEvent, Direction, EventKind, Message, Status
from adesso.insights.models import MessageSentiment, Polarity, Process, Topic
from adesso.insights.processes import display_name
from adesso.insights.topics import distinct, quote_text, reason_codes, unpack
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


class _Count(Subquery):
    """COUNT(*) of a correlated queryset's rows (0 when none)."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) AS counted)"
    output_field = IntegerField()


class _Sum(Subquery):
    """SUM of a correlated queryset's `score` column (0 when none)."""

    template = "(SELECT COALESCE(SUM(score), 0) FROM (%(subquery)s) AS summed)"
    output_field = IntegerField()


def _with_process(organization_id: int, window: Window) -> QuerySet[Conversation]:
    """The conversations of the window, each with the topic of its first customer
    message and that topic's process (None without one).

    The first customer message is the one whose sentiment is marked first (analysed as
    its conversation's first, adesso/insights/analyse.py). Like every figure below, it
    is found by correlated subqueries on one table each by an indexed key (the
    conversation, the message), never by a join: with wrong statistics (a table
    analysed while empty, then filled in bulk before the next ANALYZE: one row
    estimated for thousands) PostgreSQL joins whole tables in nested loops, and the
    report turned quadratic (43 s at 3,000 conversations, tests/test_insights_report.py);
    a lookup by key stays linear whatever the estimate."""
    topic_of = MessageSentiment.objects.filter(pk=OuterRef("pk"), first=True).values("topic_id")[:1]
    first_topic = (
        Message.objects.filter(conversation=OuterRef("pk"), direction=Direction.INCOMING)
        .annotate(found=Subquery(topic_of))
        .filter(found__isnull=False)
        .order_by("created_at")
        .values("found")[:1]
    )
    return (
        Conversation.objects.filter(_conversations(organization_id, window))
        .annotate(topic=Subquery(first_topic))
        .annotate(process=Subquery(Topic.objects.filter(pk=OuterRef("topic")).values("process_id")[:1]))
    )


def _facts(organization_id: int, window: Window) -> QuerySet[Conversation]:
    """The conversations of the window with their process and, counted per
    conversation, their CSAT answers, reopenings, transfers and the sentiment labels of
    their customer messages (each a lookup by key, as in `_with_process`)."""
    mine = {"conversation": OuterRef("pk")}
    csat = Survey.objects.filter(**mine, kind=Kind.CSAT, score__isnull=False)
    events = ConversationEvent.objects.filter(**mine)
    reopened = {"kind": EventKind.STATUS_CHANGED, "data__from": Status.RESOLVED, "data__to": Status.OPEN}
    label_of = MessageSentiment.objects.filter(pk=OuterRef("pk")).values("label")[:1]
    labelled = Message.objects.filter(**mine, direction=Direction.INCOMING).annotate(label=Subquery(label_of))
    return _with_process(organization_id, window).annotate(
        csat_answers=_Count(csat.values("pk")),
        csat_sum=_Sum(csat.values("score")),
        csat_ok=_Count(csat.filter(score__gte=SATISFIED).values("pk")),
        reopenings=_Count(events.filter(**reopened).values("pk")),
        transfers=_Count(events.filter(kind=EventKind.TRANSFERRED).values("pk")),
        **{label: _Count(labelled.filter(label=label).values("pk")) for label in LABELS},
    )


PROCESS: str = "process"  # the annotations _with_process adds
TOPIC: str = "topic"
SUMMED = ("csat_answers", "csat_sum", "csat_ok", "reopenings", "transfers", *LABELS)


def figures(organization_id: int, window: Window, percentiles: bool = True) -> dict[Any, dict[str, Any]]:
    """Each process's figures, keyed by the process's id; NONE for the conversations
    without one (their first message has no topic, or its topic no process, or it was
    not analysed), "all" for every conversation of the window: one grouped query, and
    one more for the percentiles."""
    out: dict[Any, dict[str, Any]] = defaultdict(_empty)
    facts = _facts(organization_id, window)
    totals: dict[str, float] = defaultdict(float)
    for row in (
        facts.order_by()
        .values(PROCESS)
        .annotate(n=Count("pk"), answered=Count("first_response_at"), **{f: Sum(f) for f in SUMMED})
    ):
        key = NONE if row["process"] is None else row["process"]
        row["conversations"] = row.pop("n")
        for field in ("conversations", "answered", *SUMMED):
            totals[field] += row[field] or 0
        _fill(out[key], row)
    _fill(out["all"], totals)
    if percentiles:
        _percentiles(facts, out)
    return out


def _fill(target: dict[str, Any], row: dict[str, Any]) -> None:
    for field in ("conversations", "answered", "reopenings", "transfers"):
        target[field] = int(row[field] or 0)
    _csat(target, int(row["csat_answers"] or 0), row["csat_sum"], int(row["csat_ok"] or 0))
    counts = {label: int(row[label] or 0) for label in LABELS}
    total = sum(counts.values())
    target["messages_analysed"] = total
    target["sentiment"] = {label: round(counts[label] / total, 4) if total else None for label in LABELS}
    target.pop("csat_ok", None)
    target.pop("csat_sum", None)


def _percentiles(facts: QuerySet[Conversation], out: dict[Any, dict[str, Any]]) -> None:
    """p50 and p90 (nearest rank: the value at rank ceil(share * answered)) of the time
    to the first response, per process and over all, by the database in one query."""
    wait = ExpressionWrapper(F("first_response_at") - F("created_at"), output_field=DurationField())
    ranked = (
        facts.filter(first_response_at__isnull=False)
        .annotate(wait=wait)
        .annotate(
            rank=Over(RowNumber(), partition_by=[F("process")], order_by=[F("wait").asc(), F("pk").asc()]),
            n=Over(Count("pk"), partition_by=[F("process")]),
            rank_all=Over(RowNumber(), order_by=[F("wait").asc(), F("pk").asc()]),
            n_all=Over(Count("pk")),
        )
    )

    def at(rank: str, n: str, tenths: int) -> Q:
        # rank == ceil(tenths / 10 * n), in integers: 10 rank >= tenths n > 10 (rank - 1).
        return Q(**{f"{rank}10__gte": F(n) * tenths}) & Q(**{f"{rank}10__lt": F(n) * tenths + 10})

    ranked = ranked.annotate(rank10=F("rank") * 10, rank_all10=F("rank_all") * 10)
    found = ranked.filter(
        at("rank", "n", 5) | at("rank", "n", 9) | at("rank_all", "n_all", 5) | at("rank_all", "n_all", 9)
    )
    for process, waited, rank, n, rank_all, n_all in found.values_list(
        "process", "wait", "rank", "n", "rank_all", "n_all"
    ):
        seconds = round(max(0.0, waited.total_seconds()))
        for key, r, total in ((NONE if process is None else process, rank, n), ("all", rank_all, n_all)):
            for share, field in ((5, "first_response_p50_s"), (9, "first_response_p90_s")):
                if 10 * r >= share * total > 10 * (r - 1):
                    out[key][field] = seconds


def _csat(row: dict[str, Any], n: int, total: float | None, ok: int) -> None:
    row["csat_answers"], row["csat_sum"], row["csat_ok"] = n, float(total or 0), ok
    row["csat_mean"] = round(float(total or 0) / n, 2) if n else None
    row["csat_satisfied_share"] = round(ok / n, 4) if n else None


def _hidden(organization_id: int) -> list[str]:
    from adesso.privacy.models import privacy_of

    return list(privacy_of(organization_id).redact_kinds)


def quotes(topic: Topic, organization_id: int, window: Window | None, hidden: list[str]) -> list[dict[str, str]]:
    """Up to three of the topic's messages (of the window, when given) nearest its centre,
    no two with the same text."""
    from adesso.privacy.redact import redact

    # By key from the topic's messages, never a join (see _with_process).
    message = Message.objects.filter(pk=OuterRef("pk"))
    members = MessageSentiment.objects.filter(topic=topic, vector__isnull=False).annotate(
        conversation_id=Subquery(message.values("conversation_id")[:1]),
        created_at=Subquery(message.values("created_at")[:1]),
        text=Subquery(message.values("text")[:1]),
        code=Subquery(message.values("code")[:1]),
        conversation_code=Subquery(Conversation.objects.filter(pk=OuterRef("conversation_id")).values("code")[:1]),
    )
    if window is not None:
        in_window = Conversation.objects.filter(_conversations(organization_id, window), pk=OuterRef("conversation_id"))
        members = members.annotate(in_window=Subquery(in_window.values("pk")[:1])).filter(in_window__isnull=False)
    pool = list(
        members.order_by("-created_at").values_list(
            "vector", "text", "code", "conversation_code", "conversation_id"
        )[:QUOTE_POOL]
    )
    centre = unpack(topic.centroid)
    pool.sort(key=lambda m: -float(unpack(m[0]) @ centre))
    reasons = reason_codes({m[4] for m in pool})
    said = [(quote_text(text, code in reasons)[:280], code, conversation) for _v, text, code, conversation, _id in pool]
    # Three voices, not one text sent by several customers (a template, a forward).
    return [
        {"text": redact(text, hidden) if hidden else text, "message": code, "conversation": conversation}
        for text, code, conversation in distinct([m for m in said if m[0]], lambda m: m[0])[:QUOTES]
    ]


def _topic_counts(organization_id: int, window: Window, mapped: bool = False) -> dict[int, int]:
    """Per topic, the conversations of the window with a message filed in it: the first
    message, or a survey's reason (praise mostly comes there, after a conversation whose
    first message was a question or a complaint); only topics with a process when
    `mapped`. The conversation of each filed message is found by key, as in `quotes`."""
    in_window = Conversation.objects.filter(_conversations(organization_id, window)).values("pk")
    filed = MessageSentiment.objects.filter(
        organization_id=organization_id, first=True, topic__isnull=False, analysed_at__gte=window.start
    )
    if mapped:
        filed = filed.filter(topic__process__isnull=False)
    filed = filed.annotate(
        conversation_id=Subquery(Message.objects.filter(pk=OuterRef("pk")).values("conversation_id")[:1])
    ).filter(conversation_id__in=Subquery(in_window))
    return dict(
        filed.order_by().values("topic_id").annotate(n=Count("conversation_id", distinct=True)).values_list(
            "topic_id", "n"
        )
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
    now_counts = _topic_counts(organization_id, window, mapped=True)
    before_counts = _topic_counts(organization_id, previous, mapped=True)
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
