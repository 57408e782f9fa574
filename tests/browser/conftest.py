"""Adesso served as the Procfile serves it (granian: WSGI for HTTP, ASGI for the
websockets on their own port, live updates relayed from the event table), on the
test database, driven by Debian's Chromium through Playwright.

The server shares the test database with the test process: SQLite's test database is
a file (var/test.sqlite3), PostgreSQL's is test_<name>. Tests use `transactional_db`
so what they create is committed and visible to the server.
"""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from django.db import connection

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests
# make between browser steps are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def database_url() -> str:
    """The URL of the test database this process uses, for the server process."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    auth = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"], safe="")
    host = db.get("HOST") or "127.0.0.1"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{auth}@{host}{port}/{db['NAME']}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(args: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    granian = str(Path(sys.executable).with_name("granian"))
    with log_path.open("w") as log:
        return subprocess.Popen([granian, *args], env=env, stdout=log, stderr=subprocess.STDOUT)


def _wait(url: str, servers: list[subprocess.Popen[bytes]], logs: list[Path]) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.TransportError:
            pass
        if any(s.poll() is not None for s in servers) or time.monotonic() > deadline:
            for s in servers:
                s.kill()
            pytest.fail("the servers did not start:\n" + "\n".join(p.read_text() for p in logs))
        time.sleep(0.1)


@pytest.fixture
def live_server_url(transactional_db, tmp_path, settings):
    """Start the Procfile's `web` and `live` processes on free ports; yield the web URL."""
    settings.CHANNEL_LAYERS = {}
    web_port, live_port = free_port(), free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "ADESSO_TESTING": "1",
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "ADESSO_TASKS_BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
        "DJANGO_SETTINGS_MODULE": "adesso.settings",
        "ADESSO_LIVE_PORT": str(live_port),
    }
    env.pop("REDIS_URL", None)  # the default, broker-free setup
    common = ["--host", "127.0.0.1", "--workers", "1", "--log-level", "warning", "--no-access-log"]
    logs = [tmp_path / "web.log", tmp_path / "live.log"]
    servers = [
        _start(["--interface", "wsgi", "--port", str(web_port), "--blocking-threads", "1", *common,
                "adesso.wsgi:application"], env, logs[0]),
        _start(["--interface", "asginl", "--port", str(live_port), *common, "adesso.asgi:application"],
               env, logs[1]),
    ]
    url = f"http://127.0.0.1:{web_port}"
    _wait(f"{url}/login/", servers, logs)
    _wait(f"http://127.0.0.1:{live_port}/login/", servers, logs)
    yield url
    for server in servers:
        server.terminate()
    for server in servers:
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture(scope="package")
def browser():
    # Package scope: Playwright's sync API leaves its event loop marked as running in
    # this thread while it is alive, and the later non-browser tests' async_to_sync
    # would refuse to run beside it.
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1366, "height": 860}, locale="en-GB")
    page = context.new_page()
    page.problems = []
    page.on("pageerror", lambda e: page.problems.append(f"page error: {e}"))
    page.on("console", lambda m: m.type == "error" and page.problems.append(f"console: {m.text}"))
    page.on("requestfailed", lambda r: "ERR_ABORTED" not in (r.failure or "")
            and page.problems.append(f"request failed: {r.url} {r.failure}"))
    yield page
    context.close()


@pytest.fixture
def snap():
    """Save a screenshot when ADESSO_SCREENSHOTS names a directory (e.g. docs/screenshots)."""
    target = os.environ.get("ADESSO_SCREENSHOTS")

    def save(page, name):
        if target:
            Path(target).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(target) / f"{name}.png"))

    return save
