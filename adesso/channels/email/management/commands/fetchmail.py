"""Read the mailboxes of every enabled email channel (IMAP).

Without --loop: one pass over each mailbox. With --loop: one reader per channel,
idling on the server; channels added, changed or disabled are noticed within
--interval seconds, without a restart. With no email channel it idles quietly.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from adesso.channels.email.imap import Reader, active_channels, fetch_once, record_error
from adesso.channels.models import Channel


class Command(BaseCommand):
    help = "Fetch mail of the email channels by IMAP. With --loop, keep reading (IDLE) until stopped."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--loop", action="store_true", help="run until stopped")
        parser.add_argument("--interval", type=float, default=5.0, help="seconds between looks for channel changes")

    def handle(self, *args: Any, loop: bool, interval: float, **options: Any) -> None:
        if not loop:
            self._once()
            return
        stopping = threading.Event()

        def stop(signum: int, frame: Any) -> None:
            stopping.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        readers: dict[int, tuple[Reader, str]] = {}
        try:
            while not stopping.is_set():
                close_old_connections()
                wanted = active_channels()
                for pk, (reader, fingerprint) in list(readers.items()):
                    if wanted.get(pk) != fingerprint or not reader.is_alive():
                        reader.stop.set()
                        reader.join(timeout=30)
                        del readers[pk]
                for pk, fingerprint in wanted.items():
                    if pk not in readers:
                        reader = Reader(pk)
                        reader.start()
                        readers[pk] = (reader, fingerprint)
                stopping.wait(interval)
        finally:
            for reader, _ in readers.values():
                reader.stop.set()
            for reader, _ in readers.values():
                reader.join(timeout=30)

    def _once(self) -> None:
        for pk in active_channels():
            channel = Channel.objects.get(pk=pk)
            try:
                done = fetch_once(channel)
            except Exception as exc:
                text = record_error(channel, exc)
                self.stderr.write(f"{channel.code}: {text}")
                continue
            self.stdout.write(
                f"{channel.code}: {done.stored} stored, {done.duplicates} already stored, "
                f"{done.quarantined} quarantined, {done.bounces} delivery reports"
            )
