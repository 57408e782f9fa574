"""The inbound pipeline, side by side with the stack's limit, in one run (issue 10).

    .venv/bin/python -m bench.pipeline --db sqlite
    .venv/bin/python -m bench.pipeline --db postgres --processors 2

1. **Accept**: granian as the Procfile's `web` process (settings `bench.bare_settings`:
   Adesso's, plus one bench-only URL) serves, in the same run, 8 clients posting a
   burst of messages from NEW senders to (a) a bare Django view doing one INSERT of
   the body the way the pipeline's accept does (the stack's limit), (b) Telegram's
   webhook with its secret token, (c) the API kind's inbound endpoint; three rounds,
   alternating. The ratio of each to the bare view of the same round, and its median
   over the rounds, is the figure.
2. **Processing**: more messages are accepted (new and returning senders mixed), then
   the Procfile's `worker` processes (`adesso worker`: one on SQLite, two on
   PostgreSQL by default) process the whole backlog, routing and acknowledgements
   on; the acknowledgements are sent to a loopback Bot API (and counted apart).
3. **Latency**: web, workers and the `live` websocket process running, an open-loop
   load of 100 and then 300 messages/s on Telegram's webhook; for each message, from
   accept (the stored event's `received_at`) to acknowledged (the batch that stored
   its acknowledgement committed: `processed_at`), to the acknowledgement sent, and
   to the `message_received` live update reaching an agent's open inbox (a real
   websocket on the `live` process, as the browser's).

Finally it checks every accepted event was processed once: one message each.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import functools
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench import common
from bench.common import (
    ROOT,
    BenchEnv,
    bench_env,
    cpu_of,
    database_version,
    log,
    machine,
    machine_busy_seconds,
    postgres_cpu_seconds,
    setup_django,
    table,
    wait_for_quiet,
    write_results,
)
from bench.load import HttpConnection, http_request, percentile, run_load
from bench.server import Server, ServerOptions, _process_tree, server_options

SECRET = "bench-webhook-secret-0123456789"
BOT_TOKEN = "123456:" + "A" * 35
TEXTS = [
    "Buongiorno, il mio ordine non è ancora arrivato. Potete controllare?",
    "Ciao! Vorrei cambiare l'indirizzo di consegna dell'ordine 48213.",
    "The parcel arrived damaged, the box was open. What should I do?",
    "Salve, avete la torta al pistacchio anche senza glutine?",
    "Ho ricevuto due addebiti per lo stesso acquisto, potete rimborsarmi?",
    "Is the shop open on Sunday afternoon?",
]
NAMES = ["Mario", "Giulia", "Luca", "Anna", "Paolo", "Sara", "Marco", "Elena", "John", "Chiara"]


# --- what is posted -----------------------------------------------------------------


class Updates:
    """Telegram updates: a new update_id each; senders new or from those seen before."""

    def __init__(self, port: int, channel_code: str, new_share: float, seed: int = 11) -> None:
        self.path = f"/channels/telegram/{channel_code}/inbound"
        self.port = port
        self.headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET}
        self.new_share = new_share
        self.rng = random.Random(seed)
        self.next_id = 1
        self.next_chat = 10_000_000
        self.seen: list[int] = []
        self.sent: dict[int, float] = {}  # update_id -> when it was posted (wall clock)

    def body(self) -> tuple[int, bytes]:
        update_id = self.next_id
        self.next_id += 1
        if self.seen and self.rng.random() >= self.new_share:
            chat = self.rng.choice(self.seen)
        else:
            chat = self.next_chat
            self.next_chat += 1
            self.seen.append(chat)
        name = NAMES[chat % len(NAMES)]
        update = {
            "update_id": update_id,
            "message": {
                "message_id": update_id,
                "from": {"id": chat, "is_bot": False, "first_name": name, "language_code": "it"},
                "chat": {"id": chat, "type": "private", "first_name": name},
                "date": int(time.time()),
                "text": TEXTS[update_id % len(TEXTS)],
            },
        }
        return update_id, json.dumps(update).encode()

    def __call__(self, i: int) -> bytes:
        update_id, body = self.body()
        self.sent[update_id] = time.time()
        return http_request("POST", self.path, self.port, self.headers, body)


class ApiMessages:
    """POST /api/v1/inbound/{channel}: every message from a new sender."""

    def __init__(self, port: int, channel_code: str, token: str) -> None:
        self.path = f"/api/v1/inbound/{channel_code}"
        self.port = port
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.n = 0

    def __call__(self, i: int) -> bytes:
        self.n += 1
        body = {
            "external_id": f"api-{self.n}",
            "sender": {"external_id": f"api-cust-{self.n}", "name": NAMES[self.n % len(NAMES)]},
            "text": TEXTS[self.n % len(TEXTS)],
        }
        return http_request("POST", self.path, self.port, self.headers, json.dumps(body).encode())


class Bare:
    def __init__(self, port: int, organization_id: int, channel_id: int) -> None:
        self.path = f"/bench/bare/{organization_id}/{channel_id}"
        self.port = port
        self.headers = {"Content-Type": "application/json"}
        self.updates = Updates(port, "x", 1.0, seed=99)

    def __call__(self, i: int) -> bytes:
        return http_request("POST", self.path, self.port, self.headers, self.updates.body()[1])


# --- the world around: a loopback Bot API, the workers, the live process ------------------


class BotApi:
    """Answers sendMessage (and anything else) as Telegram does, on a loopback port."""

    def __init__(self) -> None:
        self.count = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # The answer's head and body are two writes: with Nagle's algorithm the body
            # waited for the client's delayed ACK (40 ms) on a kept-alive connection.
            disable_nagle_algorithm = True

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.count += 1
                body = json.dumps({"ok": True, "result": {"message_id": outer.count, "date": int(time.time())}})
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


class Workers:
    """`adesso worker` processes, as the Procfile's `worker` runs them."""

    def __init__(self, benv: BenchEnv, count: int, extra_env: dict[str, str]) -> None:
        self.env = {**os.environ, **benv.env, **extra_env}
        self.count = count
        self.procs: list[subprocess.Popen[bytes]] = []
        self.timers: subprocess.Popen[bytes] | None = None
        self.log_path = benv.var_dir / "workers.log"

    def __enter__(self) -> Workers:
        out = open(self.log_path, "ab")
        command = [str(Path(sys.executable).with_name("adesso")), "worker"]
        # The Procfile's `timers` too (its tick is the pipeline's safety net); not in the CPU figures.
        timers = [str(Path(sys.executable).with_name("adesso")), "runtimers", "--loop"]
        self.timers = subprocess.Popen(
            timers, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        for _ in range(self.count):
            self.procs.append(
                subprocess.Popen(
                    command, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
                )
            )
        return self

    def cpu_seconds(self, main_only: bool = False) -> float:
        """CPU of the worker processes and their children (the background analysis), or
        of the worker processes alone."""
        total = 0.0
        for proc in self.procs:
            for pid in [proc.pid] if main_only else _process_tree(proc.pid):
                with contextlib.suppress(OSError, ValueError, IndexError):
                    total += cpu_of(pid)
        return total

    def cpu_by_role(self) -> dict[str, float]:
        """CPU of the worker processes by what they run: the `default` loop (main), the
        sends (`outbox` child) and the analysis (`background` child)."""
        found = {"main": 0.0, "outbox": 0.0, "background": 0.0}
        for proc in self.procs:
            for pid in _process_tree(proc.pid):
                with contextlib.suppress(OSError, ValueError, IndexError):
                    args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
                    role = "outbox" if b"--outbox" in args else "background" if b"--background" in args else "main"
                    found[role] += cpu_of(pid)
        return found

    def __exit__(self, *exc: object) -> None:
        everyone = [*self.procs, *([self.timers] if self.timers else [])]
        for proc in everyone:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in everyone:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)


