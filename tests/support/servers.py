"""Adesso's own processes for tests that need the real server: granian with the
Procfile's options on a free loopback port, pointed at the test database."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

# The Procfile's `web` process: WSGI, one worker, one thread.
WEB = ["--interface", "wsgi", "--blocking-threads", "1"]
COMMON = ["--host", "127.0.0.1", "--workers", "1", "--log-level", "warning", "--no-access-log"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def database_url() -> str:
    """The URL of the test database this process uses, for a server or command in another process."""
    from django.db import connection

    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    auth = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"], safe="")
    host = db.get("HOST") or "127.0.0.1"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{auth}@{host}{port}/{db['NAME']}"


def start_granian(args: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    granian = str(Path(sys.executable).with_name("granian"))
    with log_path.open("w") as log:
        return subprocess.Popen([granian, *args], env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_serving(
    servers: list[subprocess.Popen[bytes]], logs: list[Path], url: str | None = None, port: int | None = None
) -> None:
    """Until `url` answers (below 500) or `port` accepts connections; fails the test with
    the servers' logs if one of them exits or 30 s pass."""
    deadline = time.monotonic() + 30
    while True:
        try:
            if url is not None:
                if httpx.get(url, timeout=1).status_code < 500:
                    return
            else:
                socket.create_connection(("127.0.0.1", port or 0), timeout=1).close()
                return
        except (httpx.TransportError, OSError):
            pass
        if any(s.poll() is not None for s in servers) or time.monotonic() > deadline:
            for s in servers:
                s.kill()
            pytest.fail("the servers did not start:\n" + "\n".join(p.read_text() for p in logs))
        time.sleep(0.1)


def stop(servers: list[subprocess.Popen[bytes]]) -> None:
    for server in servers:
        server.terminate()
    for server in servers:
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@contextlib.contextmanager
def web_server(env: dict[str, str], log_path: Path, ready_path: str | None = "/login/") -> Iterator[int]:
    """The Procfile's `web` process on a free port; yields the port. `ready_path` None:
    ready when the port accepts connections (the app may refuse every request)."""
    port = free_port()
    server = start_granian([*WEB, "--port", str(port), *COMMON, "adesso.wsgi:application"], env, log_path)
    url = f"http://127.0.0.1:{port}{ready_path}" if ready_path is not None else None
    wait_serving([server], [log_path], url=url, port=port)
    try:
        yield port
    finally:
        stop([server])
