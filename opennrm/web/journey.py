"""The referral journey in the pages: a first responder refers a child or an adult, one question at a time.

The pages follow the Home Office form's order (docs: domain nrm.md 1.4). Each page turns its form into
its part of the contract-shaped referral body (contract section 2), kept in a draft on the server and
saved on every POST, valid or not, so nothing typed is lost. The body is checked by the same validators
the API uses (referrals/validation.py), and each page shows the errors that belong to its own fields.

"Is the potential victim under 18?" decides the path: yes or not sure is a child (the local authority
must be contacted first, no consent), no is an adult (consent). An adult who does not consent is not
referred: the journey becomes a Duty to Notify, which sends only the answers that cannot identify them.
These rules are the referrals domain's (validation.py: asks_consent, is_duty_to_notify,
duty_to_notify_answers; services.py: duty_to_notify_send; cases/services.py: referral_send); the pages ask them.
"""

import copy
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache, wraps
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_http_methods

from opennrm.accounts.selectors import guardian_services_covering
from opennrm.cases.services import referral_send
from opennrm.core.errors import Invalid, NotAllowed, NotFound
from opennrm.policy import Capability, has_capability
from opennrm.referrals.codes import (
    NATIONS,
    countries,
    country_code,
    language_code,
    languages,
    local_authorities,
    local_authority_name,
)
from opennrm.referrals.schemas import MAX_EXPLOITATION_SITUATIONS
from opennrm.referrals.selectors import draft_get, duty_to_notify_open, referral_open
from opennrm.referrals.services import (
    draft_discard,
    draft_save,
    draft_start,
    duty_to_notify_send,
)
from opennrm.referrals.validation import (
    FieldError,
    asks_consent,
    asks_local_authority_contact,
    consent_answer,
    forget_answers_not_asked,
    is_duty_to_notify,
    may_identify,
    potential_victim_of,
    treated_as_child,
    validate_answers,
)

from .jinja import london_date, london_datetime

LONDON = ZoneInfo("Europe/London")
MAX_SITUATIONS = MAX_EXPLOITATION_SITUATIONS  # the contract's limit on exploitation entries
# The session remembers which Duty to Notify each sent draft became (the draft itself is deleted),
# so a double-clicked "Send" lands on the confirmation instead of a missing draft.
SENT_DUTY_TO_NOTIFY = "journey_sent_duty_to_notify"

# --- Answers offered -------------------------------------------------------------------------------

AGE_GROUPS = {"child": "Yes", "adult": "No", "unknown": "Not sure"}
YES_NO = {"yes": "Yes", "no": "No"}
SEXES = {"female": "Female", "male": "Male", "other": "They do not identify as male or female", "unknown": "Not known"}
PRECISIONS = {
    "day": "The exact date is known",
    "month": "Only the month and year are known",
    "year": "Only the year is known",
    "estimated": "The date is an estimate",
}
EXPLOITATION_TYPES = {
    "labour": "Labour exploitation (forced work, wages taken, forced fraud)",
    "sexual": "Sexual exploitation",
    "criminal": "Criminal exploitation (forced to commit crimes such as cannabis cultivation, drug dealing or begging)",
    "domestic_servitude": "Domestic servitude (unpaid household work)",
    "organ_removal": "Organ removal",
    "other": "Other exploitation",
}
CRIMINAL_SUBTYPES = {
    "county_lines": "County lines (drug dealing)",
    "cannabis_cultivation": "Cannabis cultivation",
    "forced_begging": "Forced begging",
    "theft": "Theft",
    "other": "Other criminal exploitation",
}
LOCATIONS = {
    "uk": "In the UK",
    "overseas": "Overseas",
    "uk_and_overseas": "Both in the UK and overseas",
    "unknown": "Not known",
}
ONGOING = {"yes": "Yes", "no": "No", "unknown": "Not known"}
ONGOING_VALUES = {"yes": True, "no": False, "unknown": None}


def _items(options: dict[str, str]) -> list[dict]:
    return [{"value": value, "text": text} for value, text in options.items()]


def _select_items(options: dict[str, str], prompt: str) -> list[dict]:
    return [{"value": "", "text": prompt}] + [
        {"value": code, "text": name} for code, name in sorted(options.items(), key=lambda kv: kv[1])
    ]


@lru_cache(maxsize=1)
def _choices() -> dict:
    return {
        "nation": _items(NATIONS),
        "age_group": _items(AGE_GROUPS),
        "yes_no": _items(YES_NO),
        "sex": _items(SEXES),
        "precision": _items(PRECISIONS),
        "types": _items(EXPLOITATION_TYPES),
        "criminal_subtypes": _items(CRIMINAL_SUBTYPES),
        "location": _items(LOCATIONS),
        "ongoing": _items(ONGOING),
        "local_authority": _select_items(
            {code: name for code, (name, _) in local_authorities().items()}, "Choose a local authority"
        ),
        "country": _select_items(countries(), "Choose a country"),
    }


# --- Reading form input -------------------------------------------------------------------------------


class Problems(dict):
    """What a page could not turn into the body: component id → (anchor id, message), the first per component."""

    def add(self, component: str, message: str, anchor: str | None = None) -> None:
        self.setdefault(component, (anchor or component, message))


def _text(raw: dict, name: str) -> str | None:
    value = (raw.get(name) or "").strip()
    return value or None


def _multiline(raw: dict, name: str) -> str | None:
    value = (raw.get(name) or "").replace("\r\n", "\n").strip()
    return value or None


def _lines(raw: dict, name: str) -> list[str]:
    return [line.strip() for line in (raw.get(name) or "").splitlines() if line.strip()]


def _put(target: dict, key: str, value) -> None:
    """Leave out what was not given: the contract treats a missing optional field as not known."""
    if value is None or value == [] or value == {}:
        target.pop(key, None)
    else:
        target[key] = value


def _choice(raw: dict, name: str, options: dict, problems: Problems, required: str | None = None) -> str | None:
    value = _text(raw, name)
    if value is None:
        if required:
            problems.add(name, required)
        return None
    if value not in options:
        problems.add(name, required or f"Choose one of the answers for {name.replace('_', ' ')}")
        return None
    return value


def _yes_no(raw: dict, name: str, problems: Problems) -> bool | None:
    value = _choice(raw, name, YES_NO, problems)
    return None if value is None else value == "yes"


def _date(
    raw: dict, prefix: str, label: str, problems: Problems, *, day_optional=False, month_optional=False
) -> dt.date | None:
    """A GOV.UK date input: day, month and year boxes; a missing day or month is the 1st where allowed."""
    day, month, year = (_text(raw, f"{prefix}-{part}") or "" for part in ("day", "month", "year"))
    if not (day or month or year):
        return None
    for part, value in (("day", day), ("month", month), ("year", year)):
        if value and not value.isdigit():
            problems.add(prefix, f"{label} must be a real date, in numbers", f"{prefix}-{part}")
            return None
    if not year:
        problems.add(prefix, f"{label} must include a year", f"{prefix}-year")
        return None
    if len(year) != 4:
        problems.add(prefix, f"{label} must include a year with 4 numbers, such as 2010", f"{prefix}-year")
        return None
    if not month:
        if not month_optional or day:
            problems.add(prefix, f"{label} must include a month", f"{prefix}-month")
            return None
        month = "1"
    if not day:
        if not day_optional:
            problems.add(prefix, f"{label} must include a day", f"{prefix}-day")
            return None
        day = "1"
    try:
        return dt.date(int(year), int(month), int(day))
    except ValueError:
        problems.add(prefix, f"{label} must be a real date", f"{prefix}-day")
        return None


