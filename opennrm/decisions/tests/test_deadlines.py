"""Deadline reminders and breach escalations: when they are due, who is told, and that each is sent once.

Sweeps take `today=` explicitly where the calendar matters. Email goes through the real worker to a
real SMTP server (aiosmtpd), with the worker's own clock, so those tests place deadlines relative to
today.
"""

import datetime as dt
import email
import io
import threading

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection, connections
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from opennrm.accounts.models import Organisation, Team
from opennrm.audit.models import AuditEvent
from opennrm.decisions.deadlines import (
    deadline_notices_send,
    deadline_sweep,
    london_today,
    nation_windows,
    notice_recipients,
)
from opennrm.decisions.models import DeadlineNotice, NoticeKind, Outcome, Stage, WorkerSchedule
from opennrm.decisions.services import decision_record
from opennrm.decisions.tasks import DEADLINE_SWEEP, deadline_work_schedule, next_nightly_sweep
from opennrm.policy import Role
from opennrm.referrals.models import Referral, Status
from opennrm.tests.mail import run_worker
from opennrm.workdays.calendar import working_days_between

from .conftest import days_ago, make_referral

D = dt.date
REMINDER_SUBJECT = "NRM decision due"
BREACH_SUBJECT = "NRM decision overdue"


def readable(raw: str) -> str:
    """The message as its reader sees it: the subject and the decoded body (the wire text wraps long lines)."""
    message = email.message_from_string(raw)
    return f"Subject: {message['Subject']}\n\n" + message.get_payload(decode=True).decode()


def on(referral: Referral, **fields) -> Referral:
    """The referral with its deadline fields set as a test needs them."""
    Referral.objects.filter(pk=referral.pk).update(**fields)
    referral.refresh_from_db()
    return referral


def notices(**filters) -> set[tuple]:
    return set(DeadlineNotice.objects.filter(**filters).values_list("referral__reference", "kind", "stage", "due_on"))


@pytest.fixture
def team(people, make_user):
    """The SCA team the SCA decision makers work in, managed by a manager with their own address."""
    manager = make_user(Role.SCA_DECISION_MAKER, "sca.manager")
    sca = people["sca1"].organisation
    return Team.objects.create(organisation=sca, name="Children's team", manager=manager)


@pytest.fixture
def sca_mailbox(people):
    Organisation.objects.filter(pk=people["sca1"].organisation_id).update(email="sca-mailbox@example.invalid")
    return "sca-mailbox@example.invalid"


# When a notice is due ---------------------------------------------------------------------------


def test_the_reminder_day_is_the_working_day_before_in_each_nation(db):  # closure days are read from the database
    # St Andrew's Day, Monday 30 November 2026, is a bank holiday in Scotland only.
    friday, saturday, monday = D(2026, 11, 27), D(2026, 11, 28), D(2026, 11, 30)
    windows = nation_windows(friday)
    assert windows["ENG"].remind_through == monday  # across the weekend
    assert windows["SCT"].remind_through == D(2026, 12, 1)  # across the weekend and the bank holiday
    assert windows["ENG"].breached_before == windows["SCT"].breached_before == friday
    # On a Saturday nobody works: Friday's deadline is not yet breached; Monday's reminder went on Friday.
    assert nation_windows(saturday)["ENG"].breached_before == friday
    assert nation_windows(monday)["SCT"].breached_before == friday  # Scotland's Monday is a holiday
    assert nation_windows(monday)["ENG"].breached_before == monday


