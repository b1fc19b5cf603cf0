"""`opennrm check-duplicates`: compare every referral not yet checked with all the others (ADR 0014).

New referrals are checked by the worker as they arrive; this is for referrals that never were: those in a
database from before duplicate detection, or loaded around the services.
"""

import time

from django.core.management.base import BaseCommand

from opennrm.linkage.models import ArrivalCheck
from opennrm.linkage.services import referrals_check_unchecked
from opennrm.linkage.tasks import BATCH
from opennrm.referrals.models import Referral


class Command(BaseCommand):
    help = "Compare every referral not yet checked for duplicates with all the others: possible matches go to the review queue."

    def handle(self, *args, **options):
        started = time.perf_counter()
        waiting = Referral.objects.count() - ArrivalCheck.objects.count()
        self.stderr.write(f"{max(waiting, 0):,} referrals not yet checked")

        def report(checked: int) -> None:
            if checked:
                rate = checked / max(time.perf_counter() - started, 1e-9)
                left = max(waiting - checked, 0)
                self.stderr.write(
                    f"[{time.perf_counter() - started:7.1f} s] checked {checked:,} ({rate:,.0f}/s, about {left / rate:,.0f} s left)"
                )

        checked = referrals_check_unchecked(batch=BATCH, progress=report)
        self.stdout.write(f"Checked {checked:,} referrals for duplicates.")
