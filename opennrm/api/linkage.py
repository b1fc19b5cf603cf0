"""Duplicate detection (issue 5; ADR 0014): the review queue, a possible match with its evidence, deciding it, undoing
it, and the referrals linked to a person. The same selectors and services as the pages.

`403` for a role that never links records, `404` for what lies outside the caller's scope (as for one that does
not exist), `409` for a possible match already decided (or a link already undone), `422` naming what to fix.
"""

import uuid
from typing import Annotated

from ninja import Query, Router, Schema
from pydantic import Field, StringConstraints

from opennrm.linkage.models import CandidateDecision, MatchCandidate, PersonLink
from opennrm.linkage.selectors import candidate_get, identity_of, person_get, person_of_candidate, review_queue
from opennrm.linkage.services import (
    candidate_confirm,
    candidate_reject,
    candidate_undo,
    person_link_undo,
)
from opennrm.policy import Capability
from opennrm.referrals.validation import FieldError

from .decisions import _Body
from .http import documented_body, idempotent_post, invalid, parse_body, require_capability
from .schemas import (
    RECORD,
    ROLE_CHECKED,
    SIGNED_IN,
    STATE,
    WITH_BODY,
    WITH_QUERY,
    CandidateOut,
    CandidatePageOut,
    PersonOut,
    answer,
    responses,
)

router = Router(tags=["duplicate detection"])

# Every decision here: the role (403), a match or person outside the caller's scope (404), already decided (409), the body.
REFUSALS = (SIGNED_IN, ROLE_CHECKED, RECORD, STATE, WITH_BODY)

Reason = Annotated[str, StringConstraints(max_length=20_000)]


class LinkDecisionIn(_Body):
    """Why: required, so that whoever reads the record next knows what made you sure (up to 2,000 characters)."""

    reason: Reason


class UnlinkIn(_Body):
    referral: Annotated[str, StringConstraints(min_length=1, max_length=64)] = Field(
        description="The id of the referral to take off this person"
    )
    reason: Reason


BODY_MODELS = [LinkDecisionIn, UnlinkIn]


class QueueQuery(Schema):
    offset: int = Field(0, ge=0, le=100_000)
    limit: int = Field(25, ge=1, le=100)


def _decision_as_dict(decision: CandidateDecision) -> dict:
    return {
        "action": decision.action,
        "status_before": decision.status_before,
        "reason": decision.reason,
        "decided_by": decision.decided_by.username,
        "decided_at": decision.decided_at.isoformat(),
    }


def candidate_as_dict(candidate: MatchCandidate, *, full: bool = False) -> dict:
    out = {
        "id": str(candidate.uuid),
        "status": candidate.status,
        "band": candidate.band,
        "score": round(candidate.score, 2),
        "found_at": candidate.found_at.isoformat(),
        "referral": identity_of(candidate.referral),
        "earlier": identity_of(candidate.earlier),
    }
    if full:
        out["evidence"] = candidate.evidence
        out["decisions"] = [
            _decision_as_dict(d) for d in candidate.decisions.select_related("decided_by").order_by("decided_at", "pk")
        ]
        out["person"] = _person_of(candidate)
    return out


def _person_of(candidate: MatchCandidate) -> str | None:
    person = person_of_candidate(candidate=candidate)
    return str(person.uuid) if person else None


def _link_as_dict(link: PersonLink) -> dict:
    return {
        "referral": identity_of(link.referral),
        "method": link.method,
        "made_by": link.made_by.username if link.made_by else None,
        "made_at": link.made_at.isoformat(),
        "undone_by": link.undone_by.username if link.undone_by else None,
        "undone_at": link.undone_at.isoformat() if link.undone_at else None,
        "undo_reason": link.undo_reason or None,
    }


def _candidate(request, candidate_id: str) -> MatchCandidate:
    return candidate_get(actor=request.user, uuid=candidate_id)


def _act(request, action):
    """Run a decision once per Idempotency-Key; a refusal is answered by its kind (http.problem_of)."""
    require_capability(request, Capability.LINK_RECORDS)
    return idempotent_post(request, action)


