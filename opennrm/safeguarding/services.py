"""Writing a child's safeguarding record (ADR 0009). Each service takes the acting user, locks the
referral (so two people acting on one child are served in turn), checks the role (403), the scope
(404), the input (422, naming the field) and the order of events (409, with the reason), and writes
its audit event in the same transaction. A refusal changes nothing.
"""

import datetime as dt
import uuid as uuid_module
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from opennrm.accounts.models import Organisation, OrganisationKind, User
from opennrm.audit.services import audit_record
from opennrm.core.errors import Invalid, NotAllowed, NotFound, Refused
from opennrm.policy import (
    Capability,
    Compartment,
    Role,
    compartments_for,
    has_capability,
    is_police_force,
    referral_scope,
)
from opennrm.referrals.codes import local_authorities, local_authority_name
from opennrm.referrals.models import Referral
from opennrm.referrals.validation import CLOCK_SKEW, FieldError, age_on

from .models import (
    ACKNOWLEDGE_HIGH_RISK_WITHIN,
    RETURN_INTERVIEW_WITHIN,
    AgeAssessment,
    AgeOutcome,
    AlertKind,
    Assessor,
    CareRecord,
    CareStatus,
    CaseNote,
    GuardianAllocationRequest,
    LocalAuthorityTransfer,
    MissingEpisode,
    PlacementType,
    ReporterKind,
    ReturnInterview,
    Risk,
    SafeguardingAlert,
)
from .tasks import alert_responsible, escalate_missing_episode

MAX_TEXT = 20_000
# Clocks differ a little between a phone and the server: a time this far ahead of ours is taken as now.
# Statuses that only a child has; a care leaver is, by definition, no longer one.
CHILD_ONLY_CARE_STATUSES = {CareStatus.CHILD_IN_NEED, CareStatus.ACCOMMODATED, CareStatus.LOOKED_AFTER}


@dataclass(frozen=True)
class Unreadable:
    """In place of a date or time, one a form could not read: not a real one (such as 31 February), or left out.

    The service reports `message` for its field, first and instead of any other problem with that field, with
    every other problem at once, and writes nothing: the caller need not run it and roll it back to find them.
    """

    message: str


def _unreadable(**values: object) -> list[FieldError]:
    return [FieldError(field, value.message) for field, value in values.items() if isinstance(value, Unreadable)]


def _readable[T](value: T | Unreadable) -> T | None:
    return None if isinstance(value, Unreadable) else value


def _check(errors: list[FieldError], unreadable: Sequence[FieldError] = ()) -> None:
    """Refuse the input (Invalid) if anything is wrong: what could not be read first, then the rest."""
    fields = {u.field for u in unreadable}
    errors = [*unreadable, *(e for e in errors if e.field not in fields)]
    if errors:
        raise Invalid(errors)


def _refused(reason: str, unreadable: list[FieldError]) -> Refused:
    """A refusal for the record's state, unless some of the input could not be read: that is put right first."""
    _check([], unreadable)
    return Refused(reason)


def _lock(actor: User, referral: Referral | str | uuid_module.UUID, capability: Capability) -> Referral:
    """The child's referral, locked, if the actor may do this to it: 403 for the role, 404 outside scope (an event's
    grant counts only where it lets its holder do this, policy.GRANTS)."""
    if not has_capability(actor, capability) or Compartment.SAFEGUARDING not in compartments_for(actor):
        raise NotAllowed(f"Your role ({actor.role_label}) cannot do this")
    scope = referral_scope(actor, capability=capability)
    if scope is None:
        raise NotFound
    key = referral.pk if isinstance(referral, Referral) else None
    try:
        qs = Referral.objects.select_for_update().filter(scope)
        return qs.get(pk=key) if key is not None else qs.get(uuid=uuid_module.UUID(str(referral)))
    except (Referral.DoesNotExist, ValueError, TypeError, ValidationError):
        raise NotFound


def _episode(referral: Referral, episode: MissingEpisode | str | uuid_module.UUID) -> MissingEpisode:
    try:
        key = episode.pk if isinstance(episode, MissingEpisode) else None
        qs = MissingEpisode.objects.select_for_update().filter(referral=referral)
        return qs.get(pk=key) if key is not None else qs.get(uuid=uuid_module.UUID(str(episode)))
    except (MissingEpisode.DoesNotExist, ValueError, TypeError, ValidationError):
        raise NotFound