def test_reminders_and_breaches_follow_each_nations_working_days(people, child_referral_body, adult_referral_body):
    england_tuesday = on(
        make_referral(people["referrer"], child_referral_body), nation="ENG", reasonable_grounds_due=D(2026, 12, 1)
    )
    scotland_tuesday = on(
        make_referral(people["referrer"], adult_referral_body), nation="SCT", reasonable_grounds_due=D(2026, 12, 1)
    )
    england_monday = on(
        make_referral(people["referrer"], child_referral_body), nation="ENG", reasonable_grounds_due=D(2026, 11, 30)
    )
    RG, REMIND, BREACH = Stage.REASONABLE_GROUNDS, NoticeKind.REMINDER, NoticeKind.BREACH

    assert deadline_sweep(today=D(2026, 11, 26)).reminders_created == 0  # Thursday: nothing yet
    friday = deadline_sweep(today=D(2026, 11, 27))
    assert (friday.reminders_created, friday.breaches_created) == (2, 0)
    assert notices() == {
        (scotland_tuesday.reference, REMIND, RG, D(2026, 12, 1)),
        (england_monday.reference, REMIND, RG, D(2026, 11, 30)),
    }
    for weekend_day in (28, 29):
        assert deadline_sweep(today=D(2026, 11, weekend_day)).reminders_created == 0
    monday = deadline_sweep(today=D(2026, 11, 30))
    assert (monday.reminders_created, monday.breaches_created) == (1, 0)
    assert (england_tuesday.reference, REMIND, RG, D(2026, 12, 1)) in notices()

    tuesday = deadline_sweep(today=D(2026, 12, 1))  # Monday's deadline passed in England
    assert (tuesday.reminders_created, tuesday.breaches_created) == (0, 1)
    assert notices(kind=BREACH) == {(england_monday.reference, BREACH, RG, D(2026, 11, 30))}
    wednesday = deadline_sweep(today=D(2026, 12, 2))
    assert wednesday.breaches_created == 2
    assert {r for r, *_ in notices(kind=BREACH)} == {
        england_monday.reference,
        england_tuesday.reference,
        scotland_tuesday.reference,
    }
    assert wednesday.cases_checked == Referral.objects.filter(status=Status.AWAITING_REASONABLE_GROUNDS).count() == 3
    # Once each: sweeping again on any day makes nothing new.
    for day in (D(2026, 11, 27), D(2026, 12, 1), D(2026, 12, 2), D(2026, 12, 9)):
        again = deadline_sweep(today=day)
        assert (again.reminders_created, again.breaches_created) == (0, 0)
    assert DeadlineNotice.objects.count() == 6
    # One audit event per kind and stage each sweep that created something, not one per notice.
    assert AuditEvent.objects.filter(action="deadline_notice.create").count() == 4


def test_a_decided_case_gets_no_notice_and_a_moved_deadline_gets_its_own(people, child_referral, adult_referral):
    decided = on(adult_referral, reasonable_grounds_due=D(2026, 11, 20), status=Status.REASONABLE_GROUNDS_NEGATIVE)
    moved = on(child_referral, reasonable_grounds_due=D(2026, 11, 30))
    deadline_sweep(today=D(2026, 11, 27))
    assert notices() == {(moved.reference, NoticeKind.REMINDER, Stage.REASONABLE_GROUNDS, D(2026, 11, 30))}
    on(moved, reasonable_grounds_due=D(2026, 12, 3))  # re-routed: the deadline is recomputed
    assert deadline_sweep(today=D(2026, 12, 2)).reminders_created == 1
    assert not DeadlineNotice.objects.filter(referral=decided).exists()


def test_a_breach_is_escalated_while_it_is_news(people, child_referral, adult_referral, settings):
    settings.OPENNRM_BREACH_ESCALATION_DAYS = 30
    today = D(2026, 12, 2)
    recent = on(child_referral, reasonable_grounds_due=today - dt.timedelta(days=30))
    long_overdue = on(adult_referral, reasonable_grounds_due=today - dt.timedelta(days=31))
    summary = deadline_sweep(today=today)
    assert (summary.breaches_created, summary.overdue_beyond_escalation) == (1, 1)
    assert notices() == {(recent.reference, NoticeKind.BREACH, Stage.REASONABLE_GROUNDS, recent.reasonable_grounds_due)}
    assert not DeadlineNotice.objects.filter(referral=long_overdue).exists()


def test_a_recovery_period_that_has_run_is_ended_once_and_its_conclusive_grounds_deadline_swept(people, child_referral):
    decision_record(
        actor=people["sca1"],
        referral=child_referral,
        stage=Stage.REASONABLE_GROUNDS,
        outcome=Outcome.POSITIVE,
        reasons="Credible account.",
        decided_at=days_ago(40),
    )
    child_referral.refresh_from_db()
    ends_on = child_referral.recovery_period_ends_on
    assert child_referral.status == Status.RECOVERY_PERIOD and ends_on < london_today(timezone.now())

    not_yet = deadline_sweep(today=ends_on - dt.timedelta(days=1))
    assert not_yet.recovery_periods_ended == 0
    child_referral.refresh_from_db()
    assert child_referral.status == Status.RECOVERY_PERIOD

    summary = deadline_sweep()
    assert summary.recovery_periods_ended == 1
    child_referral.refresh_from_db()
    assert child_referral.status == Status.AWAITING_CONCLUSIVE_GROUNDS
    events = AuditEvent.objects.filter(action="referral.recovery_period_end", object_id=str(child_referral.uuid))
    assert [e.details["recovery_period_ended_on"] for e in events] == [ends_on.isoformat()]
    # Its Conclusive Grounds decision is due from the end of the recovery period, now past.
    assert (child_referral.reference, NoticeKind.BREACH, Stage.CONCLUSIVE_GROUNDS, ends_on) in notices()
    assert deadline_sweep().recovery_periods_ended == 0
    assert events.count() == 1


