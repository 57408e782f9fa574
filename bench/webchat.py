"""Web chat latency through the processes `make run` starts (issue 11, acceptance 1 and 2).

The Procfile's `web` (granian WSGI), `live` (granian ASGI: the websockets) and a
separate `worker` (with `timers`, the Procfile's safety net) on a fresh database; the
widget in Debian's Chromium on a host page served on another origin (localhost, while
Adesso is 127.0.0.1); an agent logged in to the agent UI in another browser context.
Each round a new visitor (a new browser context, on a channel of their own, so the
per-address rate limit does not count the bench's rounds together):

1. the visitor's first message -> the acknowledgement with the estimate seen in the
   widget (the worker processes the event: acceptance 2, target 2 s);
2. the same message -> its row seen in the agent's inbox (target 1 s);
3. the agent's reply (click) -> seen in the widget (target 1 s);
4. the visitor's next message -> seen in the agent's open conversation (target 1 s).

Times are taken in the pages (a MutationObserver writes `Date.now()` when the text
appears; both browser contexts share the machine's clock), from just before the key
press or click. Not a timed test: the figures depend on the machine's load, which the
result notes.

    .venv/bin/python -m bench.webchat [--rounds 20] [--db sqlite|postgres]
"""

from __future__ import annotations

import argparse
import http.server
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

from bench.common import (
    bench_env,
    database_version,
    log,
    machine,
    machine_busy_seconds,
    setup_django,
    table,
    wait_for_quiet,
    write_results,
)
from bench.load import percentile
from bench.pipeline import Workers
from bench.server import Server, ServerOptions

CHROMIUM = "/usr/bin/chromium"
# Playwright's sync API runs an event loop in this thread; the ORM reads between steps are plain calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
TARGETS = {"ack": 2.0, "to_agent_inbox": 1.0, "to_widget": 1.0, "to_agent_conversation": 1.0}
LABELS = {
    "ack": "first message -> acknowledgement with the estimate, in the widget",
    "to_agent_inbox": "visitor's first message -> the agent's inbox",
    "to_widget": "agent's reply (click) -> the widget",
    "to_agent_conversation": "visitor's next message -> the agent's open conversation",
}

# Record when `text` (or, with no text, a second agent bubble: the acknowledgement)
# first appears under `root`, in window.__seen.
WATCH = """([key, text, inWidget]) => {
  window.__seen = window.__seen || {};
  const root = inWidget ? document.querySelector('[data-adesso-chat]').shadowRoot : document.body;
  const found = () => text ? root.textContent.includes(text) : root.querySelectorAll('li.agent').length >= 2;
  const check = () => { if (!window.__seen[key] && found()) window.__seen[key] = Date.now(); };
  new MutationObserver(check).observe(root, {subtree: true, childList: true, characterData: true});
  check();
}"""


class HostSite:
    """A company's site on its own port: one page per channel, carrying the widget."""

    def __init__(self, web_url: str) -> None:
        pages = self.pages = {}

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = pages.get(self.path, "").encode()
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://localhost:{self.server.server_address[1]}"
        self.web_url = web_url
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def page(self, channel_code: str) -> str:
        self.pages[f"/{channel_code}"] = (
            "<!doctype html><html lang=en><title>Rossi bakery</title><h1>Our cakes</h1>"
            f'<script src="{self.web_url}/chat/widget.js" data-channel="{channel_code}" data-lang="en" async></script>'
        )
        return f"{self.url}/{channel_code}"

    def close(self) -> None:
        self.server.shutdown()


