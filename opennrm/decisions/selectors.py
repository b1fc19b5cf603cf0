"""Reading decisions: the decision makers' work queue, scoped to the actor, each listed record's read audited."""

import datetime as dt
import re
import uuid
from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from opennrm.accounts.models import User
from opennrm.audit.models import AuditEvent
from opennrm.core.errors import NotFound
from opennrm.policy import Capability, Compartment, has_capability
from opennrm.referrals.models import OPEN_STATUSES, CompetentAuthority, Referral, Status, queue_deadline
from opennrm.referrals.selectors import audit_listed, referral_open, referrals_visible_to
from opennrm.workdays.calendar import working_days_between

from .letters import Letter, letter_for
from .models import DeadlineNotice, Decision, DecisionState, Stage
from .routing import LONDON

# The queue's stages, in the order a case moves through them.
QUEUE_STATUSES = [s for s in Status if s in OPEN_STATUSES]
# Counting every match of a broad filter over a million referrals costs more than the page itself; past
# this many the queue says "more than" (an index-only scan of at most this many matches), and nobody
# pages deeper than this: they filter instead.
COUNT_CAP = 1_000
GSS_CODE = re.compile(r"^[ENSW]\d{8}$")


class QueueView(StrEnum):
    MINE = "mine"  # assigned to me
    TEAM = "team"  # assigned to my team (or a team I manage), whether or not to a person yet
    UNASSIGNED = "unassigned"  # held by no team and no decision maker
    ALL = "all"  # every open case of my authority


@dataclass(frozen=True)
class QueueItem:
    referral: Referral
    deadline: dt.date
    working_days_left: int  # negative when overdue, counted in the referral's nation
    needs_confirmation: bool

    @property
    def overdue(self) -> bool:
        return self.working_days_left < 0


@dataclass(frozen=True)
class QueuePage:
    items: list[QueueItem]
    total: int  # at most COUNT_CAP
    total_capped: bool  # more cases match than `total` says


def actor_team_ids(actor: User) -> list[int]:
    """The teams whose queue the actor works from: their own, and any they manage."""
    team_id = getattr(actor, "team_id", None)
    ids: set[int] = {team_id} if team_id else set()
    ids |= set(actor.managed_teams.values_list("pk", flat=True))
    return sorted(ids)


def authority_filter(authority: str) -> Q:
    """A competent authority code (SCA, IECA, LOCAL_PANEL) or the GSS code of the child's local authority."""
    if authority in CompetentAuthority.values:
        return Q(competent_authority=authority)
    if GSS_CODE.match(authority):
        return Q(local_authority=authority)
    raise ValueError(f"Not an authority: {authority!r}")


