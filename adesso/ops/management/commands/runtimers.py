"""Periodic work on due-time columns: wakes snoozed conversations when due.

Each tick claims due rows through indexed columns (never rescanning all open
conversations); several timer processes may run at once.
"""

import signal
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from adesso.ops.timers import tick
from adesso.reports.actions import do_send_digests


class Command(BaseCommand):
    help = (
        "Process due timers (snoozes, SLA, promises, the queue, deliveries, digests). "
        "With --loop, keep doing it every --interval seconds."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--loop", action="store_true", help="run until stopped")
        parser.add_argument("--interval", type=float, default=1.0, help="seconds between ticks")

    def handle(self, *args: Any, loop: bool, interval: float, **options: Any) -> None:
        stopping = False

        def stop(signum: int, frame: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        while True:
            done = tick()
            done["digests"] = do_send_digests()  # once a day per organisation; one query otherwise
            if any(done.values()) or not loop:
                self.stdout.write(" ".join(f"{name}={count}" for name, count in done.items()))
            if not loop or stopping:
                return
            time.sleep(interval)
