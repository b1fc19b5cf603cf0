"""Background work for duplicate detection, run by the worker (`opennrm serve` starts it; ADR 0014)."""

from django.tasks import task


LINKAGE_QUEUE = "linkage"  # run by `opennrm serve`'s second worker, which keeps the identity index in memory
BATCH = 1000  # referrals per task: an import of many enqueues several


@task(queue_name=LINKAGE_QUEUE)
def check_new_referrals(*, referral_ids: list[int]) -> int:
    """Compare these new referrals (those not yet checked) with all the others: possible matches to the review
    queue, the same Home Office reference linked automatically. Returns how many referrals were checked."""
    from .services import referrals_check_on_arrival

    return referrals_check_on_arrival(referral_ids=referral_ids, and_newer=True, limit=BATCH)


def enqueue_checks(referral_ids: list[int]) -> None:
    """Queue the checks of new referrals, in the caller's transaction (a row of this database each)."""
    for start in range(0, len(referral_ids), BATCH):
        check_new_referrals.enqueue(referral_ids=referral_ids[start : start + BATCH])
