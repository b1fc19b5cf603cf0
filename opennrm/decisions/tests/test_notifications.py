"""The email telling the first responder a decision was made: sent by the real worker to a real SMTP server.

The server is aiosmtpd, started and stopped by the tests on a local port; Django's SMTP backend talks
to it exactly as it would to the production relay.
"""

import datetime as dt

import pytest
import time_machine

from opennrm.audit.models import AuditEvent
from opennrm.core.outbox import MAX_BACKOFF, backoff_after
from opennrm.decisions.models import DecisionNotification, Outcome, Stage
from opennrm.decisions.services import decision_confirm, decision_record
from opennrm.decisions.tasks import send_decision_notification
from opennrm.tests.mail import run_worker

from .conftest import days_ago

REASONS = "Detailed, consistent account of being made to tend cannabis plants; no means of leaving."
SUBJECT_PREFIX = "NRM decision made:"


@pytest.mark.django_db(transaction=True)
def test_a_notification_survives_the_mail_server_being_down_and_is_delivered_exactly_once(
    people, child_referral, smtp_sink
):
    decision = decision_record(
        actor=people["sca1"],
        referral=child_referral,
        stage=Stage.REASONABLE_GROUNDS,
        outcome=Outcome.POSITIVE,
        reasons=REASONS,
        decided_at=days_ago(50),
    )
    notification = DecisionNotification.objects.get(decision=decision)

    run_worker()  # the server is not running: the connection is refused
    notification.refresh_from_db()
    assert notification.sent_at is None and notification.attempts == 1
    assert "ConnectionRefusedError" in notification.last_error
    assert notification.next_attempt_at > notification.last_attempt_at
    assert (
        AuditEvent.objects.filter(action="decision.notification_failed", object_id=str(child_referral.uuid)).count()
        == 1
    )

    smtp_sink.start()
    run_worker()  # the retry is not due yet: the backoff holds
    assert smtp_sink.emails_with_subject(SUBJECT_PREFIX) == []

    with time_machine.travel(notification.next_attempt_at + dt.timedelta(seconds=1), tick=True):
        run_worker()
        run_worker()
    notification.refresh_from_db()
    assert notification.sent_at is not None and notification.attempts == 2
    assert notification.sent_to == ["fr@example.invalid"]
    # A stray duplicate of the task finds the notification sent and sends nothing.
    assert send_decision_notification.call(notification_id=notification.pk) == "already sent"

    emails = smtp_sink.emails_with_subject(SUBJECT_PREFIX)
    assert len(emails) == 1
    to, text = emails[0]
    assert to == ["fr@example.invalid"]
    assert f"Subject: {SUBJECT_PREFIX} {child_referral.reference}" in text
    assert "Sign in to OpenNRM to read the decision letter" in text
    # Email is not a secure channel: nothing of the case beyond its reference.
    for case_content in (
        "Nguyen",
        "cannabis",
        "Reasonable Grounds",
        "positive",
        "recovery",
        child_referral.first_responder_reference,
    ):
        assert case_content not in text
    assert (
        AuditEvent.objects.filter(action="decision.notification_sent", object_id=str(child_referral.uuid)).count() == 1
    )


@pytest.mark.django_db(transaction=True)
def test_a_negative_decision_is_notified_when_confirmed_not_when_proposed(people, adult_referral, smtp_sink):
    smtp_sink.start()
    proposed = decision_record(
        actor=people["sca1"],
        referral=adult_referral,
        stage=Stage.REASONABLE_GROUNDS,
        outcome=Outcome.NEGATIVE,
        reasons="No indicators were described.",
        decided_at=days_ago(50),
    )
    run_worker()
    assert not DecisionNotification.objects.filter(decision=proposed).exists()
    assert smtp_sink.emails_with_subject(SUBJECT_PREFIX) == []

    decision_confirm(actor=people["sca2"], referral=adult_referral, decision=proposed, confirmed_at=days_ago(49))
    run_worker()
    assert DecisionNotification.objects.get(decision=proposed).sent_at is not None
    assert len(smtp_sink.emails_with_subject(SUBJECT_PREFIX)) == 1


def test_a_refused_decision_leaves_no_notification(people, child_referral):
    from opennrm.core.errors import Refused

    with pytest.raises(Refused):
        decision_record(
            actor=people["sca1"],
            referral=child_referral,
            stage=Stage.CONCLUSIVE_GROUNDS,
            outcome=Outcome.POSITIVE,
            reasons=REASONS,
        )
    assert not DecisionNotification.objects.exists()


def test_backoff_doubles_from_a_minute_up_to_six_hours():
    assert [backoff_after(n) for n in (1, 2, 3, 4)] == [dt.timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert backoff_after(9) == dt.timedelta(minutes=256)
    assert backoff_after(10) == backoff_after(1000) == MAX_BACKOFF
