"""A child's safeguarding through the API (contract section 4's missing episodes; ADR 0009).

Views only translate HTTP: 403 for a role that may never do this, 422 for a bad body (every error
at once, naming the field), 404 outside the caller's scope, 409 when the order of events does not
allow it (the body says why). Nothing is stored when a request is refused.
"""

import datetime as dt
from typing import Annotated, Literal

from ninja import Field as NinjaField, Query, Router, Schema
from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field

from opennrm.cases.present import access_as_dict, guardian_allocation_cut
from opennrm.policy import Capability
from opennrm.referrals.codes import local_authority_name
from opennrm.referrals.schemas import ShortLine, Text
from opennrm.safeguarding import services
from opennrm.safeguarding.models import AgeOutcome, Assessor, CareStatus, MissingEpisode, PlacementType, SupportModel
from opennrm.safeguarding.selectors import (
    MISSING_NOW_COUNT_LIMIT,
    guardian_requests_waiting,
    missing_now_page,
    safeguarding_open,
)

from .http import documented_body, idempotent_post, parse_body, require_capability
from .schemas import (
    RECORD,
    ROLE_CHECKED,
    SIGNED_IN,
    STATE,
    WITH_BODY,
    WITH_QUERY,
    AgeAssessmentOut,
    CareRecordOut,
    CaseNoteCreatedOut,
    GuardianRequestOut,
    MissingEpisodeOut,
    MissingNowOut,
    SafeguardingOut,
    TransferOut,
    WaitingChildrenOut,
    answer,
    responses,
)

router = Router(tags=["safeguarding"])

# Every write here: a role the service refuses (403), the child outside the caller's scope (404), the order of events (409),
# the body (422).
REFUSALS = (SIGNED_IN, ROLE_CHECKED, RECORD, STATE, WITH_BODY)


def _iso_text(value):
    if not isinstance(value, str):
        raise ValueError("Give it as ISO 8601 text")
    return value


