"""Periodic work on due-time columns: wakes snoozed conversations when due.

Each tick claims due rows through indexed columns (never rescanning all open
conversations); several timer processes may run at once.
"""

import signal
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from adesso.conversations.actions import do_wake_snoozed
from adesso.outbox.actions import do_retry_due_deliveries
from adesso.sla.actions import do_check_sla


class Command(BaseCommand):
    help = "Process due timers (snoozes). With --loop, keep doing it every --interval seconds."

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
            woken = do_wake_snoozed()
            if woken or not loop:
                self.stdout.write(f"woke {woken} snoozed conversation(s)")
            checked = do_check_sla()
            if checked or not loop:
                self.stdout.write(f"checked {checked} SLA timer(s)")
            retried = do_retry_due_deliveries()
            if retried or not loop:
                self.stdout.write(f"dispatched {retried} due delivery(ies)")
            if not loop or stopping:
                return
            time.sleep(interval)
