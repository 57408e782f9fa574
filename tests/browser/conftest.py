"""Adesso served as the Procfile serves it (granian: WSGI for HTTP, ASGI for the
websockets on their own port, live updates relayed from the event table), on the
test database, driven by Debian's Chromium through Playwright.

The server shares the test database with the test process: SQLite's test database is
a file (var/test.sqlite3), PostgreSQL's is test_<name>. Tests use `transactional_db`
so what they create is committed and visible to the server.
"""

import os
from pathlib import Path

import pytest

from tests.support.servers import database_url, free_port, start_granian, stop, wait_serving

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests
# make between browser steps are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


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
        start_granian(["--interface", "wsgi", "--port", str(web_port), "--blocking-threads", "1", *common,
                "adesso.wsgi:application"], env, logs[0]),
        start_granian(["--interface", "asginl", "--port", str(live_port), *common, "adesso.asgi:application"],
               env, logs[1]),
    ]
    url = f"http://127.0.0.1:{web_port}"
    wait_serving(servers, logs, url=f"{url}/login/")
    wait_serving(servers, logs, url=f"http://127.0.0.1:{live_port}/login/")
    yield url
    stop(servers)


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
