"""How a referral's summary row is derived, shared by the refresh and its Python path (ADR 0008)."""

import datetime as dt
from typing import overload
from zoneinfo import ZoneInfo

from django.db.models import OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from opennrm.decisions.models import Decision, DecisionState

LONDON = ZoneInfo("Europe/London")


def first_issued(stage: str):
    """When the referral's first issued decision of this stage took effect (a confirmed negative: on confirmation), as a subquery."""
    return Subquery(
        Decision.objects.filter(referral=OuterRef("pk"), stage=stage, state=DecisionState.ISSUED)
        .annotate(effective_at=Coalesce("reviewed_at", "decided_at"))
        .order_by("effective_at")
        .values("effective_at")[:1]
    )


@overload
def london_day(value: None) -> None: ...
@overload
def london_day(value: dt.datetime | str) -> dt.date: ...
def london_day(value: dt.datetime | str | None) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, str):  # SQLite returns a subquery's datetime as text
        value = dt.datetime.fromisoformat(value)
    if timezone.is_naive(value):
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(LONDON).date()
