"""Reading referrals: always scoped to the acting user, and every read of a record audited."""

import datetime as dt
import uuid as uuid_module
from collections.abc import Iterable
from dataclasses import dataclass
from typing import cast

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from opennrm.accounts.models import User
from opennrm.audit.models import AuditEvent
from opennrm.audit.services import AuditEntry, audit_record, audit_record_many
from opennrm.core.errors import NotFound
from opennrm.core.sql import CompiledQuery
from opennrm.policy import (
    Access,
    Capability,
    EventGrant,
    Role,
    accesses_to,
    compartments_for,
    event_grants,
    has_capability,
    record_access_log_scope,
    referral_scope,
)

from .models import DutyToNotify, NrmStatusLookup, Referral, ReferralDraft


def referrals_visible_to(*, actor: User) -> QuerySet[Referral]:
    scope = referral_scope(actor)
    if scope is None:
        return Referral.objects.none()
    return Referral.objects.filter(scope)


# Opening one referral is the commonest read, so its scoped query is compiled once per scope (core/sql.py).
_UUID_PLACEHOLDER = uuid_module.UUID("5e1ec7ed-0000-4000-8000-00000000cafe")
_OPEN_QUERIES: dict[tuple, CompiledQuery] = {}
_OPEN_QUERIES_MAX = 1000  # one per organisation or area in practice; past this, compile each time


def _plain_scope_key(scope: Q) -> tuple | None:
    """A hashable key for a scope made only of field lookups on plain values; None for anything else
    (a subquery's rows may change between requests, so such a scope is compiled each time)."""
    parts = []
    for child in scope.children:
        if isinstance(child, Q):
            inner = _plain_scope_key(child)
            if inner is None:
                return None
            parts.append(inner)
        elif isinstance(child, tuple) and isinstance(child[1], (str, int, bool, type(None))):
            parts.append(child)
        elif (
            isinstance(child, tuple)
            and isinstance(child[1], (tuple, list))
            and all(isinstance(v, (str, int)) for v in child[1])
        ):
            parts.append((child[0], tuple(child[1])))
        else:
            return None
    return (scope.connector, scope.negated, tuple(parts))


def _visible_by_uuid(actor: User, referral_uuid: uuid_module.UUID) -> Referral | None:
    scope = referral_scope(actor)
    if scope is None:
        return None
    key = _plain_scope_key(scope)
    if key is None:
        return Referral.objects.filter(scope).filter(uuid=referral_uuid).first()
    compiled = _OPEN_QUERIES.get(key)
    if compiled is None:
        compiled = CompiledQuery(Referral.objects.filter(scope).filter(uuid=_UUID_PLACEHOLDER), (_UUID_PLACEHOLDER,))
        if len(_OPEN_QUERIES) < _OPEN_QUERIES_MAX:
            _OPEN_QUERIES[key] = compiled
    found = compiled.fetch(referral_uuid)
    return found[0] if found else None


def referral_open(*, actor: User, uuid: str | uuid_module.UUID, purpose: str = "view") -> Referral:
    """One referral the actor may see, with the read audited; a refused attempt is audited too.

    `referral.access` (policy.Access) says what the actor sees of it and may do to it, and why: pages and the
    API show the record through it (ADR 0028).
    """
    with transaction.atomic():
        try:
            referral = _visible_by_uuid(
                actor, uuid if isinstance(uuid, uuid_module.UUID) else uuid_module.UUID(str(uuid))
            )
        except (ValueError, TypeError, ValidationError):
            referral = None
        access = accesses_to(actor, [referral]).get(referral.pk) if referral else None
        if referral is not None and access is None:
            referral = None  # in scope a moment ago, its grant ended since: not the caller's any more
        if referral is not None:
            referral.access = access
        audit_record(
            actor=actor,
            action="referral.read" if referral else "referral.read_refused",
            object_type="referral",
            # What was asked for, as asked: whether it exists is not the caller's to learn, nor the trail's to hide.
            object_id=str(referral.uuid) if referral else str(uuid)[:64],
            details={**access.audit_details(), "purpose": purpose} if access is not None else {"purpose": purpose},
        )
    if referral is None:
        raise NotFound
    return referral


