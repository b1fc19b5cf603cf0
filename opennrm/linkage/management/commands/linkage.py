"""`opennrm linkage --input IN.csv --output OUT.csv`: batch duplicate detection (contract section 6)."""

import sys
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from opennrm.linkage import csvio, engine

MAX_REPORTED_ERRORS = 50


class Command(BaseCommand):
    help = "Group referral records that are the same child: writes record_id,cluster_id,needs_review per record."

    def add_arguments(self, parser):
        parser.add_argument("--input", required=True, type=Path, help="CSV with the columns " + ",".join(csvio.INPUT_COLUMNS))
        parser.add_argument("--output", required=True, type=Path, help="CSV to write: " + ",".join(csvio.OUTPUT_COLUMNS))
        parser.add_argument("--quiet", action="store_true", help="no progress messages")

    def handle(self, *args, input, output, quiet: bool, **options):
        input, output = Path(input), Path(output)  # call_command passes strings through
        started = time.perf_counter()

        def progress(message: str) -> None:
            if not quiet:
                self.stderr.write(f"[{time.perf_counter() - started:7.1f} s] {message}")

        progress(f"reading {input}")
        rows, errors = csvio.read_input(input)
        if errors:
            for error in errors[:MAX_REPORTED_ERRORS]:
                self.stderr.write(str(error))
            if len(errors) > MAX_REPORTED_ERRORS:
                self.stderr.write(f"... and {len(errors) - MAX_REPORTED_ERRORS} more")
            raise CommandError(f"{input}: {len(errors)} error(s); nothing written. Correct the lines above and run again.")
        if not output.parent.exists():
            raise CommandError(f"--output: the folder {output.parent} does not exist")
        result = engine.link(rows, progress=progress)
        csvio.write_output(output, result.record_ids, result.cluster, result.needs_review)
        clusters = len(set(result.cluster.tolist()))
        progress(
            f"wrote {output}: {len(rows)} records in {clusters} clusters, "
            f"{int(result.needs_review.sum())} flagged for review"
        )
        sys.stdout.flush()
