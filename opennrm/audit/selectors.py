"""Reading the audit trail: always for an acting user, who may read only what policy.py allows, and
every read of it audited in turn."""

import datetime as dt
from dataclasses import dataclass
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from opennrm.accounts.models import User
from opennrm.core.errors import NotFound
from opennrm.policy import EventGrant, Role, event_grants, record_access_log_scope
from opennrm.referrals.models import Referral

from .models import AuditEvent
from .services import audit_record

# What each action on a referral means to someone reading its access log; others are shown by code.
ACTION_DESCRIPTIONS = {
    "referral.create": "Made the referral",
    "referral.import": "Imported the referral",
    "referral.read": "Opened the record",
    "referral.read_refused": "Tried to open the record, and was refused",
    "referral.list": "Saw it in a list of referrals",
    "referral.reroute": "Sent it to another competent authority",
    "referral.access_log_read": "Looked at who has seen the record",
    "referral.access_log_refused": "Tried to look at who has seen the record, and was refused",
    "nrm_status.lookup": "Looked up its NRM status by Home Office reference",
    "nrm_status.lookup_throttled": "Tried to look up an NRM status, and was refused: too many lookups in a short time",
    "decision.notification_sent": "Sent a decision notification",
    "decision.notification_failed": "Tried to send a decision notification, and failed",
    "decision.confirm": "Confirmed a decision",
    "decision.send_back": "Sent a proposed decision back",
}


@dataclass(frozen=True)
class AccessLogEntry:
    at: dt.datetime
    action: str
    description: str
    username: str  # empty for the service itself (the background worker)
    name: str
    role: str
    organisation: str
    ip_address: str | None
    user_agent: str
    compartments: list[str]
    purpose: str


@dataclass(frozen=True)
class AccessLog:
    referral: Referral
    entries: list[AccessLogEntry]
    total: int
    grants: list[EventGrant]  # access its events gave others: who, why, when it began and ended (ADR 0028)
    now: dt.datetime


def _describe(action: str) -> str:
    if action in ACTION_DESCRIPTIONS:
        return ACTION_DESCRIPTIONS[action]
    if action.startswith("decision."):
        return "Recorded a decision (" + action.removeprefix("decision.").replace("_", " ") + ")"
    return action.replace("_", " ").replace(".", ": ")


def record_access_log(*, actor: User, referral_uuid: str | UUID, offset: int = 0, limit: int = 25) -> AccessLog:
    """One referral's audit events, newest first: who did what to it, when and from where.

    For the child's local authority, guardian and auditors (policy.record_access_log_scope); anyone
    else, or a record outside their scope, gets NotFound. Reading the log is audited, and so shows in it.
    """
    scope = record_access_log_scope(actor)
    with transaction.atomic():
        referral = None
        if scope is not None:
            try:
                referral = Referral.objects.filter(scope).get(uuid=referral_uuid)
            except (Referral.DoesNotExist, ValueError, TypeError, ValidationError):
                referral = None
        audit_record(
            actor=actor,
            action="referral.access_log_read" if referral else "referral.access_log_refused",
            object_type="referral",
            object_id=str(referral.uuid) if referral else str(referral_uuid)[:64],
        )
    if referral is None:
        raise NotFound
    events = AuditEvent.objects.filter(object_type="referral", object_id=str(referral.uuid))
    total = events.count()
    page = list(events.order_by("-occurred_at", "-id")[offset : offset + limit])
    users = User.objects.select_related("organisation").in_bulk({e.actor_id for e in page if e.actor_id})
    entries = []
    for event in page:
        user = users.get(event.actor_id)
        role = Role(event.actor_role).label if event.actor_role in Role.values else event.actor_role
        entries.append(
            AccessLogEntry(
                at=event.occurred_at,
                action=event.action,
                description=_describe(event.action),
                username=event.actor_username,
                name=(user.get_full_name() or user.username)
                if user
                else (event.actor_username or "OpenNRM (the service itself)"),
                role=role,
                organisation=user.organisation.name if user and user.organisation else "",
                ip_address=event.ip_address,
                user_agent=event.user_agent,
                compartments=list(event.details.get("compartments", [])) if isinstance(event.details, dict) else [],
                purpose=str(event.details.get("purpose", "")) if isinstance(event.details, dict) else "",
            )
        )
    return AccessLog(
        referral=referral, entries=entries, total=total, grants=event_grants([referral.pk]), now=timezone.now()
    )
