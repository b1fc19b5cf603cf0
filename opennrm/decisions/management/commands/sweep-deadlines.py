"""`opennrm sweep-deadlines`: the nightly deadline sweep, run by hand (the worker runs it at 02:00 by itself)."""

import argparse
import datetime as dt

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from opennrm.decisions.deadlines import deadline_sweep


def iso_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date: give it as YYYY-MM-DD")


class Command(BaseCommand):
    help = (
        "End the recovery periods that have run out, and create the deadline reminders (the working day before "
        "a decision is due) and breach escalations (once it is overdue) not yet made, queueing them for the worker "
        "to email. Safe to run at any time: nothing is done twice."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--today",
            type=iso_date,
            default=None,
            help="Sweep as on this date (YYYY-MM-DD), as the working days of each nation count it (default: today in Europe/London).",
        )

    def handle(self, *args, today: dt.date | None, verbosity: int = 1, **options):
        def progress(text: str) -> None:
            if verbosity >= 1:
                self.stdout.write(text)
                self.stdout.flush()

        try:
            summary = deadline_sweep(today=today, progress=progress)
        except DatabaseError as exc:
            raise CommandError(f"Cannot use the database ({exc}). Check DATABASE_URL, and run `opennrm migrate` first.")
        self.stdout.write(
            f"Swept {summary.today} in {summary.seconds:.1f}s: {summary.cases_checked:,} open cases checked, "
            f"{summary.reminders_created:,} reminders created, {summary.breaches_created:,} breaches created, "
            f"{summary.recovery_periods_ended:,} recovery periods ended."
        )
        if summary.overdue_beyond_escalation:
            self.stdout.write(
                f"{summary.overdue_beyond_escalation:,} open cases are overdue "
                f"by more than {settings.OPENNRM_BREACH_ESCALATION_DAYS} days: "
                "too long for an escalation email to be news; they head the work queue."
            )
