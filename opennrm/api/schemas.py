"""What the API answers, operation by operation: the output schemas its OpenAPI document publishes (issue 23 point 4).

The presenters (`*_as_dict`, cases/present.py, dashboards/present.py) stay the one source of the values, because
the pages show the same; every answer is validated against its schema here before it is sent (`answer` below, or
django-ninja's own response validation for a view that returns the presenter's dict).

Why the schemas are built this way:
- `extra="forbid"`: a key a presenter adds that no schema declares is a server error in the tests, not a field
  silently dropped from the answer (nor an undocumented one); the document says `additionalProperties: false`.
- Answers are dumped with `exclude_unset`: a key absent from the presenter's dict stays absent (a compartment the
  caller may not see), and a key present with null stays present with null. So a field that may be absent is
  declared with a default and not listed as required (`absent()` when it is never null), and a field that may be
  null is declared nullable.
- Field order follows the presenters', so that the JSON reads as before. Where one schema serves several cuts (a
  referral's views), a cut's keys may come in the schema's order rather than the cut's: the same keys and values.
"""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from opennrm.referrals.models import CompetentAuthority, Status

ReferralStatus = Literal[tuple(Status.values)]  # type: ignore[valid-type]
Authority = Literal[tuple(CompetentAuthority.values)]  # type: ignore[valid-type]
NationCode = Literal["ENG", "WLS", "SCT", "NIR"]


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _no_default(schema: dict) -> None:
    schema.pop("default", None)


def absent() -> Any:
    """A field that is either there with a value (never null) or absent: not required, and no null in its schema."""
    return Field(None, json_schema_extra=_no_default)


def answer(model: type[Out], data: dict) -> dict:
    """`data` (a presenter's dict) checked against `model` and given back as JSON values, keys absent kept absent.

    For the answers a view sends itself (idempotent POSTs store and replay their first answer as JSON)."""
    return model.model_validate(data).model_dump(mode="json", by_alias=True, exclude_unset=True)


# --- Errors: the bodies every refusal already had ---------------------------------------------------------------


class DetailOut(Out):
    """401, 403, 404, 409 (and 429 for sign-in): why, in words."""

    detail: str


class FieldErrorOut(Out):
    field: str = Field(
        description="A dotted path to what to fix (`potential_victim.sex`, `exploitation.0.types`), or `body`"
    )
    message: str


class ErrorsOut(Out):
    """422 (invalid input, every error at once) and 413 (body too large)."""

    errors: list[FieldErrorOut]


class NrmStatusNotFoundOut(Out):
    detail: str
    message: str = Field(description="Why no match is not proof that no referral exists, and whom to ask")


class ThrottledOut(Out):
    detail: str
    retry_after_seconds: int


class BulkRefusedOut(Out):
    detail: str
    errors: list[FieldErrorOut] = Field(description="One per refused case: `field` is its position (`referrals.2`)")


# The refusals of an operation, by what it does: signed in (401), a role check (403), a record in the path (404),
# a state that may refuse (409), a body or query parameters (422); 413 is every operation's (TOO_LARGE).
SIGNED_IN = {401: DetailOut}
ROLE_CHECKED = {403: DetailOut}
RECORD = {404: DetailOut}
STATE = {409: DetailOut}
WITH_BODY = WITH_QUERY = {422: ErrorsOut}


# Any request whose body is over the limit is refused before it reaches an operation, a GET's too (core/middleware.py).
TOO_LARGE = {413: ErrorsOut}


def responses(success: dict, *refusals: dict) -> dict:
    """An operation's `response=`: its success, each refusal it may answer, and 413."""
    out = {**success, **TOO_LARGE}
    for refusal in refusals:
        out.update(refusal)
    return out


# --- Authentication ------------------------------------------------------------------------------------------------


class PingOut(Out):
    ok: Literal[True]


# --- Referrals (cases/present.py) ------------------------------------------------------------------------------


