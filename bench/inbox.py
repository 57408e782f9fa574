"""Inbox latency at 100,000 conversations: the agent API's list and the inbox page.

    .venv/bin/python -m bench.inbox --db sqlite
    .venv/bin/python -m bench.inbox --db postgres --conversations 100000

Seeds one organisation with agents, teams, channels, contacts and conversations
(one message each, a realistic status mix) with bulk inserts, starts granian as
the Procfile's `web` process does, and measures p50/p95/p99 of GET /api/v1/conversations under
its default filters (open, longest waiting first), assignee=me, assignee=none,
a team, a deep offset page, and of the inbox page `/` when it exists. Then
explains each list query (EXPLAIN ANALYZE on PostgreSQL, EXPLAIN QUERY PLAN on
SQLite), flags full scans and full sorts, and times the page and the count
queries separately.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import re
import sys
import time
from collections.abc import Callable
from typing import Any

from bench.common import (
    BenchEnv,
    bench_env,
    database_version,
    log,
    machine,
    setup_django,
    table,
    wait_for_quiet,
    write_results,
)
from bench.load import http_request, percentile, run_load
from bench.server import Server, server_options

STATUS_MIX = [("open", 0.25), ("pending", 0.10), ("snoozed", 0.05), ("resolved", 0.60)]
TEXTS = [
    "Il mio ordine non è arrivato",
    "Vorrei un rimborso",
    "Where is my parcel?",
    "Posso cambiare l'indirizzo?",
    "Grazie!",
    "La torta era buonissima",
    "Fattura per favore",
]
BATCH = 5000


def seed(conversations: int, agents: int, teams: int, channels: int, seed_value: int = 11) -> dict[str, Any]:
    """Bulk-insert the organisation's data; returns the codes the requests use."""
    from django.db import transaction
    from django.utils import timezone

    from adesso.accounts.actions import do_create_api_token, do_create_organization, do_create_team
    from adesso.accounts.models import User
    from adesso.channels.actions import do_create_channel
    from adesso.contacts.models import Contact, ContactIdentity
    from adesso.conversations.models import Conversation, Direction, Message

    rng = random.Random(seed_value)
    now = timezone.now()
    admin, _ = do_create_organization("Pasticceria Bench", "admin@bench.example")
    org = admin.organization
    people = User.objects.bulk_create(
        [
            User(organization=org, email=f"agent{i}@bench.example", name=f"Agent {i}", password="!")
            for i in range(agents)
        ]
    )
    team_rows = [do_create_team(org, f"Team {t}", people[t::teams]) for t in range(teams)]
    channel_rows = [do_create_channel(org, "api", f"Canale {c}")[0] for c in range(channels)]
    me = people[0]
    n_contacts = max(1, int(conversations * 0.7))
    with transaction.atomic():
        contacts = []
        for start in range(0, n_contacts, BATCH):
            contacts += Contact.objects.bulk_create(
                [
                    Contact(organization=org, name=f"Cliente {i}", email=f"cliente{i}@example.com")
                    for i in range(start, min(n_contacts, start + BATCH))
                ]
            )
        for start in range(0, n_contacts, BATCH):
            ContactIdentity.objects.bulk_create(
                [
                    ContactIdentity(organization=org, contact=c, kind="email", value=c.email)
                    for c in contacts[start : start + BATCH]
                ]
            )
        statuses = [s for s, _ in STATUS_MIX]
        weights = [w for _, w in STATUS_MIX]
        for start in range(0, conversations, BATCH):
            batch = []
            for i in range(start, min(conversations, start + BATCH)):
                batch.append(
                    _conversation(
                        rng,
                        now,
                        org,
                        contacts[i % n_contacts],
                        rng.choice(channel_rows),
                        rng.choices(statuses, weights)[0],
                        people,
                        team_rows,
                    )
                )
            rows = Conversation.objects.bulk_create(batch)
            Message.objects.bulk_create(
                [
                    Message(
                        organization=org,
                        conversation=c,
                        channel=c.channel,
                        direction=Direction.INCOMING,
                        external_id=f"seed-{c.pk}",
                        text=c.last_message_preview,
                        created_at=c.created_at,
                    )
                    for c in rows
                ]
            )
    _analyze()
    return {
        "me": me,
        "token": do_create_api_token(me),
        "team": team_rows[0].code,
        "open": Conversation.objects.filter(organization=org, status="open").count(),
    }


