"""What both benchmarks share: a throwaway database, CPU accounting, reporting.

The server is in bench/server.py, the load generator in bench/load.py.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/postgres"
BENCH_DB_NAME = "adesso_bench"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S', time.gmtime())}] {message}", file=sys.stderr, flush=True)


# --- the database -----------------------------------------------------------------


@dataclass
class BenchEnv:
    """Environment variables for Django and the server, pointing at a fresh database."""

    db: str  # "sqlite" or "postgres"
    var_dir: Path
    database_url: str
    env: dict[str, str] = field(default_factory=dict)


def _pg_admin_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/postgres", query=""))  # Django's options are not libpq's


def _pg_with_db(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _pg_execute(admin_url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


def _terminated(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


@contextlib.contextmanager
def bench_env(db: str, pg_url: str | None = None) -> Iterator[BenchEnv]:
    """A temporary ADESSO_VAR_DIR and an empty database, removed afterwards.

    SQLite lives in the temporary directory; on PostgreSQL a dedicated database
    (adesso_bench) is created on the given server and dropped at the end.
    A SIGTERM (`kill`, `pkill`) ends the benchmark as Ctrl-C does: the servers and
    workers it started (each in a session of its own) are stopped, not left running.
    """
    signal.signal(signal.SIGTERM, _terminated)
    var_dir = Path(tempfile.mkdtemp(prefix="adesso-bench-"))
    admin_url = ""
    if db == "sqlite":
        database_url = f"sqlite:///{var_dir / 'adesso.sqlite3'}"
    elif db == "postgres":
        base = pg_url or os.environ.get("DATABASE_URL") or DEFAULT_PG
        if not base.startswith("postgres"):
            base = DEFAULT_PG
        admin_url = _pg_admin_url(base)
        database_url = _pg_with_db(base, BENCH_DB_NAME)
        _pg_execute(admin_url, f"DROP DATABASE IF EXISTS {BENCH_DB_NAME} WITH (FORCE)")
        _pg_execute(admin_url, f"CREATE DATABASE {BENCH_DB_NAME}")
    else:
        raise ValueError(f"unknown database {db!r}: use sqlite or postgres")
    env = {
        "ADESSO_VAR_DIR": str(var_dir),
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "adesso.settings",
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "ADESSO_TESTING": "",
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", ""),
    }
    try:
        yield BenchEnv(db, var_dir, database_url, env)
    finally:
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        if admin_url:
            _pg_execute(admin_url, f"DROP DATABASE IF EXISTS {BENCH_DB_NAME} WITH (FORCE)")
        shutil.rmtree(var_dir, ignore_errors=True)


def setup_django(benv: BenchEnv) -> None:
    """Configure Django in this process for `benv` and migrate the empty database."""
    os.environ.update(benv.env)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


def cpu_of(pid: int | str) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_cpu_seconds() -> float:
    """CPU of every local PostgreSQL process (exited backends are not counted)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                if (entry / "comm").read_text().strip() == "postgres":
                    total += cpu_of(entry.name)
    return total


def machine_busy_seconds() -> float:
    """Non-idle CPU time of the whole machine, summed over cores."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


# --- reporting ----------------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = ""
    with contextlib.suppress(OSError):
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 1024 / 1024:.0f} GiB"
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "memory": mem,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def database_version(db: str) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        if db == "sqlite":
            cursor.execute("select sqlite_version()")
            return f"SQLite {cursor.fetchone()[0]}"
        cursor.execute("show server_version")
        return f"PostgreSQL {cursor.fetchone()[0]}"


def write_results(name: str, data: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")
    return path


def table(headers: list[str], rows: list[list[Any]]) -> str:
    """A Markdown table, so the output can be pasted into docs/performance.md."""
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |"
    sep = "| " + " | ".join("-" * w for w in widths) + " |"

    def cell(text: str, width: int) -> str:
        numeric = text.replace(".", "", 1).replace(",", "").lstrip("-").isdigit()
        return text.rjust(width) if numeric else text.ljust(width)

    body = ["| " + " | ".join(cell(c, w) for c, w in zip(r, widths, strict=True)) + " |" for r in cells]
    return "\n".join([line, sep, *body])


def wait_for_quiet(max_seconds: float, threshold: float = 0.3) -> float:
    """Wait (up to `max_seconds`) until other processes use less than `threshold` cores.

    On a shared machine a test suite running next to the benchmark halves its
    figures; every result also reports the CPU share others used meanwhile.
    Returns the last measured load, in cores.
    """
    deadline = time.monotonic() + max_seconds
    busy = 0.0
    quiet_for = 0
    waited = False
    while True:
        before = machine_busy_seconds()
        time.sleep(1.0)
        busy = machine_busy_seconds() - before
        quiet_for = quiet_for + 1 if busy < threshold else 0
        if quiet_for >= 2 or time.monotonic() >= deadline:
            break
        if not waited:
            log(f"  waiting for the machine to be quiet (others use {busy:.1f} cores)")
            waited = True
    if waited:
        log(f"  {'quiet' if quiet_for >= 2 else 'still busy'}: others use {busy:.1f} cores")
    return busy
