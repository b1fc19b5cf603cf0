"""Reading and writing the batch linkage files of contract section 6, with errors by line number."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import normalise
from .synthetic import INPUT_COLUMNS

OUTPUT_COLUMNS = ["record_id", "cluster_id", "needs_review"]
REQUIRED_COLUMNS = ["record_id"]
SEXES = {"", "M", "F", "X", "U", "MALE", "FEMALE", "UNKNOWN", "OTHER"}


@dataclass
class LineError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


def read_input(path: Path) -> tuple[list[dict[str, str]], list[LineError]]:
    """Rows of an input CSV, and every problem found (by line number; the header is line 1)."""
    errors: list[LineError] = []
    rows: list[dict[str, str]] = []
    try:
        handle = open(path, newline="", encoding="utf-8-sig")
    except OSError as error:
        return [], [LineError(0, f"cannot open {path}: {error.strerror}")]
    with handle:
        reader = csv.reader(handle)
        try:
            header = next(reader, None)
        except (csv.Error, UnicodeDecodeError) as error:
            return [], [LineError(1, f"not a readable UTF-8 CSV header: {error}")]
        if header is None:
            return [], [LineError(1, "the file is empty: expected a header line with " + ",".join(INPUT_COLUMNS))]
        header = [name.strip() for name in header]
        unknown = [name for name in header if name not in INPUT_COLUMNS]
        missing = [name for name in REQUIRED_COLUMNS if name not in header]
        if unknown or missing:
            problems = []
            if missing:
                problems.append(f"missing column(s) {', '.join(missing)}")
            if unknown:
                problems.append(f"unknown column(s) {', '.join(unknown)}")
            return [], [LineError(1, "; ".join(problems) + f" (expected {','.join(INPUT_COLUMNS)})")]
        seen: dict[str, int] = {}
        line = 1
        while True:
            try:
                values = next(reader)
            except StopIteration:
                break
            except UnicodeDecodeError as error:
                errors.append(LineError(line + 1, f"not valid UTF-8 (byte {error.start + 1}): save the file as UTF-8"))
                break
            except csv.Error as error:
                errors.append(LineError(reader.line_num, f"not valid CSV: {error}"))
                break
            line = reader.line_num
            if not any(value.strip() for value in values):
                continue
            if len(values) != len(header):
                errors.append(LineError(line, f"{len(values)} fields where the header has {len(header)}"))
                continue
            row = {name: "" for name in INPUT_COLUMNS}
            row.update({name: value.strip() for name, value in zip(header, values, strict=True)})
            problems = _check(row)
            if row["record_id"] in seen:
                problems.append(f"record_id: {row['record_id']!r} already used on line {seen[row['record_id']]}")
            if problems:
                errors.extend(LineError(line, problem) for problem in problems)
                continue
            seen[row["record_id"]] = line
            rows.append(row)
    return rows, errors


def _check(row: dict[str, str]) -> list[str]:
    problems = []
    if not row["record_id"]:
        problems.append("record_id: required")
    try:
        normalise.parse_birth_date(row["date_of_birth"], row["date_of_birth_precision"])
    except normalise.BadDate as error:
        field = "date_of_birth_precision" if "precision" in str(error) else "date_of_birth"
        problems.append(f"{field}: {error}")
    try:
        normalise.parse_day(row["referral_date"])
    except normalise.BadDate as error:
        problems.append(f"referral_date: {error}")
    if row["sex"].upper() not in SEXES:
        problems.append(f"sex: {row['sex']!r} is not one of M, F, X, U")
    for code in (c.strip() for c in row["nationalities"].split(";") if c.strip()):
        if len(code) != 3 or not code.isalpha():
            problems.append(f"nationalities: {code!r} is not an ISO 3166 alpha-3 code")
    if not (row["given_names"] or row["family_name"] or row["names_in_original_script"] or row["aliases"]):
        problems.append("given_names: a record needs at least one name (given, family, original script or alias)")
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