@transaction.atomic
def work_queue_page(
    *,
    actor: User,
    view: str = QueueView.ALL,
    status: str | None = None,
    nation: str | None = None,
    authority: str | None = None,
    age_group: str | None = None,
    offset: int = 0,
    limit: int = 25,
) -> QueuePage:
    """A page of one of the actor's work queues, earliest deadline (so overdue) first, and a capped total.

    The deadline is the Reasonable Grounds due date until a recovery period starts, then the
    recovery period's end, from which the Conclusive Grounds decision is due. Every view is within
    the actor's scope: another authority's case never appears, whatever the filters.
    """
    if not has_capability(actor, Capability.MAKE_DECISION):
        return QueuePage([], 0, False)
    qs = referrals_visible_to(actor=actor).filter(status__in=OPEN_STATUSES)
    match QueueView(view):
        case QueueView.MINE:
            qs = qs.filter(assigned_to=actor.pk)
        case QueueView.TEAM:
            qs = qs.filter(assigned_team__in=actor_team_ids(actor))
        case QueueView.UNASSIGNED:
            qs = qs.filter(assigned_to__isnull=True, assigned_team__isnull=True)
    if status:
        qs = qs.filter(status=status)
    if nation:
        qs = qs.filter(nation=nation)
    if authority:
        qs = qs.filter(authority_filter(authority))
    if age_group:
        qs = qs.filter(age_group=age_group)
    if connection.vendor == "postgresql":
        # Both reads stop after a page or COUNT_CAP matches, which the view's queue index gives in order,
        # index-only. Without this PostgreSQL may estimate a combined filter as rare and AND two other
        # indexes into a bitmap that visits every matching row (65 ms instead of 1.5 ms on a million
        # referrals), or start parallel workers that cost more than the scan. Local to this transaction.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_bitmapscan = off")
            cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
    counted = qs.order_by()[: COUNT_CAP + 1].count()
    # The page's ids first, from the queue index alone; then those rows, with what the page shows of them.
    ids = list(
        qs.annotate(deadline=queue_deadline())
        .order_by("deadline", "received_at", "id")
        .values_list("id", flat=True)[offset : offset + limit]
    )
    proposed = Decision.objects.filter(referral=OuterRef("pk"), state=DecisionState.PROPOSED)
    fetched = (
        Referral.objects.filter(pk__in=ids)
        .select_related("assigned_to", "assigned_team")
        .annotate(deadline=queue_deadline(), needs_confirmation=Exists(proposed))
    )
    position = {pk: i for i, pk in enumerate(ids)}
    rows = sorted(fetched, key=lambda r: position[r.pk])
    today = timezone.now().astimezone(LONDON).date()
    audit_listed(actor=actor, referrals=rows, purpose="work_queue")
    items = [
        QueueItem(r, r.deadline, working_days_between(today, r.deadline, r.nation), r.needs_confirmation) for r in rows
    ]
    return QueuePage(items, min(counted, COUNT_CAP), counted > COUNT_CAP)


def stage_due(referral: Referral) -> str | None:
    """The stage a fresh decision on this case would be at: a reconsideration is of the last issued decision's stage."""
    if referral.status == Status.AWAITING_REASONABLE_GROUNDS:
        return Stage.REASONABLE_GROUNDS
    if referral.status in (Status.RECOVERY_PERIOD, Status.AWAITING_CONCLUSIVE_GROUNDS):
        return Stage.CONCLUSIVE_GROUNDS
    if referral.status == Status.RECONSIDERATION:
        last = referral.decisions.filter(state=DecisionState.ISSUED).order_by("-decided_at", "-id").first()
        return last.stage if last else None
    return None


def decision_of(*, referral: Referral, uuid: str | UUID) -> Decision | None:
    """One decision of a referral the caller has already opened through referral_open (so scoped and audited)."""
    try:
        return referral.decisions.select_related("decided_by").filter(uuid=uuid).first()
    except (ValueError, TypeError):
        return None


def deadline_notices_of(*, actor: User, referral: Referral) -> list[DeadlineNotice]:
    """The deadline reminders and escalations of a referral the caller has already opened through
    referral_open (so scoped and audited), for decision makers: who was told what, and when."""
    if not has_capability(actor, Capability.MAKE_DECISION):
        return []
    return list(DeadlineNotice.objects.filter(referral=referral).order_by("due_on", "created_at", "id"))


@dataclass(frozen=True)
class HistoryEvent:
    """One line of a referral's history, as the reader may see it (ADR 0013)."""

    at: dt.datetime
    title: str
    detail: str = ""
    decision: Decision | None = None  # an issued decision, whose letter the page links to


# The audit events that change a case, read back for its history; reads and lists are not history.
HISTORY_ACTIONS = ("referral.reroute", "referral.recovery_period_end", "referral.withdraw", "referral.assign")


