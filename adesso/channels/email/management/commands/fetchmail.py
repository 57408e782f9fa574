"""Read the mailboxes of every enabled email channel (IMAP); each mail is stored as a
raw inbound event for the pipeline's worker (`process_inbound`) to parse.

Without --loop: one pass over each mailbox. With --loop: one reader per channel,
idling on the server; channels added, changed or disabled are noticed within
--interval seconds, without a restart. With no email channel it idles quietly.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from adesso.channels.email.imap import Reader, active_channels, fetch_once, record_error
from adesso.channels.models import Channel
from adesso.ops.supervisor import run_until_signalled


class Command(BaseCommand):
    help = "Fetch mail of the email channels by IMAP. With --loop, keep reading (IDLE) until stopped."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--loop", action="store_true", help="run until stopped")
        parser.add_argument("--interval", type=float, default=5.0, help="seconds between looks for channel changes")

    def handle(self, *args: Any, loop: bool, interval: float, **options: Any) -> None:
        if not loop:
            self._once()
            return
        run_until_signalled(active_channels, Reader, interval, join_timeout=30)

    def _once(self) -> None:
        for pk in active_channels():
            channel = Channel.objects.get(pk=pk)
            try:
                done = fetch_once(channel)
            except Exception as exc:
                text = record_error(channel, exc)
                self.stderr.write(f"{channel.code}: {text}")
                continue
            self.stdout.write(f"{channel.code}: {done.stored} stored for processing, {done.duplicates} already stored")
