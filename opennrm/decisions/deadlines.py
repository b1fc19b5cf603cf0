"""The nightly deadline sweep and the deadline notices it creates and sends (ADR 0007).

Which deadlines: the Reasonable Grounds decision, due on `reasonable_grounds_due` while the case
awaits it; the Conclusive Grounds decision, due when the recovery period ends
(`recovery_period_ends_on`) while the case is in its recovery period or awaits that decision. These
are the deadlines the work queue sorts by.

When, in the referral's nation's working days, with `today` its date in Europe/London:
- a reminder is due from the last working day before the deadline: for a deadline on or before the
  next working day after today. Reminder days are working days, so for each nation the deadlines
  due a reminder today are one range of dates, worked out once per sweep;
- a deadline is breached once a working day has begun after it without the decision: a deadline
  before the last working day on or before today. A deadline on a Friday is breached on Monday, not
  on the Saturday nobody works. A reminder not yet made is made until the breach takes over.
- a breach is escalated by email while it is news: within OPENNRM_BREACH_ESCALATION_DAYS (a setting,
  30 calendar days by default) of the deadline, which covers any outage of the worker.
  A case already overdue for longer when the sweep first sees it (historic cases imported, the
  service newly started) is counted in the summary and heads the work queue, rather than adding
  to a flood of hundreds of thousands of emails nobody could act on.

The sweep is set-based: per kind and stage, one INSERT … SELECT of the referrals whose deadline is
in the window, and ON CONFLICT DO NOTHING on the unique constraint skips the notices that exist,
including any another sweep inserts at the same moment. No Python loop over the open cases. The
windows bound the rows tried each night (a few days of reminders, OPENNRM_BREACH_ESCALATION_DAYS
of breaches) whatever the history, and each existing notice costs one probe of the unique index.
(A NOT EXISTS anti-join was tried first: right after a large first sweep PostgreSQL's statistics
still said the notice table was empty and it planned a nested loop over it, minutes long.)
"""

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import DateTimeField, F, IntegerField, JSONField, Q, TextField, Value
from django.urls import reverse
from django.utils import timezone

from opennrm.accounts.models import Organisation, OrganisationKind
from opennrm.audit.services import audit_email_attempt, audit_record
from opennrm.core.outbox import Message, attempt_send, mail_connection, open_quietly
from opennrm.core.schedule import LONDON, record_run, schedule_run
from opennrm.referrals.models import CompetentAuthority, Referral, Status
from opennrm.workdays.calendar import NATION_CODES, add_working_days, is_working_day, working_days_between

from .models import DeadlineNotice, NoticeKind, Stage
from .services import recovery_periods_end
from .tasks import DEADLINE_NOTICES_SEND, DEADLINE_SWEEP, send_deadline_notices

# For each stage: the referral's field holding the due date, and the statuses in which it is awaited.
STAGE_DEADLINES = {
    Stage.REASONABLE_GROUNDS: ("reasonable_grounds_due", (Status.AWAITING_REASONABLE_GROUNDS,)),
    Stage.CONCLUSIVE_GROUNDS: ("recovery_period_ends_on", (Status.RECOVERY_PERIOD, Status.AWAITING_CONCLUSIVE_GROUNDS)),
}
SWEPT_STATUSES = sorted({s for _, statuses in STAGE_DEADLINES.values() for s in statuses})
# A sending run stops after this long and queues the next, so one run never holds the worker for hours.
SEND_RUN_SECONDS = 120


def london_today(now: dt.datetime) -> dt.date:
    return now.astimezone(LONDON).date()


def last_working_day_on_or_before(day: dt.date, nation: str) -> dt.date:
    while not is_working_day(day, nation):
        day -= dt.timedelta(days=1)
    return day


@dataclass(frozen=True)
class NationWindow:
    """For one nation on one day: which deadlines are due a reminder, and which are breached."""

    breached_before: dt.date  # the last working day on or before today: a deadline before it is breached
    remind_through: dt.date  # the next working day after today: a deadline up to it is due its reminder

    def reminder_due(self, due_on: dt.date) -> bool:
        return self.breached_before <= due_on <= self.remind_through

    def breached(self, due_on: dt.date) -> bool:
        return due_on < self.breached_before


