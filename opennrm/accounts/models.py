import hashlib
import secrets

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models

from opennrm.policy import Role


class OrganisationKind(models.TextChoices):
    POLICE = "police", "Police force"
    LOCAL_AUTHORITY = "local_authority", "Local authority"
    NGO = "ngo", "NGO or charity first responder"
    BORDER_FORCE = "border_force", "Border Force or UK Visas and Immigration"
    COMPETENT_AUTHORITY = "competent_authority", "Competent authority"
    LOCAL_PANEL = "local_panel", "Local authority decision-making panel"
    GUARDIAN_SERVICE = "guardian_service", "Guardian service"
    IMMIGRATION_ENFORCEMENT = "immigration_enforcement", "Immigration Enforcement"
    STATISTICS = "statistics", "Statistics"
    AUDIT = "audit", "Audit"
    ADMINISTRATION = "administration", "Service administration"
    DATA_QUALITY = "data_quality", "Data quality"


class Organisation(models.Model):
    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=40, choices=OrganisationKind.choices)
    # For local authorities and local panels: the authority's ONS/GSS code.
    local_authority = models.CharField(max_length=9, blank=True)
    # For competent authorities: which one (SCA, IECA); for panels: LOCAL_PANEL.
    competent_authority = models.CharField(max_length=20, blank=True)
    # For guardian services: the GSS codes of the local authorities the service covers.
    covered_local_authorities = models.JSONField(default=list, blank=True)
    email = models.EmailField(blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Team(models.Model):
    """A team of decision makers within a competent authority or panel, with the manager breaches escalate to."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="teams")
    name = models.CharField(max_length=200)
    manager = models.ForeignKey("User", on_delete=models.SET_NULL, null=True, blank=True, related_name="managed_teams")
    email = models.EmailField(blank=True, help_text="The team's shared mailbox, if it has one")

    class Meta:
        ordering = ["organisation__name", "name"]
        constraints = [models.UniqueConstraint(fields=["organisation", "name"], name="team_name_unique_per_organisation")]

    def __str__(self) -> str:
        return f"{self.name} ({self.organisation})"

    def clean(self):
        if self.manager_id and self.organisation_id and self.manager.organisation_id != self.organisation_id:
            raise ValidationError({"manager": "The manager must belong to the team's organisation"})


class User(AbstractUser):
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="users")
    role = models.CharField(max_length=40, choices=Role.choices)
    team = models.ForeignKey(Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="members")

    def clean(self):
        super().clean()
        if self.team_id and self.team.organisation_id != self.organisation_id:
            raise ValidationError({"team": "Choose a team of the user's own organisation"})

    @property
    def role_label(self) -> str:
        return Role(self.role).label if self.role else ""


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """A bearer token for the API. Only its SHA-256 is stored; the caller sees the token once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    @staticmethod
    def new_raw_key() -> str:
        return secrets.token_urlsafe(32)


class SignInFailure(models.Model):
    """One failed sign-in (a wrong password or code), counted towards a lock-out (ADR 0010).

    Keyed by the username as typed, whether or not such a user exists, so that locking reveals nothing.
    Written before the password or code is checked, as a reservation, and deleted if the check passes: an
    attempt counts as failed until it is known not to be, so parallel guesses cannot overrun the limit.
    """

    username_key = models.CharField(max_length=150)
    ip_address = models.GenericIPAddressField(null=True)
    occurred_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["username_key", "occurred_at"], name="signin_failure_username_idx"),
            models.Index(fields=["ip_address", "occurred_at"], name="signin_failure_address_idx"),
        ]


class SignInLock(models.Model):
    """A username or a client address that may not sign in until `locked_until`, or until an administrator unlocks it."""

    class Kind(models.TextChoices):
        USERNAME = "username", "Username"
        ADDRESS = "address", "Client address"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    key = models.CharField(max_length=150, help_text="The username as typed (in lower case), or the client's IP address")
    locked_at = models.DateTimeField()
    locked_until = models.DateTimeField()
    unlocked_at = models.DateTimeField(null=True, blank=True)
    unlocked_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-locked_at"]
        indexes = [models.Index(fields=["kind", "key", "locked_until"], name="signin_lock_key_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.key}"

    @property
    def ended_at(self):
        return min(self.locked_until, self.unlocked_at) if self.unlocked_at else self.locked_until


class SignInGate(models.Model):
    """One row per username (as counted) or client address that has tried to sign in, locked (SELECT ... FOR
    UPDATE) while an attempt is counted, so that parallel attempts on one key are counted one at a time."""

    kind = models.CharField(max_length=10, choices=SignInLock.Kind.choices)
    key = models.CharField(max_length=150)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "key"], name="signin_gate_unique_key")]
