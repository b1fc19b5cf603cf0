"""Reading a child's safeguarding record: scoped by the acting user's role (policy.py), every read audited.

Only roles that see the safeguarding compartment get anything here; the others are refused by role
(403) before any record is looked at, so nothing here can tell them whether a child exists.
"""

import datetime as dt
from dataclasses import dataclass
from uuid import UUID

from django.db import transaction
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.utils import timezone

from opennrm.accounts.models import User
from opennrm.core.errors import NotAllowed
from opennrm.policy import (
    Access,
    Capability,
    Compartment,
    Role,
    accesses_to,
    compartments_for,
    has_capability,
    is_police_force,
    referral_scope,
)
from opennrm.referrals.models import Referral
from opennrm.referrals.selectors import audit_listed, referral_open

from .models import (
    AgeAssessment,
    CareRecord,
    CaseNote,
    GuardianAllocationRequest,
    LocalAuthorityTransfer,
    MissingEpisode,
    PlacementType,
    ReturnInterview,
    SafeguardingAlert,
)
from .services import age_status, responsible_local_authority


def sees_safeguarding(actor: User) -> bool:
    return Compartment.SAFEGUARDING in compartments_for(actor)


def _require_compartment(actor: User) -> None:
    if not sees_safeguarding(actor):
        raise NotAllowed(f"Your role ({actor.role_label}) does not see children's safeguarding records")


@dataclass
class SafeguardingRecord:
    referral: Referral
    local_authority: str
    transfers: list[LocalAuthorityTransfer]
    care_records: list[CareRecord]  # newest first; the first is current
    guardian_requests: list[GuardianAllocationRequest]
    notes: list[CaseNote]
    episodes: list[MissingEpisode]  # newest first, each with its return interview (if any) prefetched
    age_assessments: list[AgeAssessment]  # newest first
    age: dict
    access: Access  # what the actor sees of it and may do, and why (policy.SAFEGUARDING_PARTS)

    def shows(self, part: str) -> bool:
        return part in self.access.safeguarding_parts

    @property
    def care(self) -> CareRecord | None:
        return self.care_records[0] if self.care_records else None

    @property
    def open_episode(self) -> MissingEpisode | None:
        return next((e for e in self.episodes if e.found_at is None), None)

    @property
    def episode_count(self) -> int:
        return len(self.episodes)


def safeguarding_open(*, actor: User, uuid: str | UUID, purpose: str = "safeguarding") -> SafeguardingRecord:
    """A child's whole safeguarding record, for an actor who sees the compartment and has the child in scope (audited)."""
    _require_compartment(actor)
    referral = referral_open(actor=actor, uuid=uuid, purpose=purpose)
    # Only the parts the actor's access shows are read at all (policy.SAFEGUARDING_PARTS, ADR 0028).
    parts = referral.access.safeguarding_parts
    care = referral.care_records.select_related("social_worker", "recorded_by").order_by("-recorded_at", "-id")
    episodes = (
        referral.missing_episodes.select_related("reported_by", "acknowledged_by", "police_organisation")
        .prefetch_related(
            Prefetch(
                "alerts",
                queryset=SafeguardingAlert.objects.select_related("organisation", "user").order_by("created_at", "id"),
            )
        )
        .order_by("-number")
    )
    return SafeguardingRecord(
        referral=referral,
        local_authority=responsible_local_authority(referral),
        transfers=list(referral.local_authority_transfers.select_related("recorded_by").order_by("-recorded_at", "-id"))
        if "transfers" in parts
        else [],
        care_records=list(care) if "care_history" in parts else list(care[:1]) if "care" in parts else [],
        guardian_requests=list(
            referral.guardian_allocation_requests.select_related("service", "organisation", "allocated_to").order_by(
                "requested_at"
            )
        )
        if "guardian" in parts
        else [],
        notes=list(referral.case_notes.select_related("author").order_by("-written_at", "-id"))
        if "notes" in parts
        else [],
        episodes=list(episodes.select_related("return_interview") if "return_interviews" in parts else episodes)
        if "episodes" in parts
        else [],
        age_assessments=list(
            referral.age_assessments.select_related("assessor_organisation", "recorded_by").order_by(
                "-assessed_on", "-recorded_at", "-id"
            )
        )
        if "age_assessments" in parts
        else [],
        age=age_status(referral),
        access=referral.access,
    )


