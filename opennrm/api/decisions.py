"""Decisions, review, reconsideration, withdrawal and re-routing (contract section 4; ADR 0005).

Views only translate HTTP: 403 for a role that may never do this, 422 for a bad body (every error at
once), then the service, which answers 404 outside the caller's scope and 409 when the case's state
does not allow the action (the body says why; nothing changes).
"""

from typing import Literal

from django.http import JsonResponse
from ninja import Router
from pydantic import BaseModel, ConfigDict, Field

from opennrm.decisions.models import Decision
from opennrm.decisions.services import (
    decision_confirm,
    decision_record,
    decision_send_back,
    reconsideration_request,
    referral_reroute,
    referral_withdraw,
)
from opennrm.policy import Capability
from opennrm.referrals.models import Referral
from opennrm.referrals.schemas import Text

from .http import documented_body, idempotent_post, parse_body, require_capability
from .schemas import (
    RECORD,
    ROLE_CHECKED,
    SIGNED_IN,
    STATE,
    WITH_BODY,
    DecisionOut,
    ReconsiderationOut,
    ReferralStateChangeOut,
    answer,
    responses,
)

router = Router(tags=["decisions"])

# Every operation here checks the role, finds the case in the path, may be refused by its state and reads a body.
REFUSALS = (SIGNED_IN, ROLE_CHECKED, RECORD, STATE, WITH_BODY)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class DecisionIn(_Body):
    stage: Literal["reasonable_grounds", "conclusive_grounds"]
    outcome: Literal["positive", "negative"] = Field(
        description="A negative decision is proposed until a second decision maker confirms it"
    )
    reasons: Text


class SendBackIn(_Body):
    comment: Text


class ReconsiderationIn(_Body):
    grounds: Text


class WithdrawIn(_Body):
    reason: Text


class RerouteIn(_Body):
    competent_authority: Literal["SCA", "IECA", "LOCAL_PANEL"]
    reason: Text


class ConfirmIn(_Body):
    """An empty object (or no body): the confirmation is the request itself."""


BODY_MODELS = [DecisionIn, SendBackIn, ReconsiderationIn, WithdrawIn, RerouteIn, ConfirmIn]


def _run(request, capability: Capability, action) -> JsonResponse:
    """Check the role, then run `action() -> (status, body)` once per Idempotency-Key; a refusal is answered by its
    kind (http.problem_of)."""
    require_capability(request, capability)
    return idempotent_post(request, action)


def decision_as_dict(decision: Decision, referral: Referral) -> dict:
    return {
        "id": str(decision.uuid),
        "stage": decision.stage,
        "outcome": decision.outcome,
        "state": decision.state,
        "reasons": decision.reasons,
        "decided_at": decision.decided_at.isoformat(),
        "decided_by": decision.decided_by.username,
        "reviewed_by": decision.reviewed_by.username if decision.reviewed_by else None,
        "review_comment": decision.review_comment or None,
        "policy_version": decision.policy_version,
        "guidance_version": decision.guidance_version,
        "referral": _referral_state(referral),
    }


def _referral_state(referral: Referral) -> dict:
    return {
        "id": str(referral.uuid),
        "reference": referral.reference,
        "status": referral.status,
        "competent_authority": referral.competent_authority,
        "reasonable_grounds_due": referral.reasonable_grounds_due.isoformat(),
        "recovery_period_ends_on": referral.recovery_period_ends_on.isoformat()
        if referral.recovery_period_ends_on
        else None,
    }


@router.post(
    "/referrals/{referral_id}/decisions",
    response=responses({201: DecisionOut}, *REFUSALS),
    openapi_extra=documented_body(DecisionIn),
    summary="Make a Reasonable or Conclusive Grounds decision (decision makers of the authority holding the case)",
    description="A positive decision is issued at once; a negative one is `proposed` until a second, different decision maker "
    "of the same authority confirms it. `409` (with the reason) for a decision the case's state does not allow.",
)
def make_decision(request, referral_id: str):
    def action():
        body = parse_body(request, DecisionIn)
        decision = decision_record(
            actor=request.user, referral=referral_id, stage=body.stage, outcome=body.outcome, reasons=body.reasons
        )
        return 201, answer(DecisionOut, decision_as_dict(decision, decision.referral))

    return _run(request, Capability.MAKE_DECISION, action)


