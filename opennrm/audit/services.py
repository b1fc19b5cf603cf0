"""Writing the audit trail. Services call `audit_record` inside their own transaction.

The trail is spread over `settings.AUDIT_CHAINS` independent hash chains. A process thread keeps
to one chain, so a transaction locks at most one chain head and two writers wait for each other
only when they happen to share a chain.
"""

import ipaddress
import json
import math
import random
import re
import threading
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model
from django.http import HttpRequest
from django.utils import timezone

from opennrm.core.errors import Refused
from opennrm.core.models import OutgoingEmail

from .chain import GENESIS, entry_digest, hashed_fields
from .changes import difference, field_values, stored_values
from .checkpoint import (
    ChainMark,
    Checkpoint,
    checkpoint_file_name,
    checkpoint_read,
    checkpoint_signed_json,
    newest_checkpoint_file,
)
from .keys import create_file
from .models import AuditChainHead, AuditEvent
from .verify import checkpoint_shortfalls

if TYPE_CHECKING:  # accounts lies above this layer (pyproject.toml's import contracts): for types only
    from opennrm.accounts.models import User


@dataclass(frozen=True)
class Origin:
    """Where an action came from: the client's address and user agent, or a command's name."""

    ip_address: str | None = None
    user_agent: str = ""


current_origin: ContextVar[Origin] = ContextVar("opennrm_audit_origin", default=Origin(user_agent="opennrm command"))

_thread_chain = threading.local()


def _chain_for_this_thread() -> int:
    chain = getattr(_thread_chain, "chain", None)
    if chain is None or chain >= settings.AUDIT_CHAINS:
        chain = random.randrange(settings.AUDIT_CHAINS)
        _thread_chain.chain = chain
    return chain


def origin_from_request(request: HttpRequest) -> Origin:
    raw_ip = request.META.get("REMOTE_ADDR") or None
    try:
        ip = str(ipaddress.ip_address(raw_ip)) if raw_ip else None
    except ValueError:
        ip = None
    return Origin(ip_address=ip, user_agent=(request.META.get("HTTP_USER_AGENT") or "")[:200])


@dataclass(frozen=True)
class AuditEntry:
    action: str
    object_type: str = ""
    object_id: str = ""
    details: dict | None = None


def audit_record(
    *, actor: "User | None", action: str, object_type: str = "", object_id: str = "", details: dict | None = None
) -> AuditEvent:
    """Append one event. Must run inside the acting service's transaction."""
    return audit_record_many(actor=actor, entries=[AuditEntry(action, object_type, str(object_id), details)])[0]


def audit_record_many(*, actor: "User | None", entries: list[AuditEntry]) -> list[AuditEvent]:
    """Append several events for one actor under a single chain lock (bulk imports)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record must be called inside the acting service's transaction")
    if not entries:
        return []
    origin = current_origin.get()
    chain = _chain_for_this_thread()
    seq, prev_hash = _lock_head(chain)
    prev_hash = prev_hash or GENESIS
    now = timezone.now()
    actor_id = getattr(actor, "pk", None)
    events = []
    for entry in entries:
        seq += 1
        event = AuditEvent(
            chain=chain,
            seq=seq,
            occurred_at=now,
            actor_id=actor_id,
            actor_username=getattr(actor, "username", "") or "",
            actor_role=getattr(actor, "role", "") or "",
            action=entry.action,
            object_type=entry.object_type,
            object_id=entry.object_id,
            ip_address=origin.ip_address,
            user_agent=origin.user_agent,
            details=stored_form(entry.details or {}),
            prev_hash=prev_hash,
        )
        event.hash = entry_digest(chain=chain, seq=seq, prev_hash=prev_hash, fields=hashed_fields(event))
        prev_hash = event.hash
        events.append(event)
    _insert_events(events, chain=chain, head_seq=seq, head_hash=prev_hash)
    return events


def audit_email_attempt(
    email: OutgoingEmail,
    *,
    sent: bool,
    audit_action: str,
    object_id: object,
    details: dict,
    object_type: str = "referral",
) -> AuditEvent:
    """Audit one attempt at sending an OutgoingEmail (core/outbox.py's `attempt_send`, whose result is `sent`), in the
    caller's transaction: `<audit_action>_sent` or `<audit_action>_failed`, against the record it is about (a
    referral's uuid, a user's id). The event names how many addresses, not which: the trail need not hold contact details.
    """
    details = {**details, "attempt": email.attempts}
    if sent:
        action, details = f"{audit_action}_sent", {**details, "recipients": len(email.sent_to)}
    else:
        action = f"{audit_action}_failed"
        details = {
            **details,
            "error": email.last_error,
            "next_attempt_at": email.next_attempt_at and email.next_attempt_at.isoformat(),
        }
    return audit_record(actor=None, action=action, object_type=object_type, object_id=str(object_id), details=details)


def object_type_of(instance_or_model: Model | type[Model]) -> str:
    """The audit trail's name for a kind of record: ClosureDay -> "closure_day"."""
    name = instance_or_model._meta.object_name
    assert name is not None  # set on every model class
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def audit_change(
    *,
    actor: "User | None",
    instance: Model,
    before: dict | None,
    deleted: bool = False,
    action: str = "",
    details: dict | None = None,
) -> AuditEvent:
    """Record a create, change or delete of `instance` with what it said before and after (changed fields only,
    secrets said but never shown: audit/changes.py). `before` is `stored_values(instance)` taken before the write.
    Must run inside the acting service's transaction, after the write."""
    object_type = object_type_of(instance)
    pk_name = instance._meta.pk.attname
    if not action:
        action = f"{object_type}.{'delete' if deleted else 'create' if before is None else 'change'}"
    after = None if deleted else field_values(instance)
    return audit_record(
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=str(instance.pk or (before or {}).get(pk_name, "")),
        details={**(details or {}), **difference(before, after)},
    )


