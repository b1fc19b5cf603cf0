from django.db import migrations

from opennrm.safeguarding.guardians import coverage_rows

CHILD_AGE_GROUPS = ("child", "unknown")


def seed_guardian_services(apps, schema_editor):
    """The guardianship programmes and the areas each covers, from data/guardian_*.csv (nrm.md 2.1–2.3)."""
    GuardianService = apps.get_model("safeguarding", "GuardianService")
    GuardianCoverage = apps.get_model("safeguarding", "GuardianCoverage")
    services, coverage = coverage_rows()
    by_code = {}
    for row in services:
        by_code[row["code"]], _ = GuardianService.objects.update_or_create(
            code=row["code"],
            defaults={k: row[k] for k in ("name", "provider", "nations", "support_models", "legal_basis")},
        )
    for row in coverage:
        GuardianCoverage.objects.update_or_create(
            local_authority=row["local_authority"], defaults={"service": by_code[row["service"]]}
        )


def request_guardians_for_existing_children(apps, schema_editor):
    """Child referrals made before guardian requests existed ask for one too, as of their receipt, so guardians keep seeing them."""
    Referral = apps.get_model("referrals", "Referral")
    Organisation = apps.get_model("accounts", "Organisation")
    GuardianCoverage = apps.get_model("safeguarding", "GuardianCoverage")
    GuardianAllocationRequest = apps.get_model("safeguarding", "GuardianAllocationRequest")
    service_of = dict(GuardianCoverage.objects.values_list("local_authority", "service_id"))
    guardian_orgs = list(Organisation.objects.filter(kind="guardian_service", is_active=True).order_by("name"))
    batch = []
    for referral in (
        Referral.objects.filter(age_group__in=CHILD_AGE_GROUPS)
        .only("pk", "local_authority", "received_at")
        .iterator(chunk_size=2000)
    ):
        service_id = service_of.get(referral.local_authority)
        if service_id is None:
            continue
        organisation = next(
            (o for o in guardian_orgs if referral.local_authority in (o.covered_local_authorities or [])), None
        )
        batch.append(
            GuardianAllocationRequest(
                referral_id=referral.pk,
                service_id=service_id,
                organisation=organisation,
                local_authority=referral.local_authority,
                requested_at=referral.received_at,
            )
        )
        if len(batch) >= 2000:
            GuardianAllocationRequest.objects.bulk_create(batch, ignore_conflicts=True)
            batch = []
    GuardianAllocationRequest.objects.bulk_create(batch, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [("safeguarding", "0001_initial"), ("referrals", "0002_assignment"), ("accounts", "0002_teams")]

    operations = [
        migrations.RunPython(seed_guardian_services, migrations.RunPython.noop),
        migrations.RunPython(request_guardians_for_existing_children, migrations.RunPython.noop),
    ]