def test_the_command_prints_progress_and_a_summary(people, child_referral):
    on(child_referral, reasonable_grounds_due=D(2026, 11, 30))
    out = io.StringIO()
    call_command("sweep-deadlines", "--today", "2026-11-27", stdout=out)
    text = out.getvalue()
    assert "Open cases with a decision deadline: 1" in text
    assert (
        "Swept 2026-11-27" in text
        and "1 open cases checked, 1 reminders created, 0 breaches created, 0 recovery periods ended" in text
    )
    with pytest.raises(CommandError, match="'27/11/2026' is not a date: give it as YYYY-MM-DD"):
        call_command("sweep-deadlines", "--today", "27/11/2026")


# Who is told ------------------------------------------------------------------------------------


def test_who_is_told(people, child_referral, team, sca_mailbox):
    maker, manager = people["sca1"], team.manager
    reminder = DeadlineNotice(
        kind=NoticeKind.REMINDER, referral=child_referral, stage=Stage.REASONABLE_GROUNDS, due_on=D(2026, 11, 30)
    )
    breach = DeadlineNotice(
        kind=NoticeKind.BREACH, referral=child_referral, stage=Stage.REASONABLE_GROUNDS, due_on=D(2026, 11, 30)
    )

    def told(notice):
        child_referral.refresh_from_db()
        return notice_recipients(notice, child_referral)[0]

    # Assigned to nobody: the competent authority's mailbox, for both.
    assert told(reminder) == told(breach) == [sca_mailbox]
    on(child_referral, assigned_team=team, assigned_to=maker)
    assert told(reminder) == [maker.email]
    assert told(breach) == [manager.email]
    on(child_referral, assigned_to=None)
    assert told(reminder) == [manager.email]  # a team without a shared mailbox: its manager
    Team.objects.filter(pk=team.pk).update(email="childrens-team@example.invalid")
    assert told(reminder) == ["childrens-team@example.invalid"]
    Team.objects.filter(pk=team.pk).update(manager=None)
    assert told(breach) == [sca_mailbox]  # no manager to escalate to: the authority


# Sent once, through the real worker -------------------------------------------------------------


def _overdue_case(people, body, team) -> Referral:
    referral = make_referral(people["referrer"], body)
    return on(
        referral,
        nation="ENG",
        reasonable_grounds_due=london_today(timezone.now()) - dt.timedelta(days=10),
        assigned_team=team,
        assigned_to=people["sca1"],
    )


@pytest.mark.django_db(transaction=True)
def test_a_breach_is_escalated_to_the_team_manager_once_across_sweeps_and_a_restart(
    people, child_referral_body, team, smtp_sink
):
    smtp_sink.start()
    referral = _overdue_case(people, child_referral_body, team)
    deadline_sweep()
    notice = DeadlineNotice.objects.get(referral=referral)
    assert (notice.kind, notice.sent_at) == (NoticeKind.BREACH, None)

    # The worker dies before sending: its sending run is left "running" for ever, and lost.
    DBTaskResult.objects.filter(task_path__endswith="send_deadline_notices").update(status=TaskResultStatus.RUNNING)
    run_worker()
    assert smtp_sink.emails_with_subject(BREACH_SUBJECT) == []
    deadline_sweep()  # the next sweep creates nothing new, and queues the sending again
    deadline_work_schedule()  # as `opennrm serve` does when it starts again
    run_worker()
    deadline_sweep()
    run_worker()

    emails = smtp_sink.emails_with_subject(BREACH_SUBJECT)
    assert len(emails) == 1
    to, text = emails[0][0], readable(emails[0][1])
    assert to == [team.manager.email]
    overdue = working_days_between(referral.reasonable_grounds_due, london_today(timezone.now()), "ENG")
    assert f"Subject: {BREACH_SUBJECT}: {referral.reference}" in text
    assert f"It is {overdue} working days overdue" in text
    assert f"Reasonable Grounds decision is due by {referral.reasonable_grounds_due:%A %-d %B %Y}" in text
    assert f"http://127.0.0.1:8000/referrals/{referral.uuid}" in text
    assert "you manage the team the case is assigned to, Children's team" in text
    # Email is not a secure channel: nothing about the person referred.
    for personal in (
        "Nguyen",
        "Thi Anh",
        "Annie",
        "cannabis",
        "Croydon",
        "2010-03-01",
        "CRO-2026-0042",
        "Example Road",
        "020 7946",
    ):
        assert personal not in text
    notice.refresh_from_db()
    assert notice.sent_to == [team.manager.email] and notice.attempts == 1
    assert AuditEvent.objects.filter(action="deadline_notice.breach_sent", object_id=str(referral.uuid)).count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_reminder_goes_to_the_decision_maker(people, child_referral_body, team, smtp_sink):
    smtp_sink.start()
    referral = make_referral(people["referrer"], child_referral_body)
    today = london_today(timezone.now())
    due = nation_windows(today)["ENG"].remind_through
    on(referral, nation="ENG", reasonable_grounds_due=due, assigned_team=team, assigned_to=people["sca1"])
    assert deadline_sweep().reminders_created == 1
    run_worker()
    emails = smtp_sink.emails_with_subject(REMINDER_SUBJECT)
    assert [to for to, _ in emails] == [[people["sca1"].email]]
    text = readable(emails[0][1])
    assert f"The Reasonable Grounds decision is due by {due:%A %-d %B %Y}" in text
    assert "the case is assigned to you." in text


