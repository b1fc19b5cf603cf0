"""`opennrm linkage --input IN.csv --output OUT.csv`: batch duplicate detection (contract section 6)."""

import sys
import time
from collections import Counter
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from opennrm.linkage import csvio, engine

MAX_REPORTED_ERRORS = 50


class Command(BaseCommand):
    help = "Group referral records that are the same child: writes record_id,cluster_id,needs_review per record."

    def add_arguments(self, parser):
        parser.add_argument(
            "--input", required=True, type=Path, help="CSV with the columns " + ",".join(csvio.INPUT_COLUMNS)
        )
        parser.add_argument(
            "--output", required=True, type=Path, help="CSV to write: " + ",".join(csvio.OUTPUT_COLUMNS)
        )
        parser.add_argument("--quiet", action="store_true", help="no progress messages")

    def handle(self, *args, input, output, quiet: bool, **options):
        input, output = Path(input), Path(output)  # call_command passes strings through
        started = time.perf_counter()

        def progress(message: str) -> None:
            if not quiet:
                self.stderr.write(f"[{time.perf_counter() - started:7.1f} s] {message}")

        progress(f"reading {input}")
        loaded = csvio.read_input(input)
        # Every warning is printed: they are the list of lines to correct, and the output is written regardless.
        for warning in loaded.warnings:
            self.stderr.write(f"warning: {warning}")
        if loaded.errors:
            for error in loaded.errors[:MAX_REPORTED_ERRORS]:
                self.stderr.write(str(error))
            if len(loaded.errors) > MAX_REPORTED_ERRORS:
                self.stderr.write(f"... and {len(loaded.errors) - MAX_REPORTED_ERRORS} more")
            raise CommandError(
                f"{input}: {len(loaded.errors)} malformed line(s); nothing written. Correct the lines above and run again."
                + (
                    f" ({len(loaded.warnings)} warning(s) too: values that would be read as unknown.)"
                    if loaded.warnings
                    else ""
                )
            )
        if not output.parent.exists():
            raise CommandError(f"--output: the folder {output.parent} does not exist")
        rows = loaded.rows
        result = engine.link(rows, progress=progress)
        csvio.write_output(output, result.record_ids, result.cluster, result.needs_review)
        clusters = len(set(result.cluster.tolist()))
        progress(
            f"wrote {output}: {len(rows)} records in {clusters} clusters, "
            f"{int(result.needs_review.sum())} flagged for review"
        )
        if loaded.warnings:
            self.stderr.write(_warning_summary(loaded.warnings, output))
        sys.stdout.flush()


def _warning_summary(warnings: list[csvio.LineWarning], output: Path) -> str:
    """One line at the end: how many values could not be read, on how many lines, by column."""
    by_column = Counter(warning.column for warning in warnings)
    lines = len({warning.line for warning in warnings})
    columns = ", ".join(f"{column} {count}" for column, count in by_column.most_common())
    return (
        f"{len(warnings)} warning(s) on {lines} line(s) ({columns}): {output} has every record, linked without the "
        "values that could not be read; correct the lines named above for a better linkage."
    )
