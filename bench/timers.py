"""The SLA timer tick with 100,000 open conversations (issue 3: under 1 s).

Seeds open conversations whose customers started waiting over the last hour,
each with its SLA clock computed by the real engine, then times
`adesso.ops.timers.tick` (what `adesso runtimers` runs every second: snoozes,
SLA, promises, the queue, due deliveries):
steady ticks one second apart, and a burst tick with 500 conversations due at
once. The tick reads only rows whose indexed `sla_check_at` is due.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
from typing import Any

from bench.common import bench_env, database_version, log, machine, setup_django, table, write_results
from bench.load import percentile

BATCH = 5000


def seed(conversations: int, seed_value: int = 7) -> dt.datetime:
    """Bulk-insert open, waiting conversations with their SLA state; returns the seeding time."""
    from django.db import transaction
    from django.utils import timezone

    from adesso.accounts.actions import do_create_organization
    from adesso.channels.actions import do_create_channel
    from adesso.contacts.models import Contact
    from adesso.conversations.models import Conversation
    from adesso.sla import engine

    rng = random.Random(seed_value)
    now = timezone.now()
    admin, _ = do_create_organization("Timer Bench", "admin@timers.example")
    org = admin.organization
    channel, _ = do_create_channel(org, "api", "Sito")
    with transaction.atomic():
        for start in range(0, conversations, BATCH):
            count = min(BATCH, conversations - start)
            contacts = Contact.objects.bulk_create(
                [Contact(organization=org, name=f"Cliente {start + i}") for i in range(count)]
            )
            rows = []
            for contact in contacts:
                since = now - dt.timedelta(seconds=rng.uniform(0, 3600))
                c = Conversation(organization=org, channel=channel, contact=contact, status="open",
                                 created_at=since, updated_at=since, waiting_since=since,
                                 last_customer_message_at=since, last_message_preview="Aiuto!")
                engine.refresh(c, since, reselect=True)
                rows.append(c)
            Conversation.objects.bulk_create(rows)
            log(f"seeded {start + count:,} / {conversations:,} open conversations")
    # What autovacuum does on a live database: without statistics the planner may
    # not see that a partial index holds none of 100,000 fresh rows.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return now


def run(args: argparse.Namespace) -> dict[str, Any]:
    from django.utils import timezone

    from adesso.conversations.models import Conversation
    from adesso.ops.timers import tick

    def do_check_sla(at: dt.datetime) -> int:
        return tick(at)["sla"]

    started = time.monotonic()
    seeded_at = seed(args.conversations)
    seed_seconds = time.monotonic() - started
    now = max(timezone.now(), seeded_at)
    first = time.perf_counter()
    catch_up = 0
    while handled_now := do_check_sla(now):
        catch_up += handled_now
    catch_up_s = time.perf_counter() - first
    steady = []
    handled = []
    for _ in range(args.ticks):
        now += dt.timedelta(seconds=1)
        t0 = time.perf_counter()
        handled.append(do_check_sla(now))
        steady.append((time.perf_counter() - t0) * 1000)
    # A burst: 500 conversations fall due in the same second.
    burst_pks = list(Conversation.objects.filter(sla_check_at__gt=now).values_list("pk", flat=True)[:500])
    Conversation.objects.filter(pk__in=burst_pks).update(sla_check_at=now)
    steady.sort()
    t0 = time.perf_counter()
    burst = do_check_sla(now)
    burst_ms = (time.perf_counter() - t0) * 1000
    t0 = time.perf_counter()
    idle = do_check_sla(now)
    idle_ms = (time.perf_counter() - t0) * 1000
    return {
        "bench": "timers",
        "database": database_version(args.db),
        "machine": machine(),
        "open_conversations": Conversation.objects.filter(status="open").count(),
        "seed_seconds": round(seed_seconds, 1),
        "catch_up": {"handled": catch_up, "seconds": round(catch_up_s, 2)},
        "steady": {
            "ticks": len(steady),
            "handled_per_tick_mean": round(sum(handled) / len(handled), 1),
            "p50_ms": round(percentile(steady, 50), 1),
            "p95_ms": round(percentile(steady, 95), 1),
            "max_ms": round(max(steady), 1),
        },
        "burst": {"handled": burst, "ms": round(burst_ms, 1)},
        "idle": {"handled": idle, "ms": round(idle_ms, 2)},
        "at": time.strftime("%Y-%m-%d %H:%M:%S"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--pg-url", help="PostgreSQL server (default: DATABASE_URL or local postgres)")
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--ticks", type=int, default=60, help="steady ticks, one simulated second apart")
    args = parser.parse_args(argv)
    with bench_env(args.db, args.pg_url) as benv:
        setup_django(benv)
        data = run(args)
    path = write_results(f"timers-{args.db}", data)
    s = data["steady"]
    print(f"\nSLA timer tick, {data['open_conversations']:,} open conversations, {data['database']}\n")
    print(table(
        ["tick", "conversations handled", "time"],
        [
            ["steady (p50 / p95 / max)", f"{s['handled_per_tick_mean']} per tick",
             f"{s['p50_ms']} / {s['p95_ms']} / {s['max_ms']} ms"],
            ["burst", data["burst"]["handled"], f"{data['burst']['ms']} ms"],
            ["nothing due", data["idle"]["handled"], f"{data['idle']['ms']} ms"],
            ["catch-up after seeding", data["catch_up"]["handled"], f"{data['catch_up']['seconds']} s"],
        ],
    ))
    print(f"\nwritten {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