def _text(value: object, field: str, what: str, errors: list[FieldError], *, required: bool = True) -> str:
    value = (value or "").strip() if isinstance(value, str) or value is None else None
    if value is None:
        errors.append(FieldError(field, f"Enter {what} as text"))
        return ""
    if required and not value:
        errors.append(FieldError(field, f"Enter {what}"))
    elif len(value) > MAX_TEXT:
        errors.append(FieldError(field, f"{what[0].upper()}{what[1:]} must be {MAX_TEXT:,} characters or fewer"))
    elif "\x00" in value:
        errors.append(FieldError(field, f"Remove the control characters from {what}"))
    return value


def _choice(value: str, field: str, choices: type[models.TextChoices], what: str, errors: list[FieldError]) -> str:
    if value not in choices.values:
        errors.append(FieldError(field, f"Choose {what}: " + ", ".join(choices.values)))
    return value


def _not_future(value: dt.datetime | None, field: str, what: str, now: dt.datetime, errors: list[FieldError]) -> None:
    if value is not None and value > now + CLOCK_SKEW:
        errors.append(FieldError(field, f"{what} must not be in the future"))


def _audit(actor: User, referral: Referral, action: str, details: dict) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type="referral",
        object_id=str(referral.uuid),
        details={"reference": referral.reference, **details},
    )


# --- Who is responsible ----------------------------------------------------------------------------


def responsible_local_authority(referral: Referral) -> str:
    """The local authority responsible for the child now: the referral's, until a transfer moves the child."""
    current = (
        LocalAuthorityTransfer.objects.filter(referral=referral, is_current=True)
        .values_list("to_local_authority", flat=True)
        .first()
    )
    return current or referral.local_authority


def police_force_of(referral: Referral) -> Organisation | None:
    """The police force responsible for looking for the child: the referring force, else the force the referral names."""
    if is_police_force(referral.organisation):
        return referral.organisation
    named = (referral.police or {}).get("force")
    return (
        Organisation.objects.filter(kind=OrganisationKind.POLICE, name=named, is_active=True).first() if named else None
    )


def age_status(referral: Referral) -> dict:
    """Whether the person is treated as a child, and why: the latest age assessment decides, else the presumption of age (MSA s.51)."""
    latest = referral.age_assessments.order_by("-assessed_on", "-recorded_at", "-id").first()
    if latest is not None:
        child = latest.outcome == AgeOutcome.CHILD
        return {
            "treated_as_child": child,
            "basis": "assessed",
            "assessment": latest,
            "text": f"Assessed as {'under 18' if child else 'an adult'} on {latest.assessed_on:%-d %B %Y}",
        }
    if referral.age_group == "child":
        return {
            "treated_as_child": True,
            "basis": "referred",
            "assessment": None,
            "text": "Referred as a child; age not assessed",
        }
    if referral.age_group == "unknown":
        return {
            "treated_as_child": True,
            "basis": "presumed",
            "assessment": None,
            "text": "Treated as a child until their age is assessed (presumption of age)",
        }
    return {"treated_as_child": False, "basis": "referred", "assessment": None, "text": "Referred as an adult"}


# --- Local authority: care, placement, social worker, transfer ---------------------------------------


@transaction.atomic
def care_record_save(
    *,
    actor: User,
    referral: Referral | str | uuid_module.UUID,
    care_status: str,
    placement_type: str = PlacementType.NONE,
    placement_address: str = "",
    social_worker: str | None = None,
    now: dt.datetime | None = None,
) -> CareRecord:
    """Record the child's care status, placement and allocated social worker as they are now (a new history row)."""
    referral = _lock(actor, referral, Capability.RECORD_CARE)
    now = now or timezone.now()
    errors: list[FieldError] = []
    _choice(care_status, "care_status", CareStatus, "a care status", errors)
    _choice(placement_type, "placement_type", PlacementType, "a placement type", errors)
    placement_address = _text(placement_address, "placement_address", "the placement address", errors, required=False)
    if (
        placement_type not in (PlacementType.NONE, None)
        and placement_type in PlacementType.values
        and not placement_address
    ):
        errors.append(FieldError("placement_address", "Enter the placement address"))
    la = responsible_local_authority(referral)
    worker = None
    if social_worker:
        worker = (
            User.objects.filter(
                username=social_worker, is_active=True, role=Role.LA_SOCIAL_WORKER, organisation__local_authority=la
            ).first()
            if isinstance(social_worker, str)
            else None
        )
        if worker is None:
            errors.append(
                FieldError(
                    "social_worker",
                    f"Choose a social worker of {local_authority_name(la)}, the child's local authority",
                )
            )
    _check(errors)
    age = age_status(referral)
    if not age["treated_as_child"] and care_status in CHILD_ONLY_CARE_STATUSES:
        raise Refused(
            f"{CareStatus(care_status).label} is recorded for children only: this person is treated as an adult "
            f"({age['text']}). Record a care leaver or no care status instead."
        )
    record = CareRecord.objects.create(
        referral=referral,
        local_authority=la,
        care_status=care_status,
        placement_type=placement_type,
        placement_address=placement_address,
        social_worker=worker,
        recorded_by=actor,
        recorded_at=now,
    )
    _audit(
        actor,
        referral,
        "safeguarding.care_record",
        {
            "care_status": care_status,
            "placement_type": placement_type,
            "social_worker": worker.username if worker else None,
        },
    )
    return record


