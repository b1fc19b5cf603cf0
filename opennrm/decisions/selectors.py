"""Reading decisions: the decision makers' work queue, scoped to the actor, each listed record's read audited."""

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.db.models.functions import Coalesce
from django.utils import timezone

from opennrm.policy import Capability, has_capability
from opennrm.referrals.models import Referral, Status
from opennrm.referrals.selectors import audit_listed, referrals_visible_to
from opennrm.workdays.calendar import working_days_between

from .models import DeadlineNotice, Decision, DecisionState, Stage
from .routing import LONDON
from .services import OPEN_STATUSES

# The queue's stages, in the order a case moves through them.
QUEUE_STATUSES = [s for s in Status if s in OPEN_STATUSES]


@dataclass(frozen=True)
class QueueItem:
    referral: Referral
    deadline: dt.date
    working_days_left: int  # negative when overdue, counted in the referral's nation
    needs_confirmation: bool


@transaction.atomic
def work_queue_page(*, actor, status: str | None = None, nation: str | None = None, age_group: str | None = None,
                    offset: int = 0, limit: int = 25) -> tuple[list[QueueItem], int]:
    """The open cases of the actor's authority, earliest deadline (so overdue) first, and their total.

    The deadline is the Reasonable Grounds due date until a recovery period starts, then the
    recovery period's end, from which the Conclusive Grounds decision is due.
    """
    if not has_capability(actor, Capability.MAKE_DECISION):
        return [], 0
    qs = referrals_visible_to(actor=actor).filter(status__in=OPEN_STATUSES)
    if status:
        qs = qs.filter(status=status)
    if nation:
        qs = qs.filter(nation=nation)
    if age_group:
        qs = qs.filter(age_group=age_group)
    total = qs.count()
    proposed = Decision.objects.filter(referral=OuterRef("pk"), state=DecisionState.PROPOSED)
    rows = list(
        qs.annotate(deadline=Coalesce("recovery_period_ends_on", "reasonable_grounds_due"), needs_confirmation=Exists(proposed))
        .order_by("deadline", "received_at", "id")[offset : offset + limit]
    )
    today = timezone.now().astimezone(LONDON).date()
    audit_listed(actor=actor, referrals=rows, purpose="work_queue")
    return [QueueItem(r, r.deadline, working_days_between(today, r.deadline, r.nation), r.needs_confirmation) for r in rows], total


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


def decision_of(*, referral: Referral, uuid) -> Decision | None:
    """One decision of a referral the caller has already opened through referral_open (so scoped and audited)."""
    try:
        return referral.decisions.select_related("decided_by").filter(uuid=uuid).first()
    except (ValueError, TypeError):
        return None


def deadline_notices_of(*, actor, referral: Referral) -> list:
    """The deadline reminders and escalations of a referral the caller has already opened through
    referral_open (so scoped and audited), for decision makers: who was told what, and when."""
    if not has_capability(actor, Capability.MAKE_DECISION):
        return []
    return list(DeadlineNotice.objects.filter(referral=referral).order_by("due_on", "created_at", "id"))