_TIME = re.compile(r"^(\d{1,2})(?:[:.](\d{2}))?\s*([ap]\.?m\.?)?$", re.IGNORECASE)


def _time(raw: dict, name: str, label: str, problems: Problems) -> dt.time | None:
    value = _text(raw, name)
    if value is None:
        return None
    match = _TIME.match(value)
    hour, minute = (int(match[1]), int(match[2] or 0)) if match else (-1, -1)
    meridiem = (match[3] or "").lower().replace(".", "") if match else ""
    if meridiem:
        hour = -1 if not 1 <= hour <= 12 else hour % 12 + (12 if meridiem == "pm" else 0)
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        problems.add(name, f"{label} must be a real time, such as 10:15 or 2:30pm")
        return None
    return dt.time(hour, minute)


def _date_form(value: str | None, prefix: str) -> dict:
    try:
        day = dt.date.fromisoformat(value) if value else None
    except ValueError:
        day = None
    return {
        f"{prefix}-day": str(day.day) if day else "",
        f"{prefix}-month": str(day.month) if day else "",
        f"{prefix}-year": str(day.year) if day else "",
    }


def _countries(values: list[str], component: str, label: str, problems: Problems) -> list[str]:
    found = []
    for value in values:
        code = country_code(value)
        if code is None:
            problems.add(
                component,
                f"{label}: we do not recognise “{value}”. Enter the country's name, such as Vietnam, or its 3-letter code, such as VNM",
            )
        elif code not in found:
            found.append(code)
    return found


# --- Draft answers ---------------------------------------------------------------------------------
#
# draft.answers = {"referral": <contract body so far>, "typed": {page key: form as typed, for a page whose
# input could not all be taken into the body}, "pages_saved": [page slugs], "summary_name": "..."}


def _answers(draft) -> dict:
    answers = copy.deepcopy(draft.answers or {})
    answers.setdefault("referral", {})
    answers.setdefault("typed", {})
    answers.setdefault("pages_saved", [])
    return answers


def _age_group(referral: dict) -> str | None:
    return potential_victim_of(referral).get("age_group")


def summary_name(referral: dict) -> str | None:
    """How the home page lists the draft, such as "Thi Anh Nguyen (child)"."""
    pv = potential_victim_of(referral)
    name = " ".join(p for p in (pv.get("given_names"), pv.get("family_name")) if p) or next(
        iter(pv.get("aliases") or []), ""
    )
    age = {"child": "child", "adult": "adult", "unknown": "may be a child"}.get(pv.get("age_group"))
    if name:
        return f"{name} ({age})" if age else name
    return f"Potential victim not yet named ({age})" if age else None


# --- The pages -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    slug: str
    title: str
    template: str
    fields: tuple[str, ...]  # POST names with one value
    to_form: Callable[[dict, int | None], dict]
    apply: Callable[[dict, dict, dt.datetime, int | None], Problems]  # form → body; returns what it could not take
    list_fields: tuple[str, ...] = ()  # POST names with several values (checkboxes)

    def read(self, post) -> dict:
        # PostgreSQL cannot store NUL in JSON, and no browser sends one: mark the spot rather than fail.
        raw = {name: post.get(name, "").replace("\x00", "\ufffd") for name in self.fields}
        raw.update({name: [v.replace("\x00", "\ufffd") for v in post.getlist(name)] for name in self.list_fields})
        return raw


def _date_fields(prefix: str) -> tuple[str, ...]:
    return (f"{prefix}-day", f"{prefix}-month", f"{prefix}-year")


def _reference_form(referral, number=None):
    return {"first_responder_reference": referral.get("first_responder_reference") or ""}


def _reference_apply(referral, raw, now, number=None):
    _put(referral, "first_responder_reference", _text(raw, "first_responder_reference"))
    return Problems()


def _nation_form(referral, number=None):
    return {"nation": referral.get("nation") or ""}


def _nation_apply(referral, raw, now, number=None):
    problems = Problems()
    _put(referral, "nation", _choice(raw, "nation", NATIONS, problems, "Select where you are making this report"))
    return problems


def _age_form(referral, number=None):
    return {"age_group": _age_group(referral) or ""}


def _age_apply(referral, raw, now, number=None):
    problems = Problems()
    pv = dict(potential_victim_of(referral))
    _put(
        pv,
        "age_group",
        _choice(
            raw,
            "age_group",
            AGE_GROUPS,
            problems,
            "Select yes if the potential victim is under 18, no if they are not, or not sure",
        ),
    )
    referral["potential_victim"] = pv
    return problems


def _local_authority_form(referral, number=None):
    contact = referral.get("local_authority_contact") or {}
    form = {
        "local_authority": contact.get("local_authority", ""),
        "contact_name": contact.get("name", ""),
        "contacted_time": "",
    }
    form.update(_date_form(None, "contacted_at"))
    if contact.get("contacted_at"):
        local = dt.datetime.fromisoformat(contact["contacted_at"]).astimezone(LONDON)
        form.update(_date_form(local.date().isoformat(), "contacted_at"), contacted_time=f"{local:%H:%M}")
    return form


def _local_authority_apply(referral, raw, now, number=None):
    problems = Problems()
    code = _choice(raw, "local_authority", local_authorities(), problems, "Select the local authority you contacted")
    day = _date(raw, "contacted_at", "The date you contacted the local authority", problems)
    if day is None and "contacted_at" not in problems:
        problems.add("contacted_at", "Enter the date you contacted the local authority", "contacted_at-day")
    time = _time(raw, "contacted_time", "The time you contacted the local authority", problems)
    if time is None and "contacted_time" not in problems:
        problems.add("contacted_time", "Enter the time you contacted the local authority, such as 10:15 or 2:30pm")
    if code is None:
        referral.pop("local_authority_contact", None)
        return problems
    contact = {"local_authority": code}
    _put(contact, "name", _text(raw, "contact_name"))
    if day and time:
        when = dt.datetime.combine(day, time, tzinfo=LONDON).astimezone(dt.UTC)
        contact["contacted_at"] = when.isoformat().replace("+00:00", "Z")
    referral["local_authority_contact"] = contact
    return problems


def _consent_form(referral, number=None):
    consent = referral.get("consent")
    given = consent.get("given") if isinstance(consent, dict) else None
    return {"consent": {True: "yes", False: "no"}.get(given, "")}


def _consent_apply(referral, raw, now, number=None):
    problems = Problems()
    answer = _choice(
        raw,
        "consent",
        YES_NO,
        problems,
        "Select yes if the potential victim consents to being referred, or no if they do not",
    )
    if answer is None:
        referral.pop("consent", None)
        return problems
    referral["consent"] = consent_answer(referral.get("consent"), given=answer == "yes", now=now)
    return problems