@router.post(
    "/referrals/{referral_id}/decisions/{decision_id}/confirm",
    response=responses({200: DecisionOut}, *REFUSALS),
    openapi_extra=documented_body(ConfirmIn, required=False),
    summary="Confirm a proposed negative decision (a second, different decision maker)",
)
def confirm_decision(request, referral_id: str, decision_id: str):
    def action():
        parse_body(request, ConfirmIn, optional=True)
        decision = decision_confirm(actor=request.user, referral=referral_id, decision=decision_id)
        return 200, answer(DecisionOut, decision_as_dict(decision, decision.referral))

    return _run(request, Capability.MAKE_DECISION, action)


@router.post(
    "/referrals/{referral_id}/decisions/{decision_id}/send-back",
    response=responses({200: DecisionOut}, *REFUSALS),
    openapi_extra=documented_body(SendBackIn),
    summary="Send a proposed negative decision back with a comment; the stage awaits a fresh decision",
)
def send_back_decision(request, referral_id: str, decision_id: str):
    def action():
        body = parse_body(request, SendBackIn)
        decision = decision_send_back(
            actor=request.user, referral=referral_id, decision=decision_id, comment=body.comment
        )
        return 200, answer(DecisionOut, decision_as_dict(decision, decision.referral))

    return _run(request, Capability.MAKE_DECISION, action)


@router.post(
    "/referrals/{referral_id}/reconsideration-requests",
    response=responses({201: ReconsiderationOut}, *REFUSALS),
    openapi_extra=documented_body(ReconsiderationIn),
    summary="Ask for a negative decision to be reconsidered (the referring first responder, the child's local authority or guardian)",
)
def request_reconsideration(request, referral_id: str):
    def action():
        body = parse_body(request, ReconsiderationIn)
        made = reconsideration_request(actor=request.user, referral=referral_id, grounds=body.grounds)
        return 201, answer(
            ReconsiderationOut,
            {
                "id": made.pk,
                "decision_id": str(made.decision.uuid),
                "grounds": made.grounds,
                "requested_at": made.requested_at.isoformat(),
                "referral": _referral_state(made.referral),
            },
        )

    return _run(request, Capability.REQUEST_RECONSIDERATION, action)


@router.post(
    "/referrals/{referral_id}/withdraw",
    response=responses({200: ReferralStateChangeOut}, *REFUSALS),
    openapi_extra=documented_body(WithdrawIn),
    summary="Record an adult's withdrawal from the NRM (children may not generally withdraw: 409)",
)
def withdraw(request, referral_id: str):
    def action():
        body = parse_body(request, WithdrawIn)
        referral = referral_withdraw(actor=request.user, referral=referral_id, reason=body.reason)
        return 200, answer(ReferralStateChangeOut, {"referral": _referral_state(referral)})

    return _run(request, Capability.WITHDRAW_REFERRAL, action)


@router.post(
    "/referrals/{referral_id}/reroute",
    response=responses({200: ReferralStateChangeOut}, *REFUSALS),
    openapi_extra=documented_body(RerouteIn),
    summary="Pass a case to another competent authority, with a reason (the authority holding it); the deadline is recomputed from receipt",
)
def reroute(request, referral_id: str):
    def action():
        body = parse_body(request, RerouteIn)
        referral = referral_reroute(
            actor=request.user, referral=referral_id, competent_authority=body.competent_authority, reason=body.reason
        )
        return 200, answer(ReferralStateChangeOut, {"referral": _referral_state(referral)})

    return _run(request, Capability.MAKE_DECISION, action)