class LiveInbox:
    """An agent's open inbox: a websocket on the `live` process, as the browser opens it,
    recording when each conversation's `message_received` arrives."""

    def __init__(self, port: int, session_key: str) -> None:
        self.port = port
        self.session_key = session_key
        self.arrivals: dict[str, list[float]] = {}
        self.connected = threading.Event()
        self.stop = False
        self.thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    def start(self) -> None:
        self.thread.start()
        if not self.connected.wait(20):
            raise RuntimeError("the live process did not accept the agent's websocket")

    async def _run(self) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            (
                f"GET /ws/agent/ HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                f"Origin: http://127.0.0.1:{self.port}\r\nCookie: sessionid={self.session_key}\r\n\r\n"
            ).encode()
        )
        head = await reader.readuntil(b"\r\n\r\n")
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise RuntimeError(f"websocket refused: {head[:200]!r}")
        self.connected.set()
        while not self.stop:
            try:
                first = await asyncio.wait_for(reader.readexactly(2), 0.5)
            except TimeoutError:
                continue
            length = first[1] & 0x7F
            if length == 126:
                length = int.from_bytes(await reader.readexactly(2), "big")
            elif length == 127:
                length = int.from_bytes(await reader.readexactly(8), "big")
            payload = await reader.readexactly(length)
            opcode = first[0] & 0x0F
            if opcode != 1:
                continue
            at = time.time()
            with contextlib.suppress(ValueError):
                data = json.loads(payload)
                if data.get("kind") == "message_received":
                    self.arrivals.setdefault(str(data.get("conversation")), []).append(at)
        writer.close()


