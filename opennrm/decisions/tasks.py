"""The decisions' background work, run by the worker (`opennrm serve` starts it): telling the first
responder a decision was issued, and the nightly deadline sweep with its reminders and escalations.

Email is not a secure channel: it can be read in transit, forwarded, or land in a shared inbox. So the
message carries the NRM reference and nothing of the case; the letter itself is read after signing in.

Nothing is lost if the mail server is down. The `DecisionNotification` row is written in the same
transaction as the decision, so it exists exactly when the decision does. Each attempt is recorded on
it (core/outbox.py); a failed send schedules the next attempt itself (`run_after`, backing off up to
outbox.MAX_BACKOFF) and keeps doing so until the mail server takes the message. The row is locked
while sending and marked sent in that transaction, so a duplicate task finds it sent and does nothing.
"""

import datetime as dt

from django.db import transaction
from django.tasks import task
from django.utils import timezone

from opennrm.audit.services import audit_email_attempt
from opennrm.core.outbox import Message, attempt_send
from opennrm.core.schedule import is_current_run, last_finished, next_nightly_sweep, schedule_run

from .models import Decision, DecisionNotification


def decision_notification_schedule(decision: Decision) -> DecisionNotification:
    """Record that the first responder must be told of an issued decision, and send once the decision is committed.

    Call inside the service's transaction that issues the decision.
    """
    notification = DecisionNotification.objects.create(decision=decision)
    transaction.on_commit(lambda: send_decision_notification.enqueue(notification_id=notification.pk))
    return notification


@task()
def send_decision_notification(*, notification_id: int) -> str:
    """Email the first responder that a decision was made on their referral; on failure, try again later."""
    with transaction.atomic():
        notification = DecisionNotification.objects.select_for_update().get(pk=notification_id)
        if notification.sent_at is not None:
            return "already sent"
        referral = notification.decision.referral
        to = sorted({a for a in (referral.created_by.email, referral.organisation.email) if a})
        message = Message(
            to=to,
            subject=f"NRM decision made: {referral.reference}",
            body=(
                f"A decision has been made on National Referral Mechanism referral {referral.reference}.\n\n"
                f"Sign in to OpenNRM to read the decision letter.\n"
            ),
        )
        sent = attempt_send(notification, message, now=timezone.now())
        audit_email_attempt(
            notification,
            sent=sent,
            audit_action="decision.notification",
            object_id=referral.uuid,
            details={"reference": referral.reference, "decision": str(notification.decision.uuid)},
        )
        if not sent:
            run_after = notification.next_attempt_at
            transaction.on_commit(
                lambda: send_decision_notification.using(run_after=run_after).enqueue(notification_id=notification_id)
            )
            return "failed, retry scheduled"
        return "sent" if to else "no address to send to"


# Deadline reminders and breach escalations (decisions/deadlines.py, ADR 0007). The two tasks keep
# themselves queued through core/schedule.py: one current run of each, whatever restarts.

DEADLINE_SWEEP = "deadline_sweep"
DEADLINE_NOTICES_SEND = "deadline_notices_send"
SWEEP_AGAIN_AFTER = dt.timedelta(days=1)


def deadline_work_schedule(*, now: dt.datetime | None = None) -> None:
    """At the worker's start (`opennrm serve`): queue tonight's sweep, or one now if the last finished
    more than a day ago (or never); and a sending run now, for any notice a crash left unsent."""
    now = now or timezone.now()
    last = last_finished(DEADLINE_SWEEP)
    first = now if last is None or now - last > SWEEP_AGAIN_AFTER else next_nightly_sweep(now)
    schedule_run(DEADLINE_SWEEP, sweep_deadlines, run_after=first)
    schedule_run(DEADLINE_NOTICES_SEND, send_deadline_notices, run_after=now)


@task(takes_context=True)
def sweep_deadlines(context) -> dict | str:
    """The nightly deadline sweep; then queues the next night's."""
    from .deadlines import deadline_sweep  # deadlines.py builds on services.py, which imports this module

    if not is_current_run(DEADLINE_SWEEP, context.task_result.id):
        return "not the current run: another is queued"
    try:
        return deadline_sweep().as_dict()
    finally:
        schedule_run(DEADLINE_SWEEP, sweep_deadlines, run_after=next_nightly_sweep(timezone.now()))


@task()
def send_deadline_notices() -> dict:
    """Send the deadline notices due; queue the next run for what is left (more now, or the earliest retry)."""
    from .deadlines import deadline_notices_send

    outcome = deadline_notices_send()
    if outcome.more_now:
        schedule_run(DEADLINE_NOTICES_SEND, send_deadline_notices, run_after=timezone.now())
    elif outcome.next_attempt_at is not None:
        schedule_run(DEADLINE_NOTICES_SEND, send_deadline_notices, run_after=outcome.next_attempt_at)
    return {"sent": outcome.sent, "failed": outcome.failed, "superseded": outcome.superseded}
