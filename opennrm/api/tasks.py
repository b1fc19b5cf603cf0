"""The API's own nightly housekeeping, run by the worker (`opennrm serve` queues it): pruning the Idempotency-Key
records past their retention (services.idempotency_records_prune). Kept queued through core/schedule.py like the
deadline sweep: one current run, at 02:00 Europe/London, and one at once when the worker starts."""

import datetime as dt

from django.tasks import task
from django.utils import timezone

from opennrm.core.schedule import is_current_run, next_nightly_sweep, record_run, schedule_run

from .services import idempotency_records_prune

IDEMPOTENCY_PRUNE = "idempotency_prune"  # the worker schedule's name for it


def idempotency_prune_schedule(*, now: dt.datetime | None = None) -> None:
    """At the worker's start (`opennrm serve`): a prune now; each run queues the next night's."""
    schedule_run(IDEMPOTENCY_PRUNE, prune_idempotency_records, run_after=now or timezone.now())


def idempotency_prune(*, now: dt.datetime | None = None) -> dict:
    """Prune now and record the run; what the nightly task does."""
    started = now or timezone.now()
    summary = {"pruned": idempotency_records_prune(actor=None, now=started)}
    record_run(IDEMPOTENCY_PRUNE, started_at=started, finished_at=timezone.now(), summary=summary)
    return summary


@task(takes_context=True)
def prune_idempotency_records(context) -> dict | str:
    """Delete the Idempotency-Key records past their retention; then queue the next night's run."""
    if not is_current_run(IDEMPOTENCY_PRUNE, context.task_result.id):
        return "not the current run: another is queued"
    try:
        return idempotency_prune()
    finally:
        schedule_run(IDEMPOTENCY_PRUNE, prune_idempotency_records, run_after=next_nightly_sweep(timezone.now()))
