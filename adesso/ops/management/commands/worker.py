"""The background task worker, whichever backend is configured."""

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Run the task worker: the database worker by default, the RQ worker when REDIS_URL is set."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", action="store_true", help="run queued tasks, then exit")

    def handle(self, *args: Any, batch: bool, **options: Any) -> None:
        backend = str(settings.TASKS["default"]["BACKEND"])
        if backend.startswith("django_tasks_rq"):
            call_command(
                "rqworker", "default", burst=batch, with_scheduler=False,
                # django-tasks-rq's Job records results the task interface reads.
                job_class="django_tasks_rq.backend.Job",
            )
        elif backend.startswith("django_tasks_db"):
            call_command("db_worker", queue_name="*", interval=0.5, batch=batch, no_startup_delay=True)
        else:
            self.stdout.write(f"Tasks run inline with {backend}; no worker needed.")
