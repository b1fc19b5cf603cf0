import datetime as dt

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone

from opennrm.audit.services import audit_record
from opennrm.core.sql import model_columns

from .models import ApiToken, Organisation, User, hash_token


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
    audit_record(
        actor=actor,
        action="organisation.create" if created else "organisation.change",
        object_type="organisation",
        object_id=str(organisation.pk),
        details={"name": organisation.name, "changed": changed or []},
    )
    return organisation


@transaction.atomic
def user_save(*, actor, user: User, changed: list[str] | None = None) -> User:
    created = user.pk is None
    user.save()
    audit_record(
        actor=actor,
        action="user.create" if created else "user.change",
        object_type="user",
        object_id=str(user.pk),
        details={"username": user.username, "role": user.role, "changed": [c for c in (changed or []) if c != "password"], "password_changed": "password" in (changed or [])},
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