def _conversation(
    rng: random.Random,
    now: dt.datetime,
    org: Any,
    contact: Any,
    channel: Any,
    status: str,
    agents: list[Any],
    teams: list[Any],
) -> Any:
    from adesso.conversations.models import Conversation

    created = now - dt.timedelta(minutes=rng.uniform(5, 90 * 24 * 60))
    updated = min(now, created + dt.timedelta(minutes=rng.expovariate(1 / 600)))
    assigned = status != "open" or rng.random() < 0.6
    c = Conversation(
        organization=org,
        channel=channel,
        contact=contact,
        status=status,
        priority=rng.choices([0, 1, 2, 3], [0.1, 0.7, 0.15, 0.05])[0],
        assignee=rng.choice(agents) if assigned else None,
        team=rng.choice(teams) if rng.random() < 0.7 else None,
        last_message_preview=rng.choice(TEXTS),
        created_at=created,
        updated_at=updated,
        last_customer_message_at=updated,
    )
    if status == "open":
        # Most open conversations wait for an answer; a few were answered and reopened.
        c.waiting_since = updated if rng.random() < 0.9 else None
    elif status == "snoozed":
        c.snoozed_until = now + dt.timedelta(hours=rng.uniform(1, 72))
    elif status == "resolved":
        c.resolved_at = updated
        c.first_response_at = created + dt.timedelta(minutes=rng.uniform(1, 120))
    return c