class ReferralCreatedOut(Out):
    id: str
    reference: str
    status: ReferralStatus
    competent_authority: Authority
    received_at: str
    reasonable_grounds_due: str


class DutyToNotifyCreatedOut(Out):
    id: str
    reference: str
    received_at: str


class IssuedDecisionOut(Out):
    stage: str
    outcome: str
    decided_on: str


class PotentialVictimOut(Out):
    """As referred (the referral compartment: only the answers given), or the cut a view shows (each of its fields,
    null when not given). The address and phone are in `safeguarding`."""

    # The guardian-allocation cut only (first, as it shows them).
    initials: str | None = None
    age: int | None = Field(None, description="In whole years, when the date of birth is known to the month")
    given_names: str | None = None
    family_name: str | None = None
    aliases: list[str] | None = None
    names_in_original_script: str | None = None
    date_of_birth: str | None = None
    date_of_birth_precision: str | None = None
    age_group: str | None = None
    age_disputed: bool | None = None
    sex: str | None = None
    nationalities: list[str] | None = None
    languages: list[str] | None = None
    interpreter_needed: bool | None = None
    home_office_reference: str | None = None
    immigration_detention: bool | None = None
    removal_action: bool | None = None


class LocalAuthorityContactOut(Out):
    local_authority: str
    name: str | None = None
    contacted_at: str | None = None


class ConsentOut(Out):
    given: bool
    recorded_at: str | None = None


class ExploitationOut(Out):
    types: list[str] | None = None
    criminal_subtypes: list[str] | None = None
    location: str | None = None
    uk_towns: list[str] | None = None
    countries: list[str] | None = None
    started_on: str | None = None
    ended_on: str | None = None
    ongoing: bool | None = None
    account: str | None = None


class PoliceOut(Out):
    force: str | None = None
    crime_reference: str | None = None


class ContactDetailsOut(Out):
    current_address: str | None = None
    phone: str | None = None


class UrgencyOut(Out):
    missing_now: bool
    missing_risk: str | None
    secure_accommodation: bool


class AccessOut(Out):
    """Why the caller sees the record, when an event grants it (ADR 0028)."""

    view: str
    grant: str
    reason: str
    began_at: str
    ends_at: str | None


class ReferralOut(Out):
    """A referral as the caller may see it: the keys of each compartment the caller sees, and no others (contract
    section 5). A key is absent, not null, when its compartment is not shown; a view's cut (police looking for a
    missing child, a guardian service allocating) shows its own fields. `access` is there when an event grants it."""

    # The status compartment (and the guardian-allocation cut's id and reference).
    id: str = absent()
    reference: str = absent()
    nation: NationCode = absent()
    status: ReferralStatus = absent()
    competent_authority: Authority = absent()
    received_at: str = absent()
    reasonable_grounds_due: str = absent()
    recovery_period_ends_on: str | None = None
    decisions: list[IssuedDecisionOut] = absent()
    # The guardian-allocation cut.
    received_on: str = absent()
    # The referral compartment; the missing-person cut shows parts of potential_victim and exploitation.
    first_responder_reference: str | None = None
    potential_victim: PotentialVictimOut = absent()
    local_authority_contact: LocalAuthorityContactOut | None = None
    consent: ConsentOut | None = None
    exploitation: list[ExploitationOut] = absent()
    indicators: list[str] = absent()
    police: PoliceOut | None = None
    # The safeguarding compartment (and the missing-person cut's part of it).
    safeguarding: ContactDetailsOut = absent()
    # The guardian-allocation cut.
    local_authority: str = absent()
    urgency: UrgencyOut = absent()
    access: AccessOut | None = None


class ReferralPageOut(Out):
    items: list[ReferralOut]
    count: int
    next: str | None


class StatusCompartmentOut(Out):
    id: str
    reference: str
    nation: NationCode
    status: ReferralStatus
    competent_authority: Authority
    received_at: str
    reasonable_grounds_due: str
    recovery_period_ends_on: str | None
    decisions: list[IssuedDecisionOut]


