"""One reader thread per channel, kept in step with the database: the `--loop` of
`adesso pollchannels` (Telegram getUpdates) and of `adesso fetchmail` (IMAP IDLE).

Every `interval` seconds the supervisor asks which channels want a reader and with
which settings (a fingerprint): a channel added gets a thread, one disabled or whose
settings changed loses it (and gets a new one), a thread that died is started again.
SIGTERM or SIGINT stops every thread and returns.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from typing import Any, Protocol


class ReaderThread(Protocol):
    """A thread reading one channel until its `stop` event is set."""

    stop: threading.Event

    def start(self) -> None: ...

    def is_alive(self) -> bool: ...

    def join(self, timeout: float | None = None) -> None: ...


def run_until_signalled(
    wanted: Callable[[], dict[int, str]],
    start: Callable[[int], ReaderThread],
    interval: float,
    join_timeout: float | None = None,
) -> None:
    """Supervise readers (see `supervise`) until the process gets SIGTERM or SIGINT."""
    stopping = threading.Event()

    def stop(signum: int, frame: Any) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    supervise(wanted, start, interval, stopping, join_timeout)


def supervise(
    wanted: Callable[[], dict[int, str]],
    start: Callable[[int], ReaderThread],
    interval: float,
    stopping: threading.Event,
    join_timeout: float | None = None,
) -> None:
    """Keep one started reader per key of `wanted()` (channel id -> fingerprint of its
    settings) until `stopping` is set. A reader is replaced when its fingerprint changes
    or it has died, and stopped when its key goes. With `join_timeout`, a stopped reader
    is waited for (so two readers of one mailbox never overlap); without, it is left to
    finish its current wait on its own (a long poll that will not be read)."""
    from django.db import close_old_connections

    readers: dict[int, tuple[ReaderThread, str]] = {}
    try:
        while not stopping.is_set():
            close_old_connections()
            want = wanted()
            for key, (reader, fingerprint) in list(readers.items()):
                if want.get(key) != fingerprint or not reader.is_alive():
                    reader.stop.set()
                    if join_timeout is not None:
                        reader.join(timeout=join_timeout)
                    del readers[key]
            for key, fingerprint in want.items():
                if key not in readers:
                    reader = start(key)
                    reader.start()
                    readers[key] = (reader, fingerprint)
            stopping.wait(interval)
    finally:
        for reader, _ in readers.values():
            reader.stop.set()
        if join_timeout is not None:
            for reader, _ in readers.values():
                reader.join(timeout=join_timeout)
