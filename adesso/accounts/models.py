"""Organisations, the agents who work in them, their teams and API tokens."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from adesso.lib.codes import new_code


class Organization(models.Model):
    """A company using Adesso. Every other row belongs to exactly one."""

    code = models.CharField(max_length=16, unique=True, default=new_code)
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    # Routing: new conversations go to an agent by themselves (sticky, language, load).
    auto_assign = models.BooleanField(default=True)
    # Every customer turn gets an instant acknowledgement with an honest estimate.
    acknowledge = models.BooleanField(default=True)
    # The handling time assumed until there are enough real answers to measure it.
    default_handle_seconds = models.PositiveIntegerField(default=360)

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    AGENT = "agent", _("Agent")
    SUPERVISOR = "supervisor", _("Supervisor")
    ADMIN = "admin", _("Admin")


class Presence(models.TextChoices):
    ONLINE = "online", _("Online")
    AWAY = "away", _("Away")
    OFFLINE = "offline", _("Offline")


class UserManager(BaseUserManager["User"]):
    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save()
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        raise NotImplementedError("use `adesso createorg NAME --admin-email EMAIL`")


class User(AbstractBaseUser, PermissionsMixin):
    """An agent: a person who answers customers. Logs in with the email."""

    code = models.CharField(max_length=16, unique=True, default=new_code)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="agents")
    email = models.EmailField(unique=True)
    name = models.CharField(max_length=200, blank=True)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.AGENT)
    language = models.CharField(max_length=8, default="it", choices=[("it", "Italiano"), ("en", "English")])
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)
    # Routing: only online agents get new conversations, up to their capacity.
    presence = models.CharField(max_length=8, choices=Presence.choices, default=Presence.OFFLINE)
    presence_changed_at = models.DateTimeField(null=True, blank=True)
    capacity = models.PositiveSmallIntegerField(default=5)
    # Languages spoken (codes) and skills: what routing matches a conversation against.
    languages = models.JSONField(default=list, blank=True)
    skills = models.JSONField(default=list, blank=True)
    last_assigned_at = models.DateTimeField(null=True, blank=True)
    last_reply_at = models.DateTimeField(null=True, blank=True)

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []  # type: ignore[misc]

    objects = UserManager()

    def __str__(self) -> str:
        return self.name or self.email

    @property
    def display_name(self) -> str:
        return self.name or self.email.split("@")[0]

    @property
    def speaks(self) -> list[str]:
        return list(self.languages) or [self.language]

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_supervisor(self) -> bool:
        return self.role in (Role.SUPERVISOR, Role.ADMIN)


class Team(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="teams")
    code = models.CharField(max_length=16, unique=True, default=new_code)
    name = models.CharField(max_length=200)
    members = models.ManyToManyField(User, through="TeamMembership", related_name="teams")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="team_name_unique_per_org")
        ]

    def __str__(self) -> str:
        return self.name


class TeamMembership(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE)
    user = models.ForeignKey(User, on_delete=models.CASCADE)
    # The team's supervisors hear first of its SLA warnings and breaches.
    is_supervisor = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "user"], name="membership_unique")]


class ApiToken(models.Model):
    """A personal bearer token. Only the SHA-256 of the secret is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    token_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)


class Invitation(models.Model):
    """An admin asked someone to join as an agent. The link carries a secret of which only
    the SHA-256 is kept; it works once, until `expires_at`."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="invitations")
    code = models.CharField(max_length=16, unique=True, default=new_code)
    email = models.EmailField()
    name = models.CharField(max_length=200, blank=True)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.AGENT)
    language = models.CharField(max_length=8, default="it")
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    agent = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["organization", "-created_at"], name="invitation_org_created")]

    def __str__(self) -> str:
        return self.email

    def state(self, now: dt.datetime | None = None) -> str:
        """pending, accepted, revoked or expired."""
        if self.accepted_at is not None:
            return "accepted"
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= (now or timezone.now()):
            return "expired"
        return "pending"


class PresenceChange(models.Model):
    """Append-only: an agent's presence from `at` on. The staffing planner compares its
    plan with who was actually online (`reports.planner.agents_at_work`)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="presence_changes")
    presence = models.CharField(max_length=8, choices=Presence.choices)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["organization", "at"])]
