"""Reading referrals: always scoped to the acting user, and every read of a record audited."""

import datetime as dt
import uuid as uuid_module
from collections.abc import Iterable
from typing import cast

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from opennrm.accounts.models import User
from opennrm.audit.services import AuditEntry, audit_record, audit_record_many
from opennrm.core.errors import NotFound, Throttled
from opennrm.core.sql import CompiledQuery
from opennrm.policy import (
    Access,
    Capability,
    Compartment,
    View,
    accesses_to,
    compartments_for,
    has_capability,
    referral_scope,
)

from .models import DutyToNotify, NrmStatusLookup, Referral, ReferralDraft
from .present import status_compartment
from .references import home_office_reference_key


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
    """A page of the referrals the actor may see, newest first, and the total; each listed record's read is audited."""
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
    waiting = [r for r in items if r.access.view == View.GUARDIAN_ALLOCATION]
    if waiting:  # what allocating needs, for the page at once (present.guardian_allocation_cut)
        from opennrm.safeguarding.selectors import allocation_summaries

        summaries = allocation_summaries(waiting)
        for r in waiting:
            r.allocation_summary = summaries[r.pk]
    audit_listed(actor=actor, referrals=items)
    return items, total


def _lookup_refused_until(actor: User, now: dt.datetime) -> dt.datetime | None:
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


def nrm_status_lookup(*, actor: User, home_office_reference: str) -> list[dict]:
    """The firewall's one opening: the status view (present.status_compartment: issued decisions only) of every
    referral whose Home Office reference matches this one, compared by references.home_office_reference_key.

    Throttled per user (Throttled); every lookup, found, not found or refused, is audited.
    """
    key = home_office_reference_key(home_office_reference)
    if not has_capability(actor, Capability.LOOKUP_NRM_STATUS) or not key:
        return []
    typed = home_office_reference[:40]
    with transaction.atomic():
        refused_until = _lookup_refused_until(actor, timezone.now())
        if refused_until is not None:
            audit_record(
                actor=actor,
                action="nrm_status.lookup_throttled",
                object_type="referral",
                details={"home_office_reference": typed, "retry_at": refused_until.isoformat()},
            )
        else:
            found = list(
                Referral.objects.filter(home_office_reference_key=key)
                .prefetch_related("decisions")
                .order_by("received_at", "id")
            )
            audit_record_many(
                actor=actor,
                entries=[
                    AuditEntry(
                        "nrm_status.lookup", "referral", str(r.uuid), {"compartments": [Compartment.STATUS.value]}
                    )
                    for r in found
                ]
                or [AuditEntry("nrm_status.lookup", "referral", "", {"found": 0, "home_office_reference": typed})],
            )
    if refused_until is not None:
        raise Throttled(refused_until, "Too many NRM status lookups in a short time")
    return [status_compartment(r) for r in found]


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