def _analyze() -> None:
    """Fresh statistics, as autovacuum (PostgreSQL) or `PRAGMA optimize` (SQLite) keep them."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("VACUUM ANALYZE")
        else:
            cursor.execute("ANALYZE")


SCENARIOS: dict[str, dict[str, str]] = {
    "open, longest waiting (default)": {},
    "assignee=me": {"assignee": "me"},
    "assignee=none": {"assignee": "none"},
    "team": {"team": "{team}"},
    "deep page (offset 20000)": {"offset": "20000"},
    "all statuses, -updated": {"status": "all", "ordering": "-updated"},
}


def _query_string(params: dict[str, str], ctx: dict[str, Any]) -> str:
    from urllib.parse import urlencode

    return urlencode({k: v.format(**ctx) for k, v in params.items()})


def explain_queries(ctx: dict[str, Any], repeat: int) -> list[dict[str, Any]]:
    """Run each scenario's list in-process: its statements, their plans and timings."""
    from django.db import connection

    from adesso.conversations import queries

    out = []
    captured: list[tuple[str, Any]] = []

    def capture(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        captured.append((sql, params))
        return execute(sql, params, many, context)

    for name, params in SCENARIOS.items():
        values = {k: v.format(**ctx) for k, v in params.items()}
        offset = int(values.pop("offset", 0))
        captured.clear()
        qs = queries.inbox(ctx["me"], **values)
        with connection.execute_wrapper(capture):
            list(qs[offset : offset + 50])
            qs.count()
        statements = []
        for label, (sql, sql_params) in zip(["page", "count"], captured[-2:], strict=True):
            plan = _plan(sql, sql_params)
            statements.append(
                {
                    "query": label,
                    "ms": _time_statement(sql, sql_params, repeat),
                    "plan": plan,
                    "warnings": _plan_warnings(plan),
                }
            )
        out.append({"scenario": name, "statements": statements})
    return out


def _plan(sql: str, params: Any) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            return "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        return "\n".join(str(row[-1]) for row in cursor.fetchall())


def _plan_warnings(plan: str) -> list[str]:
    """Full scans of the conversations and sorts of every matching row (an incremental
    sort, or SQLite's sort of the "right part" of ORDER BY within index order, is fine)."""
    warnings = []
    for line in plan.splitlines():
        text = line.strip().removeprefix("->").strip()
        if re.match(r"(Parallel )?Seq Scan on conversations_conversation\b", text) or re.fullmatch(
            r"SCAN conversations_conversation", text
        ):
            warnings.append("full scan of conversations")
        if re.match(r"Sort\s+\(", text) or "USE TEMP B-TREE FOR ORDER BY" in text:
            warnings.append("sorts every matching row")
    return sorted(set(warnings))


def _time_statement(sql: str, params: Any, repeat: int) -> float:
    from django.db import connection

    times = []
    with connection.cursor() as cursor:
        for _ in range(repeat):
            t0 = time.perf_counter()
            cursor.execute(sql, params)
            cursor.fetchall()
            times.append((time.perf_counter() - t0) * 1000)
    return round(sorted(times)[len(times) // 2], 2)


def session_cookie(user: Any) -> str:
    from django.conf import settings
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def page_exists(cookie_user: Any) -> bool:
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(cookie_user)
    try:
        return client.get("/").status_code == 200
    except Exception:  # the page is being built by someone else; measure it when it works
        return False


def measure(server: Server, path: str, headers: dict[str, str], requests: int, clients: int) -> dict[str, Any]:
    raw = http_request("GET", path, server.port, headers)
    run_load(server, lambda i: raw, 1, 10, 30)  # warm up
    result = run_load(server, lambda i: raw, clients, requests, 120)
    summary = result.summary()
    lat = sorted(result.latencies_ms)
    summary.update(
        p50_ms=round(percentile(lat, 50), 1), p95_ms=round(percentile(lat, 95), 1), p99_ms=round(percentile(lat, 99), 1)
    )
    return summary


def run(args: argparse.Namespace, benv: BenchEnv) -> dict[str, Any]:
    setup_django(benv)
    version = database_version(benv.db)
    log(f"inbox on {version}: seeding {args.conversations:,} conversations")
    t0 = time.monotonic()
    ctx = seed(args.conversations, args.agents, args.teams, args.channels)
    seeded = time.monotonic() - t0
    log(f"  seeded in {seeded:.0f} s ({ctx['open']:,} open)")
    plans = explain_queries(ctx, args.repeat)
    for p in plans:
        for s in p["statements"]:
            flag = f"  <-- {', '.join(s['warnings'])}" if s["warnings"] else ""
            log(f"  {p['scenario']:<34} {s['query']:<5} {s['ms']:>8.2f} ms{flag}")
    web = page_exists(ctx["me"])
    cookie = session_cookie(ctx["me"]) if web else ""
    from django.db import connections

    connections.close_all()
    options = server_options(args.interface, args.workers, args.threads)
    results = []
    wait_for_quiet(args.wait_quiet)
    with Server(benv, options) as server:
        auth = {"Authorization": f"Bearer {ctx['token']}"}
        for name, params in SCENARIOS.items():
            qs = _query_string(params, ctx)
            path = "/api/v1/conversations" + (f"?{qs}" if qs else "")
            summary = measure(server, path, auth, args.requests, args.clients)
            results.append({"what": f"API {name}", "path": path, **summary})
            log(
                f"  API {name:<34} p50 {summary['p50_ms']:>6.1f}  p95 {summary['p95_ms']:>6.1f}  "
                f"p99 {summary['p99_ms']:>6.1f} ms  {summary['statuses']}"
            )
        if web:
            for name, path in [("inbox page /", "/"), ("inbox page, mine tab", "/?tab=mine")]:
                summary = measure(server, path, {"Cookie": cookie}, args.requests, args.clients)
                results.append({"what": name, "path": path, **summary})
                log(
                    f"  {name:<38} p50 {summary['p50_ms']:>6.1f}  p95 {summary['p95_ms']:>6.1f}  "
                    f"p99 {summary['p99_ms']:>6.1f} ms  {summary['statuses']}"
                )
        else:
            log("  the inbox page / does not answer 200 yet: not measured")
    return {
        "bench": "inbox",
        "database": version,
        "server": options.describe(),
        "machine": machine(),
        "conversations": args.conversations,
        "open": ctx["open"],
        "seed_seconds": round(seeded, 1),
        "clients": args.clients,
        "results": results,
        "plans": plans,
        "at": time.strftime("%Y-%m-%d %H:%M:%S"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--pg-url", help="PostgreSQL server (default: DATABASE_URL or local postgres)")
    parser.add_argument(
        "--interface", choices=["wsgi", "asginl", "asgi"], help="default: as the Procfile's web process"
    )
    parser.add_argument("--workers", type=int, help="default: as the Procfile")
    parser.add_argument(
        "--threads", type=int, help="granian blocking threads per worker (WSGI); default: as the Procfile"
    )
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--agents", type=int, default=24)
    parser.add_argument("--teams", type=int, default=4)
    parser.add_argument("--channels", type=int, default=3)
    parser.add_argument("--requests", type=int, default=300, help="per scenario")
    parser.add_argument("--clients", type=int, default=1, help="concurrent clients per scenario")
    parser.add_argument("--repeat", type=int, default=20, help="timings per statement, in-process")
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        help="wait up to this many seconds for other processes to leave the CPU idle",
    )
    args = parser.parse_args(argv)
    with bench_env(args.db, args.pg_url) as benv:
        data = run(args, benv)
    print(
        f"\nInbox at {data['conversations']:,} conversations ({data['open']:,} open), "
        f"{data['database']}, {data['server']}, {data['clients']} client(s)\n"
    )
    print(
        table(
            ["request", "p50 ms", "p95 ms", "p99 ms", "requests", "other CPU"],
            [
                [r["what"], r["p50_ms"], r["p95_ms"], r["p99_ms"], r["requests"], r["other_cpu_share"]]
                for r in data["results"]
            ],
        )
    )
    print("\nStatements (in-process, median of repeated runs):\n")
    print(
        table(
            ["scenario", "query", "ms", "plan warnings"],
            [
                [p["scenario"], s["query"], s["ms"], ", ".join(s["warnings"]) or "-"]
                for p in data["plans"]
                for s in p["statements"]
            ],
        )
    )
    path = write_results(f"inbox-{args.db}", data)
    print(f"\nWrote {path.relative_to(path.parent.parent.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
