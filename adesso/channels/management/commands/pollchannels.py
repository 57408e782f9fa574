"""Fetch the events of channels that have no public address (Telegram's getUpdates).

Each event is stored by the inbound pipeline like a webhook's (a repeat is the same
event) and processed by the workers. Without --loop: one pass over each such channel.
With --loop: one long-polling reader per channel; channels added, changed or disabled
are noticed within --interval seconds. With no such channel it idles quietly.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections
from django.utils import timezone

from adesso.channels.models import Channel
from adesso.channels.pipeline import accept
from adesso.channels.registry import KINDS, get_kind
from adesso.ops.supervisor import run_until_signalled

log = logging.getLogger(__name__)
SEQUENCE_KEPT = dt.timedelta(days=6)
# An answer with nothing new that came back sooner than this did not long-poll (a proxy,
# a stand-in API, an early answer): the reader waits QUIET before asking again.
QUIET = 1.0


def polling_channels() -> dict[int, str]:
    """Enabled channels whose kind polls them: id -> a fingerprint of their settings."""
    found = {}
    for channel in Channel.objects.filter(kind__in=list(KINDS), is_enabled=True).order_by("pk"):
        if get_kind(channel.kind).polls(channel):
            found[channel.pk] = repr(sorted(channel.config.items()))
    return found


def poll_once(channel: Channel, timeout: float) -> tuple[int, int]:
    """One getUpdates (or the kind's like): returns (stored, already stored)."""
    kind = get_kind(channel.kind)
    after = 0
    last = channel.inbound_events.order_by("-received_at", "-pk").values_list("position", "received_at").first()
    # Telegram numbers updates in sequence, but after a week without any it starts again
    # from a random number, possibly lower: asking past an old position would skip them.
    if last is not None and last[1] > timezone.now() - SEQUENCE_KEPT:
        after = last[0]
    stored = repeats = 0
    for body in kind.poll(channel, after, timeout):
        _event, created = accept(channel, kind.identify(channel, body), body)
        stored += created
        repeats += not created
    return stored, repeats


class Poller(threading.Thread):
    def __init__(self, channel_id: int, timeout: float) -> None:
        super().__init__(name=f"poll-{channel_id}", daemon=True)
        self.channel_id = channel_id
        self.timeout = timeout
        self.stop = threading.Event()

    def run(self) -> None:
        failures = 0
        while not self.stop.is_set():
            try:
                close_old_connections()
                channel = Channel.objects.get(pk=self.channel_id)
                started = time.monotonic()
                stored, _repeats = poll_once(channel, self.timeout)
                failures = 0
                if not stored and time.monotonic() - started < min(QUIET, self.timeout):
                    self.stop.wait(QUIET)
            except Exception:
                failures += 1
                log.exception("Polling channel %s failed (%s in a row)", self.channel_id, failures)
                self.stop.wait(min(60.0, 2.0**failures))


class Command(BaseCommand):
    help = "Fetch events of channels without a public address (Telegram getUpdates). --loop keeps polling."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--loop", action="store_true", help="run until stopped")
        parser.add_argument("--interval", type=float, default=5.0, help="seconds between looks for channel changes")
        parser.add_argument("--timeout", type=float, default=25.0, help="long-polling wait, in seconds")

    def handle(self, *args: Any, loop: bool, interval: float, timeout: float, **options: Any) -> None:
        if not loop:
            for pk in polling_channels():
                channel = Channel.objects.get(pk=pk)
                try:
                    stored, repeats = poll_once(channel, 0)
                except Exception as exc:
                    self.stderr.write(f"{channel.code}: {type(exc).__name__}: {exc}")
                    continue
                self.stdout.write(f"{channel.code}: {stored} stored, {repeats} already stored")
            return
        run_until_signalled(polling_channels, lambda pk: Poller(pk, timeout), interval)
