"""Work the worker keeps queued by itself, one current run per kind of work, safe across restarts.

The task queue is a table in the same database, so enqueueing a run and recording it as the current
one (`WorkerSchedule.next_task_id`) happen in one transaction under the schedule row's lock: two
processes asking at once, or a worker killed half-way and started again, still leave exactly one
current run. A run can be left behind when an earlier one is asked for (the start-up catch-up before
tonight's run); it finds it is no longer current and does nothing.

Plumbing shared by every package whose work the worker keeps queued (decisions, linkage, audit, api), so it
lives below them all. Its table is `decisions.WorkerSchedule`, for history's sake: moving the model would
need a migration of two apps for nothing gained. Core imports no domain, so the table is named by a setting
(settings.OPENNRM_WORKER_SCHEDULE_MODEL), as Django's own auth names the user model (AUTH_USER_MODEL).
"""

import datetime as dt
from zoneinfo import ZoneInfo

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.tasks import TaskResultStatus
from django.tasks.exceptions import TaskResultDoesNotExist

LONDON = ZoneInfo("Europe/London")
NIGHTLY_SWEEP_AT = dt.time(2, 0)  # Europe/London: after the day's work, before the working day's email is read


def next_nightly_sweep(now: dt.datetime) -> dt.datetime:
    """The next 02:00 in Europe/London after `now`."""
    day = now.astimezone(LONDON).date()
    at = dt.datetime.combine(day, NIGHTLY_SWEEP_AT, tzinfo=LONDON)
    if at <= now:
        at = dt.datetime.combine(day + dt.timedelta(days=1), NIGHTLY_SWEEP_AT, tzinfo=LONDON)
    return at


def worker_schedule_model():
    """The model holding one row per kind of work (settings.OPENNRM_WORKER_SCHEDULE_MODEL)."""
    return apps.get_model(settings.OPENNRM_WORKER_SCHEDULE_MODEL)


def _locked(name: str):
    WorkerSchedule = worker_schedule_model()
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
    return worker_schedule_model().objects.filter(name=name, next_task_id=str(task_id)).exists()


def last_finished(name: str) -> dt.datetime | None:
    return worker_schedule_model().objects.filter(name=name).values_list("last_finished_at", flat=True).first()


@transaction.atomic
def record_run(name: str, *, started_at: dt.datetime, finished_at: dt.datetime, summary: dict) -> None:
    schedule = _locked(name)
    schedule.last_started_at, schedule.last_finished_at, schedule.last_summary = started_at, finished_at, summary
    schedule.save(update_fields=["last_started_at", "last_finished_at", "last_summary"])