@pytest.mark.django_db(transaction=True)
def test_a_notice_survives_the_mail_server_being_down(people, child_referral_body, team, smtp_sink):
    referral = _overdue_case(people, child_referral_body, team)
    deadline_sweep()
    run_worker()  # the server is not running: the connection is refused
    notice = DeadlineNotice.objects.get(referral=referral)
    assert notice.sent_at is None and notice.attempts == 1 and "ConnectionRefusedError" in notice.last_error
    assert AuditEvent.objects.filter(action="deadline_notice.breach_failed", object_id=str(referral.uuid)).count() == 1
    # The next attempt is queued for when the backoff ends.
    queued = DBTaskResult.objects.filter(task_path__endswith="send_deadline_notices", status=TaskResultStatus.READY)
    assert [t.run_after for t in queued] == [notice.next_attempt_at]

    smtp_sink.start()
    run_worker()  # not due yet
    assert smtp_sink.emails_with_subject(BREACH_SUBJECT) == []
    with time_machine.travel(notice.next_attempt_at + dt.timedelta(seconds=1), tick=True):
        run_worker()
        run_worker()
    notice.refresh_from_db()
    assert notice.sent_at is not None and notice.attempts == 2
    assert len(smtp_sink.emails_with_subject(BREACH_SUBJECT)) == 1


def test_a_notice_whose_decision_was_made_meanwhile_is_not_sent(people, child_referral, mailoutbox):
    on(child_referral, reasonable_grounds_due=D(2026, 11, 30))
    deadline_sweep(today=D(2026, 11, 27))
    decision_record(
        actor=people["sca1"],
        referral=child_referral,
        stage=Stage.REASONABLE_GROUNDS,
        outcome=Outcome.POSITIVE,
        reasons="Credible account.",
    )
    outcome = deadline_notices_send()
    assert (outcome.sent, outcome.superseded) == (0, 1)
    notice = DeadlineNotice.objects.get()
    assert notice.sent_at is None and notice.superseded_at is not None
    assert [m.subject for m in mailoutbox if m.subject.startswith(REMINDER_SUBJECT)] == []


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_create_each_notice_once(people, child_referral_body, adult_referral_body):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers for the whole database; concurrent sweeps are tested on PostgreSQL")
    overdue = [
        on(make_referral(people["referrer"], child_referral_body), reasonable_grounds_due=D(2026, 11, 2))
        for _ in range(20)
    ]
    remind = [
        on(make_referral(people["referrer"], adult_referral_body), reasonable_grounds_due=D(2026, 11, 30))
        for _ in range(20)
    ]
    ended = [
        on(
            make_referral(people["referrer"], child_referral_body),
            status=Status.RECOVERY_PERIOD,
            recovery_period_ends_on=D(2026, 11, 1) + dt.timedelta(days=n),
        )
        for n in range(20)
    ]
    start = threading.Barrier(2)
    results, errors = [], []

    def sweep():
        try:
            start.wait()
            results.append(deadline_sweep(today=D(2026, 11, 27)))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert sum(r.reminders_created for r in results) == len(remind)
    assert sum(r.breaches_created for r in results) == len(overdue) + len(ended)
    assert sum(r.recovery_periods_ended for r in results) == len(ended)
    assert DeadlineNotice.objects.count() == len(remind) + len(overdue) + len(ended)
    assert AuditEvent.objects.filter(action="referral.recovery_period_end").count() == len(ended)


