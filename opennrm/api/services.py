"""Housekeeping of the API's own records."""

import datetime as dt

from django.db import transaction

from opennrm.accounts.models import User
from opennrm.audit.services import audit_record

from .models import IdempotencyRecord

# A client retrying after a timeout or an outage does so within hours; a week covers a long weekend's outage.
# Kept no longer: each record holds the first response, a copy of what was created (case content).
IDEMPOTENCY_RETENTION = dt.timedelta(days=7)


@transaction.atomic
def idempotency_records_prune(*, actor: User | None, now: dt.datetime) -> int:
    """Delete the Idempotency-Key records older than IDEMPOTENCY_RETENTION; returns how many."""
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=now - IDEMPOTENCY_RETENTION).delete()
    if deleted:
        audit_record(
            actor=actor,
            action="idempotency.pruned",
            details={"deleted": deleted, "older_than_days": IDEMPOTENCY_RETENTION.days},
        )
    return deleted