def _situation(referral: dict, number: int | None) -> dict:
    items = referral.get("exploitation") or []
    return items[number - 1] if number and number <= len(items) and isinstance(items[number - 1], dict) else {}


def _situation_form(referral, number=None):
    item = _situation(referral, number)
    ongoing = {True: "yes", False: "no"}.get(item.get("ongoing"), "unknown" if item else "")
    form = {
        "types": list(item.get("types") or []),
        "criminal_subtypes": list(item.get("criminal_subtypes") or []),
        "location": item.get("location", ""),
        "uk_towns": "\n".join(item.get("uk_towns") or []),
        "countries": "\n".join(countries().get(c, c) for c in item.get("countries") or []),
        "ongoing": ongoing,
        "account": item.get("account", ""),
    }
    form.update(_date_form(item.get("started_on"), "started_on"), **_date_form(item.get("ended_on"), "ended_on"))
    return form


def _situation_apply(referral, raw, now, number=None):
    problems = Problems()
    types = list(dict.fromkeys(t for t in raw.get("types", []) if t in EXPLOITATION_TYPES))
    if len(types) != len(set(raw.get("types", []))):
        problems.add("types", "Select the types of exploitation from the list")
    item: dict = {}
    _put(item, "types", types)
    # Subtypes count only with criminal ticked: with the script on, unticking criminal hides them but keeps them ticked.
    if "criminal" in types:
        subtypes = list(dict.fromkeys(s for s in raw.get("criminal_subtypes", []) if s in CRIMINAL_SUBTYPES))
        _put(item, "criminal_subtypes", subtypes)
    _put(item, "location", _choice(raw, "location", LOCATIONS, problems))
    _put(item, "uk_towns", _lines(raw, "uk_towns"))
    _put(item, "countries", _countries(_lines(raw, "countries"), "countries", "Countries", problems))
    started = _date(raw, "started_on", "The date the exploitation started", problems, day_optional=True)
    _put(item, "started_on", started.isoformat() if started else None)
    ongoing_answer = _choice(raw, "ongoing", ONGOING, problems)
    ongoing = ONGOING_VALUES.get(ongoing_answer) if ongoing_answer else None
    _put(item, "ongoing", ongoing)
    if ongoing is not True:
        ended = _date(raw, "ended_on", "The date the exploitation ended", problems, day_optional=True)
        _put(item, "ended_on", ended.isoformat() if ended else None)
    _put(item, "account", _multiline(raw, "account"))
    items = referral.setdefault("exploitation", [])
    if number == len(items) + 1:
        items.append(item)
    else:
        items[number - 1] = item
    return problems


def _indicators_form(referral, number=None):
    return {"indicators": "\n".join(referral.get("indicators") or [])}


def _indicators_apply(referral, raw, now, number=None):
    _put(referral, "indicators", _lines(raw, "indicators"))
    return Problems()


def _police_form(referral, number=None):
    police = referral.get("police") or {}
    return {"police_force": police.get("force", ""), "crime_reference": police.get("crime_reference", "")}


def _police_apply(referral, raw, now, number=None):
    police: dict = {}
    _put(police, "force", _text(raw, "police_force"))
    _put(police, "crime_reference", _text(raw, "crime_reference"))
    _put(referral, "police", police)
    return Problems()


def _details_form(referral, number=None):
    pv = potential_victim_of(referral)
    bool_answer = {True: "yes", False: "no"}
    nationalities = list(pv.get("nationalities") or []) + ["", ""]
    form = {
        "given_names": pv.get("given_names", ""),
        "family_name": pv.get("family_name", ""),
        "aliases": "\n".join(pv.get("aliases") or []),
        "names_in_original_script": pv.get("names_in_original_script", ""),
        "date_of_birth_precision": pv.get("date_of_birth_precision", ""),
        "age_disputed": bool_answer.get(pv.get("age_disputed"), ""),
        "sex": pv.get("sex", ""),
        "nationality_1": nationalities[0],
        "nationality_2": nationalities[1],
        "languages": ", ".join(languages().get(code, code) for code in pv.get("languages") or []),
        "interpreter_needed": bool_answer.get(pv.get("interpreter_needed"), ""),
        "home_office_reference": pv.get("home_office_reference", ""),
        "current_address": pv.get("current_address", ""),
        "phone": pv.get("phone", ""),
    }
    form.update(_date_form(pv.get("date_of_birth"), "date_of_birth"))
    return form


def _details_apply(referral, raw, now, number=None):
    problems = Problems()
    pv = dict(potential_victim_of(referral))
    _put(pv, "sex", _choice(raw, "sex", SEXES, problems, "Select the potential victim's sex, or not known"))
    nationalities = []
    for name in ("nationality_1", "nationality_2"):
        code = _text(raw, name)
        if code and code not in countries():
            problems.add(name, "Select a nationality from the list")
        elif code and code not in nationalities:
            nationalities.append(code)
    _put(pv, "nationalities", nationalities)
    if may_identify(referral):
        _put(pv, "given_names", _text(raw, "given_names"))
        _put(pv, "family_name", _text(raw, "family_name"))
        _put(pv, "aliases", _lines(raw, "aliases"))
        # Kept as typed, untrimmed: it is matched against other records (composed to NFC when sent, as every name is).
        original = raw.get("names_in_original_script") or ""
        _put(pv, "names_in_original_script", original if original.strip() else None)
        precision = _choice(raw, "date_of_birth_precision", PRECISIONS, problems)
        born = _date(
            raw,
            "date_of_birth",
            "Date of birth",
            problems,
            day_optional=precision in ("month", "year", "estimated"),
            month_optional=precision in ("year", "estimated"),
        )
        _put(pv, "date_of_birth", born.isoformat() if born else None)
        _put(pv, "date_of_birth_precision", precision)
        _put(pv, "age_disputed", _yes_no(raw, "age_disputed", problems))
        codes = []
        for typed in (part.strip() for part in re.split(r"[,;\n]", raw.get("languages") or "")):
            code = language_code(typed) if typed else None
            if typed and code is None:
                problems.add(
                    "languages",
                    f"Languages: we do not recognise “{typed}”. Enter each language's "
                    "English name, such as Vietnamese, or its ISO code, such "
                    "as vi",
                )
            elif code and code not in codes:
                codes.append(code)
        _put(pv, "languages", codes)
        _put(pv, "interpreter_needed", _yes_no(raw, "interpreter_needed", problems))
        _put(pv, "home_office_reference", _text(raw, "home_office_reference"))
        _put(pv, "current_address", _multiline(raw, "current_address"))
        _put(pv, "phone", _text(raw, "phone"))
    referral["potential_victim"] = pv
    return problems


DETAILS_FIELDS = (
    "given_names",
    "family_name",
    "aliases",
    "names_in_original_script",
    *_date_fields("date_of_birth"),
    "date_of_birth_precision",
    "age_disputed",
    "sex",
    "nationality_1",
    "nationality_2",
    "languages",
    "interpreter_needed",
    "home_office_reference",
    "current_address",
    "phone",
)

