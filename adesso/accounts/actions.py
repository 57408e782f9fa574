"""State changes for organisations and agents."""

import datetime as dt
import secrets

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from adesso.accounts.access import require_admin
from adesso.accounts.models import ApiToken, Invitation, Organization, Presence, Role, Team, TeamMembership, User
from adesso.lib.addresses import normalize_email
from adesso.lib.codes import hash_secret, new_secret
from adesso.lib.errors import ActionError


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
    if password is not None:  # the same validators as an invitation's (settings.AUTH_PASSWORD_VALIDATORS)
        try:
            validate_password(password, User(email=email, name=name, organization=org))
        except ValidationError as exc:
            raise ActionError(" ".join(exc.messages), "invalid_password") from None
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


# -- administration: invitations, roles, deactivation, teams (admins only) -------------------

INVITATION_DAYS = 7


def invitation_path(secret: str) -> str:
    return reverse("front:accept_invitation", args=[secret])


def invitation_url(secret: str) -> str:
    """The link the invited person opens (below SITE_URL)."""
    return settings.SITE_URL.rstrip("/") + invitation_path(secret)


def _clean_role(role: str) -> str:
    if role not in Role.values:
        raise ActionError(_("The role must be agent, supervisor or admin."), "invalid_role")
    return role


def do_invite_agent(
    admin: User, email: str, name: str = "", role: str = Role.AGENT, language: str = "",
    base_url: str = "",
) -> tuple[Invitation, str]:
    """Invite someone to join `admin`'s organisation; returns the invitation and the secret
    of its link (only the hash is kept). The link is mailed on commit, from `base_url`
    (the address the admin used) or SITE_URL. A pending invitation to the same address
    is replaced: only the newest link works."""
    require_admin(admin)
    address = normalize_email(email)
    if not address:
        raise ActionError(_("Enter a valid email address."), "invalid_email")
    role = _clean_role(role)
    language = language if language in ("it", "en") else admin.language
    existing = User.objects.filter(email=address).first()
    if existing is not None:
        if existing.organization_id == admin.organization_id and not existing.is_active:
            raise ActionError(_("%(email)s was deactivated: reactivate them instead.") % {"email": address},
                              "already_deactivated")
        raise ActionError(_("%(email)s already has an account.") % {"email": address}, "already_agent")
    secret = "inv_" + new_secret()
    now = timezone.now()
    with transaction.atomic():
        Invitation.objects.filter(
            organization_id=admin.organization_id, email=address, accepted_at__isnull=True, revoked_at__isnull=True,
        ).update(revoked_at=now)
        invitation = Invitation.objects.create(
            organization_id=admin.organization_id, email=address, name=name.strip()[:200], role=role,
            language=language, token_hash=hash_secret(secret), invited_by=admin, created_at=now,
            expires_at=now + dt.timedelta(days=INVITATION_DAYS),
        )
        from adesso.audit import events as audit

        audit.agent_invited(actor=admin, organization_id=admin.organization_id,
                            invitation_code=invitation.code, role=role)
        url = (base_url.rstrip("/") + invitation_path(secret)) if base_url else invitation_url(secret)
        transaction.on_commit(lambda: _mail_invitation(invitation, admin, url), robust=True)
    return invitation, secret


def _mail_invitation(invitation: Invitation, admin: User, url: str) -> None:
    with translation.override(invitation.language):
        context = {"invitation": invitation, "admin": admin, "organization": admin.organization.name,
                   "url": url, "days": INVITATION_DAYS}
        subject = _("%(admin)s invites you to %(organization)s on Adesso") % {
            "admin": admin.display_name, "organization": admin.organization.name}
        body = render_to_string("accounts/invitation_email.txt", context)
    send_mail(subject, body, None, [invitation.email])


def invitation_by_secret(secret: str) -> Invitation | None:
    """The invitation a link carries, whatever its state; None for an unknown link."""
    if not secret.startswith("inv_"):
        return None
    return Invitation.objects.select_related("organization").filter(token_hash=hash_secret(secret)).first()


def do_accept_invitation(secret: str, password: str, name: str = "") -> User:
    """Create the invited agent with their own password (Django's validators). Once only,
    before it expires."""
    invitation = invitation_by_secret(secret)
    now = timezone.now()
    if invitation is None or invitation.state(now) == "revoked":
        raise ActionError(_("This invitation link is not valid."), "invalid_invitation")
    if invitation.state(now) == "accepted":
        raise ActionError(_("This invitation was already used: log in instead."), "invitation_used")
    if invitation.state(now) == "expired":
        raise ActionError(_("This invitation has expired: ask your admin for a new one."), "invitation_expired")
    name = name.strip()[:200] or invitation.name
    candidate = User(email=invitation.email, name=name, organization=invitation.organization)
    try:
        validate_password(password, candidate)
    except ValidationError as exc:
        raise ActionError(" ".join(exc.messages), "invalid_password") from None
    with transaction.atomic():
        # Compare-and-set: two clicks on the same link make one agent.
        claimed = Invitation.objects.filter(
            pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now,
        ).update(accepted_at=now)
        if not claimed or User.objects.filter(email=invitation.email).exists():
            raise ActionError(_("This invitation was already used: log in instead."), "invitation_used")
        agent = User.objects.create_user(
            email=invitation.email, password=password, organization=invitation.organization,
            role=invitation.role, name=name, language=invitation.language,
        )
        Invitation.objects.filter(pk=invitation.pk).update(agent=agent)
    return agent


