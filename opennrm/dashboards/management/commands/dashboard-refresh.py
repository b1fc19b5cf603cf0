import time

from django.core.management.base import BaseCommand

from opennrm.dashboards.services import case_figures_refresh, case_figures_vacuum


class Command(BaseCommand):
    help = (
        "Bring the managers' dashboard summary up to date: the referrals updated since the last refresh, "
        "or every referral with --full (after a bulk load, or nightly)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--full", action="store_true", help="re-derive every referral's row")

    def handle(self, *args, full=False, **options):
        t0 = time.perf_counter()
        rows = case_figures_refresh(full=full)
        if full:
            case_figures_vacuum()
        self.stdout.write(f"Dashboard summary refreshed: {rows:,} referrals in {time.perf_counter() - t0:.1f} s")
