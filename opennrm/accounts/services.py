import datetime as dt

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import Q
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from opennrm.audit.services import audit_record, current_origin
from opennrm.core.cache import forget_all
from opennrm.core.sql import model_columns
from opennrm.policy import Capability, has_capability

from .models import ApiToken, Organisation, SignInFailure, SignInGate, SignInLock, Team, User, hash_token
from .selectors import second_factor_device, second_factor_needed, sign_in_lock_active, username_key


class AccountsNotAllowed(PermissionError):
    """Only the administrator role manages accounts and teams."""


LOCKED_MESSAGE = ("There have been too many failed attempts to sign in with this username or from this network. "
                  "Try again in {minutes} minutes, or ask your administrator to unlock your account.")


def locked_message() -> str:
    return LOCKED_MESSAGE.format(minutes=max(1, settings.SIGN_IN_LOCK_SECONDS // 60))


class SignInRefused(Exception):
    """Signing in (a page or an API token) was refused; `reason` says why, in words that reveal no username."""

    CREDENTIALS = "credentials"
    LOCKED = "locked"
    SECOND_FACTOR_NOT_SET_UP = "second_factor_not_set_up"

    def __init__(self, reason: str, lock: SignInLock | None = None):
        super().__init__(reason)
        self.reason = reason
        self.lock = lock


# --- Lock-out (ADR 0010) --------------------------------------------------------------------------
# An attempt is counted before its password or code is checked, under a row lock on the username's (and the
# address's) SignInGate, and only if fewer than the limit are counted already: so however many guesses arrive
# at once, no more than the limit are ever checked. The count is a SignInFailure written as a reservation and
# deleted when the check passes; an attempt cut short (a crash) stays counted, which errs on the safe side.


def _failures_since_last_lock(*, kind: str, key: str, field: str, now: dt.datetime) -> int:
    """Failures (and attempts being checked) counted towards locking this key now."""
    since = now - dt.timedelta(seconds=settings.SIGN_IN_FAILURE_WINDOW_SECONDS)
    last_lock = SignInLock.objects.filter(kind=kind, key=key).order_by("-locked_at").first()
    if last_lock is not None:
        # Failures before a lock ended were paid for by that lock; only later ones count again.
        since = max(since, last_lock.ended_at)
    return SignInFailure.objects.filter(**{field: key, "occurred_at__gt": since}).count()


def _limits(username: str, ip_address: str | None) -> list[tuple[str, str, str, int]]:
    """(kind, key, SignInFailure field, limit) for each key an attempt counts against, in the order their gates are locked."""
    limits = [(SignInLock.Kind.USERNAME, username_key(username), "username_key", settings.SIGN_IN_FAILURE_LIMIT)]
    if ip_address and settings.SIGN_IN_ADDRESS_FAILURE_LIMIT:
        limits.append((SignInLock.Kind.ADDRESS, ip_address, "ip_address", settings.SIGN_IN_ADDRESS_FAILURE_LIMIT))
    return sorted((limit for limit in limits if limit[3]), key=lambda limit: (limit[0], limit[1]))


def _lock_gates(limits) -> None:
    """Hold the row lock of each key's gate until the transaction ends (on SQLite, whose IMMEDIATE transactions
    already hold the whole database's write lock, the rows only need to exist)."""
    gates = [SignInGate(kind=kind, key=key) for kind, key, _, _ in limits]
    SignInGate.objects.bulk_create(gates, ignore_conflicts=True)
    keys = Q()
    for gate in gates:
        keys |= Q(kind=gate.kind, key=gate.key)
    # Always in the same order, so that two attempts that share a key cannot deadlock.
    list(SignInGate.objects.select_for_update().filter(keys).order_by("kind", "key").values_list("pk"))


def _attempt_reserve(*, username: str) -> SignInFailure:
    """Count one attempt on this username (and client address) before it is checked; SignInRefused(LOCKED),
    audited, when the key is locked or already has as many attempts counted as its limit allows."""
    ip_address = current_origin.get().ip_address
    with transaction.atomic():
        limits = _limits(username, ip_address)
        _lock_gates(limits)
        now = timezone.now()
        lock = sign_in_lock_active(username=username, ip_address=ip_address)
        if lock is None:
            full = next((kind for kind, key, field, limit in limits
                         if _failures_since_last_lock(kind=kind, key=key, field=field, now=now) >= limit), None)
            if full is None:
                return SignInFailure.objects.create(username_key=username_key(username), ip_address=ip_address, occurred_at=now)
            # As many attempts as the limit are being checked at this moment: this one would be one too many.
            audit_record(actor=None, action="sign_in.refused_limit_reached", object_type="user",
                         details={"username": username[:150], "kind": full})
        else:
            sign_in_refused_while_locked(username=username, lock=lock)
    raise SignInRefused(SignInRefused.LOCKED, lock)


@transaction.atomic
def _attempt_passed(*, attempt: SignInFailure) -> None:
    """The password or code was right: the attempt was not a failure after all."""
    attempt.delete()


@transaction.atomic
def sign_in_failure_record(*, attempt: SignInFailure, username: str, action: str, reason: str) -> SignInLock | None:
    """The counted attempt failed (audited as `action`): lock the username, or the client's address, when it
    has failed too often; returns the new lock, if this failure made one."""
    limits = _limits(username, attempt.ip_address)
    # Under the gates' locks, so that two failures that end together make one lock, not two; taken before the
    # audit trail's, in the order every sign-in service takes them, so that they cannot deadlock.
    _lock_gates(limits)
    audit_record(actor=None, action=action, object_type="user", details={"username": username[:150], "reason": reason})
    now = timezone.now()
    made = None
    for kind, lock_key, field, limit in limits:
        if _failures_since_last_lock(kind=kind, key=lock_key, field=field, now=now) >= limit:
            lock = SignInLock.objects.create(kind=kind, key=lock_key, locked_at=now,
                                             locked_until=now + dt.timedelta(seconds=settings.SIGN_IN_LOCK_SECONDS))
            audit_record(actor=None, action="sign_in.locked", object_type="sign_in_lock", object_id=str(lock.pk),
                         details={"kind": kind, "key": lock_key, "locked_until": lock.locked_until.isoformat()})
            made = made or lock
    return made


def _checked_attempt(*, username: str, action: str, reason: str, check):
    """`check()`'s answer, counted as an attempt on `username` first; SignInRefused when locked out or when
    `check()` answers None (a wrong password or code)."""
    attempt = _attempt_reserve(username=username)
    passed = check()
    if passed is None:
        lock = sign_in_failure_record(attempt=attempt, username=username, action=action, reason=reason)
        raise SignInRefused(SignInRefused.LOCKED if lock else SignInRefused.CREDENTIALS, lock)
    _attempt_passed(attempt=attempt)
    return passed


@transaction.atomic
def sign_in_refused_while_locked(*, username: str, lock: SignInLock) -> None:
    audit_record(actor=None, action="sign_in.refused_locked", object_type="sign_in_lock", object_id=str(lock.pk),
                 details={"username": username[:150]})


@transaction.atomic
def sign_in_lock_lift(*, actor, lock: SignInLock) -> SignInLock:
    """An administrator lifts a lock before it runs out."""
    if not has_capability(actor, Capability.MANAGE_ACCOUNTS):
        raise PermissionError("Only an administrator may unlock signing in")
    if lock.unlocked_at is None:
        lock.unlocked_at = timezone.now()
        lock.unlocked_by = actor
        lock.save(update_fields=["unlocked_at", "unlocked_by"])
        audit_record(actor=actor, action="sign_in.unlock", object_type="sign_in_lock", object_id=str(lock.pk),
                     details={"kind": lock.kind, "key": lock.key})
    return lock


@transaction.atomic
def user_sign_in_unlock(*, actor, user: User) -> int:
    """Lift every lock still on this user's username; the number lifted."""
    now = timezone.now()
    locks = SignInLock.objects.filter(kind=SignInLock.Kind.USERNAME, key=username_key(user.username), locked_until__gt=now, unlocked_at__isnull=True)
    lifted = [sign_in_lock_lift(actor=actor, lock=lock) for lock in locks]
    return len(lifted)


def sign_in_check_password(*, username: str, password: str, action: str = "user.sign_in_failed") -> User:
    """The active user with these credentials; SignInRefused when locked out (whatever the password) or wrong."""
    return _checked_attempt(username=username, action=action, reason="password",
                            check=lambda: authenticate(username=username, password=password))


# --- The second factor ----------------------------------------------------------------------------


def second_factor_check_code(*, user: User, code: str, action: str = "user.second_factor_failed") -> TOTPDevice:
    """The user's device that accepts this code; SignInRefused when locked out or the code is not right.

    A code is used once: the device remembers the last time step it accepted (django-otp).
    """
    code = (code or "").replace(" ", "")

    def device_accepting_code() -> TOTPDevice | None:
        with transaction.atomic():
            # Locked, so that two requests with the same code cannot both use it.
            device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).order_by("pk").first()
            accepted = device is not None and code.isdigit() and len(code) == device.digits and device.verify_token(code)
        return device if accepted else None

    return _checked_attempt(username=user.username, action=action, reason="code", check=device_accepting_code)


@transaction.atomic
def second_factor_verified(*, user: User, device: TOTPDevice) -> None:
    audit_record(actor=user, action="user.second_factor_verified", object_type="user", object_id=str(user.pk),
                 details={"device": device.persistent_id})


@transaction.atomic
def second_factor_enrol(*, actor: User, key: str) -> TOTPDevice:
    """The actor's new authenticator app (its key confirmed by a code), replacing any they had."""
    replaced = TOTPDevice.objects.filter(user=actor).delete()[0]
    device = TOTPDevice(user=actor, name="Authenticator app", key=key, confirmed=True)
    # The code that confirmed the key is spent: the next sign-in needs a later one.
    device.last_t = TOTP(device.bin_key, device.step, device.t0, device.digits).t()
    device.save()
    audit_record(actor=actor, action="user.second_factor_enrolled", object_type="user", object_id=str(actor.pk),
                 details={"device": device.persistent_id, "replaced": replaced})
    return device


@transaction.atomic
def second_factor_reset(*, actor, user: User) -> int:
    """An administrator removes a user's second factor (a lost phone); the user sets up a new one at their next sign-in."""
    if not has_capability(actor, Capability.MANAGE_ACCOUNTS):
        raise PermissionError("Only an administrator may reset a second factor")
    removed = TOTPDevice.objects.filter(user=user).delete()[0]
    audit_record(actor=actor, action="user.second_factor_reset", object_type="user", object_id=str(user.pk),
                 details={"username": user.username, "removed": removed})
    return removed


# --- API tokens -----------------------------------------------------------------------------------


def api_token_issue(*, username: str, password: str, otp: str | None = None) -> tuple[str, dt.datetime]:
    """Check the credentials (and the second factor's code where one is needed) and issue a bearer token.

    Raises SignInRefused: locked out, the credentials or code not right, or a second factor required
    but not yet set up (said only to someone who gave the right password).
    """
    user = sign_in_check_password(username=username, password=password, action="api_token.refused")
    if second_factor_needed(user):
        if second_factor_device(user) is None:
            raise SignInRefused(SignInRefused.SECOND_FACTOR_NOT_SET_UP)
        second_factor_check_code(user=user, code=otp or "", action="api_token.refused")
    return _api_token_create(user=user)


@transaction.atomic
def _api_token_create(*, user: User) -> tuple[str, dt.datetime]:
    raw = ApiToken.new_raw_key()
    now = timezone.now()
    expires_at = now + dt.timedelta(seconds=settings.API_TOKEN_LIFETIME_SECONDS)
    token = ApiToken.objects.create(user=user, key_hash=hash_token(raw), created_at=now, expires_at=expires_at)
    audit_record(actor=user, action="api_token.issue", object_type="api_token", object_id=str(token.pk))
    return raw, expires_at


def user_for_token(raw: str) -> User | None:
    """The active user holding this unexpired token, with their organisation; None for anything else.

    Runs on every API request, so by one plain statement (opennrm/core/sql.py): the ORM's compilation of
    this three-table query cost more than the query itself (BENCHMARKS.md).
    """
    connection = connections[DEFAULT_DB_ALIAS]
    qn = connection.ops.quote_name
    user_columns = model_columns(User, "u", connection)
    organisation_columns = model_columns(Organisation, "o", connection)
    sql = (
        f"SELECT {user_columns.select}, {organisation_columns.select} "
        f"FROM {qn(ApiToken._meta.db_table)} t "
        f"JOIN {qn(User._meta.db_table)} u ON u.{qn('id')} = t.{qn('user_id')} "
        f"LEFT JOIN {qn(Organisation._meta.db_table)} o ON o.{qn('id')} = u.{qn('organisation_id')} "
        f"WHERE t.{qn('key_hash')} = %s AND t.{qn('expires_at')} > %s AND u.{qn('is_active')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [hash_token(raw), connection.ops.adapt_datetimefield_value(timezone.now())])
        row = cursor.fetchone()
    if row is None:
        return None
    user = user_columns.instance(row[: len(user_columns)], connection)
    organisation_values = row[len(user_columns) :]
    # As select_related would: the organisation is there without another query (None when the user has none).
    user._state.fields_cache["organisation"] = (
        organisation_columns.instance(organisation_values, connection) if organisation_values[0] is not None else None
    )
    return user


@transaction.atomic
def organisation_save(*, actor, organisation: Organisation, changed: list[str] | None = None) -> Organisation:
    created = organisation.pk is None
    organisation.save()
    # A guardian service's areas feed the guardian coverage kept per process (core/cache.py).
    transaction.on_commit(forget_all)
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
def user_signed_in(*, user, second_factor: str) -> None:
    """The password was right; `second_factor` says what comes next: verified, asked, set_up or not_needed."""
    audit_record(actor=user, action="user.sign_in", object_type="user", object_id=str(user.pk), details={"second_factor": second_factor})


@transaction.atomic
def user_signed_out(*, user, reason: str = "asked") -> None:
    audit_record(actor=user, action="user.sign_out" if reason == "asked" else "user.sign_out_idle", object_type="user", object_id=str(user.pk))