PAGES = {
    page.slug: page
    for page in (
        Page(
            "reference",
            "What is your reference for this referral?",
            "reference.html",
            ("first_responder_reference",),
            _reference_form,
            _reference_apply,
        ),
        Page("nation", "Where are you making this report?", "nation.html", ("nation",), _nation_form, _nation_apply),
        Page("age", "Is the potential victim under 18?", "age.html", ("age_group",), _age_form, _age_apply),
        Page(
            "local-authority",
            "Which local authority did you contact?",
            "local_authority.html",
            ("local_authority", "contact_name", *_date_fields("contacted_at"), "contacted_time"),
            _local_authority_form,
            _local_authority_apply,
        ),
        Page(
            "consent",
            "Does the potential victim consent to being referred?",
            "consent.html",
            ("consent",),
            _consent_form,
            _consent_apply,
        ),
        Page(
            "situation",
            "Exploitation situation",
            "situation.html",
            (
                "location",
                "uk_towns",
                "countries",
                *_date_fields("started_on"),
                "ongoing",
                *_date_fields("ended_on"),
                "account",
            ),
            _situation_form,
            _situation_apply,
            list_fields=("types", "criminal_subtypes"),
        ),
        Page(
            "indicators",
            "Modern slavery indicators",
            "indicators.html",
            ("indicators",),
            _indicators_form,
            _indicators_apply,
        ),
        Page(
            "police",
            "Have the police been involved?",
            "police.html",
            ("police_force", "crime_reference"),
            _police_form,
            _police_apply,
        ),
        Page(
            "details", "The potential victim's details", "details.html", DETAILS_FIELDS, _details_form, _details_apply
        ),
    )
}
QUESTION_SLUGS = ("reference", "nation", "age", "local-authority", "consent", "indicators", "police", "details")


def journey_sequence(referral: dict) -> list[str]:
    """The pages this referral goes through, in the Home Office form's order; the age answer picks the path."""
    pages = ["reference", "nation", "age"]
    if asks_local_authority_contact(referral):
        pages.append("local-authority")
    elif asks_consent(referral):
        pages.append("consent")
    return pages + ["situations", "indicators", "police", "details"]


def _typed_key(slug: str, number: int | None) -> str:
    return f"{slug}-{number}" if number else slug


def _tidy(answers: dict) -> None:
    """Drop what the current path does not ask: a child has no consent, an adult no local authority contact."""
    referral = answers["referral"]
    forget_answers_not_asked(referral)
    sequence = journey_sequence(referral)
    answers["pages_saved"] = [slug for slug in answers["pages_saved"] if slug in sequence]
    answers["typed"] = {
        key: form for key, form in answers["typed"].items() if key.startswith("situation-") or key in sequence
    }
    answers["summary_name"] = summary_name(referral)


# --- Where each error belongs --------------------------------------------------------------------


@dataclass(frozen=True)
class Located:
    slug: str
    number: int | None  # situation number (1-based) for the exploitation pages
    component: str  # the form component showing the error
    anchor: str  # the input the error summary links to
    message: str


DATE_COMPONENTS = {"contacted_at", "date_of_birth", "started_on", "ended_on"}
DETAIL_COMPONENTS = {
    "given_names": "given_names",
    "family_name": "family_name",
    "aliases": "aliases",
    "names_in_original_script": "names_in_original_script",
    "date_of_birth": "date_of_birth",
    "date_of_birth_precision": "date_of_birth_precision",
    "age_disputed": "age_disputed",
    "sex": "sex",
    "languages": "languages",
    "interpreter_needed": "interpreter_needed",
    "home_office_reference": "home_office_reference",
    "current_address": "current_address",
    "phone": "phone",
}
SITUATION_COMPONENTS = {
    "types",
    "criminal_subtypes",
    "location",
    "uk_towns",
    "countries",
    "started_on",
    "ended_on",
    "ongoing",
    "account",
}

# component → (label naming the field, message when it is missing), in the order the pages show them
LABELS = {
    "first_responder_reference": ("Your reference", "Enter your reference"),
    "nation": ("Where you are making this report", "Select where you are making this report"),
    "age_group": (
        "Whether the potential victim is under 18",
        "Select yes if the potential victim is under 18, no if they are not, or not sure",
    ),
    "local_authority": ("The local authority", "Select the local authority you contacted"),
    "contact_name": ("The name of the person you contacted", "Enter the name of the person you contacted"),
    "contacted_at": (
        "The date and time you contacted the local authority",
        "Enter the date you contacted the local authority",
    ),
    "contacted_time": (
        "The time you contacted the local authority",
        "Enter the time you contacted the local authority",
    ),
    "consent": ("Consent", "Select yes if the potential victim consents to being referred, or no if they do not"),
    "types": ("Type of exploitation", "Select at least one type of exploitation"),
    "criminal_subtypes": ("Kind of criminal exploitation", "Select the kind of criminal exploitation"),
    "location": ("Where the exploitation happened", "Select where the exploitation happened"),
    "uk_towns": ("UK towns or cities", "Enter the UK towns or cities"),
    "countries": ("Countries", "Enter the countries"),
    "started_on": ("The date the exploitation started", "Enter the date the exploitation started"),
    "ongoing": ("Whether the exploitation is still happening", "Select whether the exploitation is still happening"),
    "ended_on": ("The date the exploitation ended", "Enter the date the exploitation ended"),
    "account": ("The account of the exploitation", "Enter the account of the exploitation"),
    "indicators": ("Each indicator", "Enter the indicators"),
    "police_force": ("The police force", "Enter the police force"),
    "crime_reference": ("The crime reference", "Enter the crime reference"),
    "given_names": ("Given names", "Enter the potential victim's given names"),
    "family_name": ("Family name", "Enter the potential victim's family name"),
    "aliases": ("Each other name or nickname", "Enter the other names"),
    "names_in_original_script": ("Name in original script", "Enter the name in its original script"),
    "date_of_birth": ("Date of birth", "Enter the date of birth"),
    "date_of_birth_precision": ("How exact the date of birth is", "Select how exact the date of birth is"),
    "age_disputed": ("Whether the age is disputed", "Select yes if the potential victim's age is disputed"),
    "sex": ("Sex", "Select the potential victim's sex, or not known"),
    "nationality_1": ("Nationality", "Select a nationality"),
    "nationality_2": ("Second nationality", "Select a nationality"),
    "languages": ("Languages", "Enter the languages the potential victim speaks"),
    "interpreter_needed": ("Whether an interpreter is needed", "Select yes if an interpreter is needed"),
    "home_office_reference": ("Home Office reference", "Enter the Home Office reference"),
    "current_address": ("Current address", "Enter the current address"),
    "phone": ("Phone number", "Enter a phone number"),
    "add_another": ("Whether to add another situation", "Select yes if you need to add another exploitation situation"),
}
# Messages written for API callers, said here as the pages ask the question.
PAGE_MESSAGES = {"consent": "Select yes if the potential victim consents to being referred, or no if they do not"}
# How a page words the shared validator's problems, decided by their codes (validation.FieldError), never their
# wording. A missing answer is asked for as the page asks it; a message saying what the field must be is said of
# the field ("Date of birth must be ..."); one that does not name its field follows the field's label; any other
# already says what to fix, and is shown as it is.
MISSING_CODES = frozenset({"missing", "string_too_short", "too_short"})
SAID_OF_THE_FIELD_CODES = frozenset(
    {
        "string_type",
        "string_too_long",
        "bool_type",
        "list_type",
        "model_type",
        "model_attributes_type",
        "dict_type",
        "greater_than_equal",
        "less_than_equal",
        "name_without_letters",
        "date_in_future",
        "time_in_future",
        "ended_before_started",
    }
)
AFTER_THE_LABEL_CODES = frozenset(
    {
        "too_long",
        "string_pattern_mismatch",
        "literal_error",
        "control_characters",
        "invisible_character",
        "date_type",
        "date_parsing",
        "date_from_datetime_parsing",
        "date_from_datetime_inexact",
        "datetime_type",
        "datetime_parsing",
        "datetime_from_date_parsing",
        "timezone_aware",
        "country_code",
        "language_code",
        "local_authority_code",
    }
)


