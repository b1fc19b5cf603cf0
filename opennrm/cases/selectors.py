"""Reading referrals with what other domains add to their presentation: a guardian service's view shows the child's
safeguarding summary (safeguarding.selectors), a status view the issued decisions (present.status_compartment)."""

from django.db import transaction
from django.utils import timezone

from opennrm.accounts.models import User
from opennrm.audit.services import AuditEntry, audit_record, audit_record_many
from opennrm.core.errors import Throttled
from opennrm.policy import Capability, Compartment, View, has_capability
from opennrm.referrals import selectors as referrals
from opennrm.referrals.models import Referral
from opennrm.referrals.references import home_office_reference_key
from opennrm.referrals.selectors import nrm_status_lookup_refused_until
from opennrm.safeguarding.selectors import allocation_summaries

from .present import status_compartment


def referral_page(
    *,
    actor: User,
    status: str | None = None,
    nation: str | None = None,
    first_responder_reference: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[Referral], int]:
    """referrals.selectors.referral_page, with what allocating a guardian needs for the page at once
    (present.guardian_allocation_cut) on each referral a guardian service sees in that view."""
    items, total = referrals.referral_page(
        actor=actor,
        status=status,
        nation=nation,
        first_responder_reference=first_responder_reference,
        offset=offset,
        limit=limit,
    )
    waiting = [r for r in items if r.access.view == View.GUARDIAN_ALLOCATION]
    if waiting:
        summaries = allocation_summaries(waiting)
        for r in waiting:
            r.allocation_summary = summaries[r.pk]
    return items, total


def nrm_status_lookup(*, actor: User, home_office_reference: str) -> list[dict]:
    """The firewall's one opening: the status view (present.status_compartment: issued decisions only) of every
    referral whose Home Office reference matches this one, compared by references.home_office_reference_key.

    Throttled per user (Throttled); every lookup, found, not found or refused, is audited.
    """
    key = home_office_reference_key(home_office_reference)
    if not has_capability(actor, Capability.LOOKUP_NRM_STATUS) or not key:
        return []
    typed = home_office_reference[:40]
    with transaction.atomic():
        refused_until = nrm_status_lookup_refused_until(actor, timezone.now())
        if refused_until is not None:
            audit_record(
                actor=actor,
                action="nrm_status.lookup_throttled",
                object_type="referral",
                details={"home_office_reference": typed, "retry_at": refused_until.isoformat()},
            )
        else:
            found = list(
                Referral.objects.filter(home_office_reference_key=key)
                .prefetch_related("decisions")
                .order_by("received_at", "id")
            )
            audit_record_many(
                actor=actor,
                entries=[
                    AuditEntry(
                        "nrm_status.lookup", "referral", str(r.uuid), {"compartments": [Compartment.STATUS.value]}
                    )
                    for r in found
                ]
                or [AuditEntry("nrm_status.lookup", "referral", "", {"found": 0, "home_office_reference": typed})],
            )
    if refused_until is not None:
        raise Throttled(refused_until, "Too many NRM status lookups in a short time")
    return [status_compartment(r) for r in found]