@transaction.atomic
def local_authority_transfer(
    *,
    actor: User,
    referral: Referral | str | uuid_module.UUID,
    to_local_authority: str,
    moved_on: dt.date | Unreadable | None,
    reason: str,
    now: dt.datetime | None = None,
) -> LocalAuthorityTransfer:
    """The child moved: another local authority becomes responsible. Open missing episodes go with the child."""
    referral = _lock(actor, referral, Capability.RECORD_CARE)
    now = now or timezone.now()
    unreadable = _unreadable(moved_on=moved_on)
    moved_on = _readable(moved_on)
    errors: list[FieldError] = []
    current = responsible_local_authority(referral)
    if to_local_authority not in local_authorities():
        errors.append(
            FieldError("to_local_authority", "Choose a local authority by its GSS code, such as E09000008 for Croydon")
        )
    elif to_local_authority == current:
        errors.append(
            FieldError("to_local_authority", f"{local_authority_name(current)} is already responsible for the child")
        )
    if moved_on is None:
        errors.append(FieldError("moved_on", "Enter the date the child moved"))
    elif moved_on > (now + CLOCK_SKEW).date():
        errors.append(FieldError("moved_on", "The date the child moved must not be in the future"))
    reason = _text(reason, "reason", "why responsibility moves", errors)
    _check(errors, unreadable)
    assert moved_on is not None  # an error above otherwise
    LocalAuthorityTransfer.objects.filter(referral=referral, is_current=True).update(is_current=False)
    transfer = LocalAuthorityTransfer.objects.create(
        referral=referral,
        from_local_authority=current,
        to_local_authority=to_local_authority,
        moved_on=moved_on,
        reason=reason,
        recorded_by=actor,
        recorded_at=now,
    )
    moved = MissingEpisode.objects.filter(referral=referral, found_at__isnull=True).update(
        local_authority=to_local_authority
    )
    _audit(
        actor,
        referral,
        "safeguarding.transfer",
        {
            "from": current,
            "to": to_local_authority,
            "moved_on": moved_on.isoformat(),
            "open_missing_episodes_moved": moved,
        },
    )
    return transfer


# --- Age ------------------------------------------------------------------------------------------


