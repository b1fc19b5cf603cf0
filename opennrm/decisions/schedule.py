"""Work the worker keeps queued by itself, one current run per kind of work, safe across restarts.

The task queue is a table in the same database, so enqueueing a run and recording it as the current
one (`WorkerSchedule.next_task_id`) happen in one transaction under the schedule row's lock: two
processes asking at once, or a worker killed half-way and started again, still leave exactly one
current run. A run can be left behind when an earlier one is asked for (the start-up catch-up before
tonight's run); it finds it is no longer current and does nothing.
"""

import datetime as dt

from django.db import transaction
from django.tasks import TaskResultStatus
from django.tasks.exceptions import TaskResultDoesNotExist

from .models import WorkerSchedule


def _locked(name: str) -> WorkerSchedule:
    # Created by an insert that ignores a conflict, so two first-ever callers do not fail on each other.
    WorkerSchedule.objects.bulk_create([WorkerSchedule(name=name)], ignore_conflicts=True)
    return WorkerSchedule.objects.select_for_update().get(name=name)


def _waiting(task, task_id: str) -> bool:
    """Whether that run is still queued and not yet started."""
    if not task_id:
        return False
    try:
        return task.get_result(task_id).status == TaskResultStatus.READY
    except TaskResultDoesNotExist:
        return False


@transaction.atomic
def schedule_run(name: str, task, *, run_after: dt.datetime) -> str | None:
    """Make sure a run of `task` is queued to start by `run_after`. Returns the new run's id, or None
    when the current run is already queued for then or earlier."""
    schedule = _locked(name)
    if (
        schedule.next_run_after is not None
        and schedule.next_run_after <= run_after
        and _waiting(task, schedule.next_task_id)
    ):
        return None
    result = task.using(run_after=run_after).enqueue()
    schedule.next_task_id, schedule.next_run_after = str(result.id), run_after
    schedule.save(update_fields=["next_task_id", "next_run_after"])
    return schedule.next_task_id


def is_current_run(name: str, task_id) -> bool:
    return WorkerSchedule.objects.filter(name=name, next_task_id=str(task_id)).exists()


def last_finished(name: str) -> dt.datetime | None:
    return WorkerSchedule.objects.filter(name=name).values_list("last_finished_at", flat=True).first()


@transaction.atomic
def record_run(name: str, *, started_at: dt.datetime, finished_at: dt.datetime, summary: dict) -> None:
    schedule = _locked(name)
    schedule.last_started_at, schedule.last_finished_at, schedule.last_summary = started_at, finished_at, summary
    schedule.save(update_fields=["last_started_at", "last_finished_at", "last_summary"])
