"""Reading and writing the batch linkage files of contract section 6, with errors and warnings by line number."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np

from . import normalise
from .synthetic import INPUT_COLUMNS

OUTPUT_COLUMNS = ["record_id", "cluster_id", "needs_review"]
# Sex as the contract writes it (section 2), and the one-letter codes older files use.
SEXES = {"", "FEMALE", "MALE", "OTHER", "UNKNOWN", "F", "M", "X", "U"}


@dataclass
class LineError:
    """A malformed line (or header): the file cannot be linked until it is corrected."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass
class LineWarning:
    """A value that cannot be read: the record is linked with the column read as unknown (or the value left out)."""

    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.column}: {self.message}"


@dataclass
class InputFile:
    rows: list[dict[str, str]]  # one per record, dirty values already blanked
    errors: list[LineError]  # malformed structure: nothing may be linked
    warnings: list[LineWarning]  # dirty values, read as unknown


class _UndecodableLine(Exception):
    def __init__(self, line: int, text: str, at: int):
        self.line, self.text, self.at = line, text, at


_UNDECODED_BYTE = re.compile("[\udc80-\udcff]")  # what surrogateescape makes of a byte that is not UTF-8


def _checked_lines(handle: TextIO) -> Iterator[str]:
    """The file's lines, each checked for bytes that are not UTF-8, so that such a byte is named by its own line: a
    strict decoder fails on a block of thousands of lines, and names the block's first line."""
    for number, text in enumerate(handle, start=1):
        if not text.isascii():
            bad = _UNDECODED_BYTE.search(text)
            if bad:
                raise _UndecodableLine(number, text, bad.start())
        yield text


def read_input(path: Path) -> InputFile:
    """The records of an input CSV (contract section 6), with what is wrong in it by line number (the header is line 1).

    Malformed structure is an error: a header without every contract column (or with others), a line with more or
    fewer fields than the header, a line without a record_id or repeating an earlier one, bytes that are not UTF-8
    or broken quoting. A value that cannot be read (an impossible date, an unknown precision or sex, a nationality
    that is not a code, no name at all) is a warning: linkage input is dirty by nature, and one bad value in
    20,000 records is no reason to link none of them. See `_read_values` for what each column becomes."""
    rows: list[dict[str, str]] = []
    errors: list[LineError] = []
    warnings: list[LineWarning] = []
    try:
        handle = open(path, newline="", encoding="utf-8-sig", errors="surrogateescape")
    except OSError as error:
        return InputFile([], [LineError(0, f"cannot open {path}: {error.strerror}")], [])
    with handle:
        reader = csv.reader(_checked_lines(handle))
        try:
            header = next(reader, None)
        except _UndecodableLine as bad:
            return InputFile([], [_undecodable(bad)], [])
        except csv.Error as error:
            return InputFile([], [LineError(1, f"not a readable CSV header: {error}")], [])
        if header is None:
            return InputFile(
                [], [LineError(1, "the file is empty: expected a header line with " + ",".join(INPUT_COLUMNS))], []
            )
        header = [name.strip() for name in header]
        header_problem = _check_header(header)
        if header_problem:
            return InputFile([], [LineError(1, header_problem)], [])
        seen: dict[str, int] = {}
        while True:
            try:
                values = next(reader)
            except StopIteration:
                break
            except _UndecodableLine as bad:
                errors.append(_undecodable(bad))
                break
            except csv.Error as error:
                errors.append(LineError(reader.line_num, f"not valid CSV: {error}"))
                break
            line = reader.line_num
            if not any(value.strip() for value in values):
                continue
            if len(values) != len(header):
                errors.append(
                    LineError(
                        line, f"{len(values)} fields where the header has {len(header)}: check the commas and quotes"
                    )
                )
                continue
            row = dict.fromkeys(INPUT_COLUMNS, "")  # the contract's order, whatever the header's
            row.update({name: value.strip() for name, value in zip(header, values, strict=True)})
            record_id = row["record_id"]
            if not record_id:
                errors.append(LineError(line, "record_id: required (the output names every record by it)"))
                continue
            if record_id in seen:
                errors.append(
                    LineError(
                        line,
                        f"record_id: {record_id!r} already used on line {seen[record_id]}: each record needs its own",
                    )
                )
                continue
            seen[record_id] = line
            warnings.extend(LineWarning(line, column, message) for column, message in _read_values(row))
            rows.append(row)
    return InputFile(rows, errors, warnings)


