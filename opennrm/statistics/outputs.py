"""The publication's files: an .ods workbook and one tidy CSV per table with its CSVW metadata (ADR 0030).

The workbook follows the Analysis Function's "Releasing statistics in spreadsheets": a cover sheet, a
contents sheet and a notes sheet, then one table a sheet; the title in A1 of every sheet, a line or two
of description under it, then the table with one header row; no merged cells, no blank rows or columns, no
meaning in colour; numbers stored as numbers, and where a number is not shown its GSS shorthand code in
square brackets, each code explained on the notes sheet. odfpy writes the ODF; the layout is ours.

Files are written to a new directory beside the target and renamed into place only when all of them are
written: a failure leaves no partial publication.
"""

import csv
import datetime as dt
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from odf.opendocument import OpenDocumentSpreadsheet
from odf.style import Style, TableColumnProperties, TextProperties
from odf.table import Table as OdfTable, TableCell, TableColumn, TableRow
from odf.text import P

from .publication import Figure, ProtectedPublication, PublicationPolicy
from .tables import MEASURES, NOTES, Table

SHORTHAND = {
    "c": "Suppressed to protect confidentiality.",
    "x": "Not available.",
    "z": "Not applicable (no cases to work a figure out from).",
    "p": "Provisional: may be revised in a later release.",
    "r": "Revised since the previous release of this period.",
}
CSV_COLUMNS_AFTER_DIMS = ("measure", "value", "obs_status")


@dataclass
class ReleaseInfo:
    period: str  # "2026" or "2026-Q3": the tidy CSV's period column
    period_label: str  # "2026 Q3"
    start: dt.date
    end: dt.date
    version: int
    built_at: dt.datetime
    policy: PublicationPolicy
    content_hash: str
    provisional: bool
    revises: int | None  # the version this one revises


def write_publication(
    directory: Path, tables: list[Table], protected: ProtectedPublication, info: ReleaseInfo
) -> list[Path]:
    """Every public file into `directory` (which must not exist yet, or be empty), all or nothing."""
    directory = Path(directory)
    if directory.exists() and any(directory.iterdir()):
        raise FileExistsError(f"{directory} is not empty: a publication is written to a new or empty directory")
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}-", dir=directory.parent))
    try:
        names = []
        for table in tables:
            names += write_tidy_csv(staging, table, protected.figures[table.id], info)
        names.append(write_workbook(staging / f"nrm-statistics-{info.period}.ods", tables, protected, info))
        if directory.exists():
            directory.rmdir()
        os.replace(staging, directory)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return [directory / Path(n).name for n in names]