@dataclass(frozen=True)
class AllocationSummary:
    """What a guardian service needs to allocate a guardian to a waiting child (policy.GUARDIAN_ALLOCATION_FIELDS)."""

    initials: str
    age: int | None  # in whole years, when the date of birth is known to the month
    local_authority: str  # responsible now
    missing_now: bool
    missing_risk: str | None
    secure_accommodation: bool


def _initials(referral: Referral) -> str:
    pv = referral.potential_victim or {}
    words = (
        f"{pv.get('given_names') or ''} {pv.get('family_name') or ''}".split() or (pv.get("aliases") or [""])[0].split()
    )
    return "".join(w[0] for w in words if w[:1].isalpha()).upper()


def _age(referral: Referral, today: dt.date) -> int | None:
    pv = referral.potential_victim or {}
    if pv.get("date_of_birth_precision") not in ("day", "month") or not pv.get("date_of_birth"):
        return None
    born = dt.date.fromisoformat(pv["date_of_birth"])
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def allocation_summaries(referrals: list[Referral]) -> dict[int, AllocationSummary]:
    """Allocation summaries of the referrals, in three statements whatever their number (the caller audits the read)."""
    ids = [r.pk for r in referrals]
    open_risk = dict(
        MissingEpisode.objects.filter(referral_id__in=ids, found_at__isnull=True).values_list("referral_id", "risk")
    )
    moved = dict(
        LocalAuthorityTransfer.objects.filter(referral_id__in=ids, is_current=True).values_list(
            "referral_id", "to_local_authority"
        )
    )
    placement: dict[int, str] = {}
    for referral_id, placement_type in (
        CareRecord.objects.filter(referral_id__in=ids)
        .order_by("referral_id", "-recorded_at", "-id")
        .values_list("referral_id", "placement_type")
    ):
        placement.setdefault(referral_id, placement_type)  # the newest is current
    today = timezone.localdate()
    return {
        r.pk: AllocationSummary(
            _initials(r),
            _age(r, today),
            moved.get(r.pk, r.local_authority),
            r.pk in open_risk,
            open_risk.get(r.pk),
            placement.get(r.pk) == PlacementType.SECURE,
        )
        for r in referrals
    }


MISSING_NOW_COUNT_LIMIT = 1000  # beyond this "missing now" says "more than 1,000"


@dataclass(frozen=True)
class MissingNowItem:
    episode: MissingEpisode
    referral: Referral
    missing_for: dt.timedelta
    episodes_total: int  # the child's episodes so far, this one included


def _missing_now_filter(actor: User) -> dict | None:
    org = actor.organisation
    if org is None:
        return None
    if actor.role == Role.LA_SOCIAL_WORKER and org.local_authority:
        return {"local_authority": org.local_authority}
    if actor.role == Role.FIRST_RESPONDER and is_police_force(org):
        return {"police_organisation_id": org.pk}
    return None


def missing_now_available(actor: User) -> bool:
    """Whether the actor has a "missing now" list: a local authority's social worker or a police force."""
    return (
        has_capability(actor, Capability.VIEW_MISSING_NOW)
        and sees_safeguarding(actor)
        and _missing_now_filter(actor) is not None
    )


def safeguarding_queue_available(actor: User) -> bool:
    """Whether the actor acts on children's safeguarding: the local authority, the guardian, the police."""
    return (
        sees_safeguarding(actor)
        and has_capability(actor, Capability.REPORT_MISSING)
        and (actor.role != Role.FIRST_RESPONDER or is_police_force(actor.organisation))
    )


_EPISODE_FIELDS = [f.name for f in MissingEpisode._meta.concrete_fields]
_LISTED_REFERRAL_FIELDS = ["referral__uuid", "referral__reference", "referral__potential_victim"]