def nation_windows(today: dt.date) -> dict[str, NationWindow]:
    return {
        nation: NationWindow(
            breached_before=last_working_day_on_or_before(today, nation),
            remind_through=add_working_days(today, 1, nation),
        )
        for nation in NATION_CODES
    }


@dataclass
class SweepSummary:
    today: str
    cases_checked: int = 0
    recovery_periods_ended: int = 0
    reminders_created: int = 0
    breaches_created: int = 0
    overdue_beyond_escalation: int = 0  # overdue longer than the escalation window, never emailed about
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return asdict(self)


def deadline_sweep(
    *, today: dt.date | None = None, now: dt.datetime | None = None, progress: Callable[[str], None] | None = None
) -> SweepSummary:
    """End the recovery periods that have run, create the reminders and breach notices due, and queue their sending.

    Safe to run at any time and any number of times, also two at once: what is done is not done again.
    """
    now = now or timezone.now()
    today = today or london_today(now)
    say = progress or (lambda text: None)
    started = time.monotonic()
    summary = SweepSummary(today=today.isoformat())

    for moved in recovery_periods_end(today=today):
        summary.recovery_periods_ended += moved
        say(f"Recovery periods ended: {summary.recovery_periods_ended:,} so far")

    summary.cases_checked = Referral.objects.filter(status__in=SWEPT_STATUSES).count()
    say(f"Open cases with a decision deadline: {summary.cases_checked:,}")
    windows = nation_windows(today)
    for kind in (NoticeKind.REMINDER, NoticeKind.BREACH):
        for stage in STAGE_DEADLINES:
            created = _create_notices(kind=kind, stage=stage, windows=windows, today=today, now=now)
            if kind == NoticeKind.REMINDER:
                summary.reminders_created += created
            else:
                summary.breaches_created += created
            say(
                f"{NoticeKind(kind).label}s of {Stage(stage).label} decisions created: {created:,} ({time.monotonic() - started:.1f}s)"
            )
    escalated_since = today - dt.timedelta(days=settings.OPENNRM_BREACH_ESCALATION_DAYS)
    summary.overdue_beyond_escalation = Referral.objects.filter(
        Q(status__in=STAGE_DEADLINES[Stage.REASONABLE_GROUNDS][1], reasonable_grounds_due__lt=escalated_since)
        | Q(status__in=STAGE_DEADLINES[Stage.CONCLUSIVE_GROUNDS][1], recovery_period_ends_on__lt=escalated_since)
    ).count()
    # Also when nothing was created: a notice left unsent by a crash is sent now.
    schedule_run(DEADLINE_NOTICES_SEND, send_deadline_notices, run_after=now)
    summary.seconds = round(time.monotonic() - started, 3)
    record_run(DEADLINE_SWEEP, started_at=now, finished_at=timezone.now(), summary=summary.as_dict())
    return summary