def audit_listed(*, actor: User, referrals: Iterable[Referral], purpose: str | None = None) -> None:
    """Audit the read of each record shown in a list, with the compartments the actor sees of it (its `access`
    when the selector worked that out, as referral_page does, else the role's)."""
    extra = {"purpose": purpose} if purpose else {}
    role = {"compartments": sorted(compartments_for(actor))}

    def details(r: Referral) -> dict:
        access: Access | None = getattr(r, "access", None)
        return {**(access.audit_details() if access else role), **extra}

    audit_record_many(
        actor=actor, entries=[AuditEntry("referral.list", "referral", str(r.uuid), details(r)) for r in referrals]
    )


@transaction.atomic
def referral_page(
    *,
    actor: User,
    status: str | None = None,
    nation: str | None = None,
    first_responder_reference: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[Referral], int]:
    """A page of the referrals the actor may see, newest first, and the total; each listed record's read is audited.
    Each carries its `access`; cases/selectors.py referral_page adds what a guardian service's view shows."""
    if not has_capability(actor, Capability.LIST_REFERRALS):
        return [], 0
    qs = referrals_visible_to(actor=actor)
    if status:
        qs = qs.filter(status=status)
    if nation:
        qs = qs.filter(nation=nation)
    if first_responder_reference:
        qs = qs.filter(first_responder_reference=first_responder_reference)
    total = qs.count()
    items = list(
        qs.select_related("organisation")
        .prefetch_related("decisions")
        .order_by("-received_at", "-id")[offset : offset + limit]
    )
    accesses = accesses_to(actor, items)
    items = [r for r in items if r.pk in accesses]
    for r in items:
        r.access = accesses[r.pk]
    audit_listed(actor=actor, referrals=items)
    return items, total


def nrm_status_lookup_refused_until(actor: User, now: dt.datetime) -> dt.datetime | None:
    """Count this lookup against the user's limits (settings.NRM_STATUS_LOOKUPS_PER_*); None when it is allowed,
    else when the next one will be (the refused lookup itself is not counted)."""
    windows = [
        (dt.timedelta(minutes=1), settings.NRM_STATUS_LOOKUPS_PER_MINUTE),
        (dt.timedelta(hours=1), settings.NRM_STATUS_LOOKUPS_PER_HOUR),
    ]
    windows = [(span, limit) for span, limit in windows if limit > 0]
    if not windows:
        return None
    # One user's lookups are counted one at a time, so two clients of the same user cannot both take the last
    # one: the user's row is locked on PostgreSQL, and on SQLite the insert takes the database's write lock first.
    list(User.objects.select_for_update().filter(pk=actor.pk).values_list("pk", flat=True))
    this = NrmStatusLookup.objects.create(user_id=actor.pk, at=now)
    longest = max(span for span, _ in windows)
    NrmStatusLookup.objects.filter(user_id=actor.pk, at__lte=now - longest).delete()
    earlier = list(
        NrmStatusLookup.objects.filter(user_id=actor.pk, at__gt=now - longest)
        .exclude(pk=this.pk)
        .order_by("at")
        .values_list("at", flat=True)
    )
    refused_until = None
    for span, limit in windows:
        within = [at for at in earlier if at > now - span]
        if len(within) >= limit:
            # Allowed again once enough of these have left the window to leave room for one more.
            until = within[len(within) - limit] + span
            refused_until = max(refused_until or until, until)
    if refused_until is not None:
        this.delete()
    return refused_until


def drafts_for(*, actor: User) -> QuerySet[ReferralDraft]:
    """The actor's own unsubmitted drafts; nobody else ever sees them."""
    return ReferralDraft.objects.filter(owner_id=actor.pk, submitted_referral__isnull=True).order_by("-updated_at")


def draft_get(*, actor: User, uuid: str | uuid_module.UUID) -> ReferralDraft:
    try:
        return ReferralDraft.objects.select_related("submitted_referral").get(uuid=uuid, owner_id=actor.pk)
    except (ReferralDraft.DoesNotExist, ValueError, TypeError, ValidationError):
        raise NotFound


def duty_to_notify_reports_for(*, actor: User) -> QuerySet[DutyToNotify]:
    if not has_capability(actor, Capability.NOTIFY_DUTY):
        return DutyToNotify.objects.none()
    # An account without an organisation matches none (NULL): cast, for the lookup's type, not checked.
    return DutyToNotify.objects.filter(organisation_id=cast(int, actor.organisation_id)).order_by("-received_at")