@transaction.atomic
def age_assessment_record(
    *,
    actor: User,
    referral: Referral | str | uuid_module.UUID,
    outcome: str,
    assessed_on: dt.date | Unreadable | None,
    assessor: str,
    claimed_date_of_birth: dt.date | Unreadable | None = None,
    assessed_date_of_birth: dt.date | Unreadable | None = None,
    notes: str = "",
    now: dt.datetime | None = None,
) -> AgeAssessment:
    """Add an age assessment. It decides the age from now on; earlier assessments stay on the record."""
    referral = _lock(actor, referral, Capability.RECORD_CARE)
    now = now or timezone.now()
    unreadable = _unreadable(
        assessed_on=assessed_on,
        claimed_date_of_birth=claimed_date_of_birth,
        assessed_date_of_birth=assessed_date_of_birth,
    )
    assessed_on = _readable(assessed_on)
    claimed_date_of_birth = _readable(claimed_date_of_birth)
    assessed_date_of_birth = _readable(assessed_date_of_birth)
    today = (now + CLOCK_SKEW).date()
    errors: list[FieldError] = []
    _choice(outcome, "outcome", AgeOutcome, "the outcome", errors)
    _choice(assessor, "assessor", Assessor, "who assessed the age", errors)
    if assessed_on is None:
        errors.append(FieldError("assessed_on", "Enter the date of the assessment"))
    elif assessed_on > today:
        errors.append(FieldError("assessed_on", "The date of the assessment must not be in the future"))
    for field, born in (
        ("claimed_date_of_birth", claimed_date_of_birth),
        ("assessed_date_of_birth", assessed_date_of_birth),
    ):
        if born is not None and born > today:
            errors.append(FieldError(field, "A date of birth must be in the past"))
    if assessed_date_of_birth and assessed_on and outcome in AgeOutcome.values and assessed_date_of_birth <= today:
        adult = age_on(assessed_date_of_birth, assessed_on) >= 18
        if adult != (outcome == AgeOutcome.ADULT):
            errors.append(
                FieldError(
                    "assessed_date_of_birth",
                    f"The assessed date of birth makes the person {age_on(assessed_date_of_birth, assessed_on)} "
                    f"on the day of the assessment, which does not match the outcome",
                )
            )
    notes = _text(notes, "notes", "the notes", errors, required=False)
    _check(errors, unreadable)
    assert assessed_on is not None  # an error above otherwise
    assert actor.organisation is not None  # _lock found the child through it: without one, no scope
    assessment = AgeAssessment.objects.create(
        referral=referral,
        claimed_date_of_birth=claimed_date_of_birth,
        assessed_date_of_birth=assessed_date_of_birth,
        outcome=outcome,
        assessed_on=assessed_on,
        assessor=assessor,
        assessor_organisation=actor.organisation,
        notes=notes,
        recorded_by=actor,
        recorded_at=now,
    )
    _audit(
        actor,
        referral,
        "safeguarding.age_assessment",
        {
            "assessment": str(assessment.uuid),
            "outcome": outcome,
            "assessor": assessor,
            "assessed_on": assessed_on.isoformat(),
        },
    )
    return assessment


# --- Guardians ------------------------------------------------------------------------------------


@transaction.atomic
def guardian_allocate(
    *,
    actor: User,
    referral: Referral | str | uuid_module.UUID,
    guardian: str,
    support_model: str,
    now: dt.datetime | None = None,
) -> GuardianAllocationRequest:
    """Allocate a guardian of the service the child's request went to; the time to allocation is kept."""
    referral = _lock(actor, referral, Capability.ALLOCATE_GUARDIAN)
    now = now or timezone.now()
    request = (
        GuardianAllocationRequest.objects.select_for_update(of=("self",))
        .select_related("service", "organisation")
        .filter(referral=referral)
        .first()
    )
    if request is None:
        raise Refused("No guardian was requested for this child: their area is not covered by a guardianship service")
    if request.allocated_to_id is not None:
        assert request.allocated_to is not None  # its id is set
        raise Refused(
            f"A guardian ({request.allocated_to.get_full_name() or request.allocated_to.username}) is already allocated to this child"
        )
    errors: list[FieldError] = []
    if support_model not in request.service.support_models:
        errors.append(
            FieldError(
                "support_model",
                f"Choose the support model: {request.service.name} offers "
                + " or ".join(request.service.support_models),
            )
        )
    chosen = (
        User.objects.select_related("organisation")
        .filter(username=guardian, is_active=True, role=Role.GUARDIAN)
        .first()
        if isinstance(guardian, str) and guardian
        else None
    )
    if chosen is None:
        errors.append(FieldError("guardian", "Choose a guardian by their username"))
    elif (
        chosen.organisation is None
        or chosen.organisation_id != request.organisation_id
        or request.local_authority not in (chosen.organisation.covered_local_authorities or [])
    ):
        errors.append(
            FieldError(
                "guardian",
                f"{chosen.get_full_name() or chosen.username} is not a guardian of the service covering "
                f"{local_authority_name(request.local_authority)}: choose a guardian from {request.organisation or request.service}",
            )
        )
    _check(errors)
    request.allocated_to, request.allocated_at, request.allocated_by, request.support_model = (
        chosen,
        now,
        actor,
        support_model,
    )
    request.save(update_fields=["allocated_to", "allocated_at", "allocated_by", "support_model"])
    waited = request.time_to_allocation
    assert chosen is not None and waited is not None  # an error above otherwise; allocated just now
    _audit(
        actor,
        referral,
        "safeguarding.guardian_allocate",
        {
            "guardian": chosen.username,
            "service": request.service.code,
            "support_model": support_model,
            "hours_to_allocation": round(waited.total_seconds() / 3600, 1),
        },
    )
    return request