def seed(rounds: int, site: str) -> dict[str, Any]:
    from django.contrib.sessions.backends.db import SessionStore

    from adesso.accounts.actions import do_create_organization
    from adesso.accounts.models import Organization, Presence, User
    from adesso.channels.actions import do_create_channel

    admin, _ = do_create_organization("Pasticceria Bench", "admin@webchat.example")
    org = admin.organization
    # Acknowledgements on, no automatic assignment: a new chat waits in the inbox.
    Organization.objects.filter(pk=org.pk).update(acknowledge=True, auto_assign=False)
    User.objects.filter(pk=admin.pk).update(presence=Presence.ONLINE)
    admin.refresh_from_db()
    channels = [
        do_create_channel(org, "webchat", f"Chat {i + 1}", {"allowed_origins": [site], "company_name": "Rossi bakery"})[
            0
        ].code
        for i in range(rounds + 1)
    ]
    session = SessionStore()
    session["_auth_user_id"] = str(admin.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = admin.get_session_auth_hash()
    session.create()
    return {"cold": channels[0], "channels": channels[1:], "session": session.session_key}


def seen(page: Any, key: str, timeout: float = 15.0) -> int:
    handle = page.wait_for_function("k => window.__seen && window.__seen[k]", arg=key, timeout=timeout * 1000)
    return int(handle.json_value())


def agent_page_ready(agent: Any, url: str) -> None:
    agent.goto(url)
    agent.wait_for_selector("#live-status.is-live", timeout=15000)


def one_round(i: int, browser: Any, agent: Any, site: HostSite, web: str, channel: str) -> dict[str, float]:
    from adesso.conversations.models import Conversation

    out: dict[str, float] = {}
    context = browser.new_context(locale="en-GB")
    try:
        visitor = context.new_page()
        visitor.goto(site.page(channel))
        visitor.get_by_role("button", name="Open the chat").click()
        box = visitor.get_by_label("Write a message")
        box.wait_for()
        # The widget's socket is open before the first message (a visitor reads the greeting first).
        visitor.wait_for_timeout(300)

        first = f"Round {i}: do you have a gluten free cake for Saturday?"
        agent.evaluate(WATCH, ["inbox", first, False])
        visitor.evaluate(WATCH, ["ack", "", True])
        box.fill(first)
        t0 = visitor.evaluate("Date.now()")
        box.press("Enter")
        out["ack"] = (seen(visitor, "ack") - t0) / 1000
        ack = visitor.evaluate(
            "() => document.querySelector('[data-adesso-chat]').shadowRoot.querySelectorAll('li.agent')[1].textContent"
        )
        if not any(c.isdigit() for c in ack):
            raise RuntimeError(f"the acknowledgement carries no estimate: {ack!r}")
        out["to_agent_inbox"] = (seen(agent, "inbox") - t0) / 1000

        code = Conversation.objects.filter(channel__code=channel).values_list("code", flat=True).get()
        agent_page_ready(agent, f"{web}/c/{code}/")
        reply = f"Round {i}: yes, we can make it for Saturday."
        visitor.evaluate(WATCH, ["reply", reply, True])
        agent.fill("#reply-text", reply)
        t0 = agent.evaluate("Date.now()")
        with agent.expect_response(lambda r: r.url.endswith("/reply") and r.request.method == "POST"):
            agent.click("#reply-button")
        out["to_widget"] = (seen(visitor, "reply") - t0) / 1000
        # The form posts and the page comes back (post/redirect/get): watch the page that stays.
        agent.wait_for_load_state()
        agent.wait_for_selector("#live-status.is-live", timeout=15000)

        follow = f"Round {i}: lovely, and without lactose?"
        agent.evaluate(WATCH, ["follow", follow, False])
        box.fill(follow)
        t0 = visitor.evaluate("Date.now()")
        box.press("Enter")
        out["to_agent_conversation"] = (seen(agent, "follow") - t0) / 1000
    finally:
        context.close()
    return out


def run(args: argparse.Namespace, benv: Any) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    setup_django(benv)
    version = database_version(benv.db)
    live = Server(benv, ServerOptions(interface="asginl", workers=1))
    web_options = ServerOptions.from_procfile()
    web_server = Server(benv, web_options)
    web = f"http://127.0.0.1:{web_server.port}"
    # As scripts/run exports them for every process of the Procfile.
    procfile_env = {"ADESSO_LIVE_PORT": str(live.port), "ADESSO_PORT": str(web_server.port), "SITE_URL": web}
    web_options.extra_env = live.options.extra_env = procfile_env
    site = HostSite(web)
    world = seed(args.rounds, site.url)
    from django.db import connections

    connections.close_all()
    result: dict[str, Any] = {
        "bench": "webchat",
        "database": version,
        "server": f"web: {web_options.describe()}; live: granian asginl, 1 worker; 1 `adesso worker` + timers",
        "machine": machine(),
        "load_average_at_start": os.getloadavg(),
        "at": time.strftime("%Y-%m-%d %H:%M:%S"),
        "rounds": args.rounds,
    }
    log(f"web chat on {version}: {result['server']}, {args.rounds} rounds")
    rounds: list[dict[str, float]] = []
    workers = Workers(benv, 1, procfile_env)
    with live, web_server, workers, sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        agent_context = browser.new_context(locale="en-GB")
        agent_context.add_cookies([{"name": "sessionid", "value": world["session"], "url": web}])
        agent = agent_context.new_page()
        # As after `make run`: the worker is up before the first visitor writes.
        deadline = time.monotonic() + 60
        while "Starting worker" not in workers.log_path.read_text(errors="replace") and time.monotonic() < deadline:
            time.sleep(0.2)
        result["others_cores_before"] = round(wait_for_quiet(args.wait_quiet), 2) if args.wait_quiet else None
        # The first round after start-up pays each process's first imports (seconds on a
        # busy machine): reported apart, not in the figures.
        agent_page_ready(agent, f"{web}/")
        result["cold_round"] = one_round(0, browser, agent, site, web, world["cold"])
        log("  cold round: " + ", ".join(f"{k} {v:.2f} s" for k, v in result["cold_round"].items()))
        busy0, wall0 = machine_busy_seconds(), time.monotonic()
        for i, channel in enumerate(world["channels"], 1):
            agent_page_ready(agent, f"{web}/")
            try:
                r = one_round(i, browser, agent, site, web, channel)
            except Exception:
                for server in (web_server, live):
                    log(f"{server.log_path.name}:\n" + server.log_path.read_text(errors="replace")[-3000:])
                log("worker:\n" + workers.log_path.read_text(errors="replace")[-3000:])
                raise
            rounds.append(r)
            log(f"  round {i}: " + ", ".join(f"{k} {v:.2f} s" for k, v in r.items()))
        wall = time.monotonic() - wall0
        result["machine_busy_cores"] = round((machine_busy_seconds() - busy0) / wall, 2)
        browser.close()
    result["worker_log_tail"] = workers.log_path.read_text(errors="replace").splitlines()[-20:]
    result["tasks"] = task_times()
    result["task_log"] = task_log()
    site.close()
    result["load_average_at_end"] = os.getloadavg()
    result["rounds_seconds"] = rounds
    result["figures"] = {}
    for key in TARGETS:
        values = sorted(r[key] for r in rounds)
        result["figures"][key] = {
            "p50": round(percentile(values, 50), 3),
            "p95": round(percentile(values, 95), 3),
            "max": round(values[-1], 3),
            "target": TARGETS[key],
        }
    return result


def task_times() -> dict[str, dict[str, float]]:
    """Per task: how many ran, their wait in the queue and their run time (the worker's
    view of the figures above)."""
    from django_tasks_db.models import DBTaskResult

    found: dict[str, dict[str, list[float]]] = {}
    for path, enqueued, started, finished in DBTaskResult.objects.exclude(started_at=None).values_list(
        "task_path", "enqueued_at", "started_at", "finished_at"
    ):
        entry = found.setdefault(path.rsplit(".", 2)[-2] + "." + path.rsplit(".", 1)[-1], {"wait": [], "run": []})
        entry["wait"].append((started - enqueued).total_seconds())
        if finished:
            entry["run"].append((finished - started).total_seconds())
    out = {}
    for name, times in sorted(found.items()):
        wait, run = sorted(times["wait"]), sorted(times["run"]) or [0.0]
        out[name] = {
            "count": len(wait),
            "wait_p50": round(percentile(wait, 50), 3),
            "wait_max": round(wait[-1], 3),
            "run_p50": round(percentile(run, 50), 3),
            "run_max": round(run[-1], 3),
        }
    return out


def task_log() -> list[list[Any]]:
    """Every task the worker ran, in order: name, enqueued (s from the first), wait, run."""
    from django_tasks_db.models import DBTaskResult

    rows = list(
        DBTaskResult.objects.order_by("enqueued_at").values_list(
            "task_path", "enqueued_at", "started_at", "finished_at"
        )
    )
    if not rows:
        return []
    first = rows[0][1]
    return [
        [
            path.rsplit(".", 1)[-1],
            round((enqueued - first).total_seconds(), 3),
            round((started - enqueued).total_seconds(), 3) if started else None,
            round((finished - started).total_seconds(), 3) if started and finished else None,
        ]
        for path, enqueued, started, finished in rows
    ]


def report(data: dict[str, Any]) -> None:
    m = data["machine"]
    print(f"\nWeb chat, {data['database']}, {data['server']}; {data['rounds']} rounds")
    print(
        f"machine: {m['cpus']} cores, {m['cpu']}; load average at start {data['load_average_at_start'][0]:.1f}, "
        f"busy during the run {data['machine_busy_cores']} cores (the bench's own processes and Chromium included)"
    )
    rows = [
        [LABELS[k], f["p50"], f["p95"], f["max"], f["target"], "yes" if f["p95"] <= f["target"] else "NO"]
        for k, f in data["figures"].items()
    ]
    print(table(["seconds", "p50", "p95", "max", "target", "p95 within"], rows))
    cold = data["cold_round"]
    print(
        "The first round after start-up (not in the figures): " + ", ".join(f"{k} {v:.2f} s" for k, v in cold.items())
    )
    print("\nThe worker's tasks meanwhile (seconds):")
    rows = [
        [name, t["count"], t["wait_p50"], t["wait_max"], t["run_p50"], t["run_max"]]
        for name, t in data["tasks"].items()
    ]
    print(table(["task", "count", "wait p50", "wait max", "run p50", "run max"], rows))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--pg-url", help="PostgreSQL server (default: DATABASE_URL or local postgres)")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--wait-quiet", type=float, default=0.0)
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} is missing: apt-get install -y chromium", file=sys.stderr)
        return 2
    with bench_env(args.db, args.pg_url) as benv:
        data = run(args, benv)
    report(data)
    path = write_results(f"webchat-{args.db}", data)
    print(f"\nWrote {path.relative_to(path.parent.parent.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