def _page_message(component: str, error: FieldError) -> str:
    """Make the shared validator's message name the field on the page, as GOV.UK error messages do."""
    label, missing = LABELS.get(component, (component.replace("_", " ").capitalize(), error.message))
    message = error.message
    if error.code in MISSING_CODES:
        return missing
    if error.code in SAID_OF_THE_FIELD_CODES:
        return f"{label} {message[0].lower()}{message[1:]}"
    if error.code in AFTER_THE_LABEL_CODES:
        return f"{label}: {message[0].lower()}{message[1:]}"
    return message


def locate(error: FieldError) -> Located:
    """The page and input a contract field path belongs to, such as potential_victim.date_of_birth → details."""
    field = error.field
    parts = field.split(".")
    head, rest = parts[0], parts[1:]
    slug, number, component = "check", None, ""
    if head in ("first_responder_reference", "nation"):
        slug = {"first_responder_reference": "reference"}.get(head, head)
        component = head
    elif head == "local_authority_contact":
        slug = "local-authority"
        component = {"name": "contact_name", "contacted_at": "contacted_at"}.get(
            rest[0] if rest else "", "local_authority"
        )
    elif head == "consent":
        slug, component = "consent", "consent"
    elif head == "exploitation":
        index = int(rest[0]) if rest and rest[0].isdigit() else 0
        field_name = rest[1] if len(rest) > 1 else "types"
        slug, number, component = "situation", index + 1, field_name if field_name in SITUATION_COMPONENTS else "types"
    elif head == "indicators":
        slug, component = "indicators", "indicators"
    elif head == "police":
        slug, component = "police", {"crime_reference": "crime_reference"}.get(rest[0] if rest else "", "police_force")
    elif head in ("potential_victim", "age_group", "sex", "nationalities"):
        # A Duty to Notify body has age_group, sex and nationalities at the top level.
        name = rest[0] if head == "potential_victim" and rest else head
        detail = rest[1:] if head == "potential_victim" else rest
        if name in ("potential_victim", "age_group"):
            slug, component = "age", "age_group"
        elif name == "nationalities":
            index = int(detail[0]) if detail and detail[0].isdigit() else 0
            slug, component = "details", f"nationality_{min(index, 1) + 1}"
        else:
            slug, component = "details", DETAIL_COMPONENTS.get(name, "given_names")
    text = PAGE_MESSAGES.get(field) or _page_message(component, error)
    anchor = f"{component}-day" if component in DATE_COMPONENTS else component
    return Located(slug, number, component, anchor, text)


def _typed_problems(answers: dict, now: dt.datetime) -> list[Located]:
    """What typed input still could not be taken into the body, page by page."""
    found = []
    for key, raw in answers["typed"].items():
        slug, _, number = key.partition("-") if key.startswith("situation-") else (key, "", "")
        page = PAGES.get(slug)
        if page is None:
            continue
        number = int(number) if number else None
        for component, (anchor, message) in page.apply(copy.deepcopy(answers["referral"]), raw, now, number).items():
            found.append(Located(slug, number, component, anchor, message))
    return found


def all_errors(answers: dict, now: dt.datetime) -> list[Located]:
    """Every problem in the draft, typed input first, one per form component, in journey order."""
    found = _typed_problems(answers, now) + [locate(e) for e in validate_answers(answers["referral"], now=now)[1]]
    seen, unique = set(), []
    for err in found:
        if (err.slug, err.number, err.component) not in seen:
            seen.add((err.slug, err.number, err.component))
            unique.append(err)
    order = journey_sequence(answers["referral"])
    position = {slug: i for i, slug in enumerate(order)}
    on_page = {component: i for i, component in enumerate(LABELS)}
    return sorted(
        unique,
        key=lambda e: (
            position.get("situations" if e.slug == "situation" else e.slug, len(order)),
            e.number or 0,
            on_page.get(e.component, len(on_page)),
        ),
    )


# --- Moving through the journey ----------------------------------------------------------------------


def _page_url(draft, slug: str, number: int | None = None, change: bool = False) -> str:
    if slug == "situation":
        target = reverse("web:draft-situation", args=[draft.uuid, number])
    elif slug == "situations":
        target = reverse("web:draft-situations", args=[draft.uuid])
    elif slug == "check":
        return reverse("web:draft-check", args=[draft.uuid])
    else:
        target = reverse("web:draft-page", args=[draft.uuid, slug])
    return f"{target}?change=1" if change else target


def _situation_count(referral: dict) -> int:
    return len(referral.get("exploitation") or [])


def resume_url(draft, answers: dict, now: dt.datetime) -> str:
    """The first page not yet answered or still showing a problem; check your answers when there is none."""
    referral = answers["referral"]
    errors = all_errors(answers, now)
    for slug in journey_sequence(referral):
        if slug == "situations":
            if _situation_count(referral) == 0:
                return _page_url(draft, "situation", 1)
            wrong = [e.number for e in errors if e.slug == "situation"]
            if wrong:
                return _page_url(draft, "situation", min(wrong))
            if "situations" not in answers["pages_saved"]:
                return _page_url(draft, "situations")
        elif slug not in answers["pages_saved"] or any(e.slug == slug for e in errors):
            return _page_url(draft, slug)
    return _page_url(draft, "check")


def _next_url(draft, answers: dict, after: str, change: bool, now: dt.datetime) -> str:
    if change:
        # Back to checking, unless the change opened a page not yet answered (such as a new path after the age answer).
        return resume_url(draft, answers, now)
    sequence = journey_sequence(answers["referral"])
    following = sequence[sequence.index(after) + 1] if after in sequence and after != sequence[-1] else "check"
    if following == "situations" and _situation_count(answers["referral"]) == 0:
        return _page_url(draft, "situation", 1)
    return _page_url(draft, following)


def _back_url(draft, answers: dict, slug: str, change: bool) -> str:
    if change:
        return _page_url(draft, "check")
    sequence = journey_sequence(answers["referral"])
    if slug not in sequence or sequence.index(slug) == 0:
        return reverse("web:home")
    return _page_url(draft, sequence[sequence.index(slug) - 1])


