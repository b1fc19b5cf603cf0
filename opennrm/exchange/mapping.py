"""UK categories → HTCDS 2.0 values: the table in data/uk-to-htcds.csv, and the rules that are not a table.

A category the table does not know is refused with a MappingError naming the category, its value and the
record; the export then writes nothing (no partial publication). The table is versioned: MAPPING_VERSION goes
into every exchange file, so a recipient can tell which mapping made it.
"""

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pycountry

from opennrm.core.errors import Refused
from opennrm.referrals.validation import age_on  # noqa: F401  (the export's, re-exported beside age_band)

MAPPING_FILE = Path(__file__).parent / "data" / "uk-to-htcds.csv"
MAPPING_VERSION = "2026-12-1"

FAMILIES = (
    "sex",
    "age_group",
    "exploitation_type",
    "criminal_subtype",
    "exploitation_location",
    "status",
    "competent_authority",
    "organisation_kind",
)


@dataclass(frozen=True)
class MappingError:
    record: str  # the referral's NRM reference (or id), for the person running the export
    family: str
    value: str

    def __str__(self) -> str:
        return (
            f"{self.record}: the {self.family.replace('_', ' ')} {self.value!r} has no HTCDS value in the mapping "
            f"(opennrm/exchange/data/uk-to-htcds.csv)"
        )


class UnknownCategory(Refused):
    """A UK category the mapping table has no row for: the export stops rather than guess (a caller names the record)."""

    def __init__(self, family: str, value: str):
        super().__init__(f"{family} {value!r}")
        self.family = family
        self.value = value


@dataclass(frozen=True)
class Row:
    family: str
    uk_value: str
    htcds_field: str
    htcds_value: str  # empty: known, and adds no HTCDS value
    note: str


@lru_cache(maxsize=1)
def rows() -> tuple[Row, ...]:
    with open(MAPPING_FILE, newline="", encoding="utf-8") as f:
        return tuple(Row(**{k: (v or "").strip() for k, v in line.items()}) for line in csv.DictReader(f))


@lru_cache(maxsize=1)
def table() -> dict[tuple[str, str], dict[str, str]]:
    """(family, UK value) → {HTCDS field: value}; a value of "" means the field gets nothing from this category."""
    found: dict[tuple[str, str], dict[str, str]] = {}
    for row in rows():
        found.setdefault((row.family, row.uk_value), {})[row.htcds_field] = row.htcds_value
    return found


def lookup(family: str, value, field: str) -> str:
    """The HTCDS value of a UK category for one field ("" when the category adds none); UnknownCategory otherwise."""
    try:
        return table()[(family, str(value))][field]
    except KeyError:
        raise UnknownCategory(family, str(value))


@lru_cache(maxsize=512)
def country_alpha2(alpha3: str) -> str:
    """A nationality or country, ISO 3166-1 alpha-3 as the referral holds it → alpha-2, as HTCDS asks."""
    country = pycountry.countries.get(alpha_3=str(alpha3).upper()) if isinstance(alpha3, str) else None
    if country is None or country.alpha_3 != alpha3:
        raise UnknownCategory("country", str(alpha3))
    return country.alpha_2


# CTDC's ageBroad bands (Codebook v6): (lowest age, label), youngest first.
AGE_BANDS = (
    (0, "0--8"),
    (9, "9--17"),
    (18, "18--20"),
    (21, "21--23"),
    (24, "24--26"),
    (27, "27--29"),
    (30, "30--38"),
    (39, "39--47"),
    (48, "48+"),
)


def age_band(age: int) -> str:
    if age < 0:
        raise UnknownCategory("age", str(age))
    return [label for lowest, label in AGE_BANDS if age >= lowest][-1]