@transaction.atomic
def case_note_add(
    *, actor: User, referral: Referral | str | uuid_module.UUID, text: str, now: dt.datetime | None = None
) -> CaseNote:
    referral = _lock(actor, referral, Capability.WRITE_CASE_NOTE)
    errors: list[FieldError] = []
    text = _text(text, "text", "the note", errors)
    _check(errors)
    note = CaseNote.objects.create(referral=referral, text=text, author=actor, written_at=now or timezone.now())
    _audit(actor, referral, "safeguarding.case_note", {"note": note.pk})
    return note


# --- Missing episodes (contract section 4) ----------------------------------------------------------


def _reporter_kind(actor: User) -> str:
    if actor.role == Role.LA_SOCIAL_WORKER:
        return ReporterKind.LOCAL_AUTHORITY
    if actor.role == Role.GUARDIAN:
        return ReporterKind.GUARDIAN
    if actor.role == Role.FIRST_RESPONDER and is_police_force(actor.organisation):
        return ReporterKind.POLICE
    raise NotAllowed("Missing episodes are reported by the child's local authority, the police or the child's guardian")


def _open_episode(referral: Referral) -> MissingEpisode | None:
    return MissingEpisode.objects.filter(referral=referral, found_at__isnull=True).first()


@transaction.atomic
def missing_episode_report(
    *,
    actor: User,
    referral: Referral | str | uuid_module.UUID,
    missing_since: dt.datetime | Unreadable | None,
    last_seen: str,
    risk: str,
    now: dt.datetime | None = None,
) -> MissingEpisode:
    """The child is missing: record it, tell the others responsible at once, and if high risk start the one-hour clock."""
    kind = _reporter_kind(actor)
    referral = _lock(actor, referral, Capability.REPORT_MISSING)
    now = now or timezone.now()
    unreadable = _unreadable(missing_since=missing_since)
    missing_since = _readable(missing_since)
    errors: list[FieldError] = []
    if missing_since is None:
        errors.append(
            FieldError("missing_since", "Enter when the child went missing, as a date and time with its offset")
        )
    _not_future(missing_since, "missing_since", "The time the child went missing", now, errors)
    last_seen = _text(last_seen, "last_seen", "where and when the child was last seen", errors)
    _choice(risk, "risk", Risk, "the risk", errors)
    _check(errors, unreadable)
    assert missing_since is not None  # an error above otherwise
    if not referral.is_child:
        raise Refused(
            "Missing episodes are recorded for children, and for people who may be children; this referral is of an adult"
        )
    open_episode = _open_episode(referral)
    if open_episode is not None:
        raise Refused(
            f"The child is already recorded as missing since {open_episode.missing_since.isoformat()}: "
            f"record them found before reporting a new episode"
        )
    episode = MissingEpisode.objects.create(
        referral=referral,
        number=MissingEpisode.objects.filter(referral=referral).count() + 1,
        local_authority=responsible_local_authority(referral),
        police_organisation=police_force_of(referral),
        reported_by=actor,
        reported_by_kind=kind,
        reported_at=now,
        missing_since=missing_since,
        last_seen=last_seen,
        risk=risk,
    )
    alerts = alert_responsible(episode, AlertKind.MISSING, now=now, exclude_organisation_id=actor.organisation_id)
    if risk == Risk.HIGH:
        escalate_missing_episode.using(run_after=now + ACKNOWLEDGE_HIGH_RISK_WITHIN).enqueue(episode_id=episode.pk)
    _audit(
        actor,
        referral,
        "safeguarding.missing_report",
        {
            "episode": str(episode.uuid),
            "number": episode.number,
            "risk": risk,
            "reported_by": kind,
            "notified": len(alerts),
        },
    )
    return episode


@transaction.atomic
def missing_episode_acknowledge(
    *,
    actor: User,
    referral: Referral | str | uuid_module.UUID,
    episode: MissingEpisode | str | uuid_module.UUID,
    now: dt.datetime | None = None,
) -> MissingEpisode:
    """One of the others responsible has taken the report on; a high-risk episode then does not escalate."""
    referral = _lock(actor, referral, Capability.REPORT_MISSING)
    episode = _episode(referral, episode)
    now = now or timezone.now()
    if episode.found_at is not None:
        raise Refused("The child has been found: there is no open episode to acknowledge")
    if episode.reported_by.organisation_id == actor.organisation_id:
        raise Refused("Your organisation reported this episode: acknowledgement is for the others responsible")
    if episode.acknowledged_at is None:
        episode.acknowledged_at, episode.acknowledged_by = now, actor
        episode.save(update_fields=["acknowledged_at", "acknowledged_by"])
        _audit(actor, referral, "safeguarding.missing_acknowledge", {"episode": str(episode.uuid)})
    assert actor.organisation_id is not None  # _lock found the child through it: without one, no scope
    SafeguardingAlert.objects.filter(
        episode=episode, organisation_id=actor.organisation_id, seen_at__isnull=True
    ).update(seen_at=now)
    return episode