# exclude_unset: the list's matches leave out evidence, decisions and person (CandidateOut).
@router.get(
    "/duplicates",
    response=responses({200: CandidatePageOut}, SIGNED_IN, ROLE_CHECKED, WITH_QUERY),
    exclude_unset=True,
    summary="Possible duplicate referrals to review: automatic links to check first, then the strongest",
    description="Data-quality officers see every possible match; decision makers those between two cases of their authority.",
)
def duplicates_queue(request, query: Query[QueueQuery]):
    require_capability(request, Capability.LINK_RECORDS)
    items, total = review_queue(actor=request.user, offset=query.offset, limit=query.limit)
    next_url = None
    if query.offset + query.limit < total:
        params = request.GET.copy()
        params["offset"] = str(query.offset + query.limit)
        next_url = request.build_absolute_uri(f"{request.path}?{params.urlencode()}")
    return {"items": [candidate_as_dict(c) for c in items], "count": total, "next": next_url}


@router.get(
    "/duplicates/{candidate_id}",
    response=responses({200: CandidateOut}, SIGNED_IN, ROLE_CHECKED, RECORD),
    summary="A possible match: both referrals' identities and the evidence, field by field",
)
def duplicate_get(request, candidate_id: str):
    require_capability(request, Capability.LINK_RECORDS)
    return candidate_as_dict(_candidate(request, candidate_id), full=True)


@router.post(
    "/duplicates/{candidate_id}/confirm",
    response=responses({200: CandidateOut}, *REFUSALS),
    openapi_extra=documented_body(LinkDecisionIn),
    summary="The same child: link both referrals to one person (or keep an automatic link, no longer flagged)",
)
def duplicate_confirm(request, candidate_id: str):
    def action():
        body = parse_body(request, LinkDecisionIn)
        candidate = _candidate(request, candidate_id)
        person = candidate_confirm(actor=request.user, candidate=candidate, reason=body.reason)
        candidate.refresh_from_db()
        return 200, answer(CandidateOut, {**candidate_as_dict(candidate, full=True), "person": str(person.uuid)})

    return _act(request, action)


@router.post(
    "/duplicates/{candidate_id}/reject",
    response=responses({200: CandidateOut}, *REFUSALS),
    openapi_extra=documented_body(LinkDecisionIn),
    summary="Different children: the match leaves the queue (an automatic link it made is undone)",
)
def duplicate_reject(request, candidate_id: str):
    return _decide(request, candidate_id, candidate_reject)


@router.post(
    "/duplicates/{candidate_id}/undo",
    response=responses({200: CandidateOut}, *REFUSALS),
    openapi_extra=documented_body(LinkDecisionIn),
    summary="Undo the last decision on a possible match: its links undone (or made again), the match back as it was",
)
def duplicate_undo(request, candidate_id: str):
    return _decide(request, candidate_id, candidate_undo)


def _decide(request, candidate_id: str, service):
    """Run a decision service (reject, undo) on the candidate with the body's reason; the candidate as it is after."""

    def action():
        body = parse_body(request, LinkDecisionIn)
        candidate = service(actor=request.user, candidate=_candidate(request, candidate_id), reason=body.reason)
        return 200, answer(CandidateOut, candidate_as_dict(candidate, full=True))

    return _act(request, action)


def person_as_dict(view) -> dict:
    return {
        "id": str(view.person.uuid),
        "referrals": [_link_as_dict(link) for link in view.current],
        "unlinked": [_link_as_dict(link) for link in view.history],
        "referrals_you_may_not_see": view.hidden,
    }


@router.get(
    "/people/{person_id}",
    response=responses({200: PersonOut}, SIGNED_IN, ROLE_CHECKED, RECORD),
    summary="A person: the referrals linked to them that you may see, and those unlinked",
)
def person_detail(request, person_id: str):
    require_capability(request, Capability.LINK_RECORDS)
    return person_as_dict(person_get(actor=request.user, uuid=person_id))


@router.post(
    "/people/{person_id}/unlink",
    response=responses({200: PersonOut}, *REFUSALS),
    openapi_extra=documented_body(UnlinkIn),
    summary="Take one referral off a person; the possible matches that linked it go back to the queue",
)
def person_unlink(request, person_id: str):
    def action():
        body = parse_body(request, UnlinkIn)
        view = person_get(actor=request.user, uuid=person_id)
        try:
            referral_uuid = uuid.UUID(body.referral)
        except ValueError:
            raise invalid([FieldError("referral", "Give the id of a referral linked to this person")]) from None
        referral = next(
            (link.referral for link in view.current + view.history if link.referral.uuid == referral_uuid), None
        )
        if referral is None:
            raise invalid(
                [
                    FieldError(
                        "referral",
                        "That referral is not one of this person's: give the id of a referral listed on them",
                    )
                ]
            )
        person_link_undo(actor=request.user, person=view.person, referral=referral, reason=body.reason)
        return 200, answer(PersonOut, person_as_dict(person_get(actor=request.user, uuid=person_id)))

    return _act(request, action)
