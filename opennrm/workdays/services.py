import datetime as dt

from django.db import transaction

from opennrm.audit.services import audit_record

from .calendar import forget_closure_days
from .models import ClosureDay


@transaction.atomic
def closure_day_save(*, actor, closure: ClosureDay) -> ClosureDay:
    created = closure.pk is None
    closure.full_clean()
    closure.save()
    audit_record(
        actor=actor,
        action="closure_day.create" if created else "closure_day.change",
        object_type="closure_day",
        object_id=str(closure.pk),
        details={"date": closure.date.isoformat(), "nation": closure.nation, "description": closure.description},
    )
    transaction.on_commit(forget_closure_days)
    return closure


@transaction.atomic
def closure_day_delete(*, actor, closure: ClosureDay) -> None:
    details = {"date": closure.date.isoformat(), "nation": closure.nation, "description": closure.description}
    pk = closure.pk
    closure.delete()
    audit_record(actor=actor, action="closure_day.delete", object_type="closure_day", object_id=str(pk), details=details)
    transaction.on_commit(forget_closure_days)


def closure_days_upcoming(*, today: dt.date) -> list[ClosureDay]:
    return list(ClosureDay.objects.filter(date__gte=today))
