"""The JSON Schema of OpenNRM's HTCDS 2.0 export, generated from the field standard itself (ADR 0031).

The Human Trafficking Case Data Standard has no JSON Schema of its own: its canonical artefact is the spreadsheet
`HTCDS Field Standards 2.0.ods` (IOM/CTDC, CC BY 4.0), kept here in data/. `generate()` reads it with odfpy and
writes, for every field that is not deprecated, its JSON type, label, definition and (for picklists) its Value Names
as an enum. The export's record (`ExchangeCase`) is a profile of those fields: the ones OpenNRM fills, and no
others (additionalProperties false), so a direct identifier (a name, birthdate, address, phone, free text) cannot
pass validation even if a bug put one in a record. The profile's own extension fields, prefixed `x_uk_`, carry UK
categories that HTCDS has no field for.

Regenerate the committed file after changing the spreadsheet or the profile:

    .venv/bin/python -m opennrm.exchange.schema > opennrm/exchange/htcds-2.0.schema.json
"""

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

HERE = Path(__file__).parent
STANDARD_ODS = HERE / "data" / "htcds-field-standards-2.0.ods"
SCHEMA_FILE = HERE / "htcds-2.0.schema.json"
HTCDS_VERSION = "2.0"
SCHEMA_ID = "https://opennrm.invalid/exchange/htcds-2.0.schema.json"

# The spreadsheet's column headings, as written in its first row.
COLUMNS = {
    "section": "Section",
    "status": "Status",
    "core": "Core",
    "prefix": "Field Name Prefix",
    "name": "Field Name",
    "label": "Field Label",
    "full_name": "Field Name including Prefix",
    "type": "Field Type",
    "value_names": "Value Names (if picklist)",
    "value_labels": "Value Labels (if picklist)",
    "description": "Description",
    "notes": "Notes",
}


@dataclass(frozen=True)
class Field:
    section: str
    status: str
    core: bool
    prefix: str
    name: str  # with its prefix: prs_Gender
    label: str
    type: str
    value_names: tuple[str, ...]
    value_labels: tuple[str, ...]
    description: str
    notes: str

    @property
    def is_picklist(self) -> bool:
        return "Picklist" in self.type

    @property
    def iso_standard(self) -> str | None:
        """'country' or 'language' where the picklist is an ISO code list rather than Value Names."""
        text = " ".join((*self.value_names, *self.value_labels, self.notes))
        if "ISO 3166" in text:
            return "country"
        if "ISO 639" in text:
            return "language"
        return None


def _cell_text(cell) -> str:
    from odf.element import Element
    from odf.namespaces import TEXTNS

    def text_of(node) -> str:
        parts = []
        for child in node.childNodes:
            if child.nodeType == Element.TEXT_NODE:
                parts.append(str(child.data))
            elif child.qname == (TEXTNS, "s"):
                parts.append(" " * int(child.getAttribute("c") or 1))
            elif child.qname == (TEXTNS, "line-break"):
                parts.append("\n")
            else:
                parts.append(text_of(child))
        return "".join(parts)

    return "\n".join(text_of(p) for p in cell.childNodes if p.qname == (TEXTNS, "p"))


def read_rows(path: Path = STANDARD_ODS) -> list[list[str]]:
    """The first sheet's rows as lists of cell texts (repeated cells expanded, trailing blanks dropped)."""
    from odf.opendocument import load
    from odf.table import Table, TableCell, TableRow

    document = load(str(path))
    sheet = document.spreadsheet.getElementsByType(Table)[0]
    rows = []
    for row in sheet.getElementsByType(TableRow):
        cells: list[str] = []
        for cell in row.getElementsByType(TableCell):
            repeat = int(cell.getAttribute("numbercolumnsrepeated") or 1)
            cells.extend([_cell_text(cell)] * min(repeat, 64))
        while cells and not cells[-1].strip():
            cells.pop()
        rows.append(cells)
    return rows


def _lines(text: str) -> tuple[str, ...]:
    return tuple(line.strip().replace("\xa0", "") for line in text.splitlines() if line.strip())