def write_internal(directory: Path, protected: ProtectedPublication, info: ReleaseInfo) -> Path:
    """The protected internal file: every suppressed count, its true value and why. Never published; owner-only."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    path = directory / f"suppression-ledger-{info.period}-v{info.version}.csv"
    fd, temp = tempfile.mkstemp(dir=directory, prefix=".ledger-")
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["# NOT FOR PUBLICATION", info.period, f"version {info.version}", info.policy.version])
        out.writerow(["cell", "true_count", "reason", "tables"])
        for entry in protected.ledger:
            out.writerow([entry["cell"], entry["true_count"], entry["reason"], ";".join(entry["tables"])])
    os.replace(temp, path)
    return path


# ---------------------------------------------------------------------------------------------------------------
# Tidy CSV and CSVW


def _dim_names(table: Table) -> list[str]:
    return [d.name for d in table.dimensions]


def write_tidy_csv(directory: Path, table: Table, figures: list[Figure], info: ReleaseInfo) -> list[str]:
    dims = _dim_names(table)
    name = f"{table.id}.csv"
    with open(directory / name, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(["period", "table", *dims, *CSV_COLUMNS_AFTER_DIMS])
        for fig in figures:
            codes = dict(fig.dims)
            out.writerow(
                [info.period, table.id, *(codes[d] for d in dims), fig.measure, _csv_number(fig.value), fig.obs_status]
            )
    meta = csvw_metadata(table, info, name)
    meta_name = f"{name}-metadata.json"
    (directory / meta_name).write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return [name, meta_name]


def _csv_number(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def csvw_metadata(table: Table, info: ReleaseInfo, csv_name: str) -> dict:
    """W3C CSV on the Web metadata for one tidy CSV: its columns, their datatypes and code lists."""
    columns = [
        {"name": "period", "titles": "period", "datatype": "string", "dc:description": "The year, or year and quarter"},
        {"name": "table", "titles": "table", "datatype": "string"},
    ]
    for d in table.dimensions:
        columns.append(
            {
                "name": d.name,
                "titles": d.name,
                "datatype": {"base": "string", "format": "|".join(_regex_escape(c) for c in [*d.codes, "total"])},
                "dc:description": d.title + ": " + "; ".join(f"{c} = {label}" for c, label in d.codes.items()),
            }
        )
    measures = sorted({c.measure for c in table.cells})
    columns += [
        {
            "name": "measure",
            "titles": "measure",
            "datatype": {"base": "string", "format": "|".join(measures)},
            "dc:description": "; ".join(f"{m} = {MEASURES[m]}" for m in measures),
        },
        {"name": "value", "titles": "value", "datatype": "decimal", "null": ""},
        {
            "name": "obs_status",
            "titles": "obs_status",
            "datatype": {"base": "string", "format": "c|x|z|p|r"},
            "null": "",
            "dc:description": "GSS shorthand: " + " ".join(f"{k} = {v}" for k, v in SHORTHAND.items()),
        },
    ]
    return {
        "@context": "http://www.w3.org/ns/csvw",
        "url": csv_name,
        "dc:title": f"{table.title}, {info.period_label}",
        "dc:description": table.description,
        "dc:issued": info.built_at.date().isoformat(),
        "dc:publisher": "OpenNRM",
        "dc:coverage": f"{info.start.isoformat()}/{info.end.isoformat()}",
        "tableSchema": {
            "columns": columns,
            "primaryKey": ["period", "table", *_dim_names(table), "measure"],
        },
    }


def _regex_escape(code: str) -> str:
    return "".join("\\" + ch if ch in r".^$*+?{}[]\|()" else ch for ch in code)


# ---------------------------------------------------------------------------------------------------------------
# The workbook


def write_workbook(path: Path, tables: list[Table], protected: ProtectedPublication, info: ReleaseInfo) -> str:
    doc = OpenDocumentSpreadsheet()
    bold = Style(name="heading", family="table-cell")
    bold.addElement(TextProperties(fontweight="bold"))
    title = Style(name="title", family="table-cell")
    title.addElement(TextProperties(fontweight="bold", fontsize="14pt"))
    wide = Style(name="wide", family="table-column")
    wide.addElement(TableColumnProperties(columnwidth="6cm"))
    for style in (bold, title):
        doc.automaticstyles.addElement(style)
    doc.automaticstyles.addElement(wide)

    def sheet(name: str, rows: list[list], header_row: int | None = None) -> None:
        t = OdfTable(name=name)
        width = max(len(r) for r in rows)
        t.addElement(TableColumn(numbercolumnsrepeated=width, stylename=wide))
        for i, row in enumerate(rows):
            tr = TableRow()
            for value in row:
                style = title if i == 0 else bold if i == header_row else None
                tr.addElement(_cell(value, style))
            t.addElement(tr)
        doc.spreadsheet.addElement(t)

    status = "provisional" if info.provisional else "final"
    sheet(
        "Cover",
        [
            [f"National Referral Mechanism statistics, {info.period_label}"],
            [
                f"Referrals, Duty to Notify reports, decisions and missing children, {info.start:%-d %B %Y} to "
                f"{info.end:%-d %B %Y}."
            ],
            [
                f"Release version {info.version} ({status})"
                + (f", revising version {info.revises}" if info.revises else "")
                + f", built {info.built_at:%-d %B %Y %H:%M} UTC."
            ],
            [
                f"Disclosure control policy {info.policy.version}: counts of 1 to {info.policy.threshold - 1} suppressed, "
                f"every other count rounded to the nearest {info.policy.rounding_base}; see the Notes sheet."
            ],
            [f"Extract content hash (sha256): {info.content_hash}"],
            [
                "The tables are on their own sheets, listed on the Contents sheet. Each is also published as a tidy CSV "
                "file with CSV on the Web metadata."
            ],
        ],
    )
    contents = [["Contents"], ["Sheet", "Table title", "Description"]]
    for t in tables:
        contents.append([_sheet_name(t), t.title, t.description])
    sheet("Contents", contents, header_row=1)

    notes = [["Notes"], ["Note or code", "Note text"]]
    for number, text in NOTES.items():
        notes.append([f"[note {number}]", text])
    for code, text in SHORTHAND.items():
        notes.append([f"[{code}]", text])
    sheet("Notes", notes, header_row=1)

    for t in tables:
        sheet(_sheet_name(t), _table_rows(t, protected.figures[t.id], info), header_row=3)
    doc.save(str(path))
    return path.name


def _sheet_name(table: Table) -> str:
    return table.id.split("_", 1)[0].upper().replace("T", "Table_", 1)


def _table_rows(table: Table, figures: list[Figure], info: ReleaseInfo) -> list[list]:
    notes = " ".join(f"[note {n}]" for n in table.notes)
    rows = [
        [f"{_sheet_name(table).replace('_', ' ')}: {table.title}, {info.period_label} {notes}"],
        [table.description],
        ["Shorthand codes ([c], [p], [r], [x], [z]) are explained on the Notes sheet. This table has one header row."],
        [*(d.title for d in table.dimensions), "Measure", "Value", "Status"],
    ]
    for fig in figures:
        codes = dict(fig.dims)
        labels = [d.label(codes[d.name]) for d in table.dimensions]
        value = f"[{fig.obs_status}]" if fig.value is None and fig.obs_status else fig.value
        marker = f"[{fig.obs_status}]" if fig.obs_status in ("p", "r") else ""
        rows.append([*labels, MEASURES[fig.measure], value, marker])
    return rows


def _cell(value, style=None) -> TableCell:
    kwargs = {"stylename": style} if style is not None else {}
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        cell = TableCell(valuetype="float", value=value, **kwargs)
        cell.addElement(P(text=_csv_number(value)))
    elif value is None:
        cell = TableCell(**kwargs)
    else:
        cell = TableCell(valuetype="string", **kwargs)
        cell.addElement(P(text=str(value)))
    return cell