# Scheduling -------------------------------------------------------------------------------------


def test_the_nightly_sweep_is_at_two_in_the_morning_london_time():
    london = dt.timezone(dt.timedelta(hours=0))
    assert next_nightly_sweep(dt.datetime(2026, 11, 27, 1, 59, tzinfo=london)) == dt.datetime(
        2026, 11, 27, 2, 0, tzinfo=london
    )
    assert next_nightly_sweep(dt.datetime(2026, 11, 27, 2, 0, tzinfo=london)) == dt.datetime(
        2026, 11, 28, 2, 0, tzinfo=london
    )
    # Summer time: 02:00 BST is 01:00 UTC.
    assert next_nightly_sweep(dt.datetime(2026, 7, 1, 12, 0, tzinfo=dt.UTC)) == dt.datetime(
        2026, 7, 2, 1, 0, tzinfo=dt.UTC
    )
    # The night the clocks go back (25 October 2026), 02:00 comes once, in GMT.
    assert next_nightly_sweep(dt.datetime(2026, 10, 24, 23, 0, tzinfo=dt.UTC)) == dt.datetime(
        2026, 10, 25, 2, 0, tzinfo=dt.UTC
    )


def _queued_sweeps():
    return DBTaskResult.objects.filter(task_path__endswith=".sweep_deadlines", status=TaskResultStatus.READY)


@pytest.mark.django_db(transaction=True)
def test_the_worker_keeps_one_nightly_sweep_queued_whatever_the_restarts(people, child_referral):
    on(child_referral, reasonable_grounds_due=london_today(timezone.now()) - dt.timedelta(days=10))
    deadline_work_schedule()  # `opennrm serve` starts: never swept, so a sweep now
    deadline_work_schedule()  # started again at once (or a second process): still one
    assert _queued_sweeps().count() == 1
    run_worker()
    assert DeadlineNotice.objects.filter(referral=child_referral).count() == 1
    schedule = WorkerSchedule.objects.get(name=DEADLINE_SWEEP)
    assert schedule.last_summary["breaches_created"] == 1
    # The run queued the next night's, and only that.
    nightly = next_nightly_sweep(timezone.now())
    assert [t.run_after for t in _queued_sweeps()] == [nightly]
    deadline_work_schedule()  # a restart after a recent sweep: tonight's is already queued
    assert [t.run_after for t in _queued_sweeps()] == [nightly]

    # A restart when the last finished sweep is over a day old (say the last run failed): a sweep now,
    # which then queues tonight's again; the one queued before is left behind.
    WorkerSchedule.objects.filter(name=DEADLINE_SWEEP).update(last_finished_at=timezone.now() - dt.timedelta(days=2))
    deadline_work_schedule()
    assert _queued_sweeps().count() == 2
    run_worker()
    assert [t.run_after for t in _queued_sweeps()] == [nightly, nightly]
    with time_machine.travel(nightly + dt.timedelta(minutes=1), tick=True):
        run_worker()
    outcomes = [
        t.return_value
        for t in DBTaskResult.objects.filter(task_path__endswith=".sweep_deadlines", status=TaskResultStatus.SUCCESSFUL)
    ]
    assert outcomes.count("not the current run: another is queued") == 1
    assert len(outcomes) == 4  # the first, the catch-up, tonight's and the one left behind
    assert [t.run_after for t in _queued_sweeps()] == [nightly + dt.timedelta(days=1)]
    assert DeadlineNotice.objects.filter(referral=child_referral).count() == 1


# The case page ----------------------------------------------------------------------------------


def test_the_case_page_shows_decision_makers_the_notices(people, child_referral, team, web_client, mailoutbox):
    on(child_referral, reasonable_grounds_due=D(2026, 11, 30), assigned_team=team, assigned_to=people["sca1"])
    deadline_sweep(today=D(2026, 11, 27))
    deadline_sweep(today=D(2026, 12, 2))
    assert deadline_notices_send().sent == 2
    page = web_client(people["sca2"]).get(f"/referrals/{child_referral.uuid}").content.decode()
    assert "Deadline notices" in page
    assert "Reasonable Grounds decision due 30 November 2026" in page
    assert f"Sent to {people['sca1'].email} on " in page
    assert f"Escalated to {team.manager.email} on " in page
    # Who was told is the authority's business, not the referring organisation's.
    referrer_page = web_client(people["referrer"]).get(f"/referrals/{child_referral.uuid}").content.decode()
    assert "Deadline notices" not in referrer_page and team.manager.email not in referrer_page
