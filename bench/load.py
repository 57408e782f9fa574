"""A light load generator: plain asyncio on raw keep-alive HTTP/1.1 connections.

No HTTP library, so on a 2-core machine it leaves the server nearly all the CPU
(each run reports the share the client itself used).
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bench.common import machine_busy_seconds, postgres_cpu_seconds

if TYPE_CHECKING:
    from bench.server import Server

# --- the HTTP client ----------------------------------------------------------------


class HttpConnection:
    """One keep-alive HTTP/1.1 connection; requests are pre-encoded bytes."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, host: str, port: int) -> HttpConnection:
        reader, writer = await asyncio.open_connection(host, port, limit=2**20)
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return cls(reader, writer)

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = -1
        chunked = False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        if chunked:
            body = bytearray()
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                body += await self.reader.readexactly(size + 2)
                if size == 0:
                    return status, bytes(body)
                del body[-2:]
        if length < 0:
            raise RuntimeError("response without Content-Length or chunked encoding")
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


def http_request(method: str, path: str, port: int, headers: dict[str, str], body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@dataclass
class LoadResult:
    clients: int
    requests: int
    seconds: float
    statuses: dict[int, int]
    latencies_ms: list[float]  # of every answered request
    client_cpu_seconds: float
    server_cpu_seconds: float = 0.0
    db_cpu_seconds: float = 0.0  # PostgreSQL's processes (all of them); 0 on SQLite
    machine_busy_seconds: float = 0.0  # every process on the machine, from /proc/stat
    errors: list[str] = field(default_factory=list)

    @property
    def other_cpu_seconds(self) -> float:
        """CPU used by processes that are not part of the benchmark (noise)."""
        own = self.server_cpu_seconds + self.client_cpu_seconds + self.db_cpu_seconds
        return max(0.0, self.machine_busy_seconds - own)

    @property
    def ok(self) -> int:
        return sum(n for s, n in self.statuses.items() if 200 <= s < 300)

    def summary(self) -> dict[str, Any]:
        lat = sorted(self.latencies_ms)
        return {
            "clients": self.clients,
            "requests": self.requests,
            "ok": self.ok,
            "seconds": round(self.seconds, 3),
            "ok_per_second": round(self.ok / self.seconds, 1) if self.seconds else 0.0,
            "p50_ms": round(percentile(lat, 50), 2),
            "p95_ms": round(percentile(lat, 95), 2),
            "p99_ms": round(percentile(lat, 99), 2),
            "max_ms": round(lat[-1], 2) if lat else 0.0,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "server_cpu_ms_per_request": round(self.server_cpu_seconds * 1000 / self.requests, 3)
            if self.requests
            else 0.0,
            "db_cpu_ms_per_request": round(self.db_cpu_seconds * 1000 / self.requests, 3) if self.requests else 0.0,
            "server_cpu_share": round(self.server_cpu_seconds / self.seconds, 3) if self.seconds else 0.0,
            "db_cpu_share": round(self.db_cpu_seconds / self.seconds, 3) if self.seconds else 0.0,
            "client_cpu_share": round(self.client_cpu_seconds / self.seconds, 3) if self.seconds else 0.0,
            "other_cpu_share": round(self.other_cpu_seconds / self.seconds, 3) if self.seconds else 0.0,
            "errors": self.errors[:5],
        }


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return 0.0
    rank = max(1, -(-len(sorted_values) * p // 100))
    return sorted_values[int(rank) - 1]


async def _load(
    port: int,
    make_request: Callable[[int], bytes],
    clients: int,
    max_requests: int,
    max_seconds: float,
    on_response: Callable[[int, int, bytes], None] | None,
) -> LoadResult:
    counter = iter(range(max_requests))
    statuses: dict[int, int] = {}
    latencies: list[float] = []
    errors: list[str] = []
    conns = [await HttpConnection.open("127.0.0.1", port) for _ in range(clients)]
    started = time.perf_counter()
    deadline = started + max_seconds
    cpu0 = time.process_time()

    async def client(conn: HttpConnection) -> None:
        for i in counter:
            if time.perf_counter() > deadline:
                return
            raw = make_request(i)
            t0 = time.perf_counter()
            try:
                status, body = await conn.request(raw)
            except (OSError, asyncio.IncompleteReadError, RuntimeError, ValueError) as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
                statuses[0] = statuses.get(0, 0) + 1
                conn.close()
                try:
                    conn = await HttpConnection.open("127.0.0.1", port)
                except OSError as refused:  # the server is gone: this client stops, the run reports it
                    errors.append(f"{type(refused).__name__}: {refused}")
                    return
                continue
            latencies.append((time.perf_counter() - t0) * 1000)
            statuses[status] = statuses.get(status, 0) + 1
            if on_response is not None:
                on_response(i, status, body)

    await asyncio.gather(*(client(c) for c in conns))
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu0
    for c in conns:
        c.close()
    return LoadResult(clients, sum(statuses.values()), elapsed, statuses, latencies, cpu, errors=errors)


def run_load(
    server: Server,
    make_request: Callable[[int], bytes],
    clients: int,
    max_requests: int,
    max_seconds: float,
    on_response: Callable[[int, int, bytes], None] | None = None,
) -> LoadResult:
    """`clients` closed-loop clients share `max_requests` requests, stopping at `max_seconds`."""
    cpu0, db0, busy0 = server.server_cpu_seconds(), postgres_cpu_seconds(), machine_busy_seconds()
    result = asyncio.run(_load(server.port, make_request, clients, max_requests, max_seconds, on_response))
    result.server_cpu_seconds = server.server_cpu_seconds() - cpu0
    result.db_cpu_seconds = postgres_cpu_seconds() - db0 if server.benv.db == "postgres" else 0.0
    result.machine_busy_seconds = machine_busy_seconds() - busy0
    return result
