"""`adesso retention [--dry-run] [--org CODE]`: apply the organisations' retention policies now."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from rich.console import Console

from adesso.lib.progress import progress_bar
from adesso.privacy import retention
from adesso.privacy.models import PrivacySettings


class Command(BaseCommand):
    help = "Apply each organisation's retention policy (docs/privacy.md); --dry-run prints what would go."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="print what would be removed, remove nothing")
        parser.add_argument("--org", default="", help="only this organisation (its code)")

    def handle(self, *args: Any, **options: Any) -> None:
        qs = PrivacySettings.objects.select_related("organization").order_by("organization__name")
        if options["org"]:
            qs = qs.filter(organization__code=options["org"])
            if not qs.exists():
                raise CommandError(f"No organisation {options['org']!r} with privacy settings.")
        console = Console(file=self.stdout, highlight=False)  # type: ignore[arg-type]
        now = timezone.now()
        for settings in qs:
            if not settings.has_retention:
                continue
            found = retention.plan(settings, now)
            name = settings.organization.name
            if options["dry_run"]:
                console.print(
                    f"{name}: would empty {found.conversations} resolved conversations "
                    f"({found.messages} messages, {found.attachments} files), delete {found.inbound_events} raw "
                    f"inbound events and {found.audit_entries} audit entries",
                    soft_wrap=True,
                )
                if found.codes:
                    console.print(
                        f"  oldest: {found.oldest_conversation:%Y-%m-%d}; first: {', '.join(found.codes)}",
                        soft_wrap=True,
                    )
                continue
            with progress_bar(
                name,
                found.conversations,
                enabled=bool(found.conversations),
                file=self.stdout,  # type: ignore[arg-type]
            ) as advance:
                done = retention.apply(settings, now, progress=advance)
            console.print(
                f"{name}: emptied {done['conversations']} conversations ({done['messages']} messages, "
                f"{done['attachments']} files), deleted {done['inbound_events']} raw inbound events and "
                f"{done['audit_entries']} audit entries",
                soft_wrap=True,
            )
