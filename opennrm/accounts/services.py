import datetime as dt
from collections.abc import Callable
from typing import Any, cast

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import F, Q
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from opennrm.audit.changes import stored_values
from opennrm.audit.services import audit_change, audit_record, current_origin
from opennrm.core.cache import forget_all
from opennrm.core.errors import NotAllowed, Refused
from opennrm.core.sql import model_columns
from opennrm.policy import Capability, Role, has_capability, role_needs_second_administrator

from .models import (
    ORGANISATION_SCOPE_FIELDS,
    AccessRequest,
    ApiToken,
    Organisation,
    PasswordResetEmail,
    SignInFailure,
    SignInGate,
    SignInLock,
    Team,
    User,
    hash_token,
)
from .selectors import second_factor_device, second_factor_needed, sign_in_lock_active, username_key

LOCKED_MESSAGE = (
    "There have been too many failed attempts to sign in with this username or from this network. "
    "Try again in {minutes} minutes, or ask your administrator to unlock your account."
)


def locked_message() -> str:
    return LOCKED_MESSAGE.format(minutes=max(1, settings.SIGN_IN_LOCK_SECONDS // 60))


class SignInRefused(NotAllowed):
    """Signing in (a page or an API token) was refused; `reason` says why, in words that reveal no username. Its own
    kind of NotAllowed: each reason has its own answer (a page, or 401, 403 or 429 from the API)."""

    CREDENTIALS = "credentials"
    LOCKED = "locked"
    SECOND_FACTOR_NOT_SET_UP = "second_factor_not_set_up"

    def __init__(self, reason: str, lock: SignInLock | None = None) -> None:
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


def _lock_gates(limits: list[tuple[str, str, str, int]]) -> None:
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
            full = next(
                (
                    kind
                    for kind, key, field, limit in limits
                    if _failures_since_last_lock(kind=kind, key=key, field=field, now=now) >= limit
                ),
                None,
            )
            if full is None:
                return SignInFailure.objects.create(
                    username_key=username_key(username), ip_address=ip_address, occurred_at=now
                )
            # As many attempts as the limit are being checked at this moment: this one would be one too many.
            audit_record(
                actor=None,
                action="sign_in.refused_limit_reached",
                object_type="user",
                details={"username": username[:150], "kind": full},
            )
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
            lock = SignInLock.objects.create(
                kind=kind,
                key=lock_key,
                locked_at=now,
                locked_until=now + dt.timedelta(seconds=settings.SIGN_IN_LOCK_SECONDS),
            )
            audit_record(
                actor=None,
                action="sign_in.locked",
                object_type="sign_in_lock",
                object_id=str(lock.pk),
                details={"kind": kind, "key": lock_key, "locked_until": lock.locked_until.isoformat()},
            )
            made = made or lock
    return made


def _checked_attempt[T](*, username: str, action: str, reason: str, check: Callable[[], T | None]) -> T:
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
    audit_record(
        actor=None,
        action="sign_in.refused_locked",
        object_type="sign_in_lock",
        object_id=str(lock.pk),
        details={"username": username[:150]},
    )


@transaction.atomic
def sign_in_lock_lift(*, actor: User, lock: SignInLock) -> SignInLock:
    """An administrator lifts a lock before it runs out."""
    if not has_capability(actor, Capability.MANAGE_ACCOUNTS):
        raise NotAllowed("Only an administrator may unlock signing in")
    if lock.unlocked_at is None:
        before = stored_values(lock)
        lock.unlocked_at = timezone.now()
        lock.unlocked_by = actor
        lock.save(update_fields=["unlocked_at", "unlocked_by"])
        audit_change(
            actor=actor,
            instance=lock,
            before=before,
            action="sign_in.unlock",
            details={"kind": lock.kind, "key": lock.key},
        )
    return lock


@transaction.atomic
def user_sign_in_unlock(*, actor: User, user: User) -> int:
    """Lift every lock still on this user's username; the number lifted."""
    now = timezone.now()
    locks = SignInLock.objects.filter(
        kind=SignInLock.Kind.USERNAME, key=username_key(user.username), locked_until__gt=now, unlocked_at__isnull=True
    )
    lifted = [sign_in_lock_lift(actor=actor, lock=lock) for lock in locks]
    return len(lifted)


def sign_in_check_password(*, username: str, password: str, action: str = "user.sign_in_failed") -> User:
    """The active user with these credentials; SignInRefused when locked out (whatever the password) or wrong."""
    return _checked_attempt(
        username=username,
        action=action,
        reason="password",
        check=lambda: authenticate(username=username, password=password),
    )


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
            accepted = (
                device is not None and code.isdigit() and len(code) == device.digits and device.verify_token(code)
            )
        return device if accepted else None

    return _checked_attempt(username=user.username, action=action, reason="code", check=device_accepting_code)


@transaction.atomic
def second_factor_verified(*, user: User, device: TOTPDevice) -> None:
    audit_record(
        actor=user,
        action="user.second_factor_verified",
        object_type="user",
        object_id=str(user.pk),
        details={"device": device.persistent_id},
    )


@transaction.atomic
def second_factor_enrol(*, actor: User, key: str) -> TOTPDevice:
    """The actor's new authenticator app (its key confirmed by a code), replacing any they had."""
    replaced = TOTPDevice.objects.filter(user=actor).delete()[0]
    device = TOTPDevice(user=actor, name="Authenticator app", key=key, confirmed=True)
    # The code that confirmed the key is spent: the next sign-in needs a later one.
    device.last_t = TOTP(device.bin_key, device.step, device.t0, device.digits).t()
    device.save()
    audit_record(
        actor=actor,
        action="user.second_factor_enrolled",
        object_type="user",
        object_id=str(actor.pk),
        details={"device": device.persistent_id, "replaced": replaced},
    )
    return device


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
    user = cast(User, user_columns.instance(row[: len(user_columns)], connection))  # model_columns(User, ...)
    organisation_values = row[len(user_columns) :]
    # As select_related would: the organisation is there without another query (None when the user has none).
    user._state.fields_cache["organisation"] = (
        organisation_columns.instance(organisation_values, connection) if organisation_values[0] is not None else None
    )
    return user


def _require_administrator(actor: User | None, what: str) -> None:
    # actor=None is the demo loader and migrations: trusted code, not a person.
    if actor is not None and not has_capability(actor, Capability.MANAGE_ACCOUNTS):
        raise NotAllowed(f"Only an administrator can {what}")


@transaction.atomic
def organisation_save(*, actor: User | None, organisation: Organisation) -> Organisation:
    """Create or change an organisation, audited with what it said before and after.

    An administrator's change of what it covers (ORGANISATION_SCOPE_FIELDS) while it has active users whose role needs
    a second administrator would change the records they see: it waits for a second administrator (AccessRequest),
    and the organisation keeps covering what it did.
    """
    _require_administrator(actor, "change organisations")
    before = stored_values(organisation)
    asked = {}
    if actor is not None and before is not None and _has_users_granted_by_two(organisation):
        asked = {
            name: getattr(organisation, name)
            for name in ORGANISATION_SCOPE_FIELDS
            if getattr(organisation, name) != before[name]
        }
        for name in asked:
            setattr(organisation, name, before[name])
    organisation.save()
    # A guardian service's areas feed the guardian coverage kept per process (core/cache.py).
    transaction.on_commit(forget_all)
    audit_change(actor=actor, instance=organisation, before=before, details={"name": organisation.name})
    if asked and actor is not None:  # asked only when an administrator acts
        _access_request_open(
            actor=actor, kind=AccessRequest.Kind.ORGANISATION_SCOPE, organisation=organisation, scope=asked
        )
    return organisation


def _has_users_granted_by_two(organisation: Organisation) -> bool:
    roles = [role for role in Role if role_needs_second_administrator(role)]
    return organisation.users.filter(is_active=True, role__in=roles).exists()


@transaction.atomic
def team_save(*, actor: User | None, team: Team) -> Team:
    """Create or change a team (administrators; actor=None is the demo loader); checked, and audited with before and after."""
    _require_administrator(actor, "change teams")
    before = stored_values(team)
    team.full_clean()
    team.save()
    audit_change(actor=actor, instance=team, before=before, details={"name": team.name})
    return team


# --- Users, and the changes a second administrator must approve (issue 22) -------------------------

ACCESS_FIELDS = ("role", "organisation_id", "team_id", "is_active")


class FourEyesRefused(NotAllowed):
    """The administrator asked for this change themselves, or it is about their own account: another must decide.
    Its own kind of NotAllowed, so that the admin tells it (shown as a message) from a role that may not decide."""


def _widens_access(before: dict | None, user: User) -> bool:
    """Whether this save would give the user case content, or another's: a role that needs a second administrator,
    on a new account, a changed role or organisation, or a re-activated account."""
    if not user.is_active or not role_needs_second_administrator(user.role):
        return False
    if before is None:
        return True
    return before["role"] != user.role or before["organisation_id"] != user.organisation_id or not before["is_active"]


def _access_request_open(*, actor: User, kind: str, user: User | None = None, **requested: Any) -> AccessRequest:
    """A request for a second administrator; it replaces a pending one of the same kind about the same account or organisation."""
    about = {"user": user} if user is not None else {"organisation": requested["organisation"]}
    AccessRequest.objects.filter(kind=kind, status=AccessRequest.Status.PENDING, **about).update(
        status=AccessRequest.Status.SUPERSEDED
    )
    request = AccessRequest.objects.create(
        kind=kind, user=user, requested_by=actor, requested_at=timezone.now(), **requested
    )
    audit_change(actor=actor, instance=request, before=None, details={"about": str(request)})
    return request


@transaction.atomic
def user_save(*, actor: User | None, user: User) -> User:
    """Create or change a user account, audited with before and after (the password only as "changed").

    An administrator's change that widens access (`_widens_access`) is not applied: the account keeps its role,
    organisation, team and active state (a new account gets no role) and an AccessRequest waits for a second
    administrator. Deactivating ends the user's sessions and API tokens. A new account made by an administrator
    has no password: its holder is sent a link to set one.
    """
    _require_administrator(actor, "change user accounts")
    before = stored_values(user)
    requested = None
    if actor is not None and _widens_access(before, user):
        requested = {"role": user.role, "organisation_id": user.organisation_id, "team_id": user.team_id}
        if before is None:
            user.role, user.team = "", None
        else:
            for name in ACCESS_FIELDS:
                setattr(user, name, before[name])
    if before is None and actor is not None:
        user.set_unusable_password()
    user.save()
    audit_change(actor=actor, instance=user, before=before, details={"username": user.username})
    if before is not None and before["is_active"] and not user.is_active:
        user_access_revoke(actor=actor, user=user, reason="deactivated")
    elif before is not None and before["password"] != user.password:
        user_access_revoke(actor=actor, user=user, reason="password_changed")  # the demo loader's new demo password
    if requested is not None and actor is not None:  # requested only when an administrator acts
        _access_request_open(actor=actor, kind=AccessRequest.Kind.ACCESS, user=user, **requested)
    if before is None and actor is not None and user.email:
        password_reset_link_send(actor=actor, user=user)
    return user


@transaction.atomic
def second_factor_reset_request(*, actor: User, user: User) -> AccessRequest:
    """An administrator asks for a user's second factor to be reset (a lost phone); a second administrator approves it.

    Alone, one administrator could point the account's email at themselves, send a reset link and set up their own
    authenticator app: the second factor is what a single administrator must not be able to replace.
    """
    _require_administrator(actor, "reset a second factor")
    return _access_request_open(actor=actor, kind=AccessRequest.Kind.SECOND_FACTOR_RESET, user=user)


def _decide(*, actor: User, access_request: AccessRequest, status: str) -> tuple[AccessRequest, dict | None]:
    if not has_capability(actor, Capability.MANAGE_ACCOUNTS):
        raise NotAllowed("Only an administrator can approve or refuse a request")
    access_request = (
        AccessRequest.objects.select_for_update(of=("self",))
        .select_related("user", "organisation", "requested_by")
        .get(pk=access_request.pk)
    )
    if access_request.status != AccessRequest.Status.PENDING:
        raise Refused(f"This request was already {access_request.get_status_display().lower()}")
    if actor.pk in (access_request.requested_by_id, access_request.user_id) or (
        access_request.kind == AccessRequest.Kind.ORGANISATION_SCOPE
        and actor.organisation_id == access_request.organisation_id
    ):
        raise FourEyesRefused(
            "A second administrator must decide this: you cannot approve or refuse your own request, "
            "nor a request about your own account or organisation"
        )
    before = stored_values(access_request)
    access_request.status, access_request.decided_by, access_request.decided_at = status, actor, timezone.now()
    access_request.save(update_fields=["status", "decided_by", "decided_at"])
    return access_request, before


@transaction.atomic
def access_request_approve(*, actor: User, access_request: AccessRequest) -> AccessRequest:
    """A second administrator approves: the account gets the requested access, or loses its second factor."""
    access_request, before = _decide(actor=actor, access_request=access_request, status=AccessRequest.Status.APPROVED)
    decided = {"about": str(access_request), "requested_by": access_request.requested_by.username}
    audit_change(actor=actor, instance=access_request, before=before, action="access_request.approve", details=decided)
    if access_request.kind == AccessRequest.Kind.ORGANISATION_SCOPE:
        assert access_request.organisation_id is not None  # a request about an organisation names it
        organisation = Organisation.objects.select_for_update().get(pk=access_request.organisation_id)
        organisation_before = stored_values(organisation)
        for name, value in access_request.scope.items():
            setattr(organisation, name, value)
        organisation.save(update_fields=list(access_request.scope))
        transaction.on_commit(forget_all)
        audit_change(
            actor=actor,
            instance=organisation,
            before=organisation_before,
            action="organisation.scope_granted",
            details={"request": access_request.pk, **decided},
        )
        return access_request
    assert access_request.user_id is not None  # every other kind of request is about a user
    user = User.objects.select_for_update().get(pk=access_request.user_id)
    if access_request.kind == AccessRequest.Kind.SECOND_FACTOR_RESET:
        removed = TOTPDevice.objects.filter(user=user).delete()[0]
        audit_record(
            actor=actor,
            action="user.second_factor_reset",
            object_type="user",
            object_id=str(user.pk),
            details={"username": user.username, "removed": removed, "request": access_request.pk, **decided},
        )
        user_access_revoke(actor=actor, user=user, reason="second_factor_reset")
        return access_request
    user_before = stored_values(user)
    user.role, user.organisation_id, user.team_id, user.is_active = (
        access_request.role,
        access_request.organisation_id,
        access_request.team_id,
        True,
    )
    user.save(update_fields=list(ACCESS_FIELDS))
    audit_change(
        actor=actor,
        instance=user,
        before=user_before,
        action="user.access_granted",
        details={"username": user.username, "request": access_request.pk, **decided},
    )
    return access_request


@transaction.atomic
def access_request_refuse(*, actor: User, access_request: AccessRequest) -> AccessRequest:
    access_request, before = _decide(actor=actor, access_request=access_request, status=AccessRequest.Status.REFUSED)
    audit_change(
        actor=actor,
        instance=access_request,
        before=before,
        action="access_request.refuse",
        details={"about": str(access_request), "requested_by": access_request.requested_by.username},
    )
    return access_request


# --- Passwords: set by their holder only, through a link (issue 22) --------------------------------


@transaction.atomic
def password_reset_link_send(*, actor: User, user: User) -> PasswordResetEmail:
    """Email the user a link to set their own password; an administrator never chooses it. Sent by the worker."""
    from .tasks import send_password_reset_email

    _require_administrator(actor, "send a password reset link")
    if not user.email:
        raise Refused(f"{user.username} has no email address: add one to their account first, then send the link")
    email = PasswordResetEmail.objects.create(user=user, requested_by=actor)
    audit_record(
        actor=actor,
        action="user.password_reset_link_requested",
        object_type="user",
        object_id=str(user.pk),
        details={"username": user.username, "email": email.pk},
    )
    send_password_reset_email.enqueue(email_id=email.pk)
    return email


@transaction.atomic
def password_set(*, user: User, password: str, how: str) -> User:
    """The user sets their own password (`how`: "reset_link" or "changed_by_user"); every session and API token of theirs ends
    (a view that keeps its own session calls update_session_auth_hash)."""
    before = stored_values(user)
    user.set_password(password)
    user.save(update_fields=["password"])
    audit_change(
        actor=user,
        instance=user,
        before=before,
        action="user.password_set",
        details={"username": user.username, "how": how},
    )
    user_access_revoke(actor=user, user=user, reason=f"password_set:{how}")
    return user


@transaction.atomic
def user_access_revoke(*, actor: User | None, user: User, reason: str) -> int:
    """End every session and API token of the user: the tokens are deleted, and raising sessions_generation makes
    every session's stored hash stale (a view that must keep its own session calls update_session_auth_hash)."""
    tokens = ApiToken.objects.filter(user=user).delete()[0]
    User.objects.filter(pk=user.pk).update(sessions_generation=F("sessions_generation") + 1)
    user.refresh_from_db(fields=["sessions_generation"])
    audit_record(
        actor=actor,
        action="user.access_revoked",
        object_type="user",
        object_id=str(user.pk),
        details={"username": user.username, "reason": reason, "api_tokens_revoked": tokens, "sessions": "ended"},
    )
    return tokens


@transaction.atomic
def user_signed_in(*, user: User, second_factor: str) -> None:
    """The password was right; `second_factor` says what comes next: verified, asked, set_up or not_needed."""
    audit_record(
        actor=user,
        action="user.sign_in",
        object_type="user",
        object_id=str(user.pk),
        details={"second_factor": second_factor},
    )


@transaction.atomic
def user_signed_out(*, user: User, reason: str = "asked") -> None:
    audit_record(
        actor=user,
        action="user.sign_out" if reason == "asked" else "user.sign_out_idle",
        object_type="user",
        object_id=str(user.pk),
    )
