from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from adesso.accounts.actions import do_create_api_token
from adesso.accounts.models import User


class Command(BaseCommand):
    help = "Create a personal API token for an agent and print it (it is not stored in clear)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email", help="the agent's login email")
        parser.add_argument("--name", default="cli", help="a label for the token")

    def handle(self, *args: Any, email: str, name: str, **options: Any) -> None:
        user = User.objects.filter(email__iexact=email.strip(), is_active=True).first()
        if user is None:
            raise CommandError(f"No active agent with email {email}.")
        self.stdout.write(do_create_api_token(user, name))
