from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import validate_email

from adesso.accounts.actions import do_create_organization
from adesso.accounts.models import User


class Command(BaseCommand):
    help = "Create an organisation with its admin agent, and print the admin's password."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="the organisation's name")
        parser.add_argument("--admin-email", required=True, help="the admin's login email")
        parser.add_argument("--admin-name", default="", help="the admin's display name")

    def handle(self, *args: Any, name: str, admin_email: str, admin_name: str, **options: Any) -> None:
        name = name.strip()
        if not name:
            raise CommandError("The organisation needs a name.")
        try:
            validate_email(admin_email)
        except ValidationError:
            raise CommandError(f"{admin_email!r} is not a valid email address.") from None
        if User.objects.filter(email__iexact=admin_email).exists():
            raise CommandError(f"An agent with email {admin_email} already exists.")
        admin, password = do_create_organization(name, admin_email, admin_name)
        self.stdout.write(f"Organisation: {admin.organization.name} ({admin.organization.code})")
        self.stdout.write(f"Admin email: {admin.email}")
        self.stdout.write(f"Admin password: {password}")