def do_revoke_invitation(admin: User, invitation: Invitation) -> Invitation:
    require_admin(admin)
    if invitation.organization_id != admin.organization_id:
        raise ActionError(_("No such invitation."), "not_found")
    if invitation.accepted_at is None and invitation.revoked_at is None:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
    return invitation


def _other_active_admins(agent: User) -> bool:
    return User.objects.filter(
        organization_id=agent.organization_id, role=Role.ADMIN, is_active=True,
    ).exclude(pk=agent.pk).exists()


def do_change_role(admin: User, agent: User, role: str) -> User:
    """Agent, supervisor or admin. An organisation always keeps one active admin."""
    require_admin(admin)
    role = _clean_role(role)
    if agent.role == Role.ADMIN and role != Role.ADMIN and not _other_active_admins(agent):
        raise ActionError(_("The organisation needs at least one admin."), "last_admin")
    if agent.role != role:
        from adesso.audit import events as audit

        before = agent.role
        agent.role = role
        with transaction.atomic():
            agent.save(update_fields=["role"])
            audit.role_changed(actor=admin, agent=agent, before=before, after=role)
    return agent


def do_deactivate_agent(admin: User, agent: User) -> User:
    """The agent can no longer log in or use their tokens; their conversations that are
    not resolved lose their assignee (open ones go back to the queue, for whoever is free);
    everything they wrote stays."""
    require_admin(admin)
    if agent.pk == admin.pk:
        raise ActionError(_("You cannot deactivate yourself."), "self")
    if agent.role == Role.ADMIN and not _other_active_admins(agent):
        raise ActionError(_("The organisation needs at least one admin."), "last_admin")
    from adesso.routing.actions import do_release_conversations, do_set_presence

    with transaction.atomic():
        # Offline first: the ones waiting for an answer are requeued as when anyone leaves.
        do_set_presence(agent, Presence.OFFLINE)
        do_release_conversations(agent, reason="agent_deactivated")
        agent.is_active = False
        agent.save(update_fields=["is_active"])
        from adesso.audit import events as audit

        audit.agent_deactivated(actor=admin, agent=agent)
    return agent


def do_reactivate_agent(admin: User, agent: User) -> User:
    """Back at work with their old password and teams; offline until they say otherwise."""
    require_admin(admin)
    if not agent.is_active:
        from adesso.audit import events as audit

        agent.is_active = True
        with transaction.atomic():
            agent.save(update_fields=["is_active"])
            audit.agent_reactivated(actor=admin, agent=agent)
    return agent


def do_save_team(admin: User, team: Team | None, name: str) -> Team:
    """Create a team (team None) or rename one."""
    require_admin(admin)
    name = name.strip()
    if not name or len(name) > 200:
        raise ActionError(_("A team needs a name (at most 200 characters)."), "invalid_name")
    taken = Team.objects.filter(organization_id=admin.organization_id, name__iexact=name)
    if team is not None:
        taken = taken.exclude(pk=team.pk)
    if taken.exists():
        raise ActionError(_("There is already a team called %(name)s.") % {"name": name}, "already_exists")
    if team is None:
        return do_create_team(admin.organization, name)
    team.name = name
    team.save(update_fields=["name"])
    return team


def do_set_team_members(admin: User, team: Team, members: list[User], supervisors: list[User]) -> Team:
    """The team's members, and which of them supervise it (supervisors or admins by role).
    Supervisors are members too."""
    require_admin(admin)
    org_id = admin.organization_id
    if team.organization_id != org_id or any(u.organization_id != org_id for u in [*members, *supervisors]):
        raise ActionError(_("No such agent."), "not_found")
    lacking = [u.display_name for u in supervisors if not u.is_supervisor]
    if lacking:
        raise ActionError(
            _("Only supervisors and admins can supervise a team: %(names)s.") % {"names": ", ".join(lacking)},
            "invalid_supervisor",
        )
    wanted = {u.pk: False for u in members} | {u.pk: True for u in supervisors}
    with transaction.atomic():
        TeamMembership.objects.filter(team=team).exclude(user_id__in=list(wanted)).delete()
        current = {m.user_id: m for m in TeamMembership.objects.filter(team=team)}
        for user_id, supervises in wanted.items():
            membership = current.get(user_id)
            if membership is None:
                TeamMembership.objects.create(team=team, user_id=user_id, is_supervisor=supervises)
            elif membership.is_supervisor != supervises:
                membership.is_supervisor = supervises
                membership.save(update_fields=["is_supervisor"])
    return team


def do_delete_team(admin: User, team: Team) -> None:
    """Its conversations keep their history and lose the team."""
    require_admin(admin)
    if team.organization_id != admin.organization_id:
        raise ActionError(_("No such team."), "not_found")
    team.delete()