@transaction.atomic
def missing_now_page(
    *, actor: User, offset: int = 0, limit: int = 50, now: dt.datetime | None = None
) -> tuple[list[MissingNowItem], int]:
    """The children missing now for the actor's local authority or police force, longest missing first, and how many
    (MISSING_NOW_COUNT_LIMIT + 1 meaning more than the limit); each listed read audited.

    Served from the partial index on open episodes (missing_open_la_idx / missing_open_police_idx).
    """
    if not missing_now_available(actor):
        raise NotAllowed("The missing-now list is for a local authority's social workers and a police force")
    now = now or timezone.now()
    scope = _missing_now_filter(actor)
    assert scope is not None  # missing_now_available said so
    qs = MissingEpisode.objects.filter(found_at__isnull=True, **scope)
    # Counted up to a bound: an exact count of tens of thousands of open episodes would cost more than the page itself.
    total = qs.order_by()[: MISSING_NOW_COUNT_LIMIT + 1].count()
    # Only the referral fields the list shows: its other JSON compartments would be read and decoded for nothing.
    episodes = list(
        qs.select_related("referral")
        .only(*_EPISODE_FIELDS, *_LISTED_REFERRAL_FIELDS)
        .order_by("missing_since", "id")[offset : offset + limit]
    )
    accesses = accesses_to(
        actor, [e.referral for e in episodes]
    )  # audited as each child is seen: a police force's grant too
    for e in episodes:
        e.referral.access = accesses.get(e.referral.pk)
    audit_listed(actor=actor, referrals=[e.referral for e in episodes], purpose="missing_now")
    return [MissingNowItem(e, e.referral, now - e.missing_since, e.number) for e in episodes], total


@transaction.atomic
def return_interviews_due(*, actor: User, limit: int = 50) -> list[MissingEpisode]:
    """Found episodes of the local authority's children whose return interview is not yet recorded, earliest due first."""
    _require_compartment(actor)
    if actor.role != Role.LA_SOCIAL_WORKER or not actor.organisation or not actor.organisation.local_authority:
        return []
    # NOT EXISTS rather than a join to every interview: the found episodes are read in due order from their
    # index and each checked against the interview's unique key, until `limit` are found (BENCHMARKS.md).
    interviewed = ReturnInterview.objects.filter(episode=OuterRef("pk"))
    episodes = list(
        MissingEpisode.objects.filter(local_authority=actor.organisation.local_authority, found_at__isnull=False)
        .filter(~Exists(interviewed))
        .select_related("referral")
        .order_by("return_interview_due", "id")[:limit]
    )
    audit_listed(actor=actor, referrals=[e.referral for e in episodes], purpose="return_interviews_due")
    return episodes


@transaction.atomic
def alerts_for(*, actor: User, limit: int = 50) -> list[SafeguardingAlert]:
    """The actor's safeguarding work queue: their organisation's alerts for everyone and those naming them, newest first."""
    scope = referral_scope(actor)
    if not safeguarding_queue_available(actor) or actor.organisation_id is None or scope is None:
        return []
    # Only children the actor may still open: a police force's alerts go when its access ends (ADR 0028).
    alerts = list(
        SafeguardingAlert.objects.filter(Q(user__isnull=True) | Q(user=actor), organisation_id=actor.organisation_id)
        .filter(episode__referral__in=Referral.objects.filter(scope).values("pk"))
        .select_related("episode__referral")
        .order_by("-created_at", "-id")[:limit]
    )
    audit_listed(actor=actor, referrals=[a.episode.referral for a in alerts], purpose="safeguarding_alerts")
    return alerts


@dataclass(frozen=True)
class WaitingChild:
    request: GuardianAllocationRequest
    referral: Referral
    summary: AllocationSummary


@transaction.atomic
def guardian_requests_waiting(*, actor: User, limit: int = 100) -> list[WaitingChild]:
    """Children waiting for the actor's service to allocate a guardian, longest waiting first, each with only what
    allocating needs (AllocationSummary: never the account, address, phone, placement or notes; ADR 0028)."""
    if not has_capability(actor, Capability.ALLOCATE_GUARDIAN) or actor.organisation_id is None:
        return []
    requests = list(
        GuardianAllocationRequest.objects.filter(organisation_id=actor.organisation_id, allocated_at__isnull=True)
        .select_related("referral", "service")
        .order_by("requested_at")[:limit]
    )
    referrals = [r.referral for r in requests]
    accesses = accesses_to(actor, referrals)
    for referral in referrals:
        referral.access = accesses.get(referral.pk)
    summaries = allocation_summaries(referrals)
    audit_listed(actor=actor, referrals=referrals, purpose="guardian_requests")
    return [WaitingChild(r, r.referral, summaries[r.referral.pk]) for r in requests]


def guardians_of(*, actor: User) -> list[User]:
    """The guardians of the actor's own service, to allocate from."""
    if not has_capability(actor, Capability.ALLOCATE_GUARDIAN) or actor.organisation_id is None:
        return []
    return list(
        User.objects.filter(organisation_id=actor.organisation_id, role=Role.GUARDIAN, is_active=True).order_by(
            "last_name", "username"
        )
    )