class NrmStatusOut(Out):
    items: list[StatusCompartmentOut]
    count: int


class AccessLogActorOut(Out):
    username: str
    name: str
    role: str
    organisation: str


class AccessLogEntryOut(Out):
    at: str
    action: str
    description: str
    actor: AccessLogActorOut | None = Field(description="null for the service itself (the background worker)")
    ip_address: str | None
    user_agent: str
    compartments: list[str]
    purpose: str | None


class EventAccessOut(Out):
    """Access a record's event gave others (a missing episode, a transfer, a wait for a guardian), ADR 0028."""

    holder: str
    role: str
    grant: str
    reason: str
    view: str
    began_at: str
    ends_at: str | None = Field(description="null while the event lasts")
    open: bool


class AccessLogOut(Out):
    items: list[AccessLogEntryOut]
    event_access: list[EventAccessOut]
    count: int
    next: str | None


# --- Decisions (api/decisions.py) ----------------------------------------------------------------------------------


class ReferralStateOut(Out):
    id: str
    reference: str
    status: ReferralStatus
    competent_authority: Authority
    reasonable_grounds_due: str
    recovery_period_ends_on: str | None


class DecisionOut(Out):
    id: str
    stage: str
    outcome: str
    state: str = Field(description="`proposed` (a negative awaiting a second decision maker), `issued` or `sent_back`")
    reasons: str
    decided_at: str
    decided_by: str
    reviewed_by: str | None
    review_comment: str | None
    policy_version: str
    guidance_version: str
    referral: ReferralStateOut


class ReconsiderationOut(Out):
    id: int
    decision_id: str
    grounds: str
    requested_at: str
    referral: ReferralStateOut


class ReferralStateChangeOut(Out):
    referral: ReferralStateOut


# --- Work queues (api/queues.py) -----------------------------------------------------------------------------------


class TeamRefOut(Out):
    id: int
    name: str


class QueueItemOut(Out):
    id: str
    reference: str
    status: ReferralStatus
    nation: NationCode
    competent_authority: Authority
    received_at: str
    deadline: str
    working_days_left: int = Field(description="Negative when the case is overdue")
    overdue: bool
    needs_confirmation: bool
    assigned_to: str | None
    team: TeamRefOut | None
    assigned_at: str | None


class QueueOut(Out):
    items: list[QueueItemOut]
    total: int
    total_capped: bool
    next: str | None


class TeamOut(Out):
    id: int
    name: str
    manager: str | None
    members: list[str]


class TeamsOut(Out):
    items: list[TeamOut]


class AssignedOut(Out):
    id: str
    reference: str
    assigned_to: str | None
    team: TeamRefOut | None
    assigned_at: str | None


class AssignedPageOut(Out):
    items: list[AssignedOut]
    count: int


# --- Safeguarding (api/safeguarding.py) ----------------------------------------------------------------------------


class ReturnInterviewOut(Out):
    completed_at: str
    summary: str
    within_72_hours: bool


class MissingEpisodeOut(Out):
    id: str
    number: int
    missing_since: str
    last_seen: str
    risk: str
    reported_by: str
    reported_at: str | None
    local_authority: str
    acknowledged_at: str | None
    escalated_at: str | None
    found_at: str | None
    return_interview_due: str | None = Field(description="72 hours after `found_at`")
    return_interview: ReturnInterviewOut | None


class CareRecordOut(Out):
    care_status: str
    placement_type: str
    placement_address: str
    social_worker: str | None
    local_authority: str
    recorded_at: str


class TransferOut(Out):
    from_local_authority: str
    to_local_authority: str
    moved_on: str
    reason: str


class AgeAssessmentOut(Out):
    id: str
    outcome: str
    assessed_on: str
    assessor: str
    assessor_organisation: str
    claimed_date_of_birth: str | None
    assessed_date_of_birth: str | None
    notes: str
    recorded_at: str


