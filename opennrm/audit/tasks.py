"""The worker's nightly audit checkpoint (ADR 0027), kept queued through core/schedule.py like the deadline sweep:
one current run, at 02:00 Europe/London, and one at once when the worker starts if the last is over a day old."""

import datetime as dt
import logging

from django.conf import settings
from django.tasks import task
from django.utils import timezone

from opennrm.core.errors import Refused
from opennrm.core.schedule import is_current_run, last_finished, next_nightly_sweep, record_run, schedule_run

from .services import audit_checkpoint_write

logger = logging.getLogger(__name__)

AUDIT_CHECKPOINT = "audit_checkpoint"
CHECKPOINT_AGAIN_AFTER = dt.timedelta(days=1)


def audit_checkpoint_schedule(*, now: dt.datetime | None = None) -> None:
    """At the worker's start (`opennrm serve`): tonight's checkpoint, or one now if the last was written more than
    a day ago (or never)."""
    now = now or timezone.now()
    last = last_finished(AUDIT_CHECKPOINT)
    first = now if last is None or now - last > CHECKPOINT_AGAIN_AFTER else next_nightly_sweep(now)
    schedule_run(AUDIT_CHECKPOINT, write_audit_checkpoint, run_after=first)


@task(takes_context=True)
def write_audit_checkpoint(context) -> dict | str:
    """Write a signed checkpoint into OPENNRM_AUDIT_CHECKPOINT_DIR; then queue the next night's. A refusal (the trail
    cut back since the last checkpoint) fails the run, logged as an error, and is tried again the next night."""

    if not is_current_run(AUDIT_CHECKPOINT, context.task_result.id):
        return "not the current run: another is queued"
    started = timezone.now()
    try:
        written = audit_checkpoint_write(actor=None, directory=settings.AUDIT_CHECKPOINT_DIR)
        summary = {
            "file": str(written.path),
            "chains": len(written.checkpoint.chains),
            "entries": written.checkpoint.entries,
        }
        record_run(AUDIT_CHECKPOINT, started_at=started, finished_at=timezone.now(), summary=summary)
        return summary
    except Refused as exc:
        logger.error("The nightly audit checkpoint was NOT written: %s", exc)
        raise
    finally:
        schedule_run(AUDIT_CHECKPOINT, write_audit_checkpoint, run_after=next_nightly_sweep(timezone.now()))
