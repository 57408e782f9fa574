"""The real server, started as the Procfile's `web` process starts it, on a free loopback port."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import ROOT, BenchEnv, cpu_of
from bench.load import HttpConnection

# --- the server -------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ServerOptions:
    interface: str = "wsgi"  # wsgi, asginl or asgi (as granian names them)
    workers: int = 1
    blocking_threads: int | None = None  # granian's default when None
    runtime_mode: str | None = None
    extra_env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_procfile(cls) -> ServerOptions:
        """The options of the Procfile's `web` process, with its defaults for variables."""
        line = next((x for x in (ROOT / "Procfile").read_text().splitlines() if x.startswith("web:")), "")
        line = re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", line)  # ${WEB_WORKERS:-2} -> 2

        def option(name: str) -> str | None:
            found = re.search(rf"--{name}[ =](\S+)", line)
            return found.group(1) if found else None

        threads = option("blocking-threads")
        return cls(
            interface=option("interface") or "rsgi",
            workers=int(option("workers") or 1),
            blocking_threads=int(threads) if threads else None,
            runtime_mode=option("runtime-mode"),
        )

    def describe(self) -> str:
        parts = [f"granian {self.interface}", f"{self.workers} worker{'s' if self.workers > 1 else ''}"]
        if self.blocking_threads:
            parts.append(f"{self.blocking_threads} thread{'s' if self.blocking_threads > 1 else ''}")
        if self.runtime_mode:
            parts.append(f"runtime {self.runtime_mode}")
        return ", ".join(parts)


def server_options(interface: str | None, workers: int | None, threads: int | None) -> ServerOptions:
    """The Procfile's web process, with what the command line overrides."""
    options = ServerOptions.from_procfile()
    if interface:
        options.interface = interface
    if workers:
        options.workers = workers
    if threads:
        options.blocking_threads = threads
    return options


class Server:
    """The real server, as the Procfile starts it, on a free loopback port."""

    def __init__(self, benv: BenchEnv, options: ServerOptions) -> None:
        self.benv = benv
        self.options = options
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = benv.var_dir / f"granian-{self.port}.log"

    def command(self) -> list[str]:
        o = self.options
        target = "adesso.wsgi:application" if o.interface == "wsgi" else "adesso.asgi:application"
        cmd = [
            str(Path(sys.executable).with_name("granian")),
            "--interface",
            o.interface,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(o.workers),
            "--log-level",
            "warning",
            "--no-access-log",
        ]
        if o.blocking_threads:
            cmd += ["--blocking-threads", str(o.blocking_threads)]
        if o.runtime_mode:
            cmd += ["--runtime-mode", o.runtime_mode]
        return [*cmd, target]

    def __enter__(self) -> Server:
        env = {**os.environ, **self.benv.env, **self.options.extra_env}
        with open(self.log_path, "wb") as out:
            self.proc = subprocess.Popen(
                self.command(),
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"granian exited early:\n{self.log_path.read_text()[-3000:]}")
            try:
                status, _ = asyncio.run(_probe(self.port))
                if status:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        self.__exit__()
        raise RuntimeError("granian did not start within 60 s")

    def __exit__(self, *exc: object) -> None:
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)

    def errors(self, limit: int = 3) -> list[str]:
        """The distinct last lines of the tracebacks the server logged."""
        found: list[str] = []
        lines = self.log_path.read_text(errors="replace").splitlines() if self.log_path.exists() else []
        for line in reversed(lines):
            if line and not line[0].isspace() and ("Error" in line or "Exception" in line) and line not in found:
                found.append(line[:300])
                if len(found) >= limit:
                    break
        return found

    def server_cpu_seconds(self) -> float:
        """User+system CPU of the server's processes (granian and its workers)."""
        if self.proc is None:
            return 0.0
        total = 0.0
        for pid in _process_tree(self.proc.pid):
            with contextlib.suppress(OSError, ValueError, IndexError):
                total += cpu_of(pid)
        return total


def _process_tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


async def _probe(port: int) -> tuple[int, bytes]:
    conn = await HttpConnection.open("127.0.0.1", port)
    try:
        return await conn.request(b"GET /api/v1/openapi.json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    finally:
        conn.close()
