"""One waiting check task, not one per referral (linkage/tasks.py): submissions that find a check task waiting queue
nothing, and still every referral is checked: by the waiting task, by a new one once it has started, or by the sweep
when a crash lost the enqueue. Committed transactions and the real django-tasks-db worker, as `opennrm serve` runs it."""

import datetime as dt

import pytest
from django.db import transaction
from django.tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from opennrm.linkage.models import ArrivalCheck, MatchCandidate
from opennrm.linkage.tasks import LINKAGE_QUEUE, enqueue_checks, linkage_work_schedule
from opennrm.policy import Role
from opennrm.referrals.models import Referral

from .support import SOMEONE_ELSE, TESFAYE_AGAIN, TESFAYE_FIRST, child_body, refer
from .test_pages_and_api import run_linkage_worker

pytestmark = pytest.mark.django_db(transaction=True)


def checks(**filters):
    return DBTaskResult.objects.filter(task_path__endswith=".check_new_referrals", **filters)


def sweeps(**filters):
    return DBTaskResult.objects.filter(task_path__endswith=".sweep_unchecked_referrals", **filters)


@pytest.fixture
def first_responder(make_user):
    return make_user(Role.FIRST_RESPONDER)


def refer_three(actor) -> list[Referral]:
    return [refer(actor, child_body(**who)) for who in (TESFAYE_FIRST, SOMEONE_ELSE, TESFAYE_AGAIN)]


def test_three_submissions_leave_one_waiting_check_which_checks_them_all(first_responder):
    referrals = refer_three(first_responder)
    waiting = checks(status=TaskResultStatus.READY)
    assert checks().count() == 1 and waiting.count() == 1
    task = waiting.get()
    assert task.queue_name == LINKAGE_QUEUE and task.args_kwargs["kwargs"] == {"referral_ids": [referrals[0].pk]}

    run_linkage_worker()
    task.refresh_from_db()
    assert task.status == TaskResultStatus.SUCCESSFUL and task.return_value == 3  # the two that found it waiting too
    assert set(ArrivalCheck.objects.values_list("referral_id", flat=True)) == {r.pk for r in referrals}
    assert MatchCandidate.objects.get().referral_id == referrals[2].pk


def test_a_started_task_does_not_count_a_submission_then_queues_a_new_one(first_responder):
    first = refer(first_responder, child_body(**TESFAYE_FIRST))
    # Started: it may already have read the unchecked referrals, before the next one committed.
    checks().update(status=TaskResultStatus.RUNNING)
    second = refer(first_responder, child_body(**SOMEONE_ELSE))
    assert checks().count() == 2
    assert checks(status=TaskResultStatus.READY).get().args_kwargs["kwargs"] == {"referral_ids": [second.pk]}
    refer(first_responder, child_body(**TESFAYE_AGAIN))
    assert checks(status=TaskResultStatus.READY).count() == 1  # the new one is waiting: it takes the third too

    run_linkage_worker()  # runs the waiting one (the "running" one was never really claimed)
    assert ArrivalCheck.objects.count() == 2 and not ArrivalCheck.objects.filter(referral=first).exists()
    assert checks(status=TaskResultStatus.SUCCESSFUL).get().return_value == 2

    # Once that ran, the next submission queues again.
    fourth = refer(first_responder, child_body(**TESFAYE_FIRST))
    assert checks(status=TaskResultStatus.READY).get().args_kwargs["kwargs"] == {"referral_ids": [fourth.pk]}
    run_linkage_worker()
    assert ArrivalCheck.objects.filter(referral=fourth).exists()


def test_a_referral_committing_behind_the_waiting_tasks_first_id_queues_its_own(first_responder):
    # An import's ids are taken before newer submissions commit: the waiting task starts above them, so it would
    # not reach them; they queue a task of their own (two waiting, briefly).
    earlier, later = (refer(first_responder, child_body(**who)) for who in (TESFAYE_FIRST, TESFAYE_AGAIN))
    DBTaskResult.objects.all().delete()
    enqueue_checks([later.pk])  # outside a transaction: at once, as after a commit
    enqueue_checks([earlier.pk])
    assert sorted(t.args_kwargs["kwargs"]["referral_ids"][0] for t in checks(status=TaskResultStatus.READY)) == [
        earlier.pk,
        later.pk,
    ]
    enqueue_checks([later.pk])  # a waiting task starts at or below it: nothing more
    assert checks().count() == 2
    run_linkage_worker()
    assert ArrivalCheck.objects.count() == 2 and MatchCandidate.objects.count() == 1


def test_nothing_is_queued_if_the_submission_rolls_back(first_responder):
    with pytest.raises(RuntimeError), transaction.atomic():
        refer(first_responder, child_body(**TESFAYE_FIRST))
        raise RuntimeError("the request failed after the referral was made")
    assert not checks().exists() and not Referral.objects.exists()


def test_a_referral_whose_enqueue_a_crash_lost_is_checked_by_the_sweep_at_start_up(first_responder):
    lost = refer(first_responder, child_body(**TESFAYE_FIRST))
    DBTaskResult.objects.all().delete()  # the process died between the commit and the enqueue
    older = refer(first_responder, child_body(**SOMEONE_ELSE))
    # From before duplicate detection was installed: `opennrm check-duplicates`' to do, not the sweep's.
    Referral.objects.filter(pk=older.pk).update(created_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    DBTaskResult.objects.all().delete()
    again = refer(first_responder, child_body(**TESFAYE_AGAIN))  # its task starts above the lost one
    run_linkage_worker()
    assert set(ArrivalCheck.objects.values_list("referral_id", flat=True)) == {again.pk}

    linkage_work_schedule()  # `opennrm serve` starts the worker again
    linkage_work_schedule()  # twice (or a second process): still one sweep
    assert sweeps(status=TaskResultStatus.READY).count() == 1
    run_linkage_worker()
    assert set(ArrivalCheck.objects.values_list("referral_id", flat=True)) == {again.pk, lost.pk}
    assert sweeps(status=TaskResultStatus.SUCCESSFUL).get().return_value == {"checked": 1}
    tonight = sweeps(status=TaskResultStatus.READY).get()  # and the next night's is queued, at 02:00 London time
    assert (
        tonight.run_after.astimezone(dt.timezone(dt.timedelta(0))).hour in (1, 2)
        and tonight.queue_name == LINKAGE_QUEUE
    )

    DBTaskResult.objects.filter(pk=tonight.pk).update(
        run_after=dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    )  # the night comes
    run_linkage_worker()
    assert sweeps(status=TaskResultStatus.SUCCESSFUL).count() == 2 and ArrivalCheck.objects.count() == 2


def test_an_import_in_batches_queues_one_check_for_all_its_referrals(tmp_path, make_user):
    from opennrm.cases.tests.test_import import run_import
    from opennrm.demo.synthetic import write_import_file

    make_user(Role.FIRST_RESPONDER, "fr.import")
    path = tmp_path / "referrals.jsonl"
    write_import_file(path, 30, seed=7)
    assert run_import(path, "fr.import", "--jobs", "0", "--batch-size", "8")[0] == 0  # four transactions
    assert checks().count() == 1 and checks(status=TaskResultStatus.READY).exists()
    run_linkage_worker()
    assert checks().get().return_value == 30 and ArrivalCheck.objects.count() == Referral.objects.count() == 30
