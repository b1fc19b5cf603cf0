"""Recording decisions and moving referrals between statuses: allowed moves, refused moves, audit."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from opennrm.audit.models import AuditEvent
from opennrm.decisions.models import Decision
from opennrm.decisions.services import InvalidDecision, TransitionRefused, decision_record, referral_status_set
from opennrm.policy import Role
from opennrm.referrals.models import Referral, Status
from opennrm.referrals.selectors import NotFound
from opennrm.referrals.services import NotAllowed, referral_create
from opennrm.referrals.validation import validate_referral

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def people(make_user):
    return {
        "referrer": make_user(Role.FIRST_RESPONDER, "fr"),
        "other_referrer": make_user(Role.FIRST_RESPONDER, "fr.other", name="Another police force"),
        "sca1": make_user(Role.SCA_DECISION_MAKER, "sca1"),
        "sca2": make_user(Role.SCA_DECISION_MAKER, "sca2"),
        "ieca": make_user(Role.IECA_DECISION_MAKER, "ieca"),
        "la": make_user(Role.LA_SOCIAL_WORKER, "la"),
    }


def _referral(actor, body, *, days_ago: float) -> Referral:
    data, errors = validate_referral(body, now=timezone.now())
    assert not errors, errors
    return referral_create(actor=actor, data=data, received_at=timezone.now() - dt.timedelta(days=days_ago))


@pytest.fixture
def child_referral(people, child_referral_body):
    return _referral(people["referrer"], child_referral_body, days_ago=60)


@pytest.fixture
def adult_referral(people, adult_referral_body):
    return _referral(people["referrer"], adult_referral_body, days_ago=60)


def _days_ago(days: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days)


def test_positive_reasonable_grounds_starts_the_recovery_period(people, child_referral):
    decision = decision_record(actor=people["sca1"], referral=child_referral, stage="reasonable_grounds", outcome="positive",
                               reasons="Consistent account", decided_at=_days_ago(50))
    child_referral.refresh_from_db()
    assert child_referral.status == Status.RECOVERY_PERIOD
    assert child_referral.recovery_period_ends_on == decision.decided_at.astimezone(LONDON).date() + dt.timedelta(days=30)
    assert decision.competent_authority == "SCA" and decision.decided_by == people["sca1"]
    event = AuditEvent.objects.get(action="decision.record")
    assert event.details["status_from"] == "awaiting_reasonable_grounds" and event.details["status_to"] == "recovery_period"


def test_negative_decision_needs_a_second_different_decision_maker(people, child_referral):
    with pytest.raises(TransitionRefused, match="confirmed by a second"):
        decision_record(actor=people["sca1"], referral=child_referral, stage="reasonable_grounds", outcome="negative", reasons="Thin account")
    with pytest.raises(TransitionRefused, match="different decision maker"):
        decision_record(actor=people["sca1"], referral=child_referral, stage="reasonable_grounds", outcome="negative", reasons="Thin account",
                        confirmed_by=people["sca1"])
    with pytest.raises(TransitionRefused, match="competent authority"):
        decision_record(actor=people["sca1"], referral=child_referral, stage="reasonable_grounds", outcome="negative", reasons="Thin account",
                        confirmed_by=people["ieca"])
    assert not Decision.objects.exists()
    child_referral.refresh_from_db()
    assert child_referral.status == Status.AWAITING_REASONABLE_GROUNDS

    decision_record(actor=people["sca1"], referral=child_referral, stage="reasonable_grounds", outcome="negative", reasons="Thin account",
                    confirmed_by=people["sca2"])
    child_referral.refresh_from_db()
    assert child_referral.status == Status.REASONABLE_GROUNDS_NEGATIVE
    assert AuditEvent.objects.get(action="decision.record").details["confirmed_by"] == "sca2"


def test_only_the_holding_authority_decides(people, child_referral):
    with pytest.raises(NotAllowed):
        decision_record(actor=people["referrer"], referral=child_referral, stage="reasonable_grounds", outcome="positive", reasons="x")
    with pytest.raises(NotFound):  # an IECA decision maker may not even learn that an SCA case exists
        decision_record(actor=people["ieca"], referral=child_referral, stage="reasonable_grounds", outcome="positive", reasons="x")
    assert not Decision.objects.exists()


def test_decisions_follow_the_order_of_the_process(people, child_referral):
    with pytest.raises(TransitionRefused, match="Conclusive Grounds decision cannot be made"):
        decision_record(actor=people["sca1"], referral=child_referral, stage="conclusive_grounds", outcome="positive", reasons="x")
    decision_record(actor=people["sca1"], referral=child_referral, stage="reasonable_grounds", outcome="positive", reasons="x", decided_at=_days_ago(20))
    with pytest.raises(TransitionRefused, match="before the recovery period ends"):
        decision_record(actor=people["sca1"], referral=child_referral, stage="conclusive_grounds", outcome="positive", reasons="x")
    with pytest.raises(TransitionRefused, match="Reasonable Grounds decision cannot be made"):
        decision_record(actor=people["sca1"], referral=child_referral, stage="reasonable_grounds", outcome="positive", reasons="x")
    assert Decision.objects.count() == 1


def test_decision_input_is_checked(people, child_referral):
    for kwargs, field in [
        (dict(stage="final"), "stage"),
        (dict(outcome="maybe"), "outcome"),
        (dict(reasons="   "), "reasons"),
        (dict(decided_at=timezone.now() + dt.timedelta(hours=1)), "decided_at"),
        (dict(decided_at=_days_ago(61)), "decided_at"),  # before the referral was received
    ]:
        args = dict(stage="reasonable_grounds", outcome="positive", reasons="Consistent account") | kwargs
        with pytest.raises(InvalidDecision) as raised:
            decision_record(actor=people["sca1"], referral=child_referral, **args)
        assert raised.value.field == field
    assert not Decision.objects.exists()


def _to_awaiting_conclusive_grounds(people, referral):
    decision_record(actor=people["sca1"], referral=referral, stage="reasonable_grounds", outcome="positive", reasons="x", decided_at=_days_ago(45))
    return referral_status_set(actor=None, referral=referral, status=Status.AWAITING_CONCLUSIVE_GROUNDS, reason="The recovery period ended")


def test_recovery_period_ends_only_when_it_has_run(people, child_referral):
    decision_record(actor=people["sca1"], referral=child_referral, stage="reasonable_grounds", outcome="positive", reasons="x", decided_at=_days_ago(10))
    with pytest.raises(TransitionRefused, match="has not ended"):
        referral_status_set(actor=None, referral=child_referral, status=Status.AWAITING_CONCLUSIVE_GROUNDS, reason="Clock")
    child_referral.refresh_from_db()
    later = child_referral.recovery_period_ends_on
    referral = referral_status_set(actor=None, referral=child_referral, status=Status.AWAITING_CONCLUSIVE_GROUNDS, reason="Clock", today=later)
    assert referral.status == Status.AWAITING_CONCLUSIVE_GROUNDS


def test_reconsideration_of_a_negative_conclusive_grounds_decision(people, child_referral):
    _to_awaiting_conclusive_grounds(people, child_referral)
    decision_record(actor=people["sca1"], referral=child_referral, stage="conclusive_grounds", outcome="negative", reasons="x",
                    decided_at=_days_ago(2), confirmed_by=people["sca2"])
    with pytest.raises(NotAllowed):
        referral_status_set(actor=people["other_referrer"], referral=child_referral, status=Status.RECONSIDERATION, reason="New evidence")
    # The child's local authority may ask, as may the referrer.
    referral = referral_status_set(actor=people["la"], referral=child_referral, status=Status.RECONSIDERATION, reason="New evidence")
    assert referral.status == Status.RECONSIDERATION
    with pytest.raises(TransitionRefused, match="reconsideration is of the Conclusive Grounds"):
        decision_record(actor=people["sca2"], referral=referral, stage="reasonable_grounds", outcome="positive", reasons="x")
    decision_record(actor=people["sca2"], referral=referral, stage="conclusive_grounds", outcome="positive", reasons="On reconsideration")
    referral.refresh_from_db()
    assert referral.status == Status.CONCLUSIVE_GROUNDS_POSITIVE
    event = AuditEvent.objects.filter(action="referral.status_change").latest("occurred_at", "seq")
    assert event.details["status_to"] == "reconsideration" and event.actor_username == "la"


def test_reconsideration_only_of_a_negative_decision(people, child_referral):
    with pytest.raises(TransitionRefused, match="cannot move to reconsideration"):
        referral_status_set(actor=people["referrer"], referral=child_referral, status=Status.RECONSIDERATION, reason="Please look again")


def test_an_adult_may_withdraw_a_child_may_not(people, child_referral, adult_referral):
    with pytest.raises(TransitionRefused, match="child"):
        referral_status_set(actor=people["referrer"], referral=child_referral, status=Status.WITHDRAWN, reason="Asked to withdraw")
    with pytest.raises(NotAllowed):
        referral_status_set(actor=people["other_referrer"], referral=adult_referral, status=Status.WITHDRAWN, reason="Asked to withdraw")
    referral = referral_status_set(actor=people["referrer"], referral=adult_referral, status=Status.WITHDRAWN, reason="Asked to withdraw")
    assert referral.status == Status.WITHDRAWN
    with pytest.raises(TransitionRefused):
        decision_record(actor=people["sca1"], referral=referral, stage="reasonable_grounds", outcome="positive", reasons="x")


def test_status_set_input_is_checked(people, adult_referral):
    with pytest.raises(InvalidDecision) as raised:
        referral_status_set(actor=people["referrer"], referral=adult_referral, status=Status.CONCLUSIVE_GROUNDS_POSITIVE, reason="x")
    assert raised.value.field == "status"
    with pytest.raises(InvalidDecision) as raised:
        referral_status_set(actor=people["referrer"], referral=adult_referral, status=Status.WITHDRAWN, reason="")
    assert raised.value.field == "reason"
    with pytest.raises(NotAllowed):
        referral_status_set(actor=None, referral=adult_referral, status=Status.WITHDRAWN, reason="x")
    adult_referral.refresh_from_db()
    assert adult_referral.status == Status.AWAITING_REASONABLE_GROUNDS