@transaction.atomic
def missing_episode_found(
    *,
    actor: User,
    referral: Referral | str | uuid_module.UUID,
    episode: MissingEpisode | str | uuid_module.UUID,
    found_at: dt.datetime | Unreadable | None,
    now: dt.datetime | None = None,
) -> MissingEpisode:
    """The child is back: close the episode, set the return interview's due time (72 hours), and tell the others."""
    referral = _lock(actor, referral, Capability.REPORT_MISSING)
    _reporter_kind(actor)
    episode = _episode(referral, episode)
    now = now or timezone.now()
    unreadable = _unreadable(found_at=found_at)
    found_at = _readable(found_at)
    if episode.found_at is not None:
        raise _refused(
            f"This episode is already closed: the child was found at {episode.found_at.isoformat()}", unreadable
        )
    errors: list[FieldError] = []
    if found_at is None:
        errors.append(FieldError("found_at", "Enter when the child was found, as a date and time with its offset"))
    elif found_at < episode.missing_since:
        errors.append(
            FieldError(
                "found_at",
                f"The time found must be after the time the child went missing ({episode.missing_since.isoformat()})",
            )
        )
    _not_future(found_at, "found_at", "The time found", now, errors)
    _check(errors, unreadable)
    assert found_at is not None  # an error above otherwise
    episode.found_at, episode.found_recorded_by = found_at, actor
    episode.return_interview_due = found_at + RETURN_INTERVIEW_WITHIN
    episode.save(update_fields=["found_at", "found_recorded_by", "return_interview_due"])
    alerts = alert_responsible(episode, AlertKind.FOUND, now=now, exclude_organisation_id=actor.organisation_id)
    _audit(
        actor,
        referral,
        "safeguarding.missing_found",
        {
            "episode": str(episode.uuid),
            "found_at": found_at.isoformat(),
            "notified": len(alerts),
            "return_interview_due": episode.return_interview_due.isoformat(),
        },
    )
    return episode


@transaction.atomic
def return_interview_record(
    *,
    actor: User,
    referral: Referral | str | uuid_module.UUID,
    episode: MissingEpisode | str | uuid_module.UUID,
    completed_at: dt.datetime | Unreadable | None,
    summary: str,
    now: dt.datetime | None = None,
) -> ReturnInterview:
    """The return home interview was held (offered by the local authority after every return)."""
    referral = _lock(actor, referral, Capability.RECORD_CARE)
    episode = _episode(referral, episode)
    now = now or timezone.now()
    unreadable = _unreadable(completed_at=completed_at)
    completed_at = _readable(completed_at)
    if episode.found_at is None:
        raise _refused(
            "The child has not been recorded as found: a return interview follows the child's return", unreadable
        )
    if ReturnInterview.objects.filter(episode=episode).exists():
        raise _refused("The return interview for this episode is already recorded", unreadable)
    errors: list[FieldError] = []
    if completed_at is None:
        errors.append(
            FieldError("completed_at", "Enter when the interview was held, as a date and time with its offset")
        )
    elif completed_at < episode.found_at:
        errors.append(
            FieldError(
                "completed_at",
                f"The interview must be after the child's return (found at {episode.found_at.isoformat()})",
            )
        )
    _not_future(completed_at, "completed_at", "The time of the interview", now, errors)
    summary = _text(summary, "summary", "a summary of the interview", errors)
    _check(errors, unreadable)
    assert completed_at is not None  # an error above otherwise
    assert episode.return_interview_due is not None  # set when the child was found, checked above
    assert actor.organisation is not None  # _lock found the child through it: without one, no scope
    interview = ReturnInterview.objects.create(
        episode=episode,
        completed_at=completed_at,
        summary=summary,
        conducted_by_organisation=actor.organisation,
        recorded_by=actor,
        recorded_at=now,
    )
    _audit(
        actor,
        referral,
        "safeguarding.return_interview",
        {
            "episode": str(episode.uuid),
            "completed_at": completed_at.isoformat(),
            "within_72_hours": completed_at <= episode.return_interview_due,
        },
    )
    return interview
