"""The real ASGI app (HTTP and websockets) in a daphne subprocess, on the test database,
driven by Debian's Chromium through Playwright.

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


@pytest.fixture
def live_server_url(transactional_db, tmp_path, settings):
    """Start daphne serving adesso.asgi on a free port; yield its base URL."""
    # Live events reach pages only from the server process; actions the test itself
    # runs to set up data publish nowhere (and need no event loop here).
    settings.CHANNEL_LAYERS = {}
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "ADESSO_TESTING": "1",
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "ADESSO_TASKS_BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
        "DJANGO_SETTINGS_MODULE": "adesso.settings",
    }
    env.pop("REDIS_URL", None)  # in-memory channel layer: one server process
    log = (tmp_path / "daphne.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "adesso.asgi:application"],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{url}/login/", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            pytest.fail("daphne did not start:\n" + (tmp_path / "daphne.log").read_text())
        time.sleep(0.1)
    yield url
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
    log.close()


@pytest.fixture(scope="session")
def browser():
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