def _create_notices(
    *, kind: str, stage: str, windows: dict[str, NationWindow], today: dt.date, now: dt.datetime
) -> int:
    """Insert the notices of this kind and stage that are due and do not exist yet; returns how many were inserted."""
    field, statuses = STAGE_DEADLINES[stage]
    due = Q()
    for nation, window in windows.items():
        if kind == NoticeKind.REMINDER:
            due |= Q(nation=nation, **{f"{field}__gte": window.breached_before, f"{field}__lte": window.remind_through})
        else:
            due |= Q(nation=nation, **{f"{field}__lt": window.breached_before})
    if kind == NoticeKind.BREACH:
        due &= Q(**{f"{field}__gte": today - dt.timedelta(days=settings.OPENNRM_BREACH_ESCALATION_DAYS)})
    # Every column is an annotation, so the SELECT lists them in exactly this order.
    columns = {
        "referral_id": F("pk"),
        "kind": Value(kind, output_field=TextField()),
        "stage": Value(stage, output_field=TextField()),
        "due_on": F(field),
        "created_at": Value(now, output_field=DateTimeField()),
        "attempts": Value(0, output_field=IntegerField()),
        "last_error": Value("", output_field=TextField()),
        "sent_to": Value([], output_field=JSONField()),
    }
    rows = (
        Referral.objects.filter(due, status__in=statuses)
        .annotate(**{f"notice_{name}": expression for name, expression in columns.items()})
        .values_list(*(f"notice_{name}" for name in columns))
        # In one order, so two sweeps at once wait for each other's rows in turn rather than deadlock.
        .order_by("pk")
    )
    select, params = rows.query.sql_with_params()
    qn = connection.ops.quote_name
    insert = (
        f"INSERT INTO {qn(DeadlineNotice._meta.db_table)} ({', '.join(qn(c) for c in columns)}) {select} "
        "ON CONFLICT DO NOTHING"
    )
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(insert, params)
            created = max(cursor.rowcount, 0)
        if created:
            # One event per kind and stage and sweep, not per notice: a million-case first sweep stays
            # within seconds. Each notice's sending is audited against its referral (audit_email_attempt).
            audit_record(
                actor=None,
                action="deadline_notice.create",
                object_type="deadline_sweep",
                object_id=today.isoformat(),
                details={"kind": kind, "stage": stage, "created": created, "today": today.isoformat()},
            )
    return created


# Sending ------------------------------------------------------------------------------------------


def deadline_stands(notice: DeadlineNotice, referral: Referral) -> bool:
    """Whether the deadline the notice is about is still awaited: not decided, withdrawn or moved since."""
    field, statuses = STAGE_DEADLINES[notice.stage]
    return referral.status in statuses and getattr(referral, field) == notice.due_on


def _authority_addresses(referral: Referral) -> list[str]:
    """The mailbox of the organisation holding the case: the competent authority, or the area's panel."""
    organisations = Organisation.objects.filter(is_active=True).exclude(email="")
    if referral.competent_authority == CompetentAuthority.LOCAL_PANEL:
        organisations = organisations.filter(
            kind=OrganisationKind.LOCAL_PANEL, local_authority=referral.local_authority
        )
    else:
        organisations = organisations.filter(
            kind=OrganisationKind.COMPETENT_AUTHORITY, competent_authority=referral.competent_authority
        )
    return sorted(set(organisations.values_list("email", flat=True)))


def notice_recipients(notice: DeadlineNotice, referral: Referral) -> tuple[list[str], str]:
    """Who is told, and why (said in the email): the first of these that has an address."""
    team = referral.assigned_team
    manager = team.manager if team else None
    authority = referral.get_competent_authority_display()
    if notice.kind == NoticeKind.REMINDER:
        choices = [
            (
                [referral.assigned_to.email] if referral.assigned_to and referral.assigned_to.email else [],
                "the case is assigned to you",
            ),
            (
                [team.email] if team and team.email else [],
                f"the case is assigned to your team, {team.name if team else ''}, and not to a decision maker with an email address",
            ),
            (
                [manager.email] if manager and manager.email else [],
                f"you manage the team the case is assigned to, {team.name if team else ''}, which has no shared mailbox",
            ),
        ]
    else:
        choices = [
            (
                [manager.email] if manager and manager.email else [],
                f"you manage the team the case is assigned to, {team.name if team else ''}",
            )
        ]
    choices.append((_authority_addresses(referral), f"the case is held by the {authority} and has no one else to tell"))
    for to, why in choices:
        if to:
            return to, why
    return [], ""


