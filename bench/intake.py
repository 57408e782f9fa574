"""Intake throughput: accepted messages/s and latency with 1, 8 and 64 concurrent clients.

    .venv/bin/python -m bench.intake --db sqlite
    .venv/bin/python -m bench.intake --db postgres --workers 4
    .venv/bin/python -m bench.intake --interface asginl --workers 1   # ASGI for everything

Starts granian as the Procfile's `web` process does (or as the options say) on a
free loopback port against a fresh database, seeds an organisation with an API
channel and posts messages to POST /api/v1/inbound/{channel}: every message has
a new external id; most come from a pool of a few thousand returning senders
(joining their open conversation), some from first-time senders (a new contact,
identity and conversation). Each level is bounded by a request count and a
duration. Afterwards it checks that every accepted message was stored once and
that no contact has two open conversations on the channel.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
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
from bench.load import http_request, run_load
from bench.server import Server, server_options

TEXTS = [
    "Buongiorno, il mio ordine non è ancora arrivato. Potete controllare?",
    "Ciao! Vorrei cambiare l'indirizzo di consegna dell'ordine 48213.",
    "The parcel arrived damaged, the box was open. What should I do?",
    "Salve, avete la torta al pistacchio anche senza glutine?",
    "Ho ricevuto due addebiti per lo stesso acquisto, potete rimborsarmi?",
    "Is the shop open on Sunday afternoon?",
    "Grazie mille, tutto risolto!",
    "Non riesco ad accedere al mio account, la password non funziona.",
    "Quando riaprite dopo le ferie? Devo ordinare per un compleanno sabato.",
    "Hello, I would like an invoice for my last order, VAT number IT01234567890.",
]
DATA_STATEMENTS = {"SELECT", "INSERT", "UPDATE", "DELETE"}
NAMES = [
    "Mario Bianchi",
    "Giulia Rossi",
    "Luca Verdi",
    "Anna Conti",
    "Paolo Ricci",
    "Sara Gallo",
    "Marco Romano",
    "Elena Greco",
    "John Smith",
    "Chiara Marino",
]


class Traffic:
    """Deterministic request bodies: a new external id each, a realistic sender mix."""

    def __init__(self, port: int, channel_code: str, token: str, senders: int, new_share: float, seed: int = 7) -> None:
        self.path = f"/api/v1/inbound/{channel_code}"
        self.port = port
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.senders = senders
        self.new_share = new_share
        self.rng = random.Random(seed)
        self.prefix = "m"

    def sender(self, i: int) -> dict[str, Any]:
        if self.rng.random() < self.new_share:
            key = f"{self.prefix}-{i}"
        else:
            key = str(self.rng.randrange(self.senders))
        n = sum(map(ord, key))
        sender: dict[str, Any] = {"external_id": f"cust-{key}", "name": NAMES[n % len(NAMES)]}
        if n % 3 == 0:
            sender["email"] = f"cust-{key}@example.com"
        if n % 5 == 0:
            sender["phone"] = f"+39 347 {n % 1000:03d} {abs(hash(key)) % 10000:04d}"
        return sender

    def __call__(self, i: int) -> bytes:
        body = {
            "external_id": f"{self.prefix}-{i}",
            "sender": self.sender(i),
            "text": TEXTS[i % len(TEXTS)],
        }
        return http_request("POST", self.path, self.port, self.headers, json.dumps(body).encode())


def seed() -> tuple[str, str]:
    from adesso.accounts.actions import do_create_organization
    from adesso.channels.actions import do_create_channel

    admin, _ = do_create_organization("Pasticceria Bench", "admin@bench.example")
    channel, token = do_create_channel(admin.organization, "api", "Sito web")
    return channel.code, token


def count_queries(channel_code: str, token: str) -> dict[str, int]:
    """Statements one intake request makes, in-process, for each kind of message (plus one transaction)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1")
    url = f"/api/v1/inbound/{channel_code}"
    headers = {"Authorization": f"Bearer {token}"}

    def post(external_id: str, sender: str, **extra: Any) -> int:
        body = {
            "external_id": external_id,
            "sender": {"external_id": sender, "name": "Q", **extra},
            "text": "quante query?",
        }
        with CaptureQueriesContext(connection) as ctx:
            r = client.post(url, json.dumps(body), content_type="application/json", headers=headers)
        assert r.status_code == 202, r.content
        # Data statements only: BEGIN/COMMIT are logged on SQLite but not on PostgreSQL.
        return sum(1 for q in ctx.captured_queries if q["sql"].split(None, 1)[0].upper() in DATA_STATEMENTS)

    post("q-0", "q-warm")  # per-process caches (SLA policies) filled, as on a running server
    counts = {
        "new sender (new contact and conversation)": post("q-1", "q-new"),
        "returning sender (joins open conversation)": post("q-2", "q-new"),
        "new sender with email and phone": post("q-3", "q-full", email="q@example.com", phone="3471234567"),
        "returning sender with email and phone": post("q-4", "q-full", email="q@example.com", phone="3471234567"),
        "duplicate delivery": post("q-4", "q-full"),
    }
    return counts


