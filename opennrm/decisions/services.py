"""Recording decisions and moving a referral through the statuses of contract section 4.

Each service takes the acting user, locks the referral, checks that the move is allowed from the
referral's current status, and writes its audit event in the same transaction.
"""

import datetime as dt

from django.db import transaction
from django.utils import timezone

from opennrm.audit.services import audit_record
from opennrm.policy import Role, referral_scope
from opennrm.referrals.models import CompetentAuthority, Referral, Status
from opennrm.referrals.selectors import NotFound
from opennrm.referrals.services import NotAllowed

from .models import Decision, Outcome, Stage
from .routing import LONDON

# Nationality and Borders Act 2022: at least 30 days' recovery after a positive Reasonable Grounds decision.
RECOVERY_PERIOD_DAYS = 30
MAX_REASONS_CHARS = 20_000
MAX_STATUS_REASON_CHARS = 500

DECISION_MAKER_ROLE = {
    CompetentAuthority.SCA: Role.SCA_DECISION_MAKER,
    CompetentAuthority.IECA: Role.IECA_DECISION_MAKER,
    CompetentAuthority.LOCAL_PANEL: Role.PANEL_DECISION_MAKER,
}

# The statuses a decision at each stage may be made from.
DECISION_FROM = {
    Stage.REASONABLE_GROUNDS: {Status.AWAITING_REASONABLE_GROUNDS, Status.RECONSIDERATION},
    Stage.CONCLUSIVE_GROUNDS: {Status.RECOVERY_PERIOD, Status.AWAITING_CONCLUSIVE_GROUNDS, Status.RECONSIDERATION},
}
DECISION_TO = {
    (Stage.REASONABLE_GROUNDS, Outcome.POSITIVE): Status.RECOVERY_PERIOD,
    (Stage.REASONABLE_GROUNDS, Outcome.NEGATIVE): Status.REASONABLE_GROUNDS_NEGATIVE,
    (Stage.CONCLUSIVE_GROUNDS, Outcome.POSITIVE): Status.CONCLUSIVE_GROUNDS_POSITIVE,
    (Stage.CONCLUSIVE_GROUNDS, Outcome.NEGATIVE): Status.CONCLUSIVE_GROUNDS_NEGATIVE,
}
# Statuses set by hand (not by a decision), and the statuses each may be reached from.
STATUS_SET_FROM = {
    Status.RECONSIDERATION: {Status.REASONABLE_GROUNDS_NEGATIVE, Status.CONCLUSIVE_GROUNDS_NEGATIVE},
    Status.WITHDRAWN: {Status.AWAITING_REASONABLE_GROUNDS, Status.RECOVERY_PERIOD, Status.AWAITING_CONCLUSIVE_GROUNDS, Status.RECONSIDERATION},
    Status.AWAITING_CONCLUSIVE_GROUNDS: {Status.RECOVERY_PERIOD},
}


class TransitionRefused(Exception):
    """The action is not allowed in the referral's current state (HTTP 409); the message says why."""