def referral_history(*, actor: User, referral: Referral) -> list[HistoryEvent]:
    """The history of a referral the actor has already opened (referral_open: scoped and audited), oldest first.

    Everyone who may open the referral sees what the status compartment holds: receipt, routing,
    each issued decision and its date, the recovery period's end, reconsideration requests and
    withdrawal. The competent authority's own working (proposed negatives, send-backs and their
    comments, re-routing reasons, who holds the case) is shown to its decision makers only.
    """
    internal = has_capability(actor, Capability.MAKE_DECISION)
    authority_names: dict[str | None, str] = dict(CompetentAuthority.choices)  # .get(None) is None
    changes = list(
        AuditEvent.objects.filter(
            object_type="referral", object_id=str(referral.uuid), action__in=HISTORY_ACTIONS
        ).order_by("occurred_at", "id")
    )
    reroutes = [e for e in changes if e.action == "referral.reroute"]
    first_authority = reroutes[0].details.get("from") if reroutes else referral.competent_authority
    events = [
        HistoryEvent(
            referral.received_at,
            "Referral received",
            f"Sent to the {authority_names.get(first_authority, first_authority)}",
        )
    ]

    for change in changes:
        details = change.details or {}
        if change.action == "referral.reroute":
            reason = f" Reason: {details.get('reason')}" if internal and details.get("reason") else ""
            events.append(
                HistoryEvent(
                    change.occurred_at,
                    "Passed to another competent authority",
                    f"From the {authority_names.get(details.get('from'), details.get('from'))} to the "
                    f"{authority_names.get(details.get('to'), details.get('to'))}.{reason}",
                )
            )
        elif change.action == "referral.recovery_period_end":
            events.append(
                HistoryEvent(
                    change.occurred_at, "Recovery period ended", "The Conclusive Grounds decision can now be made"
                )
            )
        elif change.action == "referral.withdraw":
            events.append(HistoryEvent(change.occurred_at, "Withdrawn from the NRM", details.get("reason", "")))
        elif change.action == "referral.assign" and internal:
            who = details.get("assigned_to") or ("a team" if details.get("team") else "nobody")
            events.append(
                HistoryEvent(change.occurred_at, "Assigned", f"To {who}, by {change.actor_username or 'the system'}")
            )

    for decision in referral.decisions.select_related("decided_by", "reviewed_by").all():
        what = f"{decision.get_outcome_display()} {decision.get_stage_display()} decision"
        if decision.outcome == "negative" and internal:
            events.append(
                HistoryEvent(
                    decision.decided_at,
                    f"{what} proposed",
                    f"By {decision.decided_by.username}, for a second decision maker to review",
                )
            )
        if decision.state == DecisionState.ISSUED:
            issued_at = decision.reviewed_at or decision.decided_at
            detail = (
                f"Confirmed by a second decision maker ({decision.reviewed_by.username})"
                if internal and decision.reviewed_by
                else ""
            )
            events.append(HistoryEvent(issued_at, f"{what} issued", detail, decision=decision))
        elif decision.state == DecisionState.SENT_BACK and internal:
            events.append(
                HistoryEvent(
                    decision.reviewed_at or decision.decided_at,
                    f"Proposed {what.lower()} sent back",
                    f"By {decision.reviewed_by.username if decision.reviewed_by else 'a reviewer'}: {decision.review_comment}",
                )
            )

    for asked in referral.reconsideration_requests.select_related("decision", "requested_by__organisation").all():
        by = asked.requested_by.organisation.name if asked.requested_by.organisation else "the referrer"
        events.append(
            HistoryEvent(
                asked.requested_at,
                f"Reconsideration of the {asked.decision.get_stage_display()} decision requested",
                f"By {by}. Grounds: {asked.grounds}",
            )
        )
    return sorted(events, key=lambda e: e.at)


def decision_letter_open(*, actor: User, referral_id: uuid.UUID | str, decision_id: uuid.UUID | str) -> Letter:
    """The letter of one issued decision on a referral the actor may see; the read is audited (refusals too)."""
    referral = referral_open(actor=actor, uuid=referral_id, purpose=f"decision_letter:{str(decision_id)[:40]}")
    decision = referral.decisions.filter(uuid=decision_id, state=DecisionState.ISSUED).first()
    # The reasons restate the account and the letter names the person: the referral compartment's content.
    if decision is None or Compartment.REFERRAL not in referral.access.compartments:
        raise NotFound
    return letter_for(referral, decision)
