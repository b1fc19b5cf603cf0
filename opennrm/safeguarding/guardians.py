"""Guardianship coverage (as data: data/guardian_*.csv, seeded by migration 0002) and the request for
a guardian that a child referral in a covered area makes.

Kept apart from services.py so that referrals/services.py can call it inside referral_create's
transaction without an import cycle.
"""

import csv
from pathlib import Path

from opennrm.accounts.selectors import guardian_services_covering
from opennrm.core.cache import ProcessCache
from opennrm.policy import CHILD_AGE_GROUPS

from .models import GuardianAllocationRequest, GuardianCoverage, GuardianService

DATA = Path(__file__).parent / "data"


def coverage_rows() -> tuple[list[dict], list[dict]]:
    """(services, coverage) as the data files give them."""
    with open(DATA / "guardian_services.csv", newline="", encoding="utf-8") as f:
        services = [
            {**row, "nations": row["nations"].split(";"), "support_models": row["support_models"].split(";")}
            for row in csv.DictReader(f)
        ]
    with open(DATA / "guardian_coverage.csv", newline="", encoding="utf-8") as f:
        coverage = [{"service": row["service"], "local_authority": row["local_authority"]} for row in csv.DictReader(f)]
    return services, coverage


def _load_coverage() -> dict[str, GuardianService]:
    return {
        row.local_authority: row.service
        for row in GuardianCoverage.objects.select_related("service__organisation").order_by("id")
    }


# Read on every child referral, changed when a programme's areas change: kept per process (core/cache.py).
_coverage = ProcessCache(_load_coverage)


def forget_guardian_coverage() -> None:
    _coverage.forget()


def service_covering(local_authority: str) -> GuardianService | None:
    """The guardianship programme that covers this local authority, or None where there is none."""
    return _coverage.get().get(local_authority) if local_authority else None


def organisation_for(service: GuardianService, local_authority: str):
    """The organisation whose guardians take a request: the programme's own, else the guardian service covering the area."""
    if service.organisation_id is not None:
        return service.organisation
    covering = guardian_services_covering(local_authority)
    return covering[0] if covering else None


def guardian_request_for_new_referral(*, referral, requested_at=None) -> GuardianAllocationRequest | None:
    """Ask the area's guardianship programme for a guardian for a child referral; nothing for an adult or an uncovered area.

    Called by referral_create inside its transaction, so the request exists exactly when the referral does.
    """
    if referral.age_group not in CHILD_AGE_GROUPS:
        return None
    service = service_covering(referral.local_authority)
    if service is None:
        return None
    return GuardianAllocationRequest.objects.create(
        referral=referral,
        service=service,
        organisation=organisation_for(service, referral.local_authority),
        local_authority=referral.local_authority,
        requested_at=requested_at or referral.received_at,
    )


def guardian_requests_for_new_referrals(*, referrals) -> list[GuardianAllocationRequest]:
    """The same for a batch (`opennrm import`): one query for the coverage, one insert for the requests."""
    children = [r for r in referrals if r.age_group in CHILD_AGE_GROUPS and r.local_authority]
    if not children:
        return []
    coverage = {
        la: service for la in {r.local_authority for r in children} if (service := service_covering(la)) is not None
    }
    organisations = {la: organisation_for(service, la) for la, service in coverage.items()}
    return GuardianAllocationRequest.objects.bulk_create(
        [
            GuardianAllocationRequest(
                referral=r,
                service=coverage[r.local_authority],
                organisation=organisations[r.local_authority],
                local_authority=r.local_authority,
                requested_at=r.received_at,
            )
            for r in children
            if r.local_authority in coverage
        ],
        batch_size=1000,
    )


def seed_guardian_coverage() -> None:
    """Make the programmes and their coverage what the data files say (migration 0002 does the same with historical models)."""
    from importlib import import_module

    from django.apps import apps

    import_module("opennrm.safeguarding.migrations.0002_seed_guardian_services").seed_guardian_services(apps, None)
    forget_guardian_coverage()
