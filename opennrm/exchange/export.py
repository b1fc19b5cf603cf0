"""Cases as HTCDS 2.0 records with no direct identifiers (ADR 0031).

A record is built from coded fields only: categories through the mapping table (mapping.py), countries as ISO
codes, the year (never a date) of referral and of exploitation, an age band (never the date of birth), and ids
that are pseudonyms keyed to the recipient (pseudonyms.py). No name, alias, date of birth, address, phone,
reference or free-text answer (the account, indicators, decisions' reasons, safeguarding notes) is ever read into
a record; the schema (additionalProperties false everywhere) would refuse one if a bug put it there.

`build_export` makes the whole file in memory and returns it with every problem found, each naming the record;
the command writes nothing unless there are none.
"""

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from functools import lru_cache

from django.utils import timezone
from jsonschema import Draft202012Validator, FormatChecker

from opennrm.decisions.models import Decision, DecisionState
from opennrm.decisions.routing import received_on
from opennrm.linkage.models import PersonLink
from opennrm.referrals.models import Referral

from .mapping import MAPPING_VERSION, MappingError, UnknownCategory, age_band, age_on, country_alpha2, lookup
from .pseudonyms import pseudonym, recipient_key
from .schema import HTCDS_VERSION, committed_schema

PROFILE = "opennrm-uk-exchange-1"


@dataclass
class Export:
    recipient: str
    document: dict
    problems: list[str] = field(default_factory=list)

    @property
    def cases(self) -> list[dict]:
        return self.document["cases"]

    def content(self) -> bytes:
        return (json.dumps(self.document, ensure_ascii=False, indent=1, sort_keys=False) + "\n").encode("utf-8")

    @staticmethod
    def digest(content: bytes) -> str:
        return hashlib.sha256(content).hexdigest()


@lru_cache(maxsize=1)
def validator() -> Draft202012Validator:
    schema = committed_schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FormatChecker())


def _record_name(referral: Referral) -> str:
    return f"Referral {referral.reference or referral.uuid}"


def case_record(referral: Referral, *, key: bytes, person_uuid, decided: bool) -> dict:
    """One referral as an HTCDS case; UnknownCategory on the first category the mapping does not know."""
    pv = referral.potential_victim or {}
    exploitation = referral.exploitation or []
    record: dict = {
        "x_case_id": pseudonym(key, "case", referral.uuid),
        "x_person_id": pseudonym(key, "person", person_uuid)
        if person_uuid
        else pseudonym(key, "person-of-referral", referral.uuid),
        "prs_Gender": lookup("sex", pv.get("sex", ""), "prs_Gender"),
    }
    citizenship = [country_alpha2(code) for code in pv.get("nationalities") or []]
    if citizenship:
        record["prs_Citizenship"] = list(dict.fromkeys(citizenship))
    record["vic_TraffickingStatus"] = lookup("status", referral.status, "vic_TraffickingStatus")
    if decided:
        record["vic_TraffickingStatusDecisionMakingOrg"] = lookup(
            "competent_authority", referral.competent_authority, "vic_TraffickingStatusDecisionMakingOrg"
        )
    types, uk_types, subtypes, events = [], [], [], []
    for entry in exploitation:
        for kind in entry.get("types") or []:
            types.append(lookup("exploitation_type", kind, "vic_TypeOfExploitation"))
            uk_types.append(kind)
        for subtype in entry.get("criminal_subtypes") or []:
            types.append(lookup("criminal_subtype", subtype, "vic_TypeOfExploitation"))
            subtypes.append(subtype)
        year = _year(entry.get("started_on"))
        countries = [lookup("exploitation_location", entry.get("location") or "unknown", "hte_Country")]
        countries += [country_alpha2(code) for code in entry.get("countries") or []]
        for country in dict.fromkeys(c for c in countries if c):
            event = {"hte_Type": "Exploitation", "hte_Country": country}
            if year is not None:
                event["x_uk_year"] = year
            if event not in events:
                events.append(event)
    record["vic_TypeOfExploitation"] = list(dict.fromkeys(t for t in types if t))
    record["cas_Status"] = lookup("status", referral.status, "cas_Status")
    record["cas_ReferringOrganisation"] = {
        "org_Type": lookup("organisation_kind", referral.organisation.kind, "org_Type")
    }
    if events:
        record["HistoricTraffickingEvents"] = events
    record["x_uk_nation"] = referral.nation
    received = received_on(referral.received_at)
    record["x_uk_year_of_registration"] = received.year
    record["x_uk_majority_status"] = lookup("age_group", referral.age_group, "x_uk_majority_status")
    birth = _date(pv.get("date_of_birth"))
    if birth is not None and birth <= received:
        record["x_uk_age_broad"] = age_band(age_on(birth, received))
    record["x_uk_exploitation_types"] = list(dict.fromkeys(uk_types))
    if subtypes:
        record["x_uk_criminal_subtypes"] = list(dict.fromkeys(subtypes))
    return record


def _date(value) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


def _year(value) -> int | None:
    day = _date(value)
    return day.year if day else None


def build_export(*, recipient: str, key: bytes) -> Export:
    """Every referral (Duty to Notify reports are not cases) as the recipient's HTCDS file, with its problems."""
    rkey = recipient_key(key, recipient)
    persons = dict(
        PersonLink.objects.filter(undone_at__isnull=True).values_list("referral_id", "person__uuid").iterator()
    )
    decided = set(
        Decision.objects.filter(state=DecisionState.ISSUED).values_list("referral_id", flat=True).distinct().iterator()
    )
    cases, problems = [], []
    referrals = Referral.objects.select_related("organisation").order_by("received_at", "id")
    for referral in referrals.iterator(chunk_size=2000):
        try:
            cases.append(
                case_record(referral, key=rkey, person_uuid=persons.get(referral.pk), decided=referral.pk in decided)
            )
        except UnknownCategory as unknown:
            problems.append(str(MappingError(_record_name(referral), unknown.family, unknown.value)))
    document = {
        "htcds_version": HTCDS_VERSION,
        "profile": PROFILE,
        "mapping_version": MAPPING_VERSION,
        "recipient": recipient,
        "generated_at": timezone.now().isoformat(timespec="seconds"),
        "cases": cases,
    }
    export = Export(recipient, document, problems)
    if not problems:
        export.problems.extend(schema_problems(document))
    return export


def schema_problems(document: dict, *, limit: int = 20) -> list[str]:
    """What in the document the schema refuses, each with the path of the value (never the value itself)."""
    found = []
    for error in validator().iter_errors(document):
        path = "/".join(str(p) for p in error.absolute_path) or "(the file)"
        found.append(f"{path}: fails the HTCDS schema's {error.validator!r} rule")
        if len(found) >= limit:
            break
    return found