@transaction.atomic
def record_save[M: Model](*, actor: "User | None", instance: M) -> M:
    """Create or change a record that has no service of its own (an administrator's edit), checked and audited with before and after."""
    before = stored_values(instance)
    instance.full_clean()
    instance.save()
    audit_change(actor=actor, instance=instance, before=before)
    return instance


@transaction.atomic
def record_delete(*, actor: "User | None", instance: Model) -> None:
    """Delete a record that has no service of its own, audited with what it said."""
    before = stored_values(instance)
    pk = instance.pk
    instance.delete()
    instance.pk = pk  # Django clears it; the trail names what was deleted
    audit_change(actor=actor, instance=instance, before=before, deleted=True)


@transaction.atomic
def record_relations_set(*, actor: "User | None", instance: Model, relations: dict[str, list]) -> None:
    """Set many-to-many relations of a record (an admin form's), audited with the related ids before and after."""

    def related_ids() -> dict[str, list[Any]]:
        return {name: sorted(getattr(instance, name).values_list("pk", flat=True)) for name in relations}

    before = related_ids()
    for name, related in relations.items():
        getattr(instance, name).set(related)
    after = related_ids()
    if before != after:
        object_type = object_type_of(instance)
        audit_record(
            actor=actor,
            action=f"{object_type}.change",
            object_type=object_type,
            object_id=str(instance.pk),
            details=difference(before, after),
        )


def stored_form(value: Any) -> Any:
    """`value` as the database gives it back, so that the HMAC written is the HMAC verified. PostgreSQL's jsonb
    keeps numbers as numeric, which has no negative zero (-0.0 comes back 0.0) and writes a float as big as 1e16
    without its exponent (it comes back an int): either would read as an edited entry."""
    if isinstance(value, dict):
        return {key: stored_form(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [stored_form(item) for item in value]
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"audit details cannot hold {value!r}: JSON has no such number")
        if value == 0:
            return 0.0
        if "e+" in repr(value):
            return int(value)
    return value


# The chain head is read and written on every audited request, so by plain SQL: the ORM's query
# building cost more than the two statements themselves (bench/, BENCHMARKS.md).


def _head_sql() -> tuple:
    connection = transaction.get_connection()
    qn = connection.ops.quote_name
    return connection, qn(AuditChainHead._meta.db_table), qn


def _lock_head(chain: int) -> tuple[int, str]:
    """The chain head's (seq, hash), locked until the transaction ends; the head is created on the chain's first use."""
    connection, table, qn = _head_sql()
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {qn('seq')}, {qn('hash')} FROM {table} WHERE {qn('chain')} = %s{lock}", [chain])
        row = cursor.fetchone()
    if row is None:
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(
            chain=chain, defaults={"seq": 0, "hash": GENESIS}
        )
        return head.seq, head.hash
    return row[0], row[1]


_INSERT_ROWS_PER_STATEMENT = 500

# PostgreSQL: one statement of fixed text whatever the number of events (one array per column, unnested), so
# psycopg caches its parsing and the server prepares it once; a VALUES list of 50 rows × 14 columns was
# re-parsed on every listed page (bench/, BENCHMARKS.md). The head moves in the same statement.
_PG_ARRAY_TYPES = {
    "chain": "smallint",
    "seq": "bigint",
    "occurred_at": "timestamptz",
    "actor_id": "bigint",
    "ip_address": "inet",
    "details": "jsonb",
}


def _insert_events(events: list[AuditEvent], *, chain: int, head_seq: int, head_hash: str) -> None:
    """Insert the events and move the chain head, by plain SQL: the same values the ORM would write,
    without building the query anew on every audited request (about half a millisecond each, bench/)."""
    connection = transaction.get_connection()
    if connection.vendor == "postgresql":
        _insert_events_postgresql(connection, events, chain=chain, head_seq=head_seq, head_hash=head_hash)
        return
    qn = connection.ops.quote_name
    fields = _event_fields()
    columns = ", ".join(qn(f.column) for f in fields)
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    table = qn(AuditEvent._meta.db_table)
    with connection.cursor() as cursor:
        for start in range(0, len(events), _INSERT_ROWS_PER_STATEMENT):
            batch = events[start : start + _INSERT_ROWS_PER_STATEMENT]
            params = [f.get_db_prep_save(getattr(event, f.attname), connection) for event in batch for f in fields]
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {', '.join([row] * len(batch))} RETURNING {qn('id')}", params
            )
            # SQLite returns the ids in VALUES order for a single INSERT (Django's bulk_create relies on it too).
            for event, (pk,) in zip(batch, cursor.fetchall()):
                event.pk = pk
                event._state.adding = False
        cursor.execute(_move_head_sql(qn), [head_seq, head_hash, chain])


