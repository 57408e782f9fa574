"""`adesso rotatesecrets`: encrypt every channel secret again under the first key of
ADESSO_SECRETS_KEY (docs/channels.md, Secrets).

Rotation: `adesso rotatesecrets --new-key` prints a key; set
ADESSO_SECRETS_KEY=<new>,<old> everywhere, run `adesso rotatesecrets`, then drop <old>.
A secret still in clear (a channel stored before encryption) is sealed too.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from adesso.channels.models import Channel
from adesso.channels.secrets import SecretsKeyError, key_count, new_key, seal_config


class Command(BaseCommand):
    help = "Re-encrypt every channel secret with the first key of ADESSO_SECRETS_KEY."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--new-key", action="store_true", help="Print a new key and change nothing.")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["new_key"]:
            self.stdout.write(new_key())
            return
        try:
            keys = key_count()
            done = self._rotate()
        except SecretsKeyError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"{done} channel(s) re-encrypted with the first of {keys} key(s)."
            + (" The old keys can now be removed from ADESSO_SECRETS_KEY." if keys > 1 else "")
        )

    def _rotate(self) -> int:
        ids = list(Channel.objects.order_by("pk").values_list("pk", flat=True))
        with _bar(len(ids), sys.stderr.isatty()) as advance:
            for pk in ids:
                # One channel at a time, locked: an edit made meanwhile is not overwritten.
                # Reading opens the secrets with any of the keys; sealing uses the first.
                with transaction.atomic():
                    row = Channel.objects.select_for_update().filter(pk=pk).values_list("kind", "config").first()
                    if row is not None:
                        Channel.objects.filter(pk=pk).update(config=seal_config(row[0], row[1]))
                advance()
        return len(ids)


class _bar:
    """A rich progress bar on a terminal; nothing otherwise."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.total, self.enabled = total, enabled

    def __enter__(self) -> Any:
        if not self.enabled:
            return lambda: None
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self.progress = Progress(
            TextColumn("Re-encrypting channel secrets"), BarColumn(), MofNCompleteColumn(), console=Console(stderr=True)
        )
        self.progress.__enter__()
        task = self.progress.add_task("", total=self.total)
        return lambda: self.progress.advance(task)

    def __exit__(self, *exc: Any) -> None:
        if self.enabled:
            self.progress.__exit__(*exc)