# Dates and datetimes arrive as ISO 8601 text, datetimes with an offset (contract section 1): parsed from text, never a number.
When = Annotated[
    AwareDatetime,
    Field(strict=False, description="ISO 8601 with offset, such as 2026-11-27T21:30:00Z"),
    BeforeValidator(_iso_text),
]
Day = Annotated[dt.date, Field(strict=False, description="YYYY-MM-DD"), BeforeValidator(_iso_text)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class MissingEpisodeIn(_Body):
    missing_since: When
    last_seen: Text
    risk: Literal["high", "medium", "low"]


class FoundIn(_Body):
    found_at: When


class AcknowledgeIn(_Body):
    """An empty object (or no body): the acknowledgement is the request itself."""


class ReturnInterviewIn(_Body):
    completed_at: When
    summary: Text


class CareRecordIn(_Body):
    care_status: Literal[tuple(CareStatus.values)]  # type: ignore[valid-type]
    placement_type: Literal[tuple(PlacementType.values)] = "none"  # type: ignore[valid-type]
    placement_address: Annotated[str, Field(max_length=20_000)] = ""
    social_worker: ShortLine | None = Field(
        None, description="The username of the allocated social worker, of the child's local authority"
    )


class TransferIn(_Body):
    to_local_authority: Annotated[
        str, Field(min_length=9, max_length=9, description="GSS code of the authority now responsible")
    ]
    moved_on: Day
    reason: Text


class AgeAssessmentIn(_Body):
    outcome: Literal[tuple(AgeOutcome.values)]  # type: ignore[valid-type]
    assessed_on: Day
    assessor: Literal[tuple(Assessor.values)]  # type: ignore[valid-type]
    claimed_date_of_birth: Day | None = None
    assessed_date_of_birth: Day | None = None
    notes: Annotated[str, Field(max_length=20_000)] = ""


class GuardianAllocationIn(_Body):
    guardian: ShortLine = Field(description="The username of a guardian of the service the request went to")
    support_model: Literal[tuple(SupportModel.values)]  # type: ignore[valid-type]


class CaseNoteIn(_Body):
    text: Text


BODY_MODELS = [
    MissingEpisodeIn,
    FoundIn,
    AcknowledgeIn,
    ReturnInterviewIn,
    CareRecordIn,
    TransferIn,
    AgeAssessmentIn,
    GuardianAllocationIn,
    CaseNoteIn,
]


def _run(request, action):
    """Run `action() -> (status, body)` once per Idempotency-Key; a refusal is answered by its kind (http.problem_of)."""
    return idempotent_post(request, action)


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def episode_as_dict(episode: MissingEpisode, *, with_interview: bool = True) -> dict:
    interview = getattr(episode, "return_interview", None) if episode.found_at and with_interview else None
    return {
        "id": str(episode.uuid),
        "number": episode.number,
        "missing_since": _iso(episode.missing_since),
        "last_seen": episode.last_seen,
        "risk": episode.risk,
        "reported_by": episode.reported_by_kind,
        "reported_at": _iso(episode.reported_at),
        "local_authority": episode.local_authority,
        "acknowledged_at": _iso(episode.acknowledged_at),
        "escalated_at": _iso(episode.escalated_at),
        "found_at": _iso(episode.found_at),
        "return_interview_due": _iso(episode.return_interview_due),
        "return_interview": {
            "completed_at": _iso(interview.completed_at),
            "summary": interview.summary,
            "within_72_hours": interview.completed_at <= episode.return_interview_due,
        }
        if interview
        else None,
    }


@router.post(
    "/referrals/{referral_id}/missing-episodes",
    response=responses({201: MissingEpisodeOut}, *REFUSALS),
    openapi_extra=documented_body(MissingEpisodeIn),
    summary="Report a child missing (the child's local authority, police force or guardian)",
    description="The others responsible are told at once (email and work queue). A high-risk episode not acknowledged "
    "within an hour escalates. `409` if the child already has an open episode.",
)
def report_missing(request, referral_id: str):
    def action():
        body = parse_body(request, MissingEpisodeIn, strict=None)
        episode = services.missing_episode_report(
            actor=request.user,
            referral=referral_id,
            missing_since=body.missing_since,
            last_seen=body.last_seen,
            risk=body.risk,
        )
        return 201, answer(MissingEpisodeOut, episode_as_dict(episode))

    return _run(request, action)


@router.post(
    "/referrals/{referral_id}/missing-episodes/{episode_id}/found",
    response=responses({200: MissingEpisodeOut}, *REFUSALS),
    openapi_extra=documented_body(FoundIn),
    summary="Record a missing child found; the response carries return_interview_due (72 hours after found_at)",
)
def record_found(request, referral_id: str, episode_id: str):
    def action():
        body = parse_body(request, FoundIn, strict=None)
        episode = services.missing_episode_found(
            actor=request.user, referral=referral_id, episode=episode_id, found_at=body.found_at
        )
        return 200, answer(MissingEpisodeOut, episode_as_dict(episode))

    return _run(request, action)


@router.post(
    "/referrals/{referral_id}/missing-episodes/{episode_id}/acknowledge",
    response=responses({200: MissingEpisodeOut}, *REFUSALS),
    openapi_extra=documented_body(AcknowledgeIn, required=False),
    summary="Acknowledge a missing episode someone else reported (stops a high-risk episode escalating)",
)
def acknowledge_missing(request, referral_id: str, episode_id: str):
    def action():
        parse_body(request, AcknowledgeIn, optional=True, strict=None)
        episode = services.missing_episode_acknowledge(actor=request.user, referral=referral_id, episode=episode_id)
        return 200, answer(MissingEpisodeOut, episode_as_dict(episode))

    return _run(request, action)


@router.post(
    "/referrals/{referral_id}/missing-episodes/{episode_id}/return-interview",
    response=responses({201: MissingEpisodeOut}, *REFUSALS),
    openapi_extra=documented_body(ReturnInterviewIn),
    summary="Record the return home interview (the child's local authority)",
)
def record_return_interview(request, referral_id: str, episode_id: str):
    def action():
        body = parse_body(request, ReturnInterviewIn, strict=None)
        interview = services.return_interview_record(
            actor=request.user,
            referral=referral_id,
            episode=episode_id,
            completed_at=body.completed_at,
            summary=body.summary,
        )
        return 201, answer(MissingEpisodeOut, episode_as_dict(interview.episode))

    return _run(request, action)


@router.post(
    "/referrals/{referral_id}/care-records",
    response=responses({201: CareRecordOut}, *REFUSALS),
    openapi_extra=documented_body(CareRecordIn),
    summary="Record the child's care status, placement and allocated social worker (the child's local authority)",
)
def record_care(request, referral_id: str):
    def action():
        body = parse_body(request, CareRecordIn, strict=None)
        record = services.care_record_save(
            actor=request.user,
            referral=referral_id,
            care_status=body.care_status,
            placement_type=body.placement_type,
            placement_address=body.placement_address,
            social_worker=body.social_worker,
        )
        return 201, answer(CareRecordOut, _care_as_dict(record))

    return _run(request, action)


@router.post(
    "/referrals/{referral_id}/transfers",
    response=responses({201: TransferOut}, *REFUSALS),
    openapi_extra=documented_body(TransferIn),
    summary="Pass responsibility for the child to another local authority when the child moves",
)
def transfer(request, referral_id: str):
    def action():
        body = parse_body(request, TransferIn, strict=None)
        made = services.local_authority_transfer(
            actor=request.user,
            referral=referral_id,
            to_local_authority=body.to_local_authority,
            moved_on=body.moved_on,
            reason=body.reason,
        )
        return 201, answer(TransferOut, _transfer_as_dict(made))

    return _run(request, action)


@router.post(
    "/referrals/{referral_id}/age-assessments",
    response=responses({201: AgeAssessmentOut}, *REFUSALS),
    openapi_extra=documented_body(AgeAssessmentIn),
    summary="Record an age assessment; earlier assessments stay on the record",
)
def record_age_assessment(request, referral_id: str):
    def action():
        body = parse_body(request, AgeAssessmentIn, strict=None)
        made = services.age_assessment_record(
            actor=request.user,
            referral=referral_id,
            outcome=body.outcome,
            assessed_on=body.assessed_on,
            assessor=body.assessor,
            claimed_date_of_birth=body.claimed_date_of_birth,
            assessed_date_of_birth=body.assessed_date_of_birth,
            notes=body.notes,
        )
        return 201, answer(AgeAssessmentOut, _age_as_dict(made))

    return _run(request, action)


@router.post(
    "/referrals/{referral_id}/guardian-allocation",
    response=responses({200: GuardianRequestOut}, *REFUSALS),
    openapi_extra=documented_body(GuardianAllocationIn),
    summary="Allocate a guardian of the service the child's request went to (guardians of that service)",
)
def allocate_guardian(request, referral_id: str):
    def action():
        body = parse_body(request, GuardianAllocationIn, strict=None)
        made = services.guardian_allocate(
            actor=request.user, referral=referral_id, guardian=body.guardian, support_model=body.support_model
        )
        return 200, answer(GuardianRequestOut, _guardian_as_dict(made))

    return _run(request, action)


@router.post(
    "/referrals/{referral_id}/case-notes",
    response=responses({201: CaseNoteCreatedOut}, *REFUSALS),
    openapi_extra=documented_body(CaseNoteIn),
    summary="Add a note to the child's case (the allocated guardian, the child's local authority)",
)
def add_case_note(request, referral_id: str):
    def action():
        body = parse_body(request, CaseNoteIn, strict=None)
        note = services.case_note_add(actor=request.user, referral=referral_id, text=body.text)
        return 201, answer(
            CaseNoteCreatedOut, {"id": note.pk, "text": note.text, "written_at": note.written_at.isoformat()}
        )

    return _run(request, action)


def _care_as_dict(record) -> dict:
    return {
        "care_status": record.care_status,
        "placement_type": record.placement_type,
        "placement_address": record.placement_address,
        "social_worker": record.social_worker.username if record.social_worker else None,
        "local_authority": record.local_authority,
        "recorded_at": record.recorded_at.isoformat(),
    }


def _transfer_as_dict(t) -> dict:
    return {
        "from_local_authority": t.from_local_authority,
        "to_local_authority": t.to_local_authority,
        "moved_on": t.moved_on.isoformat(),
        "reason": t.reason,
    }


def _age_as_dict(a) -> dict:
    return {
        "id": str(a.uuid),
        "outcome": a.outcome,
        "assessed_on": a.assessed_on.isoformat(),
        "assessor": a.assessor,
        "assessor_organisation": a.assessor_organisation.name,
        "claimed_date_of_birth": _iso(a.claimed_date_of_birth),
        "assessed_date_of_birth": _iso(a.assessed_date_of_birth),
        "notes": a.notes,
        "recorded_at": a.recorded_at.isoformat(),
    }


def _guardian_as_dict(r) -> dict:
    waited = r.time_to_allocation
    return {
        "service": r.service.code,
        "service_name": r.service.name,
        "local_authority": r.local_authority,
        "requested_at": r.requested_at.isoformat(),
        "allocated_to": r.allocated_to.username if r.allocated_to else None,
        "allocated_at": _iso(r.allocated_at),
        "support_model": r.support_model or None,
        "hours_to_allocation": round(waited.total_seconds() / 3600, 1) if waited else None,
    }


# exclude_unset: the parts the caller's access does not show stay absent (SafeguardingOut).
@router.get(
    "/referrals/{referral_id}/safeguarding",
    response=responses({200: SafeguardingOut}, SIGNED_IN, ROLE_CHECKED, RECORD),
    exclude_unset=True,
    summary="A child's safeguarding record: responsible local authority, care, guardian, missing episodes, age (safeguarding compartment)",
)
def get_safeguarding(request, referral_id: str):
    record = safeguarding_open(actor=request.user, uuid=referral_id)  # NotAllowed is 403, NotFound 404 (api.py)
    r = record.referral
    shows = record.shows
    # Only the parts the caller's access shows (policy.SAFEGUARDING_PARTS, ADR 0028); "access" says why, when an event grants it.
    parts = {
        "care": lambda: {"care": _care_as_dict(record.care) if record.care else None},
        "care_history": lambda: {"care_history": [_care_as_dict(c) for c in record.care_records]},
        "transfers": lambda: {"transfers": [_transfer_as_dict(t) for t in record.transfers]},
        "guardian": lambda: {"guardian_requests": [_guardian_as_dict(g) for g in record.guardian_requests]},
        "notes": lambda: {
            "case_notes": [
                {"text": n.text, "author": n.author.username, "written_at": n.written_at.isoformat()}
                for n in record.notes
            ]
        },
        "episodes": lambda: {
            "missing_episodes": [
                episode_as_dict(e, with_interview=shows("return_interviews")) for e in record.episodes
            ],
            "missing_episode_count": record.episode_count,
        },
        "age": lambda: {
            "age": {
                "treated_as_child": record.age["treated_as_child"],
                "basis": record.age["basis"],
                "text": record.age["text"],
                "assessments": [_age_as_dict(a) for a in record.age_assessments],
            }
        },
    }
    out = {
        "referral": {"id": str(r.uuid), "reference": r.reference},
        "local_authority": {"code": record.local_authority, "name": local_authority_name(record.local_authority)},
    }
    for part, build in parts.items():
        if shows(part):
            out.update(build())
    if record.access.grant is not None:
        out["access"] = access_as_dict(record.access)
    return out


class WaitingQuery(Schema):
    limit: int = NinjaField(100, ge=1, le=500)


@router.get(
    "/guardian-requests",
    response=responses({200: WaitingChildrenOut}, SIGNED_IN, ROLE_CHECKED, WITH_QUERY),
    summary="Children waiting for a guardian of your service, longest waiting first, with only what allocating needs",
)
def guardian_requests(request, query: Query[WaitingQuery]):
    require_capability(request, Capability.ALLOCATE_GUARDIAN)
    waiting = guardian_requests_waiting(actor=request.user, limit=query.limit)
    return {
        "items": [
            {
                **guardian_allocation_cut(w.referral, w.summary),
                "requested_at": w.request.requested_at.isoformat(),
                "service": w.request.service.code,
            }
            for w in waiting
        ],
        "count": len(waiting),
    }


class MissingNowQuery(Schema):
    page: int = NinjaField(1, ge=1, le=1_000_000)
    page_size: int = NinjaField(50, ge=1, le=200)


@router.get(
    "/missing-now",
    response=responses({200: MissingNowOut}, SIGNED_IN, ROLE_CHECKED, WITH_QUERY),
    summary="Children missing now, for your local authority or police force, longest missing first",
)
def missing_now(request, query: Query[MissingNowQuery]):
    items, total = missing_now_page(
        actor=request.user, offset=(query.page - 1) * query.page_size, limit=query.page_size
    )
    return {
        "items": [
            {
                "referral": {
                    "id": str(i.referral.uuid),
                    "reference": i.referral.reference,
                    "name": i.referral.display_name,
                },
                "episode": episode_as_dict(i.episode),
            }
            for i in items
        ],
        "count": min(total, MISSING_NOW_COUNT_LIMIT),
        "count_is_lower_bound": total > MISSING_NOW_COUNT_LIMIT,  # more than 1,000 children missing now
        "next": request.build_absolute_uri(f"{request.path}?page={query.page + 1}&page_size={query.page_size}")
        if query.page * query.page_size < total
        else None,
    }