def notice_message(notice: DeadlineNotice, referral: Referral, *, today: dt.date) -> Message:
    """The email: the case by its NRM reference only, the deadline, and a link; nothing about the person."""
    to, why = notice_recipients(notice, referral)
    decision = f"{Stage(notice.stage).label} decision"
    due = f"{notice.due_on:%A %-d %B %Y}"
    link = settings.OPENNRM_BASE_URL + reverse("web:referral-detail", args=[referral.uuid])
    if notice.stage == Stage.CONCLUSIVE_GROUNDS:
        what = f"The recovery period ends on {due}, and the {decision} is due from then."
    else:
        what = f"The {decision} is due by {due}."
    if notice.kind == NoticeKind.REMINDER:
        subject = f"NRM decision due {notice.due_on:%-d %B %Y}: {referral.reference}"
        opening = f"Reminder for National Referral Mechanism referral {referral.reference}.\n\n{what}"
    else:
        overdue = max(working_days_between(notice.due_on, today, referral.nation), 0)
        subject = f"NRM decision overdue: {referral.reference}"
        holder = (
            (referral.assigned_to.get_full_name() or referral.assigned_to.username)
            if referral.assigned_to
            else "no decision maker"
        )
        opening = (
            f"The {decision} on National Referral Mechanism referral {referral.reference} has not been made.\n\n{what}\n"
            f"It is {overdue} working day{'s' if overdue != 1 else ''} overdue. The case is assigned to {holder}."
        )
    body = f"{opening}\n\nOpen the case (sign in first): {link}\n\nYou receive this because {why}.\n"
    return Message(to=to, subject=subject, body=body)


@dataclass
class SendOutcome:
    sent: int = 0
    failed: int = 0
    superseded: int = 0
    more_now: bool = False  # stopped for time with notices still due: run again at once
    next_attempt_at: dt.datetime | None = None  # the earliest retry of a notice that failed


def deadline_notices_send(*, now: dt.datetime | None = None, run_seconds: float = SEND_RUN_SECONDS) -> SendOutcome:
    """Send the notices due to be sent, one transaction each, until none is left, the mail server
    fails (all the others would fail too: they wait for the retry), or the run's time is up."""
    outcome = SendOutcome()
    stop_at = time.monotonic() + run_seconds
    with mail_connection() as mail:
        opened = False
        while True:
            when = now or timezone.now()
            with transaction.atomic():
                notice = (
                    DeadlineNotice.objects.select_for_update(skip_locked=True)
                    .filter(sent_at__isnull=True, superseded_at__isnull=True)
                    .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=when))
                    .order_by("id")
                    .first()
                )
                if notice is None:
                    break
                if not opened:
                    open_quietly(mail)
                    opened = True
                result = _send_one(notice, now=when, connection=mail)
            if result == "failed":
                outcome.failed += 1
                break
            setattr(outcome, result, getattr(outcome, result) + 1)
            if time.monotonic() > stop_at:
                outcome.more_now = True
                break
    outcome.next_attempt_at = (
        DeadlineNotice.objects.filter(sent_at__isnull=True, superseded_at__isnull=True, next_attempt_at__isnull=False)
        .order_by("next_attempt_at")
        .values_list("next_attempt_at", flat=True)
        .first()
    )
    return outcome


def _send_one(notice: DeadlineNotice, *, now: dt.datetime, connection) -> str:
    referral = Referral.objects.select_related("assigned_to", "assigned_team__manager").get(pk=notice.referral_id)
    details = {
        "reference": referral.reference,
        "notice": notice.pk,
        "kind": notice.kind,
        "stage": notice.stage,
        "due_on": notice.due_on.isoformat(),
    }
    if not deadline_stands(notice, referral):
        notice.superseded_at = now
        notice.save(update_fields=["superseded_at"])
        audit_record(
            actor=None,
            action=f"deadline_notice.{notice.kind}_superseded",
            object_type="referral",
            object_id=str(referral.uuid),
            details={**details, "status": referral.status},
        )
        return "superseded"
    message = notice_message(notice, referral, today=london_today(now))
    sent = attempt_send(notice, message, now=now, connection=connection)
    audit_email_attempt(
        notice,
        sent=sent,
        audit_action=f"deadline_notice.{notice.kind}",
        object_id=referral.uuid,
        details=details,
    )
    return "sent" if sent else "failed"
