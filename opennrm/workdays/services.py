import datetime as dt
from typing import TYPE_CHECKING

from django.db import transaction

from opennrm.audit.services import record_delete, record_save

from .calendar import forget_closure_days
from .models import ClosureDay

if TYPE_CHECKING:  # accounts lies above this layer (pyproject.toml's import contracts): for types only
    from opennrm.accounts.models import User


@transaction.atomic
def closure_day_save(*, actor: "User", closure: ClosureDay) -> ClosureDay:
    """Add or change a closure day, audited with what it said before and after; deadlines counted after it see it."""
    closure = record_save(actor=actor, instance=closure)
    transaction.on_commit(forget_closure_days)
    return closure


@transaction.atomic
def closure_day_delete(*, actor: "User", closure: ClosureDay) -> None:
    record_delete(actor=actor, instance=closure)
    transaction.on_commit(forget_closure_days)


def closure_days_upcoming(*, today: dt.date) -> list[ClosureDay]:
    return list(ClosureDay.objects.filter(date__gte=today))
