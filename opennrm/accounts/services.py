import datetime as dt

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.utils import timezone

from opennrm.audit.services import audit_record

from opennrm.policy import Capability, has_capability

from .models import ApiToken, Organisation, Team, User, hash_token


class AccountsNotAllowed(PermissionError):
    """Only the administrator role manages accounts and teams."""


@transaction.atomic
def api_token_issue(*, username: str, password: str) -> tuple[str, dt.datetime] | None:
    """Check the credentials and issue a bearer token; None when they do not match an active user."""
    user = authenticate(username=username, password=password)
    if user is None:
        audit_record(actor=None, action="api_token.refused", object_type="user", details={"username": username[:150]})
        return None
    raw = ApiToken.new_raw_key()
    now = timezone.now()
    expires_at = now + dt.timedelta(seconds=settings.API_TOKEN_LIFETIME_SECONDS)
    token = ApiToken.objects.create(user=user, key_hash=hash_token(raw), created_at=now, expires_at=expires_at)
    audit_record(actor=user, action="api_token.issue", object_type="api_token", object_id=str(token.pk))
    return raw, expires_at


def user_for_token(raw: str) -> User | None:
    # Runs on every API request. key_hash is unique, so a plain [:1] suffices: first()'s ORDER BY costs
    # query-building time for nothing (bench/, BENCHMARKS.md).
    tokens = ApiToken.objects.select_related("user__organisation").filter(
        key_hash=hash_token(raw), expires_at__gt=timezone.now(), user__is_active=True
    )[:1]
    token = next(iter(tokens), None)
    return token.user if token else None


@transaction.atomic
def organisation_save(*, actor, organisation: Organisation, changed: list[str] | None = None) -> Organisation:
    created = organisation.pk is None
    organisation.save()
    audit_record(
        actor=actor,
        action="organisation.create" if created else "organisation.change",
        object_type="organisation",
        object_id=str(organisation.pk),
        details={"name": organisation.name, "changed": changed or []},
    )
    return organisation


@transaction.atomic
def team_save(*, actor, team: Team, changed: list[str] | None = None) -> Team:
    """Create or change a team (administrators; actor=None is the demo loader); checked, and audited with what it says now."""
    if actor is not None and not has_capability(actor, Capability.MANAGE_ACCOUNTS):
        raise AccountsNotAllowed("Only an administrator can change teams")
    created = team.pk is None
    team.full_clean()
    team.save()
    audit_record(
        actor=actor,
        action="team.create" if created else "team.change",
        object_type="team",
        object_id=str(team.pk),
        details={"name": team.name, "organisation": team.organisation_id, "manager": team.manager.username if team.manager else None,
                 "email": team.email, "changed": changed or []},
    )
    return team


@transaction.atomic
def user_save(*, actor, user: User, changed: list[str] | None = None) -> User:
    created = user.pk is None
    user.save()
    audit_record(
        actor=actor,
        action="user.create" if created else "user.change",
        object_type="user",
        object_id=str(user.pk),
        details={"username": user.username, "role": user.role, "team": user.team_id, "changed": [c for c in (changed or []) if c != "password"], "password_changed": "password" in (changed or [])},
    )
    return user


@transaction.atomic
def user_signed_in(*, user, success: bool, username: str = "") -> None:
    audit_record(
        actor=user if success else None,
        action="user.sign_in" if success else "user.sign_in_failed",
        object_type="user",
        object_id=str(user.pk) if success else "",
        details={} if success else {"username": username[:150]},
    )


@transaction.atomic
def user_signed_out(*, user) -> None:
    audit_record(actor=user, action="user.sign_out", object_type="user", object_id=str(user.pk))