def check_integrity(accepted: int) -> dict[str, Any]:
    """What was stored matches what was accepted; one active conversation per sender.
    The server only accepts (202: the raw event stored); the pipeline's worker files the
    messages: here it runs in this process until nothing is left, before counting."""
    from django.db.models import Count

    from adesso.channels.pipeline import do_process_events

    started, processed = time.monotonic(), 0
    while done := do_process_events():
        processed += done
    drain_seconds = time.monotonic() - started

    from adesso.conversations.models import (
        ACTIVE_STATUSES,
        Conversation,
        ConversationEvent,
        Message,
    )

    messages = Message.objects.filter(external_id__startswith="m-").count()  # not warm-up or q- ones
    received = ConversationEvent.objects.filter(kind="message_received").count()
    doubled = (
        Conversation.objects.filter(status__in=ACTIVE_STATUSES)
        .values("contact_id", "channel_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    return {
        "accepted": accepted,
        "messages_stored": messages,
        "message_received_events": received,
        "conversations": Conversation.objects.count(),
        "contacts_with_two_active_conversations": doubled,
        # One worker, in process, after the load (not the benchmark of processing).
        "events_processed_after_the_load": processed,
        "processing_seconds": round(drain_seconds, 1),
        "ok": messages == accepted and doubled == 0,
    }


def run(args: argparse.Namespace, benv: BenchEnv) -> dict[str, Any]:
    setup_django(benv)
    channel_code, token = seed()
    queries = count_queries(channel_code, token)
    version = database_version(benv.db)
    from django.db import connections

    connections.close_all()
    options = server_options(args.interface, args.workers, args.threads)
    options.runtime_mode = args.runtime_mode or options.runtime_mode
    log(f"intake on {version}, {options.describe()}")
    levels = []
    accepted = 0
    with Server(benv, options) as server:
        traffic = Traffic(server.port, channel_code, token, args.senders, args.new_share)
        traffic.prefix = "warmup"
        run_load(server, traffic, 8, args.warmup, 30)
        for clients in args.clients:
            wait_for_quiet(args.wait_quiet)
            traffic.prefix = f"m-{clients}"
            result = run_load(server, traffic, clients, args.requests, args.seconds)
            summary = result.summary()
            accepted += result.statuses.get(202, 0)
            levels.append(summary)
            if any(code.startswith("5") for code in summary["statuses"]):
                summary["server_errors"] = server.errors()
                log("  server errors: " + " | ".join(summary["server_errors"]))
            log(
                f"  {clients:>3} clients: {summary['ok_per_second']:>7.1f} msgs/s  "
                f"p50 {summary['p50_ms']:.1f} ms  p95 {summary['p95_ms']:.1f} ms  "
                f"p99 {summary['p99_ms']:.1f} ms  {summary['statuses']}  cpu/req: server "
                f"{summary['server_cpu_ms_per_request']:.2f} ms, db {summary['db_cpu_ms_per_request']:.2f} ms; "
                f"cpu share: client {summary['client_cpu_share']:.2f}, other {summary['other_cpu_share']:.2f}"
            )
    integrity = check_integrity(accepted)
    if not integrity["ok"]:
        log(f"  INTEGRITY PROBLEM: {integrity}")
    return {
        "bench": "intake",
        "database": version,
        "server": options.describe(),
        "server_command": " ".join(Server(benv, options).command()[1:]),
        "options": {"interface": options.interface, "workers": options.workers, "threads": options.blocking_threads},
        "machine": machine(),
        "senders": args.senders,
        "new_sender_share": args.new_share,
        "queries_per_request": queries,
        "levels": levels,
        "integrity": integrity,
        "at": time.strftime("%Y-%m-%d %H:%M:%S"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--pg-url", help="PostgreSQL server (default: DATABASE_URL or local postgres)")
    parser.add_argument(
        "--interface", choices=["wsgi", "asginl", "asgi"], help="default: as the Procfile's web process"
    )
    parser.add_argument("--workers", type=int, help="default: as the Procfile")
    parser.add_argument(
        "--threads", type=int, help="granian blocking threads per worker (WSGI); default: as the Procfile"
    )
    parser.add_argument("--runtime-mode", choices=["auto", "st", "mt"], default=None)
    parser.add_argument("--clients", type=lambda s: [int(x) for x in s.split(",")], default=[1, 8, 64])
    parser.add_argument("--requests", type=int, default=8000, help="per level, at most")
    parser.add_argument("--seconds", type=float, default=12.0, help="per level, at most")
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--senders", type=int, default=3000, help="pool of returning senders")
    parser.add_argument("--new-share", type=float, default=0.15, help="share of first-time senders")
    parser.add_argument("--label", default="", help="added to the result file's name")
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        help="before each level, wait up to this many seconds for other processes to leave the CPU idle",
    )
    args = parser.parse_args(argv)
    with bench_env(args.db, args.pg_url) as benv:
        data = run(args, benv)
    rows = [
        [
            lv["clients"],
            lv["ok_per_second"],
            lv["p50_ms"],
            lv["p95_ms"],
            lv["p99_ms"],
            lv["requests"],
            lv["server_cpu_ms_per_request"],
            lv["db_cpu_ms_per_request"],
            lv["client_cpu_share"],
            lv["other_cpu_share"],
        ]
        for lv in data["levels"]
    ]
    print(f"\nIntake, {data['database']}, {data['server']}\n")
    headers = ["clients", "msgs/s", "p50 ms", "p95 ms", "p99 ms", "requests", "server CPU ms/msg", "db CPU ms/msg"]
    print(table([*headers, "client CPU", "others' CPU"], rows))
    print("\nStatements per request: " + ", ".join(f"{k}: {v}" for k, v in data["queries_per_request"].items()))
    options = data["options"]
    name = f"intake-{args.db}-{options['interface']}-w{options['workers']}" + (f"-{args.label}" if args.label else "")
    path = write_results(name, data)
    print(f"\nWrote {path.relative_to(path.parent.parent.parent)}")
    return 0 if data["integrity"]["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
