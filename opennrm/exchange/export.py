"""Cases as HTCDS 2.0 records with no direct identifiers (ADR 0031).

A record is built from coded fields only: categories through the mapping table (mapping.py), countries as ISO
codes, the year (never a date) of referral and of exploitation, an age band (never the date of birth), and ids
that are pseudonyms keyed to the recipient (pseudonyms.py). No name, alias, date of birth, address, phone,
reference or free-text answer (the account, indicators, decisions' reasons, safeguarding notes) is ever read into
a record; the schema (additionalProperties false everywhere) would refuse one if a bug put it there.

`write_export` writes the file to a stream case by case, each validated against the committed schema as it is
made, and returns every problem found, each naming its record; the command publishes nothing unless there are
none. Validation costs about a millisecond a case (jsonschema): 100,000 cases in under two minutes.
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
class ExportResult:
    cases: int = 0
    sha256: str = ""
    problems: list[str] = field(default_factory=list)


@lru_cache(maxsize=1)
def validator() -> Draft202012Validator:
    """The whole file's schema."""
    schema = committed_schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FormatChecker())


@lru_cache(maxsize=1)
def case_validator() -> Draft202012Validator:
    """One case's: the file's `cases` items, checked as each is made."""
    return Draft202012Validator(
        {"$defs": committed_schema()["$defs"], "$ref": "#/$defs/ExchangeCase"}, format_checker=FormatChecker()
    )


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
    types: list[str] = []
    uk_types: list[str] = []
    subtypes: list[str] = []
    events: list[dict[str, str | int]] = []
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
            event: dict[str, str | int] = {"hte_Type": "Exploitation", "hte_Country": country}
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


def write_export(stream, *, recipient: str, key: bytes, max_problems: int = 1000) -> ExportResult:
    """Every referral (Duty to Notify reports are not cases) as the recipient's HTCDS file, written to the binary
    `stream` one case a line as each is made and validated, so memory does not grow with the number of cases.

    Every case is checked even after a problem, so that all are reported (up to `max_problems`); the caller must
    discard what was written when there are any."""
    rkey = recipient_key(key, recipient)
    result = ExportResult()
    digest = hashlib.sha256()

    def write(text: str) -> None:
        data = text.encode("utf-8")
        digest.update(data)
        stream.write(data)

    envelope = {
        "htcds_version": HTCDS_VERSION,
        "profile": PROFILE,
        "mapping_version": MAPPING_VERSION,
        "recipient": recipient,
        "generated_at": timezone.now().isoformat(timespec="seconds"),
        "cases": [],
    }
    result.problems.extend(schema_problems(validator(), envelope, "the file"))
    head = json.dumps(envelope, ensure_ascii=False, indent=1)
    write(head[: head.rindex("[]")] + "[")

    persons = dict(
        PersonLink.objects.filter(undone_at__isnull=True).values_list("referral_id", "person__uuid").iterator()
    )
    decided = set(
        Decision.objects.filter(state=DecisionState.ISSUED).values_list("referral_id", flat=True).distinct().iterator()
    )
    referrals = Referral.objects.select_related("organisation").order_by("received_at", "id")
    for referral in referrals.iterator(chunk_size=2000):
        if len(result.problems) >= max_problems:
            result.problems.append(f"… stopped after {max_problems} problems")
            break
        try:
            record = case_record(
                referral, key=rkey, person_uuid=persons.get(referral.pk), decided=referral.pk in decided
            )
        except UnknownCategory as unknown:
            result.problems.append(str(MappingError(_record_name(referral), unknown.family, unknown.value)))
            continue
        refused = schema_problems(case_validator(), record, _record_name(referral))
        if refused:
            result.problems.extend(refused)
            continue
        if not result.problems:
            write(("\n  " if result.cases == 0 else ",\n  ") + json.dumps(record, ensure_ascii=False))
        result.cases += 1
    write("\n ]\n}\n")
    result.sha256 = digest.hexdigest()
    return result


def schema_problems(validator: Draft202012Validator, instance: dict, name: str, *, limit: int = 5) -> list[str]:
    """What the schema refuses in `instance`, each with the path of the value (never the value itself)."""
    found = []
    for error in validator.iter_errors(instance):
        path = "/".join(str(p) for p in error.absolute_path) or "(the whole)"
        found.append(f"{name}: {path} fails the HTCDS schema's {error.validator!r} rule")
        if len(found) >= limit:
            break
    return found
