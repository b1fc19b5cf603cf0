"""`opennrm import FILE.jsonl --as USERNAME`: bulk-load historic referrals (contract section 6).

The file is streamed in chunks. Checking a line costs about as much as storing it, so worker
processes parse and validate chunks while this process stores the previous ones, one transaction
per chunk; validation touches no database, so the workers need no connection of their own.
"""

import json
import multiprocessing
import os
import sys
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, IntegrityError
from django.utils import timezone

from opennrm.accounts.models import User
from opennrm.audit.services import Origin, current_origin
from opennrm.cases.services import ImportItem, ImportOutcome, referrals_import
from opennrm.policy import Capability, has_capability
from opennrm.referrals.schemas import ImportLine
from opennrm.referrals.validation import validate_import_line

DEFAULT_BATCH_SIZE = 1000
MAX_REPORTED_LINES = 20

Checked = tuple[int, ImportLine | None, list[str]]  # line number, the valid line or None, its errors


def default_jobs() -> int:
    """Validating processes: the other cores, as this one stores; none on a single core, nor where
    forking a process with Django loaded is not safe (macOS)."""
    if not sys.platform.startswith("linux"):
        return 0
    return max(0, min(4, (os.cpu_count() or 1) - 1))


def check_line(number: int, raw: bytes, now) -> Checked:
    """Parse and validate one line; return it when good, or its errors, each 'field: message'."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return number, None, [f"not valid UTF-8 (byte {exc.start + 1} of the line): save the file as UTF-8"]
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return number, None, [f"not valid JSON: {exc.msg} at column {exc.colno}"]
    except RecursionError:
        return number, None, ["not valid JSON: nested too deeply"]
    parsed, errors = validate_import_line(data, now=now)
    if errors:
        return number, None, [f"{e.field}: {e.message}" for e in errors]
    return number, parsed, []


def check_chunk(chunk: list[tuple[int, bytes]], now) -> list[Checked]:
    return [check_line(number, raw, now) for number, raw in chunk]


def numbered_chunks(stream, size: int) -> Iterator[list[tuple[int, bytes]]]:
    """The file's non-blank lines with their line numbers, `size` at a time."""
    chunk: list[tuple[int, bytes]] = []
    for number, raw in enumerate(stream, start=1):
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]  # a UTF-8 byte order mark, as some Windows tools write
        if not raw.strip():
            continue
        chunk.append((number, raw))
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@dataclass
class ImportTally:
    lines: int = 0  # non-blank lines read
    imported: int = 0
    already_present: int = 0
    refused_lines: list[int] = field(default_factory=list)

    @property
    def processed(self) -> int:
        return self.imported + self.already_present + len(self.refused_lines)


