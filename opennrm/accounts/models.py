import hashlib
import secrets

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.crypto import salted_hmac

from opennrm.core.models import OutgoingEmail
from opennrm.policy import Role

SESSION_HASH_SALT = "opennrm.accounts.User.get_session_auth_hash"


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


# What decides which referrals an organisation's users see (policy.referral_scope): changing any of them changes
# what every user of the organisation sees.
ORGANISATION_SCOPE_FIELDS = ("kind", "local_authority", "competent_authority", "covered_local_authorities")


class Team(models.Model):
    """A team of decision makers within a competent authority or panel, with the manager breaches escalate to."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="teams")
    name = models.CharField(max_length=200)
    manager = models.ForeignKey("User", on_delete=models.SET_NULL, null=True, blank=True, related_name="managed_teams")
    email = models.EmailField(blank=True, help_text="The team's shared mailbox, if it has one")

    class Meta:
        ordering = ["organisation__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="team_name_unique_per_organisation")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.organisation})"

    def clean(self):
        if self.manager_id and self.organisation_id and self.manager.organisation_id != self.organisation_id:
            raise ValidationError({"manager": "The manager must belong to the team's organisation"})


class User(AbstractUser):
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="users"
    )
    role = models.CharField(max_length=40, choices=Role.choices)
    team = models.ForeignKey(Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="members")
    # Raised to end every session of the user at once (a password reset, deactivation, a second factor reset):
    # each session keeps a hash of it with the password's (get_session_auth_hash), which then no longer matches.
    sessions_generation = models.PositiveIntegerField(default=0, editable=False)

    def clean(self):
        super().clean()
        if self.team_id and self.team.organisation_id != self.organisation_id:
            raise ValidationError({"team": "Choose a team of the user's own organisation"})

    @property
    def role_label(self) -> str:
        return Role(self.role).label if self.role else ""

    def _session_hash(self, secret=None) -> str:
        return salted_hmac(
            SESSION_HASH_SALT, f"{self.password}:{self.sessions_generation}", secret=secret, algorithm="sha256"
        ).hexdigest()

    def get_session_auth_hash(self):
        return self._session_hash()

    def get_session_auth_fallback_hash(self):
        from django.conf import settings

        for fallback_secret in settings.SECRET_KEY_FALLBACKS:
            yield self._session_hash(secret=fallback_secret)


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
    key = models.CharField(
        max_length=150, help_text="The username as typed (in lower case), or the client's IP address"
    )
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


class AccessRequest(models.Model):
    """A change an administrator asked for that a second, different administrator must approve (issue 22).

    Granting a role that sees case content or grants access (policy.role_needs_second_administrator), moving such a
    user to another organisation, re-activating them, resetting a user's second factor, and changing what an
    organisation with such users covers (ORGANISATION_SCOPE_FIELDS). Until approved, the account or organisation
    stays as it was (a new account has no role).
    """

    class Kind(models.TextChoices):
        ACCESS = "access", "Access: role, organisation, team"
        SECOND_FACTOR_RESET = "second_factor_reset", "Reset the second factor"
        ORGANISATION_SCOPE = "organisation_scope", "What an organisation covers"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for a second administrator"
        APPROVED = "approved", "Approved"
        REFUSED = "refused", "Refused"
        SUPERSEDED = "superseded", "Replaced by a later request"

    kind = models.CharField(max_length=30, choices=Kind.choices)
    user = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="access_requests")
    role = models.CharField(max_length=40, choices=Role.choices, blank=True)
    # ORGANISATION_SCOPE: the organisation's scope fields as asked for (the organisation is `organisation`).
    scope = models.JSONField(default=dict, blank=True)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    requested_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]
        indexes = [models.Index(fields=["status", "requested_at"], name="access_request_status_idx")]

    def __str__(self) -> str:
        if self.kind == self.Kind.ORGANISATION_SCOPE:
            return f"{self.organisation}: " + ", ".join(f"{name} {value}" for name, value in self.scope.items())
        if self.kind == self.Kind.SECOND_FACTOR_RESET:
            return f"Reset {self.user.username}'s second factor"
        return f"{self.user.username}: {Role(self.role).label if self.role else 'no role'} at {self.organisation or 'no organisation'}"


class PasswordResetEmail(OutgoingEmail):
    """A "set your password" link owed to a user, kept until the mail server takes it (core/outbox.py).

    The link's token is made when the email is sent, never stored: it is Django's password-reset token, which
    stops working once the password is set or after settings.PASSWORD_RESET_TIMEOUT.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    requested_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")


class SignInGate(models.Model):
    """One row per username (as counted) or client address that has tried to sign in, locked (SELECT ... FOR
    UPDATE) while an attempt is counted, so that parallel attempts on one key are counted one at a time."""

    kind = models.CharField(max_length=10, choices=SignInLock.Kind.choices)
    key = models.CharField(max_length=150)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "key"], name="signin_gate_unique_key")]
