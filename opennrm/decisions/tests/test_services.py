"""Decisions and status moves through the services: allowed moves, refused moves (record unchanged), audit."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from opennrm.audit.models import AuditEvent
from opennrm.core.errors import Invalid, NotAllowed, NotFound, Refused
from opennrm.decisions.models import Decision, DecisionState, ReconsiderationRequest
from opennrm.decisions.services import (
    decision_confirm,
    decision_record,
    decision_send_back,
    reconsideration_request,
    recovery_period_end,
    referral_reroute,
    referral_withdraw,
)
from opennrm.referrals.models import Referral, Status
from opennrm.safeguarding.services import guardian_allocate

from .conftest import days_ago, make_referral

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")
RG, CG = "reasonable_grounds", "conclusive_grounds"


def snapshot(referral: Referral) -> tuple:
    fresh = Referral.objects.get(pk=referral.pk)
    return (
        fresh.status,
        fresh.competent_authority,
        fresh.reasonable_grounds_due,
        fresh.recovery_period_ends_on,
        list(Decision.objects.filter(referral=fresh).values_list("state", flat=True).order_by("id")),
    )


def refused(call, match: str, referral: Referral):
    before = snapshot(referral)
    with pytest.raises(Refused, match=match):
        call()
    assert snapshot(referral) == before


def positive_rg(people, referral, when=None):
    return decision_record(
        actor=people["sca1"],
        referral=referral,
        stage=RG,
        outcome="positive",
        reasons="Consistent account",
        decided_at=when or days_ago(50),
    )


def negative(people, referral, stage, when=None):
    proposal = decision_record(
        actor=people["sca1"],
        referral=referral,
        stage=stage,
        outcome="negative",
        reasons="Thin account",
        decided_at=when or days_ago(5),
    )
    return decision_confirm(actor=people["sca2"], referral=referral, decision=proposal)


def test_positive_reasonable_grounds_starts_a_30_day_recovery_period(people, child_referral):
    decision = positive_rg(people, child_referral)
    child_referral.refresh_from_db()
    assert child_referral.status == Status.RECOVERY_PERIOD and decision.state == DecisionState.ISSUED
    assert child_referral.recovery_period_ends_on == decision.decided_at.astimezone(LONDON).date() + dt.timedelta(
        days=30
    )
    assert (decision.policy_version, decision.guidance_version) == ("naba-2022-30-day", "rg-all-evidence-2023-07")
    event = AuditEvent.objects.get(action="decision.record")
    assert (
        event.details["status_from"] == "awaiting_reasonable_grounds"
        and event.details["status_to"] == "recovery_period"
    )


@pytest.mark.parametrize(
    "decided_on, days, policy, guidance",
    [
        ("2022-12-12", 45, "msa-2015-45-day", "rg-suspects-not-prove"),
        ("2022-12-13", 30, "naba-2022-30-day", "rg-suspects-not-prove"),
        ("2023-01-29", 30, "naba-2022-30-day", "rg-suspects-not-prove"),
        ("2023-01-30", 30, "naba-2022-30-day", "rg-objective-factors-2023-01"),
        ("2023-07-01", 30, "naba-2022-30-day", "rg-all-evidence-2023-07"),
    ],
)
def test_historic_decisions_use_the_policy_and_guidance_in_force_that_day(
    people, child_referral_body, decided_on, days, policy, guidance
):
    referral = make_referral(
        people["referrer"], child_referral_body, received_at=dt.datetime(2022, 11, 1, 10, tzinfo=dt.UTC)
    )
    when = dt.datetime.combine(dt.date.fromisoformat(decided_on), dt.time(12), tzinfo=LONDON)
    decision = positive_rg(people, referral, when)
    referral.refresh_from_db()
    assert referral.recovery_period_ends_on == dt.date.fromisoformat(decided_on) + dt.timedelta(days=days)
    assert (decision.policy_version, decision.guidance_version) == (policy, guidance)


def test_negative_decision_is_proposed_until_a_different_decision_maker_confirms(people, child_referral):
    proposal = decision_record(
        actor=people["sca1"], referral=child_referral, stage=RG, outcome="negative", reasons="Thin account"
    )
    assert proposal.state == DecisionState.PROPOSED
    child_referral.refresh_from_db()
    assert child_referral.status == Status.AWAITING_REASONABLE_GROUNDS
    refused(
        lambda: decision_confirm(actor=people["sca1"], referral=child_referral, decision=proposal),
        "different decision maker",
        child_referral,
    )
    refused(
        lambda: decision_record(
            actor=people["sca2"], referral=child_referral, stage=RG, outcome="positive", reasons="x"
        ),
        "awaits a second decision maker",
        child_referral,
    )
    with pytest.raises(NotFound):  # another authority cannot review it
        decision_confirm(actor=people["ieca"], referral=child_referral, decision=proposal)

    decision_confirm(actor=people["sca2"], referral=child_referral, decision=proposal)
    child_referral.refresh_from_db()
    proposal.refresh_from_db()
    assert child_referral.status == Status.REASONABLE_GROUNDS_NEGATIVE
    assert (proposal.state, proposal.reviewed_by) == (DecisionState.ISSUED, people["sca2"])
    assert AuditEvent.objects.get(action="decision.confirm").details["proposed_by"] == "sca1"
    refused(
        lambda: decision_confirm(actor=people["sca2"], referral=child_referral, decision=proposal),
        "not awaiting review",
        child_referral,
    )


def test_a_sent_back_proposal_is_closed_and_the_stage_awaits_a_fresh_decision(people, child_referral):
    proposal = decision_record(
        actor=people["sca1"], referral=child_referral, stage=RG, outcome="negative", reasons="Thin account"
    )
    refused(
        lambda: decision_send_back(actor=people["sca1"], referral=child_referral, decision=proposal, comment="x"),
        "different decision maker",
        child_referral,
    )
    with pytest.raises(Invalid) as raised:
        decision_send_back(actor=people["sca2"], referral=child_referral, decision=proposal, comment="  ")
    assert raised.value.field == "comment"
    decision_send_back(
        actor=people["sca2"],
        referral=child_referral,
        decision=proposal,
        comment="Ask the police for their interview notes",
    )
    proposal.refresh_from_db()
    assert proposal.state == DecisionState.SENT_BACK and proposal.review_comment.startswith("Ask the police")
    refused(
        lambda: decision_confirm(actor=people["sca2"], referral=child_referral, decision=proposal),
        "not awaiting review",
        child_referral,
    )
    positive_rg(people, child_referral, timezone.now())
    child_referral.refresh_from_db()
    assert child_referral.status == Status.RECOVERY_PERIOD
    assert AuditEvent.objects.get(action="decision.send_back").details["comment"].startswith("Ask the police")


def test_only_decision_makers_of_the_holding_authority_decide(people, child_referral):
    for role in ("referrer", "la", "guardian", "immigration", "admin"):
        with pytest.raises(NotAllowed):
            decision_record(actor=people[role], referral=child_referral, stage=RG, outcome="positive", reasons="x")
    for outsider in ("ieca", "panel"):  # may not even learn that an SCA case exists
        with pytest.raises(NotFound):
            decision_record(actor=people[outsider], referral=child_referral, stage=RG, outcome="positive", reasons="x")
    assert not Decision.objects.exists()


def test_wrong_order_is_refused_with_the_reason_and_nothing_changes(people, child_referral):
    refused(
        lambda: decision_record(
            actor=people["sca1"], referral=child_referral, stage=CG, outcome="positive", reasons="x"
        ),
        "needs a positive Reasonable Grounds decision first",
        child_referral,
    )
    positive_rg(people, child_referral, days_ago(20))
    child_referral.refresh_from_db()
    ends = f"{child_referral.recovery_period_ends_on:%-d %B %Y}"
    refused(
        lambda: decision_record(
            actor=people["sca1"], referral=child_referral, stage=CG, outcome="positive", reasons="x"
        ),
        f"before the recovery period ends on {ends}",
        child_referral,
    )
    refused(
        lambda: decision_record(
            actor=people["sca2"], referral=child_referral, stage=RG, outcome="positive", reasons="x"
        ),
        "already issued",
        child_referral,
    )
    assert Decision.objects.count() == 1


def test_a_conclusive_grounds_decision_once_the_recovery_period_has_run(people, child_referral):
    positive_rg(people, child_referral, days_ago(40))
    # Still in "recovery_period" (nobody moved it), but the period has ended: the decision is accepted.
    decision_record(
        actor=people["sca1"], referral=child_referral, stage=CG, outcome="positive", reasons="Balance of probabilities"
    )
    child_referral.refresh_from_db()
    assert child_referral.status == Status.CONCLUSIVE_GROUNDS_POSITIVE


def test_negative_conclusive_grounds_needs_confirmation_too(people, child_referral):
    positive_rg(people, child_referral, days_ago(40))
    proposal = decision_record(
        actor=people["sca1"], referral=child_referral, stage=CG, outcome="negative", reasons="Inconsistent"
    )
    child_referral.refresh_from_db()
    assert child_referral.status == Status.RECOVERY_PERIOD
    decision_confirm(actor=people["sca2"], referral=child_referral, decision=proposal)
    child_referral.refresh_from_db()
    assert child_referral.status == Status.CONCLUSIVE_GROUNDS_NEGATIVE


def test_recovery_period_ends_only_when_it_has_run(people, child_referral):
    positive_rg(people, child_referral, days_ago(10))
    refused(lambda: recovery_period_end(referral=child_referral), "has not ended", child_referral)
    child_referral.refresh_from_db()
    referral = recovery_period_end(referral=child_referral, today=child_referral.recovery_period_ends_on)
    assert referral.status == Status.AWAITING_CONCLUSIVE_GROUNDS
    refused(lambda: recovery_period_end(referral=child_referral), "not in a recovery period", child_referral)


def test_decision_input_is_checked(people, child_referral):
    for kwargs, field in [
        (dict(stage="final"), "stage"),
        (dict(outcome="maybe"), "outcome"),
        (dict(reasons="   "), "reasons"),
        (dict(decided_at=timezone.now() + dt.timedelta(hours=1)), "decided_at"),
        (dict(decided_at=days_ago(61)), "decided_at"),  # before the referral was received
    ]:
        args = dict(stage=RG, outcome="positive", reasons="Consistent account") | kwargs
        with pytest.raises(Invalid) as raised:
            decision_record(actor=people["sca1"], referral=child_referral, **args)
        assert raised.value.field == field
    assert not Decision.objects.exists()


def test_reconsideration_of_a_negative_decision_returns_the_case_to_that_stage(people, child_referral):
    negative(people, child_referral, RG)
    with pytest.raises(NotFound):  # another organisation's first responder
        reconsideration_request(actor=people["other_referrer"], referral=child_referral, grounds="New evidence")
    with pytest.raises(NotAllowed):
        reconsideration_request(actor=people["sca1"], referral=child_referral, grounds="New evidence")
    request = reconsideration_request(
        actor=people["la"], referral=child_referral, grounds="New evidence from the school"
    )
    child_referral.refresh_from_db()
    assert child_referral.status == Status.RECONSIDERATION and request.decision.stage == RG
    refused(
        lambda: decision_record(
            actor=people["sca2"], referral=child_referral, stage=CG, outcome="positive", reasons="x"
        ),
        "reconsideration is of the Reasonable Grounds",
        child_referral,
    )
    positive_rg(people, child_referral, timezone.now())
    child_referral.refresh_from_db()
    assert child_referral.status == Status.RECOVERY_PERIOD
    event = AuditEvent.objects.get(action="referral.reconsideration_request")
    assert event.details["grounds"] == "New evidence from the school" and event.actor_username == "la"


@pytest.mark.parametrize("requester", ["referrer", "guardian"])
def test_reconsideration_of_a_negative_conclusive_grounds_decision(people, child_referral, requester):
    if requester == "guardian":  # the child's guardian: allocated (ADR 0028)
        guardian_allocate(
            actor=people["guardian"],
            referral=child_referral,
            guardian=people["guardian"].username,
            support_model="direct",
        )
    positive_rg(people, child_referral, days_ago(40))
    negative(people, child_referral, CG, days_ago(2))
    reconsideration_request(actor=people[requester], referral=child_referral, grounds="Medico-legal report")
    decision_record(
        actor=people["sca2"], referral=child_referral, stage=CG, outcome="positive", reasons="On reconsideration"
    )
    child_referral.refresh_from_db()
    assert child_referral.status == Status.CONCLUSIVE_GROUNDS_POSITIVE


def test_reconsideration_only_of_a_confirmed_negative_decision(people, child_referral):
    refused(
        lambda: reconsideration_request(actor=people["referrer"], referral=child_referral, grounds="Look again"),
        "Only a negative decision",
        child_referral,
    )
    proposal = decision_record(
        actor=people["sca1"], referral=child_referral, stage=RG, outcome="negative", reasons="Thin"
    )
    refused(
        lambda: reconsideration_request(actor=people["referrer"], referral=child_referral, grounds="Look again"),
        "Only a negative decision",
        child_referral,
    )  # only proposed
    decision_send_back(
        actor=people["sca2"], referral=child_referral, decision=proposal, comment="Read the interview notes"
    )
    positive_rg(people, child_referral, timezone.now())
    refused(
        lambda: reconsideration_request(actor=people["referrer"], referral=child_referral, grounds="Look again"),
        "status is recovery period",
        child_referral,
    )
    assert not ReconsiderationRequest.objects.exists()


def test_an_adult_may_withdraw_a_child_may_not(people, child_referral, adult_referral):
    refused(
        lambda: referral_withdraw(actor=people["referrer"], referral=child_referral, reason="Asked to withdraw"),
        "child.*cannot generally withdraw",
        child_referral,
    )
    with pytest.raises(NotFound):
        referral_withdraw(actor=people["other_referrer"], referral=adult_referral, reason="Asked to withdraw")
    with pytest.raises(NotAllowed):
        referral_withdraw(actor=people["la"], referral=adult_referral, reason="Asked to withdraw")
    referral = referral_withdraw(actor=people["sca1"], referral=adult_referral, reason="Asked to withdraw")
    assert referral.status == Status.WITHDRAWN
    refused(
        lambda: referral_withdraw(actor=people["referrer"], referral=adult_referral, reason="Again"),
        "cannot be withdrawn",
        adult_referral,
    )
    refused(
        lambda: decision_record(
            actor=people["sca1"], referral=adult_referral, stage=RG, outcome="positive", reasons="x"
        ),
        "status is withdrawn",
        adult_referral,
    )
    assert AuditEvent.objects.get(action="referral.withdraw").details["reason"] == "Asked to withdraw"


def test_rerouting_by_the_holding_authority_recomputes_the_deadline_from_receipt(people, adult_referral_body):
    received = dt.datetime(2026, 11, 27, 10, tzinfo=dt.UTC)  # Friday
    referral = make_referral(people["referrer"], adult_referral_body, received_at=received)
    assert (referral.competent_authority, referral.reasonable_grounds_due) == ("SCA", dt.date(2026, 12, 4))
    with pytest.raises(NotFound):
        referral_reroute(actor=people["ieca"], referral=referral, competent_authority="SCA", reason="x")
    with pytest.raises(NotAllowed):
        referral_reroute(actor=people["referrer"], referral=referral, competent_authority="IECA", reason="x")
    with pytest.raises(Invalid):
        referral_reroute(actor=people["sca1"], referral=referral, competent_authority="NCA", reason="x")
    refused(
        lambda: referral_reroute(actor=people["sca1"], referral=referral, competent_authority="SCA", reason="x"),
        "already holds",
        referral,
    )
    refused(
        lambda: referral_reroute(
            actor=people["sca1"], referral=referral, competent_authority="LOCAL_PANEL", reason="x"
        ),
        "local panel decides only for a child",
        referral,
    )
    referral_reroute(
        actor=people["sca1"], referral=referral, competent_authority="IECA", reason="Now subject to removal action"
    )
    referral.refresh_from_db()
    assert (referral.competent_authority, referral.reasonable_grounds_due) == ("IECA", dt.date(2026, 12, 4))
    event = AuditEvent.objects.get(action="referral.reroute")
    assert (event.details["from"], event.details["to"], event.details["reason"]) == (
        "SCA",
        "IECA",
        "Now subject to removal action",
    )
    # Now the IECA holds it, and the SCA no longer sees it.
    decision_record(actor=people["ieca"], referral=referral, stage=RG, outcome="positive", reasons="x")
    with pytest.raises(NotFound):
        decision_record(actor=people["sca1"], referral=referral, stage=CG, outcome="positive", reasons="x")


def test_rerouting_an_islington_child_to_the_panel_gives_the_panel_its_period(people, islington_child_body):
    islington_child_body["potential_victim"]["removal_action"] = True
    received = dt.datetime(2026, 11, 27, 10, tzinfo=dt.UTC)
    referral = make_referral(people["referrer"], islington_child_body, received_at=received)
    assert referral.competent_authority == "LOCAL_PANEL"  # panel first, even for a child facing removal
    referral_reroute(
        actor=people["panel"], referral=referral, competent_authority="SCA", reason="Panel conflict of interest"
    )
    referral.refresh_from_db()
    assert referral.reasonable_grounds_due == dt.date(2026, 12, 4)
    referral_reroute(
        actor=people["sca1"], referral=referral, competent_authority="LOCAL_PANEL", reason="Back to the panel"
    )
    referral.refresh_from_db()
    assert referral.reasonable_grounds_due == dt.date(2026, 11, 27) + dt.timedelta(days=45)


def test_the_panel_decides_its_own_children_only(people, islington_child_body):
    referral = make_referral(people["referrer"], islington_child_body, days_ago=3)
    with pytest.raises(NotFound):
        decision_record(actor=people["other_panel"], referral=referral, stage=RG, outcome="positive", reasons="x")
    with pytest.raises(NotFound):
        decision_record(actor=people["sca1"], referral=referral, stage=RG, outcome="positive", reasons="x")
    proposal = decision_record(actor=people["panel"], referral=referral, stage=RG, outcome="negative", reasons="x")
    decision_confirm(actor=people["panel2"], referral=referral, decision=proposal)
    referral.refresh_from_db()
    assert referral.status == Status.REASONABLE_GROUNDS_NEGATIVE and proposal.competent_authority == "LOCAL_PANEL"
