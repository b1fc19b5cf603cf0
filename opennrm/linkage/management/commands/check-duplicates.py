"""`opennrm check-duplicates`: compare every referral not yet checked with all the others (ADR 0014).

New referrals are checked by the worker as they arrive; this is for referrals that never were: those in a
database from before duplicate detection, or loaded around the services.
"""

import time

from django.core.management.base import BaseCommand

from opennrm.linkage.models import ArrivalCheck
from opennrm.linkage.services import referrals_check_on_arrival
from opennrm.referrals.models import Referral

BATCH = 1000


class Command(BaseCommand):
    help = "Compare every referral not yet checked for duplicates with all the others: possible matches go to the review queue."

    def handle(self, *args, **options):
        started = time.perf_counter()
        waiting = Referral.objects.count() - ArrivalCheck.objects.count()
        self.stderr.write(f"{max(waiting, 0):,} referrals not yet checked")
        checked = 0
        while done := referrals_check_on_arrival(limit=BATCH):
            checked += done
            rate = checked / max(time.perf_counter() - started, 1e-9)
            left = max(waiting - checked, 0)
            self.stderr.write(f"[{time.perf_counter() - started:7.1f} s] checked {checked:,} ({rate:,.0f}/s, about {left / rate:,.0f} s left)")
        self.stdout.write(f"Checked {checked:,} referrals for duplicates.")