class GuardianRequestOut(Out):
    service: str
    service_name: str
    local_authority: str
    requested_at: str
    allocated_to: str | None
    allocated_at: str | None
    support_model: str | None
    hours_to_allocation: float | None


class CaseNoteCreatedOut(Out):
    id: int
    text: str
    written_at: str


class CaseNoteOut(Out):
    text: str
    author: str
    written_at: str


class ReferralRefOut(Out):
    id: str
    reference: str


class LocalAuthorityOut(Out):
    code: str
    name: str | None


class AgeOut(Out):
    treated_as_child: bool
    basis: str
    text: str
    assessments: list[AgeAssessmentOut]


class SafeguardingOut(Out):
    """Only the parts the caller's access shows (policy.SAFEGUARDING_PARTS): a part not shown is absent."""

    referral: ReferralRefOut
    local_authority: LocalAuthorityOut
    care: CareRecordOut | None = None
    care_history: list[CareRecordOut] = absent()
    transfers: list[TransferOut] = absent()
    guardian_requests: list[GuardianRequestOut] = absent()
    case_notes: list[CaseNoteOut] = absent()
    missing_episodes: list[MissingEpisodeOut] = absent()
    missing_episode_count: int = absent()
    age: AgeOut = absent()
    access: AccessOut = absent()


class WaitingPotentialVictimOut(Out):
    initials: str
    age: int | None
    age_group: str | None
    sex: str | None
    languages: list[str] | None
    interpreter_needed: bool | None


class WaitingChildOut(Out):
    id: str
    reference: str
    received_on: str
    potential_victim: WaitingPotentialVictimOut
    local_authority: str
    urgency: UrgencyOut
    requested_at: str
    service: str


class WaitingChildrenOut(Out):
    items: list[WaitingChildOut]
    count: int


class MissingChildRefOut(Out):
    id: str
    reference: str
    name: str


class MissingChildOut(Out):
    referral: MissingChildRefOut
    episode: MissingEpisodeOut


class MissingNowOut(Out):
    items: list[MissingChildOut]
    count: int
    count_is_lower_bound: bool = Field(description="More children are missing now than `count` (counted up to 1,000)")
    next: str | None


# --- Duplicate detection (api/linkage.py) --------------------------------------------------------------------------


class IdentityOut(Out):
    """What duplicate detection shows of a referral (policy.LINKAGE_IDENTITY_FIELDS)."""

    id: str
    reference: str
    status: ReferralStatus
    competent_authority: Authority
    received_at: str
    home_office_reference: str | None
    local_authority: str | None
    given_names: str | None
    family_name: str | None
    aliases: list[str] | None
    names_in_original_script: str | None
    date_of_birth: str | None
    date_of_birth_precision: str | None
    age_disputed: bool | None
    sex: str | None
    nationalities: list[str] | None


class EvidenceOut(Out):
    field: str
    label: str
    weight: float | None = Field(
        description="The field's part of the match weight (log2 odds); null for a shared Home Office reference"
    )


class CandidateDecisionOut(Out):
    action: str
    status_before: str
    reason: str
    decided_by: str
    decided_at: str


class CandidateOut(Out):
    """A possible match; the list leaves out `evidence`, `decisions` and `person`."""

    id: str
    status: str
    band: str
    score: float
    found_at: str
    referral: IdentityOut
    earlier: IdentityOut
    evidence: list[EvidenceOut] = absent()
    decisions: list[CandidateDecisionOut] = absent()
    person: str | None = Field(None, description="The person both are linked to; null when none")


class CandidatePageOut(Out):
    items: list[CandidateOut]
    count: int
    next: str | None


class PersonLinkOut(Out):
    referral: IdentityOut
    method: str
    made_by: str | None
    made_at: str
    undone_by: str | None
    undone_at: str | None
    undo_reason: str | None


class PersonOut(Out):
    id: str
    referrals: list[PersonLinkOut]
    unlinked: list[PersonLinkOut]
    referrals_you_may_not_see: int


