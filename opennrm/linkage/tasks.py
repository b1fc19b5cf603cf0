"""Background work for duplicate detection, run by the worker (`opennrm serve` starts it; ADR 0014)."""

from django.tasks import task


@task()
def check_new_referrals() -> int:
    """Compare every referral not yet checked with all the others: possible matches to the review queue,
    the same Home Office reference linked automatically. Returns how many referrals were checked."""
    from .services import referrals_check_on_arrival

    total = 0
    while checked := referrals_check_on_arrival():
        total += checked
    return total
