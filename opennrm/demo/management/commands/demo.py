import os

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from opennrm.audit.services import Origin, current_origin
from opennrm.demo.loading import DEFAULT_PASSWORD, demo_load
from opennrm.referrals.models import Status

DEMO_URL = "http://127.0.0.1:8000"


class Command(BaseCommand):
    help = (
        "Load the synthetic demo into the configured database: organisations, a sign-in for each role "
        "(password from OPENNRM_DEMO_PASSWORD) and referrals in every status. Safe to run twice."
    )

    def handle(self, *args, **options):
        password = os.environ.get("OPENNRM_DEMO_PASSWORD") or DEFAULT_PASSWORD
        token = current_origin.set(Origin(user_agent="opennrm demo"))
        try:
            result = demo_load(password=password)
        except DatabaseError as exc:
            raise CommandError(f"Cannot use the database ({exc}). Check DATABASE_URL, and run `opennrm migrate` first.")
        finally:
            current_origin.reset(token)

        out = self.stdout.write
        out(
            f"Organisations: {result.organisations_created} created, {result.organisations_changed} updated. "
            f"Users: {result.users_created} created, {result.users_changed} updated."
        )
        out(
            f"Referrals: {result.referrals_created} created, {result.referrals_present} "
            f"already present. Unfinished referrals: {result.drafts_created} "
            "created."
        )
        if result.safeguarding_children:
            out(
                f"Safeguarding: {result.safeguarding_children} children in Croydon with care records, a guardian, and missing episodes."
            )
        if result.guardian_child_reference:
            out(
                f"la.croydon can report {result.guardian_child_reference}, the child guardian.one is allocated to, missing."
            )
        if result.repeat_child_references:
            first, again = result.repeat_child_references
            out(
                f"Duplicate detection: {result.duplicate_checks} referrals checked; "
                f"{again} is offered to sca.one and dq.one as the same child "
                "as "
                f"{first}, under another spelling (Possible duplicate referrals)."
            )
        out("")
        out("Demo referrals by status:")
        for status in Status:
            out(f"  {status.label:<40} {result.statuses.get(status.value, 0):>4}")
        out("")
        width_user = max(len(u.username) for u in result.users)
        width_role = max(len(u.role_label) for u in result.users)
        out(f"{'Username':<{width_user}}  {'Role':<{width_role}}  Organisation")
        for user in result.users:
            out(f"{user.username:<{width_user}}  {user.role_label:<{width_role}}  {user.organisation.name}")
        out("")
        source = (
            "from OPENNRM_DEMO_PASSWORD"
            if os.environ.get("OPENNRM_DEMO_PASSWORD")
            else "the default; set OPENNRM_DEMO_PASSWORD to choose another"
        )
        out(f"Password for every demo user: {password}  ({source})")
        if result.home_office_reference:
            out(f"immigration.one can look up the NRM status of Home Office reference {result.home_office_reference}")
        out(f"Start the service with `opennrm serve` and sign in at {DEMO_URL}")
