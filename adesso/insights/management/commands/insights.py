"""`adesso insights status`: how far the worker got with the insights' long work (the
`InsightsRun` records: a backlog of messages being analysed, topics being found
again), and how many customer messages still wait for their sentiment."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from adesso.accounts.models import Organization
from adesso.insights.models import InsightsRun
from adesso.insights.schedule import waiting_by_organization


class Command(BaseCommand):
    help = "Insights' work in the worker: `status` shows each organisation's progress."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("action", choices=["status"])
        parser.add_argument("--organization", help="only this organisation (its code)")

    def handle(self, *args: Any, action: str, organization: str | None, **options: Any) -> None:
        orgs = Organization.objects.order_by("code")
        if organization:
            orgs = orgs.filter(code=organization)
            if not orgs.exists():
                raise CommandError(f"No organisation {organization!r}")
        waiting = waiting_by_organization()
        if not orgs.exists():
            self.stdout.write("No organisation yet.")
        for org in orgs:
            self.stdout.write(f"{org.code}: {waiting.get(org.pk, 0)} customer messages waiting for their sentiment")
            for kind in InsightsRun.Kind:
                run = InsightsRun.objects.filter(organization=org, kind=kind).order_by("-created_at").first()
                if run is None:
                    continue
                share = f" ({run.share:.0%})" if run.share is not None else ""
                self.stdout.write(
                    f"  {kind.label}: {run.get_state_display()}, {run.done} of {run.total}{share}, "
                    f"updated {run.updated_at:%Y-%m-%d %H:%M}"
                )