class Command(BaseCommand):
    help = (
        "Import referrals from a JSON Lines file: one referral a line, the API's referral body plus "
        '"received_at" and "external_id". Lines already imported (same external_id) are skipped. '
        "Bad lines are reported by line number and not imported. Exit status 0 when every line was imported, 1 otherwise."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The JSON Lines file to import, or - for standard input.")
        parser.add_argument(
            "--as",
            dest="username",
            required=True,
            metavar="USERNAME",
            help="The first responder user the referrals are imported as; they belong to that user's organisation.",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=DEFAULT_BATCH_SIZE,
            help="Lines stored per transaction (default %(default)s).",
        )
        parser.add_argument(
            "--jobs",
            type=int,
            default=default_jobs(),
            help="Processes that validate lines alongside the one storing them; 0 validates in this process (default %(default)s).",
        )

    def handle(self, *args, file: str, username: str, batch_size: int, jobs: int, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        if jobs < 0:
            raise CommandError("--jobs must be 0 or more")
        try:
            actor = User.objects.select_related("organisation").filter(username=username).first()
        except DatabaseError as exc:
            raise CommandError(f"Cannot use the database ({exc}). Check DATABASE_URL, and run `opennrm migrate` first.")
        if actor is None or not actor.is_active:
            raise CommandError(f"There is no active user {username!r}: give --as the username of a first responder")
        if not has_capability(actor, Capability.IMPORT_REFERRALS) or actor.organisation_id is None:
            raise CommandError(
                f"{username} is a {actor.role_label.lower()}: only a first responder in an organisation can import referrals"
            )
        try:
            stream = sys.stdin.buffer if file == "-" else open(file, "rb")
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror or exc}")

        tally = ImportTally()
        started = time.perf_counter()
        token = current_origin.set(Origin(user_agent="opennrm import"))
        try:
            with stream:
                self._import(stream, actor=actor, batch_size=batch_size, jobs=jobs, tally=tally)
        except KeyboardInterrupt:
            self.stderr.write(
                f"\nStopped after {tally.processed:,} lines: {tally.imported:,} imported, which stay imported. "
                "Run the same command again to carry on: lines already imported are skipped."
            )
            sys.exit(130)
        finally:
            current_origin.reset(token)
        elapsed = time.perf_counter() - started
        if sys.stderr.isatty():
            sys.stderr.write("\n")

        rate = tally.processed / elapsed if elapsed > 0 else 0.0
        self.stdout.write(
            f"Imported {tally.imported:,} referrals as {actor.organisation.name}; {tally.already_present:,} already present; "
            f"{len(tally.refused_lines):,} refused. {tally.processed:,} lines in {elapsed:.1f} s ({rate:,.0f} lines a second)."
        )
        if tally.refused_lines:
            shown = ", ".join(map(str, tally.refused_lines[:MAX_REPORTED_LINES])) + (
                ", …" if len(tally.refused_lines) > MAX_REPORTED_LINES else ""
            )
            self.stderr.write(
                f"Refused lines: {shown}. Correct them and import the file again: lines already imported are skipped."
            )
            sys.exit(1)

    def _import(self, stream, *, actor: User, batch_size: int, jobs: int, tally: ImportTally) -> None:
        now = timezone.now()
        chunks = numbered_chunks(stream, batch_size)
        if jobs == 0:
            for chunk in chunks:
                self._store(check_chunk(chunk, now), actor=actor, tally=tally)
            return
        # fork: the workers start at once with Django already set up, and never use the inherited connections.
        with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("fork")) as pool:
            pending: deque[Future] = deque()
            try:
                for chunk in chunks:
                    pending.append(pool.submit(check_chunk, chunk, now))
                    # A few chunks ahead keeps every process busy without reading the whole file into memory.
                    if len(pending) > jobs + 1:
                        self._store(pending.popleft().result(), actor=actor, tally=tally)
                while pending:
                    self._store(pending.popleft().result(), actor=actor, tally=tally)
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)
                raise

    def _store(self, checked: list[Checked], *, actor: User, tally: ImportTally) -> None:
        items = []
        tty = sys.stderr.isatty()
        for number, parsed, errors in checked:
            tally.lines += 1
            if errors:
                if tty:
                    sys.stderr.write("\r\x1b[K")  # clear the progress line before the report
                tally.refused_lines.append(number)
                for error in errors:
                    self.stderr.write(f"line {number}: {error}")
            else:
                items.append(
                    ImportItem(
                        line_number=number, external_id=parsed.external_id, received_at=parsed.received_at, data=parsed
                    )
                )
        if items:
            outcome = self._import_batch(actor, items)
            tally.imported += len(outcome.created)
            tally.already_present += len(outcome.already_present)
        if tty:
            sys.stderr.write(
                f"\r{tally.lines:,} lines: {tally.imported:,} imported, {tally.already_present:,} "
                f"already present, {len(tally.refused_lines):,} refused "
            )
            sys.stderr.flush()

    @staticmethod
    def _import_batch(actor: User, items: list[ImportItem]) -> ImportOutcome:
        try:
            return referrals_import(actor=actor, items=items)
        except IntegrityError:
            # Another import of the same lines committed first: once more, and they count as already present.
            return referrals_import(actor=actor, items=items)