@transaction.atomic
def duty_to_notify_open(*, actor: User, uuid: str | uuid_module.UUID) -> DutyToNotify:
    """One Duty to Notify report of the actor's organisation, with the read audited."""
    try:
        report = duty_to_notify_reports_for(actor=actor).get(uuid=uuid)
    except (DutyToNotify.DoesNotExist, ValueError, TypeError, ValidationError):
        raise NotFound
    audit_record(actor=actor, action="duty_to_notify.read", object_type="duty_to_notify", object_id=str(report.uuid))
    return report


# --- A referral's access log: who did what to it, read from the audit trail ----------------------------------------

# What each action on a referral means to someone reading its access log; others are shown by code.
ACTION_DESCRIPTIONS = {
    "referral.create": "Made the referral",
    "referral.import": "Imported the referral",
    "referral.read": "Opened the record",
    "referral.read_refused": "Tried to open the record, and was refused",
    "referral.list": "Saw it in a list of referrals",
    "referral.reroute": "Sent it to another competent authority",
    "referral.access_log_read": "Looked at who has seen the record",
    "referral.access_log_refused": "Tried to look at who has seen the record, and was refused",
    "nrm_status.lookup": "Looked up its NRM status by Home Office reference",
    "nrm_status.lookup_throttled": "Tried to look up an NRM status, and was refused: too many lookups in a short time",
    "decision.notification_sent": "Sent a decision notification",
    "decision.notification_failed": "Tried to send a decision notification, and failed",
    "decision.confirm": "Confirmed a decision",
    "decision.send_back": "Sent a proposed decision back",
}


@dataclass(frozen=True)
class AccessLogEntry:
    at: dt.datetime
    action: str
    description: str
    username: str  # empty for the service itself (the background worker)
    name: str
    role: str
    organisation: str
    ip_address: str | None
    user_agent: str
    compartments: list[str]
    purpose: str


@dataclass(frozen=True)
class AccessLog:
    referral: Referral
    entries: list[AccessLogEntry]
    total: int
    grants: list[EventGrant]  # access its events gave others: who, why, when it began and ended (ADR 0028)
    now: dt.datetime


def _describe(action: str) -> str:
    if action in ACTION_DESCRIPTIONS:
        return ACTION_DESCRIPTIONS[action]
    if action.startswith("decision."):
        return "Recorded a decision (" + action.removeprefix("decision.").replace("_", " ") + ")"
    return action.replace("_", " ").replace(".", ": ")


def record_access_log(
    *, actor: User, referral_uuid: str | uuid_module.UUID, offset: int = 0, limit: int = 25
) -> AccessLog:
    """One referral's audit events, newest first: who did what to it, when and from where.

    For the child's local authority, guardian and auditors (policy.record_access_log_scope); anyone
    else, or a record outside their scope, gets NotFound. Reading the log is audited, and so shows in it.
    """
    scope = record_access_log_scope(actor)
    with transaction.atomic():
        referral = None
        if scope is not None:
            try:
                referral = Referral.objects.filter(scope).get(uuid=referral_uuid)
            except (Referral.DoesNotExist, ValueError, TypeError, ValidationError):
                referral = None
        audit_record(
            actor=actor,
            action="referral.access_log_read" if referral else "referral.access_log_refused",
            object_type="referral",
            object_id=str(referral.uuid) if referral else str(referral_uuid)[:64],
        )
    if referral is None:
        raise NotFound
    events = AuditEvent.objects.filter(object_type="referral", object_id=str(referral.uuid))
    total = events.count()
    page = list(events.order_by("-occurred_at", "-id")[offset : offset + limit])
    users = User.objects.select_related("organisation").in_bulk({e.actor_id for e in page if e.actor_id})
    entries = []
    for event in page:
        user = users.get(event.actor_id)
        role = Role(event.actor_role).label if event.actor_role in Role.values else event.actor_role
        entries.append(
            AccessLogEntry(
                at=event.occurred_at,
                action=event.action,
                description=_describe(event.action),
                username=event.actor_username,
                name=(user.get_full_name() or user.username)
                if user
                else (event.actor_username or "OpenNRM (the service itself)"),
                role=role,
                organisation=user.organisation.name if user and user.organisation else "",
                ip_address=event.ip_address,
                user_agent=event.user_agent,
                compartments=list(event.details.get("compartments", [])) if isinstance(event.details, dict) else [],
                purpose=str(event.details.get("purpose", "")) if isinstance(event.details, dict) else "",
            )
        )
    return AccessLog(
        referral=referral, entries=entries, total=total, grants=event_grants([referral.pk]), now=timezone.now()
    )
