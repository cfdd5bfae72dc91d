"""People who sign in (staff and customers), teams, and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.utils import timezone


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    MANAGER = "manager", "Manager"
    AGENT = "agent", "Agent"
    # Someone from another department: reads the tickets they are added to, writes internal notes.
    COLLABORATOR = "collaborator", "Collaborator"
    CUSTOMER = "customer", "Customer"


# Roles whose public messages count as agent replies (DOMAIN.md, "Who counts as whom").
AGENT_ROLES = frozenset({Role.ADMIN, Role.MANAGER, Role.AGENT})
STAFF_ROLES = AGENT_ROLES | {Role.COLLABORATOR}


class Availability(models.TextChoices):
    """Whether an agent takes tickets now. Only online agents are routed to; an agent sets it,
    and signing out makes them offline (automation.routing_service)."""

    ONLINE = "online", "Online"
    AWAY = "away", "Away"
    OFFLINE = "offline", "Offline"


class RoutingMode(models.TextChoices):
    """How a team's new tickets find an assignee (automation.routing)."""

    MANUAL = "manual", "Manual (nobody is assigned automatically)"
    ROUND_ROBIN = "round_robin", "Round-robin"
    LEAST_LOADED = "least_loaded", "Least loaded"
    SKILLS = "skills", "Skills (language and tags), then least loaded"


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields: Any) -> User:
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password) if password else user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields: Any) -> User:
        fields.setdefault("role", Role.ADMIN)
        fields.setdefault("name", email.split("@")[0])
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser):
    """Anyone who signs in. Staff have a role other than customer; a customer user is linked to
    a customers.Customer record (the CRM contact) through ``Customer.user``."""

    email = models.EmailField(unique=True)
    name = models.CharField(max_length=200)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.AGENT, db_index=True)
    time_zone = models.CharField(max_length=64, default="UTC")
    language = models.CharField(max_length=16, default="en")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Routing (automation.routing): whether the agent takes tickets now, since when, how much
    # open work (in normal-priority tickets; empty: no limit) they take, and what they know:
    # skills are tag names, languages are language codes (empty: the account's language).
    availability = models.CharField(max_length=10, choices=Availability.choices, default=Availability.OFFLINE)
    availability_changed_at = models.DateTimeField(null=True, blank=True)
    capacity = models.PositiveSmallIntegerField(null=True, blank=True)
    skills = models.JSONField(default=list, blank=True)
    languages = models.JSONField(default=list, blank=True)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"

    @property
    def is_staff(self) -> bool:
        """Django admin access: admins and managers configure the help desk."""
        return self.is_active and self.role in (Role.ADMIN, Role.MANAGER)

    @property
    def is_superuser(self) -> bool:
        # The role is the single source of truth for permissions; there are no per-user grants.
        return self.is_active and self.role == Role.ADMIN

    @property
    def is_agent(self) -> bool:
        """True for roles whose public messages are agent replies."""
        return self.role in AGENT_ROLES

    @property
    def is_customer(self) -> bool:
        return self.role == Role.CUSTOMER

    def has_perm(self, perm: str, obj: object = None) -> bool:
        # Admins may change everything in the Django admin; managers the help desk configuration.
        if not self.is_active:
            return False
        if self.role == Role.ADMIN:
            return True
        if self.role == Role.MANAGER:
            return not perm.startswith(("auth.", "accounts.delete_user"))
        return False

    def has_module_perms(self, app_label: str) -> bool:
        return self.is_staff


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    lead = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="led_teams")
    members: models.ManyToManyField[User, TeamMembership] = models.ManyToManyField(
        User, through="TeamMembership", related_name="teams"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # Routing settings (automation.routing): the mode; the weight of an open ticket per priority
    # (empty: the defaults, routing.DEFAULT_WEIGHTS); and whether a ticket nobody available has
    # the skills for goes to the closest match (or waits for someone who has them).
    routing_mode = models.CharField(max_length=20, choices=RoutingMode.choices, default=RoutingMode.MANUAL)
    routing_weights = models.JSONField(default=dict, blank=True)
    routing_skills_fallback = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TeamMembership(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE)
    user = models.ForeignKey(User, on_delete=models.CASCADE)
    joined_at = models.DateTimeField(default=timezone.now)
    # Whose turn it is (automation.routing): the team's highest turn plus one each time routing
    # gives this member one of the team's tickets; empty: never. A counter, not a time, so
    # clocks that differ between processes or stand still cannot reorder the turns.
    last_turn = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "user"], name="unique_team_member")]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.team_id}"


class TokenScope(models.TextChoices):
    READ = "read", "Read only"
    READ_WRITE = "read_write", "Read and write"


TOKEN_PREFIX = "dp_"  # noqa: S105 - a marker that makes leaked tokens greppable, not a secret


def hash_token(raw: str) -> str:
    # Tokens are long random strings, so a fast hash is enough: there is nothing to brute-force.
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """A bearer token. Only its SHA-256 is stored; the token itself is shown once, at creation."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    key_hash = models.CharField(max_length=64, unique=True)
    # The first characters, so a person can tell tokens apart in a list without the secret.
    key_prefix = models.CharField(max_length=12)
    scope = models.CharField(max_length=12, choices=TokenScope.choices, default=TokenScope.READ_WRITE)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.key_prefix}… ({self.user.email})"

    @classmethod
    def issue(cls, user: User, *, name: str = "", scope: str = TokenScope.READ_WRITE) -> tuple[ApiToken, str]:
        """Create a token and return it with its secret, which is never retrievable again."""
        raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(user=user, name=name, key_hash=hash_token(raw), key_prefix=raw[:10], scope=scope)
        return token, raw

    @property
    def can_write(self) -> bool:
        return self.scope == TokenScope.READ_WRITE


class SignInLink(models.Model):
    """A one-time sign-in link sent by email. Only the SHA-256 of its secret is stored; it works
    once, until ``expires_at``. The address is kept rather than a user, so a customer known only
    by email (no account yet) can sign in: the account is created when the link is used."""

    email = models.EmailField(db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"sign-in link for {self.email}"