# --- The managers' dashboard (dashboards/present.py as_dict) ------------------------------------------------------

Figure = int | None  # a count; null when withheld ("c")
Days = (
    int | float | None
)  # a median or percentile in days, as computed (int or float kept as it is); null when withheld


class PeriodOut(Out):
    from_: str = Field(alias="from")
    to: str


class DashboardFiltersOut(Out):
    authority: str | None
    nation: str | None
    age_group: str | None


class DisclosureOut(Out):
    method: Literal["exact", "controlled"]
    policy_version: str
    threshold: int
    rounding_base: int
    min_percentage_base: int
    percentage_decimals: int
    min_group_for_summary: int


class CountMarksOut(Out):
    count: str


class CountSmallOut(Out):
    count: bool


class OpenStageOut(Out):
    status: str
    label: str
    count: Figure
    obs_status: CountMarksOut = Field(description='Each figure\'s GSS shorthand: "" published, "c" withheld')
    below_threshold: CountSmallOut


class TimingMarksOut(Out):
    decisions: str
    median_days: str
    p90_days: str


class TimingSmallOut(Out):
    decisions: bool
    median_days: bool
    p90_days: bool


class TimingOut(Out):
    decisions: Figure
    median_days: Days
    p90_days: Days
    obs_status: TimingMarksOut
    below_threshold: TimingSmallOut


class TimingMonthOut(Out):
    month: str = Field(description="YYYY-MM")
    decisions: Figure
    median_days: Days
    p90_days: Days
    obs_status: TimingMarksOut
    below_threshold: TimingSmallOut


class TimingsOut(Out):
    months: list[TimingMonthOut]
    period: TimingOut


class ShareMarksOut(Out):
    decisions: str
    within_deadline: str
    percent: str


class ShareSmallOut(Out):
    decisions: bool
    within_deadline: bool
    percent: bool


class ShareOut(Out):
    decisions: Figure
    within_deadline: Figure
    percent: int | float | None
    obs_status: ShareMarksOut
    below_threshold: ShareSmallOut


class ShareMonthOut(Out):
    month: str = Field(description="YYYY-MM")
    decisions: Figure
    within_deadline: Figure
    percent: int | float | None
    obs_status: ShareMarksOut
    below_threshold: ShareSmallOut


class SharesOut(Out):
    months: list[ShareMonthOut]
    period: ShareOut


class BreachMarksOut(Out):
    reasonable_grounds_due: str
    reasonable_grounds_missed: str
    conclusive_grounds_due: str
    conclusive_grounds_missed: str


class BreachSmallOut(Out):
    reasonable_grounds_due: bool
    reasonable_grounds_missed: bool
    conclusive_grounds_due: bool
    conclusive_grounds_missed: bool


class BreachTotalOut(Out):
    reasonable_grounds_due: Figure
    reasonable_grounds_missed: Figure
    conclusive_grounds_due: Figure
    conclusive_grounds_missed: Figure
    obs_status: BreachMarksOut
    below_threshold: BreachSmallOut


class BreachRowOut(Out):
    competent_authority: str | None
    nation: str | None
    reasonable_grounds_due: Figure
    reasonable_grounds_missed: Figure
    conclusive_grounds_due: Figure
    conclusive_grounds_missed: Figure
    obs_status: BreachMarksOut
    below_threshold: BreachSmallOut


class BreachesOut(Out):
    rows: list[BreachRowOut]
    total: BreachTotalOut


class DashboardOut(Out):
    period: PeriodOut
    filters: DashboardFiltersOut
    as_of: str
    disclosure: DisclosureOut
    open_by_stage: list[OpenStageOut]
    open_total: Figure
    open_total_obs_status: str
    open_total_below_threshold: bool
    time_to_reasonable_grounds: TimingsOut
    time_to_conclusive_grounds: TimingsOut
    reasonable_grounds_within_deadline: SharesOut
    missed_deadlines: BreachesOut
    figures_as_of: str | None
    computed_in_ms: float
    from_cache: bool
