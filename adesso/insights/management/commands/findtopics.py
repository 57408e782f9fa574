"""`adesso findtopics`: find the recurring topics of criticism and praise of every
organisation (or one), from the first customer messages of the last days, then give
each new topic its suggested process, as the daily run does (insights/schedule.py)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from adesso.accounts.models import Organization
from adesso.insights.processes import do_suggest_processes
from adesso.insights.topics import do_find_topics
from adesso.lib.progress import progress_bar


class Command(BaseCommand):
    help = "Find the topics of customers' criticism and praise."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--organization", help="only this organisation (its code)")
        parser.add_argument("--days", type=int, default=90, help="messages of the last DAYS days (default 90)")

    def handle(self, *args: Any, organization: str | None, days: int, **options: Any) -> None:
        if days < 1:
            raise CommandError("--days must be at least 1")
        orgs = Organization.objects.order_by("id")
        if organization:
            orgs = orgs.filter(code=organization)
            if not orgs.exists():
                raise CommandError(f"No organisation {organization!r}")
        with progress_bar("Finding topics", orgs.count()) as advance:
            for org in orgs:
                counts = do_find_topics(org, days=days)
                suggested = do_suggest_processes(org)
                self.stdout.write(
                    f"{org.name}: {counts['negative']} of criticism, {counts['positive']} of praise; "
                    f"{suggested} given a suggested process"
                )
                advance(1)