def _guardian_services(referral: dict) -> list:
    if not treated_as_child(referral):
        return []
    return guardian_services_covering((referral.get("local_authority_contact") or {}).get("local_authority", ""))


# --- Views -------------------------------------------------------------------------------------------


def _first_responder_only(view):
    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not has_capability(request.user, Capability.CREATE_REFERRAL):
            raise PermissionDenied("Your role cannot make referrals")
        return view(request, *args, **kwargs)

    return wrapper


def _with_draft(view):
    """Open the user's own draft (anyone else's is 404); a sent draft only shows what it became."""

    @_first_responder_only
    @wraps(view)
    def wrapper(request, draft_id, *args, **kwargs):
        try:
            draft = draft_get(actor=request.user, uuid=draft_id)
        except NotFound:
            sent = request.session.get(SENT_DUTY_TO_NOTIFY, {}).get(str(draft_id))
            if sent:
                return redirect("web:duty-to-notify-sent", sent)
            raise Http404
        if draft.submitted_referral is not None:
            return redirect("web:referral-sent", draft.submitted_referral.uuid)
        try:
            return view(request, draft, *args, **kwargs)
        except NotAllowed:
            # Sent from another tab between reading the draft and saving it: show what it became.
            return redirect("web:draft-resume", draft.uuid)

    return wrapper


def _caption(referral: dict) -> str:
    return "Duty to Notify" if is_duty_to_notify(referral) else "Make a referral"


def _context(draft, answers: dict, title: str, errors: list[Located], **extra) -> dict:
    return {
        "title": title,
        "draft": draft,
        "caption": _caption(answers["referral"]),
        "choices": _choices(),
        "errors": [{"text": e.message, "href": f"#{e.anchor}"} for e in errors],
        "error_messages": {e.component: {"text": e.message} for e in errors},
        "duty_to_notify": is_duty_to_notify(answers["referral"]),
        **extra,
    }


def _date_items(form: dict, error_messages: dict) -> Callable[[str], list[dict]]:
    def items(prefix: str) -> list[dict]:
        error = " govuk-input--error" if prefix in error_messages else ""
        return [
            {
                "name": part,
                "label": part.capitalize(),
                "classes": f"{width}{error}",
                "value": form.get(f"{prefix}-{part}", ""),
            }
            for part, width in (
                ("day", "govuk-input--width-2"),
                ("month", "govuk-input--width-2"),
                ("year", "govuk-input--width-4"),
            )
        ]

    return items


def _question(request, draft, slug: str, number: int | None = None):
    """One question page: show it; on POST save the draft whatever was typed, then move on or show the problems."""
    page = PAGES[slug]
    answers = _answers(draft)
    referral = answers["referral"]
    change = request.GET.get("change") == "1"
    now = timezone.now()
    key = _typed_key(slug, number)
    sequence_slug = "situations" if slug == "situation" else slug
    if sequence_slug not in journey_sequence(referral):
        return redirect(resume_url(draft, answers, now))
    if request.method == "POST":
        form = page.read(request.POST)
        problems = page.apply(referral, form, now, number)
        if problems:
            answers["typed"][key] = form
        else:
            answers["typed"].pop(key, None)
        if slug != "situation" and slug not in answers["pages_saved"]:
            answers["pages_saved"].append(slug)
        _tidy(answers)
        draft = draft_save(actor=request.user, draft=draft, answers=answers)
        errors = [e for e in all_errors(answers, now) if (e.slug, e.number) == (slug, number)]
        if not errors:
            return redirect(_after_question(draft, answers, slug, number, change, now))
    else:
        typed = answers["typed"].get(key)
        form = typed or page.to_form(referral, number)
        answered = (
            slug in answers["pages_saved"] or (slug == "situation" and number <= _situation_count(referral)) or typed
        )
        errors = [e for e in all_errors(answers, now) if (e.slug, e.number) == (slug, number)] if answered else []
    title = f"Exploitation situation {number}" if slug == "situation" else page.title
    if slug == "details" and is_duty_to_notify(referral):
        title = "About the person"
    context = _context(
        draft,
        answers,
        title,
        errors,
        form=form,
        change=change,
        number=number,
        back_url=_page_url(draft, "situations")
        if slug == "situation" and _situation_count(referral) and not change
        else _back_url(draft, answers, sequence_slug, change),
    )
    context["date_items"] = _date_items(form, context["error_messages"])
    if slug == "local-authority":
        context["guardian_services"] = guardian_services_covering(form.get("local_authority") or "")
    return render(request, f"referrals/journey/{page.template}", context)


def _after_question(draft, answers: dict, slug: str, number: int | None, change: bool, now) -> str:
    referral = answers["referral"]
    if slug == "local-authority" and _guardian_services(referral):
        return _page_url(draft, "guardian", change=change)
    if slug == "consent" and is_duty_to_notify(referral):
        return _page_url(draft, "not-referred", change=change)
    if slug == "situation":
        return _page_url(draft, "situations", change=change)
    return _next_url(draft, answers, slug, change, now)


@require_http_methods(["GET", "POST"])
@_first_responder_only
def referral_start(request):
    if request.method == "POST":
        draft = draft_start(actor=request.user)
        return redirect(_page_url(draft, "reference"))
    return render(request, "referrals/journey/start.html", {"title": "Make a referral"})


@require_http_methods(["GET"])
@_with_draft
def draft_resume(request, draft):
    return redirect(resume_url(draft, _answers(draft), timezone.now()))


@require_http_methods(["GET", "POST"])
@_with_draft
def question_page(request, draft, slug: str):
    if slug in QUESTION_SLUGS:
        return _question(request, draft, slug)
    answers = _answers(draft)
    referral = answers["referral"]
    change = request.GET.get("change") == "1"
    now = timezone.now()
    # Two pages that only tell the user something and let them go on; neither saves anything.
    if slug == "guardian" and request.method == "GET" and _guardian_services(referral):
        return render(
            request,
            "referrals/journey/guardian.html",
            _context(
                draft,
                answers,
                "Refer the child to an Independent Child Trafficking Guardian",
                [],
                services=_guardian_services(referral),
                back_url=_page_url(draft, "local-authority", change=change),
                continue_url=_next_url(draft, answers, "local-authority", change, now),
            ),
        )
    if slug == "not-referred" and request.method == "GET" and is_duty_to_notify(referral):
        return render(
            request,
            "referrals/journey/not_referred.html",
            _context(
                draft,
                answers,
                "An adult who does not consent is not referred",
                [],
                back_url=_page_url(draft, "consent", change=change),
                continue_url=_next_url(draft, answers, "consent", change, now),
            ),
        )
    raise Http404


@require_http_methods(["GET", "POST"])
@_with_draft
def situation_page(request, draft, number: int):
    count = _situation_count(_answers(draft)["referral"])
    if not 1 <= number <= min(count + 1, MAX_SITUATIONS):
        raise Http404
    return _question(request, draft, "situation", number)