def read_fields(path: Path = STANDARD_ODS) -> list[Field]:
    """Every field row of the standard, in the spreadsheet's order, deprecated ones included."""
    rows = read_rows(path)
    heading = rows[0]
    at = {key: heading.index(title) for key, title in COLUMNS.items()}
    fields = []
    section = ""
    for cells in rows[1:]:
        value = {key: (cells[i] if i < len(cells) else "").strip() for key, i in at.items()}
        if value["section"]:
            section = " ".join(value["section"].split())
        if not value["full_name"] or value["full_name"] == "N/A":
            continue  # a section heading, an example question or an empty row
        names = _lines(value["value_names"])
        fields.append(
            Field(
                section=section,
                status=value["status"],
                core=value["core"] == "Core",
                prefix=value["prefix"],
                name=value["full_name"],
                label=value["label"],
                type=value["type"],
                value_names=names,
                value_labels=_lines(value["value_labels"]),
                description=" ".join(value["description"].split()),
                notes=" ".join(value["notes"].split()),
            )
        )
    return fields


COUNTRY_CODE = {"type": "string", "pattern": "^[A-Z]{2}$", "description": "ISO 3166-1 alpha-2 country code"}
LANGUAGE_CODE = {"type": "string", "pattern": "^[a-z]{2,3}$", "description": "ISO 639 language code"}


def field_schema(field: Field) -> dict:
    """One HTCDS field as JSON Schema: its type from the Field Type column, its values from Value Names."""
    kind = field.type
    item: dict
    if field.is_picklist and field.iso_standard:
        item = dict(COUNTRY_CODE if field.iso_standard == "country" else LANGUAGE_CODE)
    elif field.is_picklist and field.value_names:
        item = {"type": "string", "enum": list(field.value_names)}
    elif kind in ("Number", "Geolocation"):
        item = {"type": "number"}
    elif kind == "Checkbox":
        item = {"type": "boolean"}
    elif kind == "Date":
        item = {"type": "string", "format": "date"}
    elif kind.startswith("Lookup [to organisation]"):
        item = {"$ref": "#/$defs/Organisation"}
    else:  # Text, Long Text, "Picklist or Text", lookups to a user or person
        item = {"type": "string"}
    if kind.startswith("Multiselect"):
        schema = {"type": "array", "items": item, "uniqueItems": True}
    else:
        schema = dict(item)
    schema["title"] = field.label
    if field.description:
        schema["description"] = field.description
    schema["x-htcds-section"] = field.section
    schema["x-htcds-core"] = field.core
    return schema


# The UK profile's extension fields: UK categories HTCDS has no field for (mapping.py fills them).
UK_EXTENSIONS: dict[str, dict] = {
    "x_uk_nation": {
        "type": "string",
        "enum": ["ENG", "WLS", "SCT", "NIR"],
        "title": "UK nation the referral was made in",
    },
    "x_uk_year_of_registration": {
        "type": "integer",
        "minimum": 2009,
        "maximum": 2100,
        "title": "Year the referral was received (CTDC yearOfRegistration); never the date",
    },
    "x_uk_majority_status": {
        "type": "string",
        "enum": ["Minor", "Adult", "Unknown"],
        "title": "Under 18 when referred, as the referral said (CTDC majorityStatus)",
    },
    "x_uk_age_broad": {
        "type": "string",
        "enum": ["0--8", "9--17", "18--20", "21--23", "24--26", "27--29", "30--38", "39--47", "48+"],
        "title": "Age band when referred (CTDC ageBroad); absent without a date of birth",
    },
    "x_uk_exploitation_types": {
        "type": "array",
        "items": {
            "type": "string",
            "enum": ["labour", "sexual", "criminal", "domestic_servitude", "organ_removal", "other"],
        },
        "uniqueItems": True,
        "title": "Types of exploitation as referred in the UK (OpenNRM contract section 2)",
    },
    "x_uk_criminal_subtypes": {
        "type": "array",
        "items": {
            "type": "string",
            "enum": ["county_lines", "cannabis_cultivation", "forced_begging", "theft", "other"],
        },
        "uniqueItems": True,
        "title": "Kinds of criminal exploitation as referred in the UK",
    },
}
HTE_EXTENSIONS: dict[str, dict] = {
    "x_uk_year": {
        "type": "integer",
        "minimum": 1900,
        "maximum": 2100,
        "title": "Year the exploitation started, where the referral gave it (never the date)",
    },
}