def _event_fields() -> list[Field]:
    return [f for f in AuditEvent._meta.concrete_fields if not f.primary_key]


def _move_head_sql(qn: Callable[[str], str]) -> str:
    return (
        f"UPDATE {qn(AuditChainHead._meta.db_table)} SET {qn('seq')} = %s, {qn('hash')} = %s WHERE {qn('chain')} = %s"
    )


_pg_insert_sql: str | None = None


def _insert_events_postgresql(
    connection: BaseDatabaseWrapper, events: list[AuditEvent], *, chain: int, head_seq: int, head_hash: str
) -> None:
    global _pg_insert_sql
    fields = _event_fields()
    if _pg_insert_sql is None:
        qn = connection.ops.quote_name
        # A concrete field's column is a str; django-stubs types every Field's as str | None.
        column_names = ", ".join(qn(f.column) for f in fields)  # type: ignore[arg-type]
        arrays = ", ".join(f"%s::{_PG_ARRAY_TYPES.get(f.attname, 'text')}[]" for f in fields)
        _pg_insert_sql = (
            f"WITH inserted AS (INSERT INTO {qn(AuditEvent._meta.db_table)} ({column_names}) SELECT * FROM unnest({arrays}) "
            f"RETURNING {qn('id')}, {qn('seq')}), moved AS ({_move_head_sql(qn)}) SELECT {qn('id')}, {qn('seq')} FROM inserted"
        )
    columns = [[getattr(event, f.attname) for event in events] for f in fields]
    details = next(i for i, f in enumerate(fields) if f.attname == "details")
    columns[details] = [json.dumps(value) for value in columns[details]]
    with connection.cursor() as cursor:
        cursor.execute(_pg_insert_sql, [*columns, head_seq, head_hash, chain])
        by_seq = {seq: pk for pk, seq in cursor.fetchall()}
    for event in events:
        event.pk = by_seq[event.seq]
        event._state.adding = False


# Checkpoints (ADR 0027).


@dataclass(frozen=True)
class CheckpointWritten:
    path: Path
    checkpoint: Checkpoint


def audit_checkpoint_write(
    *, actor: "User | None", directory: Path | None = None, file: Path | None = None
) -> CheckpointWritten:
    """Sign every chain's head into a new checkpoint file (never replacing one), audited in the same transaction.

    Into `directory`, the file is named by its time, and the newest checkpoint already there must still hold: a chain
    cut back since then is refused rather than signed anew, so a truncation between two checkpoints stays caught.
    Raises Refused (core/errors.py), the message saying why: the checkpoint would sign a cut or rewritten trail as
    whole, its file cannot be made, or a previous checkpoint cannot be trusted or read."""
    if (directory is None) == (file is None):
        raise TypeError("give a directory or a file")
    created_at = timezone.now()
    previous = None
    if directory is not None:
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise Refused(f"cannot make the directory {directory}: {exc.strerror}")
        previous = newest_checkpoint_file(directory)
        file = directory / checkpoint_file_name(created_at)
    assert file is not None  # one of the two was given (checked above)
    if not file.parent.is_dir():
        raise Refused(f"{file.parent} is not a directory: make it, or name a file in one that exists")
    written = False
    try:
        with transaction.atomic():
            checkpoint = Checkpoint(
                created_at,
                tuple(
                    ChainMark(chain, seq, hash_)
                    for chain, seq, hash_ in AuditChainHead.objects.filter(seq__gt=0)
                    .order_by("chain")
                    .values_list("chain", "seq", "hash")
                ),
            )
            problems = checkpoint_shortfalls(checkpoint, since="its head row")
            if previous is not None:
                problems += checkpoint_shortfalls(
                    checkpoint_read(previous), since=f"the previous checkpoint {previous.name}"
                )
            if problems:
                raise Refused(
                    "; ".join(problems) + ". Run `opennrm audit verify` and investigate before checkpointing again."
                )
            audit_record(
                actor=actor,
                action="audit.checkpoint",
                details={"file": str(file), "chains": len(checkpoint.chains), "entries": checkpoint.entries},
            )
            try:
                create_file(
                    file, checkpoint_signed_json(checkpoint), mode=0o644
                )  # signed, not secret: readable by whoever ships it on
            except FileExistsError:
                raise Refused(f"{file} already exists: a checkpoint is never overwritten, so name a new file")
            except OSError as exc:
                raise Refused(f"cannot write {file}: {exc.strerror}")
            written = True
    except BaseException:
        if written:  # the transaction did not commit: no audit entry, so no file either
            file.unlink(missing_ok=True)
        raise
    return CheckpointWritten(file, checkpoint)
