"""Background work for duplicate detection, run by the worker (`opennrm serve` starts it; ADR 0014).

One waiting check, not one per referral. A submission queues `check_new_referrals` only when no check task is
waiting (READY, not yet started) that starts at or below its referrals' ids; a waiting task, when it starts, checks
every referral without an `ArrivalCheck` from its first id on. Why no referral is missed:

- The look-up runs after the referral's transaction has committed (`transaction.on_commit`). If it finds a task
  READY, the worker has not yet committed that task's claim, and the worker reads the referrals only after
  committing the claim (django-tasks-db claims in a transaction of its own, then runs the task): so the task's
  reads come after our commit and see the referral. Looked up inside the transaction instead, the task could be
  claimed and read the referrals before we commit, and the referral would be missed.
- A RUNNING task does not count: it may have read the unchecked referrals before this one committed.
- "At or below its ids": referrals can commit out of id order (an import's ids are taken before newer requests
  commit); a waiting task that starts above them would not reach them, so they queue a task of their own.
- Two submissions looking at the same moment may both queue one: two waiting tasks, the second finds little or
  nothing to do. Exactly one would need a lock on every submission; not worth it.
- A crash between the commit and the enqueue (or a failed enqueue: the callback is `robust`, the referral is
  saved whatever happens) leaves a referral with no task. `sweep_unchecked_referrals` finds it: queued at the
  worker's start (`opennrm serve`) and every night at 02:00, as the deadline sweep is (core/schedule.py).
"""

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.tasks import TaskResultStatus, task
from django.utils import timezone

from opennrm.core.schedule import is_current_run, next_nightly_sweep, record_run, schedule_run

LINKAGE_QUEUE = (
    settings.LINKAGE_QUEUE
)  # run by `opennrm serve`'s second worker, which keeps the identity index in memory
BATCH = 1000  # referrals compared in one pass (engine.Index.query_many)
LINKAGE_SWEEP = "linkage_sweep"  # decisions.WorkerSchedule's name for the sweep

logger = logging.getLogger(__name__)


@task(queue_name=LINKAGE_QUEUE)
def check_new_referrals(*, referral_ids: list[int]) -> int:
    """Compare the new referrals (those not yet checked) with all the others: these, and every referral from the
    oldest of them on that has not been checked, including those that committed while this task waited (their
    submissions found it waiting and queued nothing). Possible matches to the review queue, the same Home Office
    reference linked automatically. Returns how many referrals were checked."""
    from .services import referrals_check_unchecked

    return referrals_check_unchecked(from_id=min(referral_ids), batch=BATCH) if referral_ids else 0


def _waiting_from() -> list[int]:
    """The first referral id of each check task waiting to start (one, usually): an indexed look-up of the
    READY rows of django-tasks-db's table (its partial index on status = READY)."""
    from django_tasks_db.models import DBTaskResult

    waiting = (
        DBTaskResult.objects.filter(
            status=TaskResultStatus.READY,
            queue_name=LINKAGE_QUEUE,
            task_path=check_new_referrals.module_path,
        )
        .order_by()
        .values_list("args_kwargs", flat=True)
    )  # no ORDER BY: the model's default would sort them
    return [min(ids) for args in waiting if (ids := args.get("kwargs", {}).get("referral_ids"))]


def _queue_check_unless_waiting(first_id: int) -> None:
    if any(start <= first_id for start in _waiting_from()):
        return  # that task will check this referral when it starts
    check_new_referrals.enqueue(referral_ids=[first_id])


def enqueue_checks(referral_ids: list[int]) -> None:
    """Have the new referrals checked, once the caller's transaction has committed: by the check task waiting to
    start, or by one queued now (see the module's docstring for why this misses none). An import's referrals are
    all covered by the one task: it checks every unchecked referral from the oldest of them on."""
    if referral_ids:
        first_id = min(referral_ids)
        transaction.on_commit(lambda: _queue_check_unless_waiting(first_id), robust=True)


# The sweep: the referrals a crash left with no task (above). Kept queued through core/schedule.py.


def duplicate_detection_since() -> dt.datetime | None:
    """When duplicate detection was installed (its first migration applied): referrals made since are the on-arrival
    check's; older ones are `opennrm check-duplicates`' (ADR 0014). None if unknown: then every referral."""
    from django.db.migrations.recorder import MigrationRecorder

    return (
        MigrationRecorder.Migration.objects.filter(app="linkage", name="0001_initial")
        .values_list("applied", flat=True)
        .first()
    )


def linkage_work_schedule(*, now: dt.datetime | None = None) -> None:
    """At the worker's start (`opennrm serve`): a sweep now; each sweep queues the next night's."""
    schedule_run(LINKAGE_SWEEP, sweep_unchecked_referrals, run_after=now or timezone.now())


@task(queue_name=LINKAGE_QUEUE, takes_context=True)
def sweep_unchecked_referrals(context) -> dict | str:
    """Check every referral made since duplicate detection was installed that has no `ArrivalCheck` (usually none:
    a crash between a submission's commit and its enqueue); then queue the next night's sweep."""
    from .services import referrals_check_unchecked

    if not is_current_run(LINKAGE_SWEEP, context.task_result.id):
        return "not the current run: another is queued"
    started = timezone.now()
    try:
        checked = referrals_check_unchecked(made_since=duplicate_detection_since(), batch=BATCH)
        if checked:
            logger.warning("The duplicate-detection sweep checked %d referrals that had no check queued", checked)
        summary = {"checked": checked}
        record_run(LINKAGE_SWEEP, started_at=started, finished_at=timezone.now(), summary=summary)
        return summary
    finally:
        schedule_run(LINKAGE_SWEEP, sweep_unchecked_referrals, run_after=next_nightly_sweep(timezone.now()))
