"""`opennrm statistics --year YYYY [--quarter Q1..Q4] --output DIR` (contract section 6; ADR 0030)."""

import time
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from opennrm.statistics.errors import NotAllowed, PublicationError
from opennrm.statistics.services import publication_build


def _quarter(value: str) -> int:
    text = value.strip().upper().removeprefix("Q")
    if text not in {"1", "2", "3", "4"}:
        raise ValueError(value)
    return int(text)


class Command(BaseCommand):
    help = (
        "Build the official-statistics publication of a year or a quarter from the database: an .ods workbook and "
        "one tidy CSV per table with its CSVW metadata, written to DIR (new or empty) all at once."
    )

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, required=True, help="the calendar year, e.g. 2026")
        parser.add_argument("--quarter", type=_quarter, help="Q1 to Q4 (Q1 is January to March); omit for the year")
        parser.add_argument("--output", type=Path, required=True, help="a new or empty directory for the files")
        parser.add_argument("--as", dest="username", help="the statistician building it (recorded on the release)")
        parser.add_argument(
            "--revise", action="store_true", help="publish a new version when the period's data changed since the last"
        )
        parser.add_argument(
            "--reason", default="", help="why this version revises the last: published in the release's revisions notes"
        )
        parser.add_argument("--final", action="store_true", help="mark the figures final rather than provisional [p]")
        parser.add_argument(
            "--internal-output",
            type=Path,
            help="where the internal suppression ledger goes (never published; default var/statistics-internal)",
        )

    def handle(self, *args, year, quarter, output, username, revise, reason, final, internal_output, **options):
        actor = None
        if username:
            actor = get_user_model().objects.filter(username=username, is_active=True).first()
            if actor is None:
                raise CommandError(f"No active user {username!r}")
        started = time.perf_counter()
        try:
            build = publication_build(
                actor=actor,
                year=year,
                quarter=quarter,
                revise=revise,
                final=final,
                output=output,
                internal_output=internal_output,
                reason=reason,
            )
        except (PublicationError, NotAllowed, FileExistsError) as error:
            raise CommandError(str(error))
        release = build.release
        state = "built" if build.created else "unchanged since it was built (same data, same rules): files rewritten"
        suppressed = len(build.protected.ledger)
        self.stdout.write(
            f"{release.period_label}, version {release.version}: {state}.\n"
            f"  Counted: {', '.join(f'{k.replace("_", " ")} {v:,}' for k, v in build.rows.counts().items())}\n"
            f"  Tables: {len(build.tabulation.tables)}; counts suppressed: {suppressed}\n"
            f"  Files in {output}: {', '.join(p.name for p in build.files)}\n"
            f"  Internal (never publish): {build.internal_file}\n"
            f"  {time.perf_counter() - started:.1f} s"
        )