# The HTCDS fields the export fills (ADR 0031 lists why each other field is left empty).
PROFILE_CASE_FIELDS = (
    "prs_Gender",
    "prs_Citizenship",
    "vic_TraffickingStatus",
    "vic_TraffickingStatusDecisionMakingOrg",
    "vic_TypeOfExploitation",
    "cas_Status",
    "cas_ReferringOrganisation",
)
PROFILE_ORGANISATION_FIELDS = ("org_Type",)
PROFILE_EVENT_FIELDS = ("hte_Type", "hte_Country")
# Country fields HTCDS leaves as free text, held to ISO 3166-1 alpha-2 in the profile.
COUNTRY_TEXT_FIELDS = {"hte_Country"}


def generate(path: Path = STANDARD_ODS) -> dict:
    fields = read_fields(path)
    live = {f.name: f for f in fields if f.status.upper() != "DEPRECATED"}

    def properties(names) -> dict:
        found = {}
        for name in names:
            schema = field_schema(live[name])
            if name in COUNTRY_TEXT_FIELDS:
                schema = {
                    **schema,
                    **COUNTRY_CODE,
                    "description": schema.get("description", "") + " (ISO 3166-1 alpha-2)",
                }
            found[name] = schema
        return found

    pseudonym = {"type": "string", "pattern": "^[0-9a-f]{32}$"}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "OpenNRM HTCDS 2.0 exchange file",
        "description": (
            "Generated by opennrm/exchange/schema.py from HTCDS Field Standards 2.0.ods (IOM, CC BY 4.0); do not edit. "
            "Cases from the UK National Referral Mechanism with no direct identifiers; ids are pseudonyms keyed to "
            "one recipient."
        ),
        "type": "object",
        "additionalProperties": False,
        "required": ["htcds_version", "profile", "mapping_version", "recipient", "generated_at", "cases"],
        "properties": {
            "htcds_version": {"const": HTCDS_VERSION},
            "profile": {"const": "opennrm-uk-exchange-1"},
            "mapping_version": {"type": "string"},
            "recipient": {"type": "string", "minLength": 1},
            "generated_at": {"type": "string", "format": "date-time"},
            "cases": {"type": "array", "items": {"$ref": "#/$defs/ExchangeCase"}},
        },
        "$defs": {
            "ExchangeCase": {
                "type": "object",
                "additionalProperties": False,
                "required": ["x_case_id", "x_person_id", "vic_TraffickingStatus", "cas_Status", "prs_Gender"],
                "properties": {
                    "x_case_id": {**pseudonym, "title": "Pseudonymous case id, keyed to the recipient"},
                    "x_person_id": {
                        **pseudonym,
                        "title": "Pseudonymous person id, keyed to the recipient: one per person across duplicate referrals",
                    },
                    **properties(PROFILE_CASE_FIELDS),
                    "HistoricTraffickingEvents": {
                        "type": "array",
                        "items": {"$ref": "#/$defs/HistoricTraffickingEvent"},
                        "title": "Where the person was exploited: country and year only",
                    },
                    **UK_EXTENSIONS,
                },
            },
            "Organisation": {
                "type": "object",
                "additionalProperties": False,
                "required": ["org_Type"],
                "properties": properties(PROFILE_ORGANISATION_FIELDS),
            },
            "HistoricTraffickingEvent": {
                "type": "object",
                "additionalProperties": False,
                "required": ["hte_Type", "hte_Country"],
                "properties": {**properties(PROFILE_EVENT_FIELDS), **HTE_EXTENSIONS},
            },
            # The whole standard, for reference: every field that is not deprecated, as the spreadsheet gives it.
            "HtcdsField": {
                "description": "Every HTCDS 2.0 field that is not deprecated; only ExchangeCase's are exported",
                "$comment": "reference only",
                "properties": {name: field_schema(field) for name, field in live.items()},
            },
        },
    }


def render(schema: dict) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


@lru_cache(maxsize=1)
def committed_schema() -> dict:
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


def picklist_values(field_name: str) -> tuple[str, ...]:
    """A picklist field's Value Names as the committed schema holds them."""
    schema = committed_schema()["$defs"]["HtcdsField"]["properties"][field_name]
    schema = schema.get("items", schema)
    return tuple(schema["enum"])


if __name__ == "__main__":
    import sys

    sys.stdout.write(render(generate()))