@require_http_methods(["GET", "POST"])
@_with_draft
def situations_page(request, draft):
    """The exploitation situations so far, each to change or remove, and whether to add another."""
    answers = _answers(draft)
    referral = answers["referral"]
    change = request.GET.get("change") == "1"
    now = timezone.now()
    if "situations" not in journey_sequence(referral):
        return redirect(resume_url(draft, answers, now))
    count = _situation_count(referral)
    if count == 0:
        return redirect(_page_url(draft, "situation", 1))
    add_another = request.POST.get("add_another", "") if request.method == "POST" else ""
    errors, error_messages = [], {}
    if request.method == "POST":
        if add_another == "yes" and count < MAX_SITUATIONS:
            return redirect(_page_url(draft, "situation", count + 1, change=change))
        if add_another == "no" or count >= MAX_SITUATIONS:
            # Going on is refused while a situation still has a problem; each links to its own page.
            errors = [
                {
                    "text": f"Situation {e.number}: {e.message}",
                    "href": f"{_page_url(draft, 'situation', e.number)}#{e.anchor}",
                }
                for e in all_errors(answers, now)
                if e.slug == "situation"
            ]
            if not errors:
                if "situations" not in answers["pages_saved"]:
                    answers["pages_saved"].append("situations")
                    draft_save(actor=request.user, draft=draft, answers=answers)
                return redirect(_next_url(draft, answers, "situations", change, now))
        else:
            message = LABELS["add_another"][1]
            errors, error_messages = [{"text": message, "href": "#add_another"}], {"add_another": {"text": message}}
    context = _context(
        draft,
        answers,
        "Exploitation situations",
        [],
        change=change,
        add_another=add_another,
        situations=[_situation_card(draft, referral, n) for n in range(1, count + 1)],
        can_add=count < MAX_SITUATIONS,
        back_url=_back_url(draft, answers, "situations", change),
    )
    context.update(errors=errors, error_messages=error_messages)
    return render(request, "referrals/journey/situations.html", context)


@require_http_methods(["GET", "POST"])
@_with_draft
def situation_remove(request, draft, number: int):
    answers = _answers(draft)
    referral = answers["referral"]
    if not 1 <= number <= _situation_count(referral):
        raise Http404
    change = request.GET.get("change") == "1"
    if request.method == "POST":
        referral["exploitation"].pop(number - 1)
        # Typed input follows its situation down the list.
        typed = answers["typed"]
        typed.pop(f"situation-{number}", None)
        for later in range(number + 1, MAX_SITUATIONS + 2):
            if f"situation-{later}" in typed:
                typed[f"situation-{later - 1}"] = typed.pop(f"situation-{later}")
        _tidy(answers)
        draft_save(actor=request.user, draft=draft, answers=answers)
        messages.success(request, f"Exploitation situation {number} removed")
        return redirect(_page_url(draft, "check") if change else _page_url(draft, "situations"))
    return render(
        request,
        "referrals/journey/situation_remove.html",
        _context(
            draft,
            answers,
            f"Remove exploitation situation {number}",
            [],
            number=number,
            card=_situation_card(draft, referral, number, actions=False),
            change=change,
            back_url=_page_url(draft, "check") if change else _page_url(draft, "situations"),
        ),
    )


# --- Check your answers and sending --------------------------------------------------------------


def _not_given(value) -> str:
    return value if value not in (None, "", []) else "Not given"


def _lines_html(values):
    return (
        format_html_join("", "{}<br>", ((v,) for v in values[:-1])) + format_html("{}", values[-1])
        if values
        else "Not given"
    )


def _row(key: str, value, href: str, hidden: str, html: bool = False) -> dict:
    row = {"key": {"text": key}, "value": {"html": value} if html else {"text": _not_given(value)}}
    row["actions"] = {"items": [{"href": href, "text": "Change", "visuallyHiddenText": hidden}]}
    return row


def _yes_no_text(value) -> str:
    return {True: "Yes", False: "No"}.get(value, "Not given")


def _situation_card(draft, referral: dict, number: int, actions: bool = True) -> dict:
    item = _situation(referral, number)
    href = _page_url(draft, "situation", number) + "?change=1"
    rows = [
        _row(
            "Type of exploitation",
            ", ".join(EXPLOITATION_TYPES.get(t, t) for t in item.get("types", [])),
            href,
            "type of exploitation",
        )
    ]
    if "criminal" in item.get("types", []):
        rows.append(
            _row(
                "Kind of criminal exploitation",
                ", ".join(CRIMINAL_SUBTYPES.get(s, s) for s in item.get("criminal_subtypes", [])),
                href,
                "kind of criminal exploitation",
            )
        )
    rows += [
        _row("Where", LOCATIONS.get(item.get("location"), ""), href, "where the exploitation happened"),
        _row("UK towns or cities", ", ".join(item.get("uk_towns", [])), href, "UK towns or cities"),
        _row("Countries", ", ".join(countries().get(c, c) for c in item.get("countries", [])), href, "countries"),
        _row("Started", london_date(item.get("started_on")), href, "when the exploitation started"),
        _row(
            "Still happening",
            ONGOING.get({True: "yes", False: "no"}.get(item.get("ongoing"), "unknown")),
            href,
            "whether the exploitation is still happening",
        ),
    ]
    if item.get("ongoing") is not True:
        rows.append(_row("Ended", london_date(item.get("ended_on")), href, "when the exploitation ended"))
    rows.append(
        _row(
            "Account",
            _lines_html((item.get("account") or "").split("\n")) if item.get("account") else "Not given",
            href,
            "account",
            html=True,
        )
    )
    card = {"title": {"text": f"Situation {number}"}}
    if actions:
        remove = reverse("web:draft-situation-remove", args=[draft.uuid, number])
        card["actions"] = {
            "items": [
                {"href": href, "text": "Change", "visuallyHiddenText": f"situation {number}"},
                {"href": remove, "text": "Remove", "visuallyHiddenText": f"situation {number}"},
            ]
        }
    if not actions:
        for row in rows:
            row.pop("actions")
    return {"card": card, "rows": rows}


