"""Reports, the staffing planner and the daily digest with 100,000 conversations.

Seeds 30 days of conversations on 4 channels (one customer message each, a
second one for a fifth of them, 92% answered by one of 12 agents, a breach event
for the late ones), then times what a supervisor's page and the API compute:
`adesso.reports.queries.report` for the last 7 and 30 days (by channel and by
agent), the planner over 4 weeks, and a digest.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import time
from typing import Any

from bench import common
from bench.common import bench_env, database_version, log, machine, setup_django, table, write_results

BATCH = 5000


def seed(conversations: int, days: int = 30, seed_value: int = 7) -> Any:
    """Bulk-insert the history; returns the organisation's supervisor."""
    from django.db import connection, transaction
    from django.utils import timezone

    from adesso.accounts.actions import do_create_agent, do_create_organization
    from adesso.accounts.models import Role
    from adesso.channels.actions import do_create_channel
    from adesso.contacts.models import Contact
    from adesso.conversations.models import Conversation, ConversationEvent, Message

    rng = random.Random(seed_value)
    now = timezone.now()
    admin, _ = do_create_organization("Report Bench", "admin@reports.example")
    org = admin.organization
    supervisor = do_create_agent(org, "sara@reports.example", name="Sara", role=Role.SUPERVISOR)
    agents = [do_create_agent(org, f"agent{i}@reports.example", name=f"Agent {i}") for i in range(12)]
    channels = [do_create_channel(org, "api", name)[0] for name in ("Email", "Chat", "WhatsApp", "Telefono")]
    means = [40, 5, 15, 25]  # minutes to the first answer, per channel
    start = now - dt.timedelta(days=days)
    with transaction.atomic():
        for first in range(0, conversations, BATCH):
            count = min(BATCH, conversations - first)
            contacts = Contact.objects.bulk_create(
                [Contact(organization=org, name=f"Cliente {first + i}") for i in range(count)])
            convs, plans = [], []
            for contact in contacts:
                k = rng.randrange(len(channels))
                created = start + dt.timedelta(seconds=rng.uniform(0, days * 86400))
                wait = dt.timedelta(minutes=rng.expovariate(1 / means[k]))
                answered = rng.random() < 0.92 and created + wait < now
                agent = rng.choice(agents) if answered else None
                convs.append(Conversation(
                    organization=org, channel=channels[k], contact=contact, created_at=created,
                    updated_at=created + wait if answered else created,
                    status="resolved" if answered else "open",
                    waiting_since=None if answered else created, last_customer_message_at=created,
                    first_response_at=created + wait if answered else None, assignee=agent,
                    first_response_due_at=created + dt.timedelta(minutes=60), last_message_preview="Aiuto!",
                ))
                plans.append((k, created, wait, answered, agent))
            Conversation.objects.bulk_create(convs)
            messages, events = [], []
            for c, (k, created, wait, answered, agent) in zip(convs, plans, strict=True):
                messages.append(Message(organization=org, conversation=c, channel=channels[k],
                                        direction="incoming", text="Aiuto!", created_at=created))
                if rng.random() < 0.2:
                    messages.append(Message(organization=org, conversation=c, channel=channels[k],
                                            direction="incoming", text="Ci siete?",
                                            created_at=created + wait / 2))
                if answered:
                    messages.append(Message(organization=org, conversation=c, channel=channels[k],
                                            direction="outgoing", author=agent, text="Eccoci",
                                            created_at=created + wait))
                if wait > dt.timedelta(minutes=60):
                    events.append(ConversationEvent(organization=org, conversation=c, kind="sla_breached",
                                                    created_at=created + dt.timedelta(minutes=60),
                                                    data={"clock": "first"}))
            Message.objects.bulk_create(messages)
            ConversationEvent.objects.bulk_create(events)
            log(f"seeded {first + count:,} / {conversations:,} conversations")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # as autovacuum would after such a load
    return supervisor


def timed(fn: Any, repeat: int) -> tuple[float, Any]:
    """Median milliseconds of `repeat` calls, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), result


def run(args: argparse.Namespace) -> dict[str, Any]:
    from django.utils import timezone

    from adesso.conversations.models import Conversation, Message
    from adesso.reports import planner, queries
    from adesso.reports.digest import render_digest
    from adesso.reports.periods import parse_period

    started = time.monotonic()
    sara = seed(args.conversations)
    seed_seconds = time.monotonic() - started
    now = timezone.now()
    results: dict[str, Any] = {}
    rows = []
    for days in (7, 30):
        period = parse_period((now - dt.timedelta(days=days - 1)).date().isoformat(), now.date().isoformat())
        for by in ("channel", "agent"):
            ms, data = timed(lambda period=period, by=by: queries.report(sara, period, by, now), args.repeat)
            key = f"report_{days}d_{by}"
            results[key] = {"ms": round(ms, 1), "conversations": data["totals"]["conversations"]}
            rows.append([f"report, last {days} days, by {by}", f"{data['totals']['conversations']:,}",
                         f"{ms:.0f} ms"])
    ms, plan = timed(lambda: planner.plan_from_database(sara.organization_id, planner.PlanInput(), now), args.repeat)
    results["planner_4_weeks"] = {"ms": round(ms, 1), "customer_turns": plan["customer_turns"],
                                  "handle_seconds": plan["handle_seconds"], "max_agents": plan["max_agents"]}
    rows.append(["staffing plan, 4 weeks", f"{plan['customer_turns']:,} turns", f"{ms:.0f} ms"])
    ms, _digest = timed(lambda: render_digest(sara, now), args.repeat)
    results["digest"] = {"ms": round(ms, 1)}
    rows.append(["daily digest (yesterday + silence list)", "", f"{ms:.0f} ms"])
    return {
        "bench": "reports",
        "database": database_version(args.db),
        "machine": machine(),
        "conversations": Conversation.objects.count(),
        "messages": Message.objects.count(),
        "seed_seconds": round(seed_seconds, 1),
        "repeat": args.repeat,
        "results": results,
        "rows": rows,
        "at": time.strftime("%Y-%m-%d %H:%M:%S"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--pg-url", help="PostgreSQL server (default: DATABASE_URL or local postgres)")
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5, help="calls per measure (the median is kept)")
    args = parser.parse_args(argv)
    # Its own database, so it can run while another benchmark uses adesso_bench.
    common.BENCH_DB_NAME = "adesso_bench_reports"
    with bench_env(args.db, args.pg_url) as benv:
        setup_django(benv)
        data = run(args)
    path = write_results(f"reports-{args.db}", data)
    print(f"\nReports with {data['conversations']:,} conversations, {data['messages']:,} messages, "
          f"{data['database']} (median of {data['repeat']})\n")
    print(table(["what", "rows", "time"], data["rows"]))
    print(f"\nwritten {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
