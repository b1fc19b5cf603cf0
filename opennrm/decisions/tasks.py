"""Telling the first responder a decision was issued, by email, run by the worker (`opennrm serve` starts it).

Email is not a secure channel: it can be read in transit, forwarded, or land in a shared inbox. So the
message carries the NRM reference and nothing of the case; the letter itself is read after signing in.

Nothing is lost if the mail server is down. The `DecisionNotification` row is written in the same
transaction as the decision, so it exists exactly when the decision does. Each attempt is recorded on
it; a failed send schedules the next attempt itself (`run_after`, backing off up to MAX_BACKOFF) and
keeps doing so until the mail server takes the message. The row is locked while sending and marked
sent in that transaction, so a duplicate task finds it sent and does nothing.
"""

import datetime as dt
import smtplib

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.tasks import task
from django.utils import timezone

from opennrm.audit.services import audit_record

from .models import Decision, DecisionNotification

FIRST_BACKOFF = dt.timedelta(minutes=1)
MAX_BACKOFF = dt.timedelta(hours=6)


def decision_notification_schedule(decision: Decision) -> DecisionNotification:
    """Record that the first responder must be told of an issued decision, and send once the decision is committed.

    Call inside the service's transaction that issues the decision.
    """
    notification = DecisionNotification.objects.create(decision=decision)
    transaction.on_commit(lambda: send_decision_notification.enqueue(notification_id=notification.pk))
    return notification


def backoff_after(attempts: int) -> dt.timedelta:
    """1, 2, 4, 8 ... minutes after the first, second, third ... failure, never more than MAX_BACKOFF."""
    return min(FIRST_BACKOFF * 2 ** min(attempts - 1, 20), MAX_BACKOFF)


@task()
def send_decision_notification(*, notification_id: int) -> str:
    """Email the first responder that a decision was made on their referral; on failure, try again later."""
    with transaction.atomic():
        notification = DecisionNotification.objects.select_for_update().get(pk=notification_id)
        if notification.sent_at is not None:
            return "already sent"
        referral = notification.decision.referral
        to = sorted({a for a in (referral.created_by.email, referral.organisation.email) if a})
        now = timezone.now()
        notification.attempts += 1
        notification.last_attempt_at = now
        reference = {"reference": referral.reference, "decision": str(notification.decision.uuid), "attempt": notification.attempts}
        try:
            if to:
                send_mail(
                    subject=f"NRM decision made: {referral.reference}",
                    message=(
                        f"A decision has been made on National Referral Mechanism referral {referral.reference}.\n\n"
                        f"Sign in to OpenNRM to read the decision letter.\n"
                    ),
                    from_email=settings.DEFAULT_FROM_EMAIL,
                    recipient_list=to,
                )
        except (OSError, smtplib.SMTPException) as exc:
            notification.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            notification.next_attempt_at = now + backoff_after(notification.attempts)
            notification.save(update_fields=["attempts", "last_attempt_at", "last_error", "next_attempt_at"])
            audit_record(actor=None, action="decision.notification_failed", object_type="referral", object_id=str(referral.uuid),
                         details={**reference, "error": notification.last_error, "next_attempt_at": notification.next_attempt_at.isoformat()})
            run_after = notification.next_attempt_at
            transaction.on_commit(lambda: send_decision_notification.using(run_after=run_after).enqueue(notification_id=notification_id))
            return "failed, retry scheduled"
        notification.sent_at, notification.sent_to, notification.next_attempt_at = now, to, None
        notification.save(update_fields=["attempts", "last_attempt_at", "sent_at", "sent_to", "next_attempt_at"])
        # The audit names how many addresses, not which: the trail need not hold contact details.
        audit_record(actor=None, action="decision.notification_sent", object_type="referral", object_id=str(referral.uuid),
                     details={**reference, "recipients": len(to)})
        return "sent" if to else "no address to send to"
