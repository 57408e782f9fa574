"""State changes for organisations and agents."""

import secrets

from django.db import transaction

from adesso.accounts.models import ApiToken, Organization, Role, Team, TeamMembership, User
from adesso.lib.codes import hash_secret, new_secret


def do_create_organization(name: str, admin_email: str, admin_name: str = "") -> tuple[User, str]:
    """Create an organisation with its first admin; returns (admin, password)."""
    password = secrets.token_urlsafe(12)
    with transaction.atomic():
        org = Organization.objects.create(name=name)
        admin = User.objects.create_user(
            email=admin_email, password=password, organization=org, role=Role.ADMIN,
            name=admin_name,
        )
        from adesso.sla.actions import do_create_default_policy

        do_create_default_policy(org)
    return admin, password


def do_create_agent(
    org: Organization, email: str, name: str = "", role: str = Role.AGENT,
    language: str = "it", password: str | None = None,
) -> User:
    return User.objects.create_user(
        email=email, password=password, organization=org, role=role, name=name,
        language=language,
    )


def do_create_team(org: Organization, name: str, members: list[User] | None = None) -> Team:
    with transaction.atomic():
        team = Team.objects.create(organization=org, name=name)
        TeamMembership.objects.bulk_create(
            [TeamMembership(team=team, user=m) for m in members or [] if m.organization_id == org.id]
        )
    return team


def do_create_api_token(user: User, name: str = "") -> str:
    """Create a personal token and return its secret, which is not stored."""
    secret = "adt_" + new_secret()
    ApiToken.objects.create(user=user, name=name, token_hash=hash_secret(secret), prefix=secret[:8])
    return secret