def _summary(draft, referral: dict) -> list[dict]:
    """Check your answers: one section per part of the journey, each row with a Change link to its page."""
    dtn = is_duty_to_notify(referral)
    pv = potential_victim_of(referral)

    def href(slug):
        return _page_url(draft, slug, change=True)

    age_text = {"unknown": "Not sure (treated as a child)"}.get(
        pv.get("age_group"), AGE_GROUPS.get(pv.get("age_group"), "")
    )
    sections = [
        {
            "title": "About the report",
            "rows": [
                _row("Your reference", referral.get("first_responder_reference"), href("reference"), "your reference"),
                _row(
                    "Where you are making this report",
                    NATIONS.get(referral.get("nation"), ""),
                    href("nation"),
                    "where you are making this report",
                ),
                _row("Under 18", age_text, href("age"), "whether the potential victim is under 18"),
            ],
        }
    ]
    if asks_local_authority_contact(referral):
        contact = referral.get("local_authority_contact") or {}
        sections.append(
            {
                "title": "Local authority contacted",
                "rows": [
                    _row(
                        "Local authority",
                        local_authority_name(contact["local_authority"]) if contact.get("local_authority") else "",
                        href("local-authority"),
                        "local authority",
                    ),
                    _row("Person contacted", contact.get("name"), href("local-authority"), "person contacted"),
                    _row(
                        "When",
                        london_datetime(contact.get("contacted_at")),
                        href("local-authority"),
                        "when you contacted the local authority",
                    ),
                ],
            }
        )
    elif asks_consent(referral):
        consent = referral.get("consent") or {}
        text = {
            True: f"Yes, recorded {london_datetime(consent.get('recorded_at'))}",
            False: "No: a Duty to Notify is sent instead of a referral",
        }
        sections.append(
            {
                "title": "Consent",
                "rows": [
                    _row("Consents to being referred", text.get(consent.get("given"), ""), href("consent"), "consent")
                ],
            }
        )
    sections.append(
        {
            "title": "Exploitation",
            "cards": [_situation_card(draft, referral, n) for n in range(1, _situation_count(referral) + 1)],
            "add_url": _page_url(draft, "situation", _situation_count(referral) + 1) + "?change=1"
            if _situation_count(referral) < MAX_SITUATIONS
            else None,
        }
    )
    indicators = referral.get("indicators") or []
    police = referral.get("police") or {}
    sections.append(
        {
            "title": "Indicators and police",
            "rows": [
                _row("Modern slavery indicators", _lines_html(indicators), href("indicators"), "indicators", html=True),
                _row("Police force", police.get("force"), href("police"), "police force"),
                _row("Crime reference", police.get("crime_reference"), href("police"), "crime reference"),
            ],
        }
    )
    nationalities = ", ".join(countries().get(c, c) for c in pv.get("nationalities") or [])
    if dtn:
        sections.append(
            {
                "title": "About the person",
                "rows": [
                    _row("Sex", SEXES.get(pv.get("sex"), ""), href("details"), "sex"),
                    _row("Nationality", nationalities, href("details"), "nationality"),
                ],
            }
        )
        return sections
    born = london_date(pv.get("date_of_birth"))
    if born and pv.get("date_of_birth_precision"):
        born = f"{born} ({PRECISIONS[pv['date_of_birth_precision']].lower()})"
    original = pv.get("names_in_original_script")
    sections.append(
        {
            "title": "The potential victim",
            "rows": [
                _row("Given names", pv.get("given_names"), href("details"), "given names"),
                _row("Family name", pv.get("family_name"), href("details"), "family name"),
                _row("Other names or nicknames", ", ".join(pv.get("aliases") or []), href("details"), "other names"),
                _row(
                    "Name in original script",
                    format_html('<span class="opennrm-original-script" dir="auto">{}</span>', original)
                    if original
                    else "Not given",
                    href("details"),
                    "name in original script",
                    html=True,
                ),
                _row("Date of birth", born, href("details"), "date of birth"),
                _row(
                    "Age disputed", _yes_no_text(pv.get("age_disputed")), href("details"), "whether the age is disputed"
                ),
                _row("Sex", SEXES.get(pv.get("sex"), ""), href("details"), "sex"),
                _row("Nationality", nationalities, href("details"), "nationality"),
                _row(
                    "Languages",
                    ", ".join(languages().get(c, c) for c in pv.get("languages") or []),
                    href("details"),
                    "languages",
                ),
                _row(
                    "Interpreter needed",
                    _yes_no_text(pv.get("interpreter_needed")),
                    href("details"),
                    "whether an interpreter is needed",
                ),
                _row(
                    "Home Office reference", pv.get("home_office_reference"), href("details"), "Home Office reference"
                ),
                _row(
                    "Current address",
                    _lines_html(pv["current_address"].split("\n")) if pv.get("current_address") else "Not given",
                    href("details"),
                    "current address",
                    html=True,
                ),
                _row("Phone number", pv.get("phone"), href("details"), "phone number"),
            ],
        }
    )
    return sections


@require_http_methods(["GET", "POST"])
@_with_draft
def check_answers(request, draft):
    """Check your answers, then send: the whole body is checked again and any problem links to its page."""
    answers = _answers(draft)
    referral = answers["referral"]
    now = timezone.now()
    dtn = is_duty_to_notify(referral)
    errors = []
    if request.method == "POST":
        errors = all_errors(answers, now)
        if not errors:
            try:
                if dtn:
                    return _send_duty_to_notify(request, draft, now)
                sent = referral_send(actor=request.user, draft=draft, now=now)
                return redirect("web:referral-sent", sent.uuid)
            except Invalid as exc:
                errors = [locate(e) for e in exc.errors]
    context = _context(
        draft,
        answers,
        "Check your answers before sending the " + ("Duty to Notify" if dtn else "referral"),
        [],
        sections=_summary(draft, referral),
        guardian_services=_guardian_services(referral),
        back_url=_page_url(draft, journey_sequence(referral)[-1]),
    )
    context["errors"] = [
        {
            "text": f"Situation {e.number}: {e.message}" if e.number else e.message,
            "href": f"{_page_url(draft, e.slug, e.number, change=True)}#{e.anchor}" if e.slug != "check" else "#send",
        }
        for e in errors
    ]
    return render(request, "referrals/journey/check.html", context)


def _send_duty_to_notify(request, draft, now):
    try:
        report = duty_to_notify_send(actor=request.user, draft_uuid=draft.uuid, now=now)
    except NotFound:
        messages.info(request, "This Duty to Notify has already been sent")
        return redirect("web:home")
    # The draft is gone: remember what it became, so that a second click lands on the confirmation.
    sent = request.session.get(SENT_DUTY_TO_NOTIFY, {})
    sent[str(draft.uuid)] = str(report.uuid)
    request.session[SENT_DUTY_TO_NOTIFY] = sent
    return redirect("web:duty-to-notify-sent", report.uuid)


@require_http_methods(["GET", "POST"])
@_with_draft
def draft_delete(request, draft):
    answers = _answers(draft)
    if request.method == "POST":
        draft_discard(actor=request.user, draft=draft)
        messages.success(request, "The draft referral has been deleted")
        return redirect("web:home")
    return render(
        request,
        "referrals/journey/delete.html",
        _context(
            draft,
            answers,
            "Delete this draft referral",
            [],
            name=answers.get("summary_name"),
            back_url=resume_url(draft, answers, timezone.now()),
        ),
    )


@require_http_methods(["GET"])
@_first_responder_only
def referral_sent(request, referral_id):
    try:
        referral = referral_open(actor=request.user, uuid=referral_id, purpose="confirmation")
    except NotFound:
        raise Http404
    services = guardian_services_covering(referral.local_authority) if referral.is_child else []
    return render(
        request,
        "referrals/journey/referral_sent.html",
        {"title": f"Referral {referral.reference} sent", "referral": referral, "guardian_services": services},
    )


@require_http_methods(["GET"])
@_first_responder_only
def duty_to_notify_sent(request, report_id):
    try:
        report = duty_to_notify_open(actor=request.user, uuid=report_id)
    except NotFound:
        raise Http404
    return render(
        request,
        "referrals/journey/duty_to_notify_sent.html",
        {"title": f"Duty to Notify {report.reference} sent", "report": report},
    )
