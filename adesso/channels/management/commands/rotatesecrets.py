"""`adesso rotatesecrets`: encrypt every channel secret again under the first key of
ADESSO_SECRETS_KEY (docs/channels.md, Secrets).

Rotation: `adesso rotatesecrets --new-key` prints a key; set
ADESSO_SECRETS_KEY=<new>,<old> everywhere, run `adesso rotatesecrets`, then drop <old>.
A secret still in clear (a channel stored before encryption) is sealed too.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from adesso.channels.models import Channel
from adesso.channels.secrets import SecretsKeyError, key_count, new_key, seal_config
from adesso.lib.progress import progress_bar


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
        with progress_bar("Re-encrypting channel secrets", len(ids)) as advance:
            for pk in ids:
                # One channel at a time, locked: an edit made meanwhile is not overwritten.
                # Reading opens the secrets with any of the keys; sealing uses the first.
                with transaction.atomic():
                    row = Channel.objects.select_for_update().filter(pk=pk).values_list("kind", "config").first()
                    if row is not None:
                        Channel.objects.filter(pk=pk).update(config=seal_config(row[0], row[1]))
                advance(1)
        return len(ids)
