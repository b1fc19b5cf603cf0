"""Reading possible matches and people: always scoped by `policy.linkage_scope`, every read of a record audited.

A data-quality officer sees every possible match; a decision maker those whose two referrals are both cases of
their authority; nobody else any (ADR 0014). What is shown of a referral is its identity only
(`policy.LINKAGE_IDENTITY_FIELDS`, `identity_of`).
"""

from __future__ import annotations

import uuid as uuid_module
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When

from opennrm.accounts.models import User
from opennrm.audit.services import AuditEntry, audit_record_many
from opennrm.core.errors import NotFound
from opennrm.policy import LINKAGE_IDENTITY_FIELDS, linkage_scope
from opennrm.referrals.models import Referral

from .models import CandidateStatus, MatchCandidate, Person, PersonLink

PURPOSE = "duplicate_detection"
REVIEW_STATUSES = (CandidateStatus.AUTO_LINKED, CandidateStatus.OPEN)


def _scoped_referrals(actor: User) -> QuerySet[Referral] | None:
    scope = linkage_scope(actor)
    if scope is None:
        return None
    return Referral.objects.filter(scope) if scope else Referral.objects.all()


def candidates_visible_to(*, actor: User) -> QuerySet[MatchCandidate]:
    referrals = _scoped_referrals(actor)
    if referrals is None:
        return MatchCandidate.objects.none()
    candidates = MatchCandidate.objects.select_related("referral", "earlier")
    if linkage_scope(actor):
        ids = referrals.values("pk")
        candidates = candidates.filter(referral_id__in=ids, earlier_id__in=ids)
    return candidates


def _audit_identity_reads(actor: User, referrals: Iterable[Referral], action: str = "referral.read") -> None:
    details = {"compartments": ["identity"], "purpose": PURPOSE}
    audit_record_many(
        actor=actor, entries=[AuditEntry(action, "referral", str(r.uuid), details) for r in dict.fromkeys(referrals)]
    )


@transaction.atomic
def review_queue(*, actor: User, offset: int = 0, limit: int = 25) -> tuple[list[MatchCandidate], int]:
    """Possible matches to decide: automatic links to check first, then the strongest; each listed record's read audited."""
    queue = candidates_visible_to(actor=actor).filter(status__in=REVIEW_STATUSES)
    flagged_first = Case(
        When(status=CandidateStatus.AUTO_LINKED, then=Value(0)), default=Value(1), output_field=IntegerField()
    )
    items = list(queue.order_by(flagged_first, "-score", "pk")[offset : offset + limit])
    _audit_identity_reads(actor, [r for c in items for r in (c.referral, c.earlier)], action="referral.list")
    return items, queue.count()


def _as_uuid(value: object) -> uuid_module.UUID:
    try:
        return value if isinstance(value, uuid_module.UUID) else uuid_module.UUID(str(value))
    except (ValueError, TypeError):
        raise NotFound from None


@transaction.atomic
def candidate_get(*, actor: User, uuid: str | uuid_module.UUID) -> MatchCandidate:
    """One possible match the actor may see, with both referrals' reads audited."""
    candidate = candidates_visible_to(actor=actor).filter(uuid=_as_uuid(uuid)).first()
    if candidate is None:
        raise NotFound
    _audit_identity_reads(actor, [candidate.referral, candidate.earlier])
    return candidate


def current_person_link(*, referral_id: int) -> PersonLink | None:
    """The referral's link to a person now, if any (with the person)."""
    return PersonLink.objects.select_related("person").filter(referral_id=referral_id, undone_at__isnull=True).first()


def person_of_candidate(*, candidate: MatchCandidate) -> Person | None:
    """The person the candidate's newer referral is linked to now, if any (the candidate came from candidate_get)."""
    link = current_person_link(referral_id=candidate.referral_id)
    return link.person if link else None


@dataclass(frozen=True)
class PersonView:
    person: Person
    current: list[PersonLink]  # the referrals linked now, within the viewer's scope
    history: list[PersonLink]  # links undone, within the viewer's scope
    hidden: int  # referrals linked now that the viewer may not see


@transaction.atomic
def person_get(*, actor: User, uuid: str | uuid_module.UUID) -> PersonView:
    """A person, with the referrals linked to them that the actor may see (404 when they may see none)."""
    referrals = _scoped_referrals(actor)
    person = Person.objects.filter(uuid=_as_uuid(uuid)).first() if referrals is not None else None
    if referrals is None or person is None:
        raise NotFound
    links = list(
        PersonLink.objects.filter(person=person)
        .select_related("referral", "made_by", "undone_by")
        .order_by("made_at", "pk")
    )
    visible_ids = set(referrals.filter(pk__in=[link.referral_id for link in links]).values_list("pk", flat=True))
    if not visible_ids:
        raise NotFound
    current = [link for link in links if link.undone_at is None and link.referral_id in visible_ids]
    history = [link for link in links if link.undone_at is not None and link.referral_id in visible_ids]
    hidden = len({link.referral_id for link in links if link.undone_at is None and link.referral_id not in visible_ids})
    _audit_identity_reads(actor, [link.referral for link in current + history])
    return PersonView(person, current, history, hidden)


@dataclass(frozen=True)
class ReferralLinkage:
    person: Person | None  # the person this referral is linked to, if any
    candidates: list[MatchCandidate]  # possible matches with other referrals, to review


def referral_linkage(*, actor: User, referral: Referral) -> ReferralLinkage | None:
    """For a referral's own page: its person and its possible matches; None for a viewer not allowed to see them."""
    referrals = _scoped_referrals(actor)
    if referrals is None:
        return None
    link = PersonLink.objects.select_related("person").filter(referral=referral, undone_at__isnull=True).first()
    candidates = list(
        candidates_visible_to(actor=actor)
        .filter(Q(referral=referral) | Q(earlier=referral), status__in=REVIEW_STATUSES)
        .order_by("-score")[:10]
    )
    return ReferralLinkage(link.person if link else None, candidates)


def identity_of(referral: Referral) -> dict:
    """What duplicate detection shows of a referral (policy.LINKAGE_IDENTITY_FIELDS)."""
    pv = referral.potential_victim or {}
    values = {
        "id": str(referral.uuid),
        "reference": referral.reference,
        "status": referral.status,
        "competent_authority": referral.competent_authority,
        "received_at": referral.received_at.isoformat(),
        "home_office_reference": referral.home_office_reference or None,
        "local_authority": referral.local_authority or None,
        **{
            name: pv.get(name)
            for name in LINKAGE_IDENTITY_FIELDS
            if name
            in (
                "given_names",
                "family_name",
                "aliases",
                "names_in_original_script",
                "date_of_birth",
                "date_of_birth_precision",
                "age_disputed",
                "sex",
                "nationalities",
            )
        },
    }
    assert set(values) - {"id"} == set(LINKAGE_IDENTITY_FIELDS)
    return values