# --- the steps ------------------------------------------------------------------------


def seed(bot_api: str) -> dict[str, Any]:
    from django.contrib.sessions.backends.db import SessionStore

    from adesso.accounts.actions import do_create_organization
    from adesso.accounts.models import Organization
    from adesso.channels.actions import do_create_channel
    from adesso.channels.models import Channel

    admin, _ = do_create_organization("Pasticceria Bench", "admin@bench.example")
    org = admin.organization
    # Routing and acknowledgements on (nobody online: every new customer is told the SLA's time).
    Organization.objects.filter(pk=org.pk).update(acknowledge=True, auto_assign=True)
    telegram = Channel.objects.create(
        organization=org,
        kind="telegram",
        name="Bot",
        config={"bot_token": BOT_TOKEN, "webhook_secret": SECRET, "mode": "webhook", "bot_id": 123456},
    )
    api, token = do_create_channel(org, "api", "Sito web")
    bare = Channel.objects.create(organization=org, kind="bench-bare", name="bare view (bench only)")
    session = SessionStore()
    session["_auth_user_id"] = str(admin.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = admin.get_session_auth_hash()
    session.create()
    return {
        "org": org.pk,
        "telegram": telegram.code,
        "telegram_id": telegram.pk,
        "api": api.code,
        "api_token": token,
        "bare": bare.pk,
        "session": session.session_key,
    }


def accept_phase(server: Server, world: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """Both rounds of the three endpoints, 8 clients, new senders only."""
    updates = Updates(server.port, world["telegram"], 1.0)
    endpoints = {
        "bare Django view, one INSERT": Bare(server.port, world["org"], world["bare"]),
        "Telegram webhook (secret token)": updates,
        "API inbound (token, JSON checked)": ApiMessages(server.port, world["api"], world["api_token"]),
    }
    for make in endpoints.values():  # warm each path (imports, caches, connections)
        run_load(server, make, 8, 200, 10)
    rounds = []
    for r in range(args.rounds):
        row: dict[str, Any] = {}
        for name, make in endpoints.items():
            wait_for_quiet(args.wait_quiet)
            load_before = os.getloadavg()[0]
            summary = run_load(server, make, args.clients, args.requests, args.seconds).summary()
            summary["load_average_before"] = round(load_before, 2)
            row[name] = summary
            log(
                f"  round {r + 1}, {name}: {summary['ok_per_second']:.0f}/s, p95 {summary['p95_ms']:.1f} ms, "
                f"{summary['statuses']}, server CPU {summary['server_cpu_ms_per_request']:.2f} ms/req, "
                f"others' CPU {summary['other_cpu_share']:.2f}, load {load_before:.1f}"
            )
        bare = row["bare Django view, one INSERT"]["ok_per_second"] or 1
        for summary in row.values():
            summary["ratio_to_bare"] = round(summary["ok_per_second"] / bare, 2)
        rounds.append(row)
    return {"rounds": rounds, "updates": updates}


@functools.cache
def _measured_channels() -> list[Any]:
    from adesso.channels.models import Channel

    return list(Channel.objects.exclude(kind="bench-bare").order_by("pk"))


def _counts() -> dict[str, int]:
    from django.db.models import Count

    from adesso.channels.models import InboundEvent
    from adesso.outbox.models import Delivery

    # Served by indexes ((channel, state, received_at); (organization, status, created_at)):
    # the bench polls four times a second, and its own queries count as database CPU.
    states = dict(
        InboundEvent.objects.filter(channel__in=_measured_channels())
        .values_list("state")
        .annotate(n=Count("id"))
        .order_by()
    )
    sent = Delivery.objects.filter(organization_id=_measured_channels()[0].organization_id, status="sent").count()
    return {**states, "sent": sent}


def processing_phase(
    server: Server, benv: BenchEnv, world: dict[str, Any], updates: Updates, args: argparse.Namespace, bot: BotApi
) -> tuple[dict[str, Any], Workers]:
    """More messages (returning senders mixed in), then the workers on the backlog."""
    from django.db import connection

    updates.new_share = args.new_share
    run_load(server, updates, 8, args.backlog, 120)
    connection.close()
    before = _counts()
    backlog = before.get("accepted", 0)
    log(f"  backlog: {backlog} events waiting ({args.new_share:.0%} of the last {args.backlog} from new senders)")
    wait_for_quiet(args.wait_quiet)
    workers = Workers(benv, args.processors, {"ADESSO_TELEGRAM_API_BASE": bot.url}).__enter__()
    started = time.monotonic()
    cpu0, db0, busy0 = workers.cpu_seconds(), postgres_cpu_seconds(), machine_busy_seconds()
    load0 = os.getloadavg()[0]
    first = last = None
    main_first = main_last = 0.0
    roles_first: dict[str, float] = {}
    roles_last: dict[str, float] = {}
    timeline = []
    samples: list[tuple[float, int, dict[str, float], float]] = []
    deadline = started + args.process_timeout
    while time.monotonic() < deadline:
        time.sleep(0.25)
        counts = _counts()
        connection.close()
        done = (
            counts.get("processed", 0)
            + counts.get("ignored", 0)
            - before.get("processed", 0)
            - before.get("ignored", 0)
        )
        now = time.monotonic()
        timeline.append((round(now - started, 2), done, counts.get("sent", 0)))
        samples.append(
            (now, done, workers.cpu_by_role(), postgres_cpu_seconds() if benv.db == "postgres" else 0.0)
        )
        if done and first is None:
            first = (now, done)
            main_first = workers.cpu_seconds(main_only=True)
            roles_first = workers.cpu_by_role()
        if done >= backlog:
            last = now
            main_last = workers.cpu_seconds(main_only=True)
            roles_last = workers.cpu_by_role()
            break
    cpu = workers.cpu_seconds() - cpu0
    db_cpu = postgres_cpu_seconds() - db0 if benv.db == "postgres" else 0.0
    busy = machine_busy_seconds() - busy0
    if last is None or first is None:
        raise RuntimeError(f"processing did not finish in {args.process_timeout} s: {timeline[-1:]}")
    # From the first finished batch to the last: the workers' start-up is not processing.
    rate = (backlog - first[1]) / (last - first[0]) if last > first[0] else 0.0
    steady = _steady(samples, backlog)
    # The latency runs start with nothing left over: every acknowledgement sent.
    from adesso.outbox.models import Delivery

    sends_from, sent_before, cpu_before = (
        time.monotonic(),
        Delivery.objects.filter(status="sent").count(),
        workers.cpu_seconds(),
    )
    sent_wait = sends_from + 180
    while time.monotonic() < sent_wait and Delivery.objects.exclude(status="sent").exists():
        time.sleep(0.5)
    sends = Delivery.objects.filter(status="sent").count() - sent_before
    sends_seconds = time.monotonic() - sends_from
    sends_cpu = workers.cpu_seconds() - cpu_before
    connection.close()
    result = {
        "backlog": backlog,
        "processors": args.processors,
        "seconds": round(last - started, 2),
        "events_per_second": round(rate, 1),
        "worker_cpu_ms_per_event": round(cpu * 1000 / backlog, 3),
        # The worker processes alone (not the analysis child), from the first finished
        # batch to the last, as the rate: how busy the inbound loop itself was.
        "worker_main_cpu_ms_per_event": round((main_last - main_first) * 1000 / max(1, backlog - first[1]), 3),
        "db_cpu_ms_per_event": round(db_cpu * 1000 / backlog, 3),
        # Over the same window, by process: the inbound loop, the sends, the analysis.
        "worker_cpu_ms_per_event_by_role": {
            role: round((roles_last[role] - roles_first.get(role, 0.0)) * 1000 / max(1, backlog - first[1]), 3)
            for role in roles_last
        },
        # Sustained: from a quarter of the backlog done to 95% (the workers' children have
        # started by then: a cold start imports Django and the models at niceness 10
        # while the burst takes the CPU).
        "steady": steady,
        "others_cpu_share": round(max(0.0, busy - cpu - db_cpu) / (last - started), 2),
        "load_average_before": round(load0, 2),
        "acknowledgements_sent_meanwhile": timeline[-1][2],
        "acknowledgements_sent_after": sends,
        "sends_per_second_after": round(sends / sends_seconds, 1) if sends_seconds else 0.0,
        "worker_cpu_ms_per_send": round(sends_cpu * 1000 / sends, 3) if sends else 0.0,
        "timeline": timeline[:: max(1, len(timeline) // 40)],
    }
    log(
        f"  sustained (from {STEADY[0]:.0%} to {STEADY[1]:.0%} of the backlog): {steady['events_per_second']}/s; "
        f"CPU ms/event: {', '.join(f'{k} {v}' for k, v in steady['cpu_ms_per_event'].items())}"
    )
    log(
        f"  processed {backlog} events with {args.processors} worker(s) in {result['seconds']} s: "
        f"{rate:.0f}/s, worker CPU {result['worker_cpu_ms_per_event']:.2f} ms/event (main process "
        f"{result['worker_main_cpu_ms_per_event']:.2f} ms/event while processing), db CPU "
        f"{result['db_cpu_ms_per_event']:.2f} ms/event, load before {load0:.1f}; while processing, by process: "
        + ", ".join(f"{role} {ms:.2f}" for role, ms in result["worker_cpu_ms_per_event_by_role"].items())
    )
    return result, workers


STEADY = (0.25, 0.95)


def _steady(samples: list[tuple[float, int, dict[str, float], float]], backlog: int) -> dict[str, Any]:
    """The rate and CPU per event between STEADY's shares of the backlog done."""
    start = next(x for x in samples if x[1] >= STEADY[0] * backlog)
    end = next((x for x in samples if x[1] >= STEADY[1] * backlog), samples[-1])
    events = max(1, end[1] - start[1])
    seconds = max(1e-6, end[0] - start[0])
    cpu = {role: round((end[2][role] - start[2].get(role, 0.0)) * 1000 / events, 3) for role in end[2]}
    cpu["database"] = round((end[3] - start[3]) * 1000 / events, 3)
    return {
        "events": events,
        "seconds": round(seconds, 2),
        "events_per_second": round(events / seconds, 1),
        "cpu_ms_per_event": cpu,
    }


async def _open_loop(port: int, make: Updates, rate: float, seconds: float, connections: int) -> dict[int, int]:
    """Post at `rate` per second on a fixed schedule, whatever the answers' pace."""
    pool: asyncio.Queue[HttpConnection] = asyncio.Queue()
    for _ in range(connections):
        pool.put_nowait(await HttpConnection.open("127.0.0.1", port))
    statuses: dict[int, int] = {}
    start = time.perf_counter()
    total = int(rate * seconds)

    async def one(raw: bytes) -> None:
        conn = await pool.get()
        try:
            status, _ = await conn.request(raw)
            statuses[status] = statuses.get(status, 0) + 1
        finally:
            pool.put_nowait(conn)

    tasks = []
    for i in range(total):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(make(i))))
    await asyncio.gather(*tasks)
    while not pool.empty():
        pool.get_nowait().close()
    return statuses


def latency_phase(
    server: Server, world: dict[str, Any], updates: Updates, rate: float, args: argparse.Namespace, live: LiveInbox
) -> dict[str, Any]:
    from django.db import connection

    from adesso.channels.models import InboundEvent
    from adesso.conversations.models import Message
    from adesso.outbox.models import Delivery

    updates.new_share = args.new_share
    first_id = updates.next_id
    wait_for_quiet(args.wait_quiet)
    load0 = os.getloadavg()[0]
    busy0 = machine_busy_seconds()
    t0 = time.monotonic()
    statuses = asyncio.run(_open_loop(server.port, updates, rate, args.latency_seconds, 32))
    ids = [str(i) for i in range(first_id, updates.next_id)]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        waiting = InboundEvent.objects.filter(
            channel_id=world["telegram_id"], external_id__in=ids, state="accepted"
        ).count()
        connection.close()
        if not waiting:
            break
        time.sleep(0.25)
    time.sleep(2.0)  # the last acknowledgements' sends and live updates
    busy = machine_busy_seconds() - busy0
    elapsed = time.monotonic() - t0
    events = list(
        InboundEvent.objects.filter(channel_id=world["telegram_id"], external_id__in=ids).values_list(
            "received_at", "processed_at", "message_code", "state"
        )
    )
    codes = [code for _r, _p, code, _s in events if code]
    messages = {
        code: (conv, created)
        for code, conv, created in Message.objects.filter(code__in=codes).values_list(
            "code", "conversation__code", "created_at"
        )
    }
    # The acknowledgement of a message that started a turn: the automatic message after it.
    acks: dict[str, list[tuple[float, float | None]]] = {}
    for conv, created, sent in (
        Delivery.objects.filter(message__auto=True, message__conversation__code__in={c for c, _ in messages.values()})
        .values_list("message__conversation__code", "message__created_at", "sent_at")
        .order_by("message__created_at")
    ):
        acks.setdefault(conv, []).append((created.timestamp(), sent.timestamp() if sent else None))
    log(f"  {len(events)} events, {sum(1 for e in events if e[1] is not None)} processed, {len(messages)} messages")
    to_processed, to_sent, to_live = [], [], []
    by_conversation: dict[str, list[tuple[float, str]]] = {}
    for received, processed, code, _state in events:
        if processed is not None:
            to_processed.append((processed - received).total_seconds() * 1000)
        if code in messages:
            by_conversation.setdefault(messages[code][0], []).append((received.timestamp(), code))
    for conv, received_list in by_conversation.items():
        received_list.sort()
        arrivals = sorted(live.arrivals.get(conv, []))
        for (received, _code), arrived in zip(received_list, arrivals, strict=False):
            to_live.append((arrived - received) * 1000)
        # The first acknowledgement written after this run's first message of the conversation.
        first = received_list[0][0]
        for ack_created, ack_sent in acks.get(conv, []):
            if ack_created >= first:
                if ack_sent is not None:
                    to_sent.append((ack_sent - first) * 1000)
                break
    connection.close()

    def stats(values: list[float]) -> dict[str, Any]:
        values = sorted(values)
        return {
            "n": len(values),
            "p50_ms": round(percentile(values, 50), 1),
            "p95_ms": round(percentile(values, 95), 1),
            "max_ms": round(values[-1], 1) if values else 0.0,
        }

    result = {
        "rate": rate,
        "seconds": args.latency_seconds,
        "posted": len(ids),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "accept_to_acknowledged": stats(to_processed),
        "accept_to_ack_sent": stats(to_sent),
        "accept_to_live_update": stats(to_live),
        "load_average_before": round(load0, 2),
        "machine_cpu_share": round(busy / elapsed, 2),
    }
    log(
        f"  {rate:.0f}/s for {args.latency_seconds:.0f} s: accept->acknowledged p50 "
        f"{result['accept_to_acknowledged']['p50_ms']:.0f} ms p95 {result['accept_to_acknowledged']['p95_ms']:.0f} ms; "
        f"->ack sent p95 {result['accept_to_ack_sent']['p95_ms']:.0f} ms; ->live update p95 "
        f"{result['accept_to_live_update']['p95_ms']:.0f} ms (n={result['accept_to_live_update']['n']}); "
        f"{result['statuses']}; load before {load0:.1f}"
    )
    return result


def integrity(world: dict[str, Any]) -> dict[str, Any]:
    from django.db.models import Count

    from adesso.channels.models import InboundEvent
    from adesso.conversations.models import ACTIVE_STATUSES, Conversation, Message

    events = InboundEvent.objects.filter(channel__kind__in=["telegram", "api"])
    processed = events.filter(state="processed").count()
    incoming = Message.objects.filter(direction="incoming").count()
    doubled = (
        Conversation.objects.filter(status__in=ACTIVE_STATUSES)
        .values("contact_id", "channel_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    not_done = events.exclude(state__in=["processed", "ignored"]).count()
    return {
        "events": events.count(),
        "processed": processed,
        "not_processed": not_done,
        "incoming_messages": incoming,
        "contacts_with_two_active_conversations": doubled,
        "ok": processed == incoming and not_done == 0 and doubled == 0,
    }


def run(args: argparse.Namespace, benv: BenchEnv) -> dict[str, Any]:
    setup_django(benv)
    bot = BotApi()
    world = seed(bot.url)
    version = database_version(benv.db)
    from django.db import connections

    connections.close_all()
    options = server_options(None, None, None)
    options.extra_env = {
        "DJANGO_SETTINGS_MODULE": "bench.bare_settings",
        "PYTHONPATH": str(ROOT),
        "ADESSO_TELEGRAM_API_BASE": bot.url,
    }
    live_options = ServerOptions(interface="asginl", workers=1, extra_env={"ADESSO_TELEGRAM_API_BASE": bot.url})
    log(f"pipeline on {version}, web: {options.describe()}, {args.processors} worker(s)")
    result: dict[str, Any] = {
        "bench": "pipeline",
        "database": version,
        "server": options.describe(),
        "processors": args.processors,
        "machine": machine(),
        "load_average_at_start": os.getloadavg(),
        "at": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    with Server(benv, options) as server:
        accepted = accept_phase(server, world, args)
        result["accept"] = accepted["rounds"]
        updates: Updates = accepted["updates"]
        if args.accept_only:
            return result
        processing, workers = processing_phase(server, benv, world, updates, args, bot)
        result["processing"] = processing
        try:
            with Server(benv, live_options) as live_server:
                live = LiveInbox(live_server.port, world["session"])
                live.start()
                time.sleep(1.0)
                result["latency"] = [latency_phase(server, world, updates, rate, args, live) for rate in args.rates]
                live.stop = True
        finally:
            workers.__exit__()
            result["worker_log_tail"] = workers.log_path.read_text(errors="replace").splitlines()[-30:]
    bot.close()
    result["integrity"] = integrity(world)
    result["acknowledgements_sent"] = bot.count
    if not result["integrity"]["ok"]:
        log(f"  INTEGRITY PROBLEM: {result['integrity']}")
    return result


def report(data: dict[str, Any]) -> None:
    print(f"\nInbound pipeline, {data['database']}, web: {data['server']}, {data['processors']} worker(s)")
    print(
        f"machine: {data['machine']['cpus']} cores, {data['machine']['cpu']}; "
        f"load at start {data['load_average_at_start']}"
    )
    rows = []
    for r, round_ in enumerate(data["accept"], 1):
        for name, lv in round_.items():
            rows.append(
                [
                    r,
                    name,
                    lv["ok_per_second"],
                    lv["ratio_to_bare"],
                    lv["p50_ms"],
                    lv["p95_ms"],
                    lv["server_cpu_ms_per_request"],
                    lv["db_cpu_ms_per_request"],
                    lv["other_cpu_share"],
                    lv["load_average_before"],
                ]
            )
    print("\nAccept, 8 clients, new senders:\n")
    print(
        table(
            [
                "round",
                "endpoint",
                "msgs/s",
                "of bare",
                "p50 ms",
                "p95 ms",
                "server CPU ms",
                "db CPU ms",
                "others' CPU",
                "load",
            ],
            rows,
        )
    )
    print(f"\nRatio to the stack's limit (the bare view of the same round), median of {len(data['accept'])} rounds:")
    for name in data["accept"][0]:
        ratios = sorted(round_[name]["ratio_to_bare"] for round_ in data["accept"])
        print(f"  {name}: {statistics.median(ratios):.2f} (rounds: {', '.join(f'{x:.2f}' for x in ratios)})")
    if "processing" not in data:
        return
    p = data["processing"]
    print(
        f"\nProcessing: {p['backlog']} events with {p['processors']} worker(s): {p['events_per_second']} events/s, "
        f"worker CPU {p['worker_cpu_ms_per_event']} ms/event, db CPU {p['db_cpu_ms_per_event']} ms/event, "
        f"load before {p['load_average_before']}; then the acknowledgements: {p.get('acknowledgements_sent_after')} "
        f"sent at {p.get('sends_per_second_after')}/s, worker CPU {p.get('worker_cpu_ms_per_send')} ms/send"
    )
    steady = p.get("steady")
    if steady:
        print(
            f"Sustained (from {STEADY[0]:.0%} to {STEADY[1]:.0%} of the backlog done): "
            f"**{steady['events_per_second']} events/s**; CPU ms/event: "
            + ", ".join(f"{k} {v}" for k, v in steady["cpu_ms_per_event"].items())
        )
    rows = [
        [
            lv["rate"],
            lv["posted"],
            lv["accept_to_acknowledged"]["p50_ms"],
            lv["accept_to_acknowledged"]["p95_ms"],
            lv["accept_to_ack_sent"]["p95_ms"],
            lv["accept_to_live_update"]["p95_ms"],
            lv["accept_to_live_update"]["n"],
            lv["load_average_before"],
        ]
        for lv in data.get("latency", [])
    ]
    print("\nLatency, open loop on Telegram's webhook:\n")
    print(
        table(
            [
                "msgs/s",
                "posted",
                "->acknowledged p50 ms",
                "p95 ms",
                "->ack sent p95 ms",
                "->live update p95 ms",
                "live n",
                "load",
            ],
            rows,
        )
    )
    print(f"\nIntegrity: {data['integrity']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--pg-url", help="PostgreSQL server (default: DATABASE_URL or local postgres)")
    parser.add_argument(
        "--pg-db", default=os.environ.get("BENCH_PG_DB", common.BENCH_DB_NAME), help="database created and dropped"
    )
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=3000, help="per endpoint and round, at most")
    parser.add_argument("--seconds", type=float, default=6.0, help="per endpoint and round, at most")
    parser.add_argument("--rounds", type=int, default=3, help="accept rounds (the ratio's median is the figure)")
    parser.add_argument("--backlog", type=int, default=6000, help="messages added before processing")
    parser.add_argument("--new-share", type=float, default=0.5, help="of the backlog and latency messages")
    parser.add_argument("--processors", type=int, help="worker processes (default: 1 on SQLite, 2 on PostgreSQL)")
    parser.add_argument("--process-timeout", type=float, default=300)
    parser.add_argument("--rates", type=lambda s: [float(x) for x in s.split(",")], default=[100.0, 300.0])
    parser.add_argument("--latency-seconds", type=float, default=15.0)
    parser.add_argument("--wait-quiet", type=float, default=0.0)
    parser.add_argument("--accept-only", action="store_true", help="only the accept rounds (no processing, no latency)")
    args = parser.parse_args(argv)
    if args.processors is None:
        args.processors = 1 if args.db == "sqlite" else 2
    common.BENCH_DB_NAME = args.pg_db
    with bench_env(args.db, args.pg_url) as benv:
        data = run(args, benv)
    report(data)
    path = write_results(f"pipeline-{args.db}", data)
    print(f"\nWrote {path.relative_to(path.parent.parent.parent)}")
    return 0 if data.get("integrity", {"ok": True})["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
