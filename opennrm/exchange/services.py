"""Writes that matter in the exchange: the record of an export, in the audit trail."""

from django.db import transaction

from opennrm.accounts.models import User
from opennrm.audit.models import AuditEvent
from opennrm.audit.services import audit_record


@transaction.atomic
def htcds_export_record(
    *,
    actor: User | None,
    recipient: str,
    cases: int,
    sha256: str,
    file_name: str,
    mapping_version: str,
    operator: str | None = None,
) -> AuditEvent:
    """Audit one HTCDS export: who made it, for which recipient, how many cases, and the file's SHA-256.

    Called by the command with the file written beside its destination, inside the same transaction that then
    moves it into place (ADR 0031): an export is in the trail exactly when its file is published. `actor` is the
    statistician it was made as, or None for the service operator, whose operating-system account is `operator`."""
    details = {
        "recipient": recipient,
        "cases": cases,
        "sha256": sha256,
        "file_name": file_name,
        "mapping_version": mapping_version,
    }
    if operator:
        details["operator"] = operator
    return audit_record(
        actor=actor,
        action="exchange.htcds_export",
        object_type="htcds_export",
        object_id=sha256,
        details=details,
    )
