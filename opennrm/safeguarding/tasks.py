"""Telling the others responsible for a missing child, and escalating a high-risk episode nobody has
acknowledged within the hour. Run by the worker (`opennrm serve` starts it).

Alerts are written in the transaction that records the event and their send tasks queued in it
(the task is a row in the same database), so an alert exists exactly when the event does. Sending
follows the decision notifications' rules (ADR 0006): the email says only that something happened
to the child with this NRM reference; a failed send is recorded and re-queued with the same backoff;
the row is locked while sending and marked sent in that transaction, so a duplicate task sends nothing.
"""

import datetime as dt

from django.db import transaction
from django.tasks import task
from django.utils import timezone

from opennrm.accounts.models import Organisation, OrganisationKind, User
from opennrm.audit.services import audit_email_attempt, audit_record
from opennrm.core.outbox import Message, attempt_send
from opennrm.policy import Role

from .models import (
    ACKNOWLEDGE_HIGH_RISK_WITHIN,
    AlertKind,
    CareRecord,
    GuardianAllocationRequest,
    MissingEpisode,
    SafeguardingAlert,
)

# The roles in an organisation who act on a child's safeguarding, by the organisation's kind.
ACTING_ROLES = {
    OrganisationKind.LOCAL_AUTHORITY: Role.LA_SOCIAL_WORKER,
    OrganisationKind.GUARDIAN_SERVICE: Role.GUARDIAN,
    OrganisationKind.POLICE: Role.FIRST_RESPONDER,
}
SUBJECTS = {
    AlertKind.MISSING: "Child reported missing",
    AlertKind.ESCALATION: "URGENT: high-risk missing child not acknowledged",
    AlertKind.FOUND: "Missing child found",
}


def _responsible(episode: MissingEpisode) -> list[tuple[Organisation, User | None]]:
    """Who must hear of an episode: the responsible local authority's children's services, the guardian, the police."""
    found: list[tuple[Organisation, User | None]] = []
    care = (
        CareRecord.objects.filter(referral_id=episode.referral_id)
        .order_by("-recorded_at", "-id")
        .select_related("social_worker")
        .first()
    )
    la_orgs = Organisation.objects.filter(
        kind=OrganisationKind.LOCAL_AUTHORITY,
        local_authority=episode.local_authority,
        is_active=True,
        users__role=Role.LA_SOCIAL_WORKER,
        users__is_active=True,
    ).distinct()
    for org in la_orgs:
        worker = (
            care.social_worker if care and care.social_worker and care.social_worker.organisation_id == org.pk else None
        )
        found.append((org, worker))
    for request in GuardianAllocationRequest.objects.filter(referral_id=episode.referral_id).select_related(
        "allocated_to__organisation", "organisation"
    ):
        if request.allocated_to is not None and request.allocated_to.organisation is not None:
            found.append((request.allocated_to.organisation, request.allocated_to))
        elif request.organisation is not None:
            found.append((request.organisation, None))
    if episode.police_organisation_id is not None:
        found.append((episode.police_organisation, None))
    return found


def alert_responsible(
    episode: MissingEpisode, kind: str, *, now: dt.datetime, exclude_organisation_id: int | None
) -> list[SafeguardingAlert]:
    """Put an item in each responsible party's work queue and queue its email, in the caller's transaction."""
    alerts, seen = [], set()
    for organisation, user in _responsible(episode):
        if organisation.pk == exclude_organisation_id or organisation.pk in seen:
            continue
        seen.add(organisation.pk)
        alerts.append(
            SafeguardingAlert.objects.create(
                episode=episode, kind=kind, organisation=organisation, user=user, created_at=now
            )
        )
    for alert in alerts:
        send_safeguarding_alert.enqueue(alert_id=alert.pk)
    return alerts


def recipients(alert: SafeguardingAlert) -> list[str]:
    """The organisation's mailbox and the person the alert is for; with nobody named, everyone acting for the organisation."""
    if alert.user is not None:
        people = [alert.user]
    else:
        role = ACTING_ROLES.get(alert.organisation.kind)
        people = list(User.objects.filter(organisation=alert.organisation, role=role, is_active=True)) if role else []
    return sorted({a for a in [alert.organisation.email, *(p.email for p in people)] if a})


@task()
def send_safeguarding_alert(*, alert_id: int) -> str:
    """Email an alert's recipients (core/outbox.py: sent once, retried with backoff while the mail server is down)."""
    with transaction.atomic():
        alert = (
            SafeguardingAlert.objects.select_for_update(of=("self",))
            .select_related("episode__referral", "organisation", "user")
            .get(pk=alert_id)
        )
        if alert.sent_at is not None:
            return "already sent"
        referral = alert.episode.referral
        message = Message(
            to=recipients(alert),
            subject=f"{SUBJECTS[alert.kind]}: {referral.reference}",
            body=(
                f"{SUBJECTS[alert.kind]}: the child with National Referral Mechanism reference {referral.reference}.\n\n"
                f"Sign in to OpenNRM to see the details and acknowledge it in your work queue.\n"
            ),
        )
        sent = attempt_send(alert, message, now=timezone.now())
        audit_email_attempt(
            alert,
            sent=sent,
            audit_action="safeguarding.alert",
            object_id=referral.uuid,
            details={"reference": referral.reference, "episode": str(alert.episode.uuid), "kind": alert.kind},
        )
        if not sent:
            run_after = alert.next_attempt_at
            transaction.on_commit(lambda: send_safeguarding_alert.using(run_after=run_after).enqueue(alert_id=alert_id))
            return "failed, retry scheduled"
        return "sent" if message.to else "no address to send to"


@task()
def escalate_missing_episode(*, episode_id: int, now: str | None = None) -> str:
    """An hour after a high-risk report: if nobody else has acknowledged it and the child is still missing, escalate, once.

    Queued with run_after = reported + 1 hour. `now` (ISO 8601) lets a test or an operator run it as of a given time.
    """
    at = dt.datetime.fromisoformat(now) if now else timezone.now()
    with transaction.atomic():
        episode = MissingEpisode.objects.select_for_update(of=("self",)).select_related("referral").get(pk=episode_id)
        if episode.found_at is not None:
            return "found"
        if episode.acknowledged_at is not None:
            return "acknowledged"
        if episode.escalated_at is not None:
            return "already escalated"
        if at < episode.reported_at + ACKNOWLEDGE_HIGH_RISK_WITHIN:
            return "not yet due"
        episode.escalated_at = at
        episode.save(update_fields=["escalated_at"])
        # Everyone responsible, the reporter's organisation too: nobody else has taken the child on.
        alerts = alert_responsible(episode, AlertKind.ESCALATION, now=at, exclude_organisation_id=None)
        audit_record(
            actor=None,
            action="safeguarding.missing_escalated",
            object_type="referral",
            object_id=str(episode.referral.uuid),
            details={
                "reference": episode.referral.reference,
                "episode": str(episode.uuid),
                "notified": len(alerts),
                "reported_at": episode.reported_at.isoformat(),
            },
        )
        return "escalated"