def _undecodable(bad: _UndecodableLine) -> LineError:
    before = _UNDECODED_BYTE.sub("?", bad.text[max(0, bad.at - 20) : bad.at])
    return LineError(bad.line, f"not valid UTF-8 at character {bad.at + 1} (after {before!r}): save the file as UTF-8")


def _check_header(header: list[str]) -> str:
    """What is wrong with the header line, or "" (every contract column once, in any order, and no other)."""
    missing = [name for name in INPUT_COLUMNS if name not in header]
    unknown = [name for name in header if name not in INPUT_COLUMNS]
    repeated = sorted({name for name in header if header.count(name) > 1 and name in INPUT_COLUMNS})
    problems = []
    if missing:
        problems.append(f"missing column(s) {', '.join(missing)}")
    if unknown:
        problems.append(f"unknown column(s) {', '.join(unknown)}")
    if repeated:
        problems.append(f"column(s) {', '.join(repeated)} more than once")
    return "; ".join(problems) + f" (expected {','.join(INPUT_COLUMNS)})" if problems else ""


def _read_values(row: dict[str, str]) -> list[tuple[str, str]]:
    """Blank (or leave out) every value of `row` that cannot be read, in place; (column, what was wrong) for each.

    A date of birth that is not a date, or whose precision is not a contract word, leaves the date of birth unknown
    (both columns blanked: a date read at a guessed precision could link two children); a referral date that is not
    a date, a sex that is not a contract word, unknown; a nationality that is not an alpha-3 code is left out of the
    list (the others are kept). A record without any name is linked on its other fields."""
    problems: list[tuple[str, str]] = []
    date_of_birth, precision = row["date_of_birth"], row["date_of_birth_precision"]
    try:
        normalise.engine_precision(precision)
    except normalise.BadDate:
        problems.append(
            (
                "date_of_birth_precision",
                f"{precision!r} is not one of {', '.join(normalise.CONTRACT_PRECISIONS)}; "
                "the date of birth is read as unknown",
            )
        )
        row["date_of_birth"] = row["date_of_birth_precision"] = ""
    else:
        try:
            normalise.parse_birth_date(date_of_birth, precision)
        except normalise.BadDate:
            problems.append(
                ("date_of_birth", f"{date_of_birth!r} is not a date (YYYY-MM-DD, or YYYY-MM, YYYY); read as unknown")
            )
            row["date_of_birth"] = row["date_of_birth_precision"] = ""
    try:
        normalise.parse_day(row["referral_date"])
    except normalise.BadDate:
        problems.append(("referral_date", f"{row['referral_date']!r} is not a date (YYYY-MM-DD); read as unknown"))
        row["referral_date"] = ""
    if row["sex"].upper() not in SEXES:
        problems.append(
            ("sex", f"{row['sex']!r} is not one of female, male, other, unknown (or F, M, X, U); read as unknown")
        )
        row["sex"] = ""
    codes = [code.strip() for code in row["nationalities"].split(";") if code.strip()]
    bad_codes = [code for code in codes if len(code) != 3 or not code.isalpha()]
    if bad_codes:
        problems.extend(
            ("nationalities", f"{code!r} is not an ISO 3166 alpha-3 code (VNM, ERI, GBR); left out")
            for code in bad_codes
        )
        row["nationalities"] = ";".join(code for code in codes if code not in bad_codes)
    if not (row["given_names"] or row["family_name"] or row["names_in_original_script"] or row["aliases"]):
        problems.append(
            (
                "given_names",
                "no name in given_names, family_name, names_in_original_script or aliases; "
                "linked on its other fields only",
            )
        )
    return problems


def write_output(path: Path, record_ids: Sequence[str], cluster: np.ndarray, needs_review: np.ndarray) -> None:
    """One row per record; a cluster is named after its first record id, so that ids are stable and readable."""
    first: dict[int, str] = {}
    for record_id, number in zip(record_ids, cluster.tolist(), strict=True):
        first.setdefault(number, record_id)
    temporary = path.with_name(path.name + ".partial")
    with open(temporary, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(OUTPUT_COLUMNS)
        for record_id, number, review in zip(record_ids, cluster.tolist(), needs_review.tolist(), strict=True):
            writer.writerow([record_id, first[number], "true" if review else "false"])
    temporary.replace(path)  # never a half-written output file