class InvalidDecision(ValueError):
    """The decision itself is malformed (HTTP 422); `field` names the offending input."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def _status_label(status: str) -> str:
    return Status(status).label.lower() if status in Status.values else status


def _locked(referral: Referral) -> Referral:
    return Referral.objects.select_for_update().get(pk=referral.pk)


def _in_scope(actor, referral: Referral) -> bool:
    scope = referral_scope(actor)
    return scope is not None and Referral.objects.filter(scope, pk=referral.pk).exists()


def _is_decision_maker_for(user, referral: Referral) -> bool:
    return (
        user is not None
        and getattr(user, "is_active", False)
        and user.role == DECISION_MAKER_ROLE.get(referral.competent_authority)
        and _in_scope(user, referral)
    )


def _require_decision_maker(actor, referral: Referral) -> None:
    if actor.role not in DECISION_MAKER_ROLE.values():
        raise NotAllowed(f"Your role ({actor.role_label}) cannot record decisions")
    if not _is_decision_maker_for(actor, referral):
        # Another authority's case looks the same as no case at all (contract section 1).
        raise NotFound


def _last_decision(referral: Referral) -> Decision | None:
    return referral.decisions.order_by("-decided_at", "-id").first()


@transaction.atomic
def decision_record(*, actor, referral: Referral, stage: str, outcome: str, reasons: str,
                    decided_at: dt.datetime | None = None, confirmed_by=None) -> Decision:
    """Record a Reasonable or Conclusive Grounds decision and move the referral on.

    A negative decision takes effect only when a second, different decision maker of the same
    authority confirms it (`confirmed_by`): the second-caseworker review that replaced the panels.
    """
    if stage not in Stage.values:
        raise InvalidDecision("stage", "Choose reasonable_grounds or conclusive_grounds")
    if outcome not in Outcome.values:
        raise InvalidDecision("outcome", "Choose positive or negative")
    if not (reasons or "").strip():
        raise InvalidDecision("reasons", "Give the reasons for the decision")
    if len(reasons) > MAX_REASONS_CHARS:
        raise InvalidDecision("reasons", f"Must be {MAX_REASONS_CHARS:,} characters or fewer")
    referral = _locked(referral)
    _require_decision_maker(actor, referral)
    now = timezone.now()
    decided_at = decided_at or now
    if decided_at.tzinfo is None:
        raise InvalidDecision("decided_at", "Include a UTC offset in the decision time")
    if decided_at > now:
        raise InvalidDecision("decided_at", "The decision time must not be in the future")
    if decided_at < referral.received_at:
        raise InvalidDecision("decided_at", "The decision time must not be before the referral was received")

    if referral.status not in DECISION_FROM[stage]:
        raise TransitionRefused(
            f"A {Stage(stage).label} decision cannot be made on a referral whose status is {_status_label(referral.status)}"
        )
    last = _last_decision(referral)
    if last is not None and decided_at < last.decided_at:
        raise InvalidDecision("decided_at", "The decision time must not be before the referral's previous decision")
    if referral.status == Status.RECONSIDERATION and (last is None or last.stage != stage):
        raise TransitionRefused(
            f"The reconsideration is of the {Stage(last.stage).label if last else 'previous'} decision, not of a {Stage(stage).label} decision"
        )
    if stage == Stage.CONCLUSIVE_GROUNDS and referral.competent_authority != CompetentAuthority.LOCAL_PANEL:
        # Panels often make both decisions at one meeting; the national authorities must wait out the recovery period.
        ends_on = referral.recovery_period_ends_on
        if ends_on and decided_at.astimezone(LONDON).date() < ends_on:
            raise TransitionRefused(f"The Conclusive Grounds decision cannot be made before the recovery period ends on {ends_on:%-d %B %Y}")

    if outcome == Outcome.NEGATIVE:
        if confirmed_by is None:
            raise TransitionRefused("A negative decision must be confirmed by a second decision maker before it takes effect")
        if confirmed_by.pk == actor.pk:
            raise TransitionRefused("A negative decision must be confirmed by a different decision maker from the one who made it")
        if not _is_decision_maker_for(confirmed_by, referral):
            raise TransitionRefused("The confirming decision maker must work for the competent authority that holds this referral")

    previous_status = referral.status
    decision = Decision.objects.create(
        referral=referral,
        stage=stage,
        outcome=outcome,
        reasons=reasons,
        competent_authority=referral.competent_authority,
        decided_by=actor,
        decided_at=decided_at,
    )
    referral.status = DECISION_TO[(stage, outcome)]
    update_fields = ["status", "updated_at"]
    if stage == Stage.REASONABLE_GROUNDS and outcome == Outcome.POSITIVE:
        referral.recovery_period_ends_on = decided_at.astimezone(LONDON).date() + dt.timedelta(days=RECOVERY_PERIOD_DAYS)
        update_fields.append("recovery_period_ends_on")
    referral.save(update_fields=update_fields)
    details = {
        "reference": referral.reference,
        "stage": stage,
        "outcome": outcome,
        "status_from": previous_status,
        "status_to": referral.status,
        "decided_at": decided_at.isoformat(),
    }
    if confirmed_by is not None:
        details["confirmed_by"] = confirmed_by.username
    audit_record(actor=actor, action="decision.record", object_type="referral", object_id=str(referral.uuid), details=details)
    return decision


def _may_request_reconsideration(actor, referral: Referral) -> bool:
    # Contract section 4: the referring first responder, or the child's local authority or guardian.
    if actor.role == Role.FIRST_RESPONDER:
        return actor.organisation_id == referral.organisation_id
    if actor.role in (Role.LA_SOCIAL_WORKER, Role.GUARDIAN):
        return referral.is_child and _in_scope(actor, referral)
    return False


def _check_status_actor(actor, referral: Referral, status: str) -> None:
    if actor is None:
        if status != Status.AWAITING_CONCLUSIVE_GROUNDS:
            raise NotAllowed("Only a person can request a reconsideration or a withdrawal")
        return
    if status == Status.RECONSIDERATION:
        if not _may_request_reconsideration(actor, referral):
            raise NotAllowed("Only the referring first responder, or the child's local authority or guardian, can request a reconsideration")
    elif status == Status.WITHDRAWN:
        referrer = actor.role == Role.FIRST_RESPONDER and actor.organisation_id == referral.organisation_id
        if not (referrer or _is_decision_maker_for(actor, referral)):
            raise NotAllowed("Only the referring first responder or the competent authority can record a withdrawal")
    elif not _is_decision_maker_for(actor, referral):
        raise NotAllowed("Only the competent authority can end the recovery period")


@transaction.atomic
def referral_status_set(*, actor, referral: Referral, status: str, reason: str, today: dt.date | None = None) -> Referral:
    """Move a referral to a status no decision leads to: reconsideration, withdrawn, or (once the
    recovery period is over) awaiting Conclusive Grounds. `actor=None` is the system's own clock."""
    if status not in STATUS_SET_FROM:
        allowed = ", ".join(sorted(STATUS_SET_FROM))
        raise InvalidDecision("status", f"Choose {allowed}; other statuses follow from decisions")
    if not (reason or "").strip():
        raise InvalidDecision("reason", "Give the reason for the change")
    if len(reason) > MAX_STATUS_REASON_CHARS:
        raise InvalidDecision("reason", f"Must be {MAX_STATUS_REASON_CHARS} characters or fewer")
    referral = _locked(referral)
    _check_status_actor(actor, referral, status)
    if referral.status not in STATUS_SET_FROM[status]:
        raise TransitionRefused(f"A referral whose status is {_status_label(referral.status)} cannot move to {_status_label(status)}")
    if status == Status.WITHDRAWN and referral.is_child:
        raise TransitionRefused("A child, or a person who may be a child, cannot withdraw from the NRM: refer the request to policy")
    if status == Status.AWAITING_CONCLUSIVE_GROUNDS:
        today = today or timezone.now().astimezone(LONDON).date()
        ends_on = referral.recovery_period_ends_on
        if ends_on is None or today < ends_on:
            raise TransitionRefused(f"The recovery period has not ended: it ends on {ends_on:%-d %B %Y}" if ends_on else "The referral has no recovery period")
    previous_status = referral.status
    referral.status = status
    referral.save(update_fields=["status", "updated_at"])
    audit_record(
        actor=actor,
        action="referral.status_change",
        object_type="referral",
        object_id=str(referral.uuid),
        details={"reference": referral.reference, "status_from": previous_status, "status_to": status, "reason": reason.strip()},
    )
    return referral
