"""Work queues and assignment (issue 3 item 6): the same queues and the same services as the pages."""

from typing import Annotated, Literal

from ninja import Query, Router, Schema
from pydantic import Field, StringConstraints, field_validator

from opennrm.decisions.assignment import MAX_BULK, BulkAssignmentRefused, assignable_teams, case_assign, cases_assign
from opennrm.decisions.selectors import COUNT_CAP, QUEUE_STATUSES, QueueItem, QueueView, work_queue_page
from opennrm.policy import Capability
from opennrm.referrals import schemas as referral_schemas
from opennrm.referrals.models import Referral

from .decisions import _Body, _run
from .http import ApiProblem, documented_body, parse_body, require_capability
from .schemas import (
    RECORD,
    ROLE_CHECKED,
    SIGNED_IN,
    STATE,
    WITH_BODY,
    WITH_QUERY,
    AssignedOut,
    AssignedPageOut,
    BulkRefusedOut,
    QueueOut,
    TeamsOut,
    answer,
    responses,
)

router = Router(tags=["work queues"])

Username = Annotated[str, StringConstraints(min_length=1, max_length=150)]
Authority = Annotated[str, StringConstraints(pattern=r"^(SCA|IECA|LOCAL_PANEL|[ENSW]\d{8})$")]


class QueueFilters(Schema):
    view: Literal["mine", "team", "unassigned", "all"] = Field(
        "all",
        description="`mine`: assigned to you; `team`: held by your team (or one you manage); "
        "`unassigned`: held by no team and no decision maker; `all`: every open case of your authority",
    )
    status: Literal[tuple(s.value for s in QUEUE_STATUSES)] | None = None  # type: ignore[valid-type]
    nation: referral_schemas.Nation | None = None
    authority: Authority | None = Field(
        None,
        description="A competent authority (`SCA`, `IECA`, `LOCAL_PANEL`) or the GSS code of the child's local authority",
    )
    age_group: Literal["child", "adult", "unknown"] | None = None
    offset: int = Field(
        0, ge=0, le=COUNT_CAP, description=f"Queues are read from the top: at most {COUNT_CAP:,} cases deep"
    )
    limit: int = Field(25, ge=1, le=100)

    @field_validator("status", "nation", "authority", "age_group", mode="before")
    @classmethod
    def _empty_is_no_filter(cls, value):
        return None if value == "" else value


def assignment_of(referral: Referral) -> dict:
    return {
        "assigned_to": referral.assigned_to.username if referral.assigned_to else None,
        "team": {"id": referral.assigned_team.pk, "name": referral.assigned_team.name}
        if referral.assigned_team
        else None,
        "assigned_at": referral.assigned_at.isoformat() if referral.assigned_at else None,
    }


def queue_item_as_dict(item: QueueItem) -> dict:
    r = item.referral
    return {
        "id": str(r.uuid),
        "reference": r.reference,
        "status": r.status,
        "nation": r.nation,
        "competent_authority": r.competent_authority,
        "received_at": r.received_at.isoformat(),
        "deadline": item.deadline.isoformat(),
        "working_days_left": item.working_days_left,
        "overdue": item.overdue,
        "needs_confirmation": item.needs_confirmation,
        **assignment_of(r),
    }


@router.get(
    "/queue",
    response=responses({200: QueueOut}, SIGNED_IN, ROLE_CHECKED, WITH_QUERY),
    summary="A decision maker's work queue: open cases, earliest deadline (so overdue) first",
    description="`total` counts at most 10,000 cases; `total_capped` is true when more match. `working_days_left` is negative "
    "when the case is overdue, counted in the referral's nation. Each listed case's read is audited.",
)
def queue(request, filters: Query[QueueFilters]):
    require_capability(request, Capability.MAKE_DECISION)
    page = work_queue_page(
        actor=request.user,
        view=QueueView(filters.view),
        status=filters.status,
        nation=filters.nation,
        authority=filters.authority,
        age_group=filters.age_group,
        offset=filters.offset,
        limit=filters.limit,
    )
    next_url = None
    if filters.offset + filters.limit < page.total and filters.offset + filters.limit <= COUNT_CAP:
        query = request.GET.copy()
        query["offset"] = str(filters.offset + filters.limit)
        next_url = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
    return {
        "items": [queue_item_as_dict(i) for i in page.items],
        "total": page.total,
        "total_capped": page.total_capped,
        "next": next_url,
    }


@router.get(
    "/teams",
    response=responses({200: TeamsOut}, SIGNED_IN, ROLE_CHECKED),
    summary="The teams of your authority and their members, to assign cases to",
)
def teams(request):
    require_capability(request, Capability.MAKE_DECISION)
    found = assignable_teams(actor=request.user).select_related("manager").prefetch_related("members")
    return {
        "items": [
            {
                "id": t.pk,
                "name": t.name,
                "manager": t.manager.username if t.manager else None,
                "members": sorted(m.username for m in t.members.all() if m.is_active),
            }
            for t in found
        ]
    }


class AssignmentIn(_Body):
    """Who holds the case: a decision maker (by username) and/or a team (by id). Both null unassigns it.

    A decision maker given without a team brings the case into their own team."""

    assigned_to: Username | None = None
    team: int | None = None


class BulkAssignmentIn(AssignmentIn):
    referrals: list[Annotated[str, StringConstraints(min_length=1, max_length=64)]] = Field(
        min_length=1, max_length=MAX_BULK
    )


BODY_MODELS = [AssignmentIn, BulkAssignmentIn]


@router.post(
    "/referrals/{referral_id}/assignment",
    response=responses({200: AssignedOut}, SIGNED_IN, ROLE_CHECKED, RECORD, STATE, WITH_BODY),
    openapi_extra=documented_body(AssignmentIn),
    summary="Assign one open case to a decision maker and/or team of your authority, or unassign it",
    description="`404` for a case outside your authority, `409` for a closed case, `422` naming `assigned_to` or `team` for a "
    "person or team not of your authority, or a person who is not a decision maker.",
)
def assign_case(request, referral_id: str):
    def action():
        body = parse_body(request, AssignmentIn)
        referral = case_assign(actor=request.user, referral=referral_id, assigned_to=body.assigned_to, team=body.team)
        return 200, answer(
            AssignedOut, {"id": str(referral.uuid), "reference": referral.reference, **assignment_of(referral)}
        )

    return _run(request, Capability.MAKE_DECISION, action)


@router.post(
    "/assignments",
    response=responses({200: AssignedPageOut, 409: BulkRefusedOut}, SIGNED_IN, ROLE_CHECKED, WITH_BODY),
    openapi_extra=documented_body(BulkAssignmentIn),
    summary=f"Assign up to {MAX_BULK} open cases at once: all or nothing",
    description="If any case is refused, none is assigned: `409` with `errors`, one per refused case, its `field` the case's "
    "position (`referrals.2`) and its `message` the reason (a case outside your authority reads as not found).",
)
def assign_cases(request):
    def action():
        body = parse_body(request, BulkAssignmentIn)
        try:
            done = cases_assign(
                actor=request.user, referrals=body.referrals, assigned_to=body.assigned_to, team=body.team
            )
        except BulkAssignmentRefused as exc:
            raise ApiProblem(
                409,
                {
                    "detail": str(exc),
                    "errors": [{"field": f"referrals.{r.index}", "message": r.message} for r in exc.refusals],
                },
            )
        return 200, answer(
            AssignedPageOut,
            {
                "items": [{"id": str(r.uuid), "reference": r.reference, **assignment_of(r)} for r in done],
                "count": len(done),
            },
        )

    return _run(request, Capability.MAKE_DECISION, action)
