"""Checking a referral or Duty to Notify body: every problem at once, each naming its field.

The API, the pages and `opennrm import` all use these functions, so a rule holds everywhere.
"""

import datetime as dt
import json
import re
from typing import Any

from pydantic import BaseModel, ValidationError

from opennrm.core.errors import FieldError  # the field errors of the application's Invalid (core/errors.py)
from opennrm.policy import CHILD_AGE_GROUPS

from .schemas import DutyToNotifyIn, ImportLine, ReferralIn, name_problem

# Identifying fields a Duty to Notify must never carry (MSA 2015 s.52(3)).
IDENTIFYING_FIELDS = (
    "given_names",
    "family_name",
    "aliases",
    "names_in_original_script",
    "name",
    "date_of_birth",
    "current_address",
    "address",
    "phone",
    "home_office_reference",
    "potential_victim",
)
MAX_AGE_YEARS = 120
# A referral nests 4 deep; far deeper input is refused before anything walks it.
MAX_JSON_DEPTH = 20
# A time "in the future" by less than this is the sender's clock, not a mistake.
CLOCK_SKEW = dt.timedelta(minutes=5)
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _choices(expected: str) -> str:
    # pydantic gives "'female', 'male', 'other' or 'unknown'"
    return expected.replace("'", "")


_MESSAGES = {
    "missing": "This field is required",
    "extra_forbidden": "Unknown field: remove it (check the spelling against the API documentation)",
    "string_type": "Must be text",
    "string_too_short": "Must not be empty: leave the field out, or set it to null, if there is nothing to give",
    "string_too_long": "Must be {max_length} characters or fewer",
    "string_pattern_mismatch": "Contains characters that are not allowed here",
    "bool_type": "Must be true or false",
    "list_type": "Must be a list",
    "model_type": "Must be an object",
    "model_attributes_type": "Must be an object",
    "dict_type": "Must be an object",
    "date_type": "Enter a date as YYYY-MM-DD",
    "date_parsing": "Enter a real date as YYYY-MM-DD",
    "date_from_datetime_parsing": "Enter a real date as YYYY-MM-DD",
    "date_from_datetime_inexact": "Enter a date as YYYY-MM-DD, without a time",
    "datetime_type": "Enter a date and time in ISO 8601 with a UTC offset, such as 2026-11-27T10:15:00Z",
    "datetime_parsing": "Enter a real date and time in ISO 8601 with a UTC offset, such as 2026-11-27T10:15:00Z",
    "datetime_from_date_parsing": "Enter a real date and time in ISO 8601 with a UTC offset, such as 2026-11-27T10:15:00Z",
    "timezone_aware": "Include a UTC offset (Z or +01:00, for example)",
    "int_type": "Enter a whole number",
    "int_parsing": "Enter a whole number",
    "greater_than_equal": "Must be {ge} or more",
    "less_than_equal": "Must be {le} or less",
}

_FIELD_MESSAGES = {
    "nation": "Choose ENG, WLS, SCT or NIR",
    "home_office_reference": "Enter the Home Office reference as letters, digits, / and - only",
}


def error_message(err: dict) -> str:
    """A pydantic error as a message that says what to fix (the API's query parameters use it too)."""
    kind = err["type"]
    loc = err["loc"]
    last = next((p for p in reversed(loc) if isinstance(p, str)), "")
    ctx = err.get("ctx") or {}
    if kind in ("string_pattern_mismatch", "literal_error") and last in _FIELD_MESSAGES:
        return _FIELD_MESSAGES[last]
    if kind == "literal_error":
        return f"Choose {_choices(ctx.get('expected', ''))}"
    if kind == "too_short":
        return "Give at least one" if ctx.get("min_length") == 1 else f"Give at least {ctx.get('min_length')}"
    if kind == "too_long":
        return f"Give at most {ctx.get('max_length')}"
    if kind in _MESSAGES:
        return _MESSAGES[kind].format(**ctx)
    return err["msg"]


# Where a field has its own message for a kind of problem, it has its own code for it too.
_FIELD_CODES = {"home_office_reference": "home_office_reference_format"}


def error_code(err: dict) -> str:
    """A pydantic error's code: its type, made as particular as its message (see FieldError)."""
    kind = err["type"]
    last = next((p for p in reversed(err["loc"]) if isinstance(p, str)), "")
    if kind in ("string_pattern_mismatch", "literal_error") and last in _FIELD_CODES:
        return _FIELD_CODES[last]
    if kind == "too_short" and (err.get("ctx") or {}).get("min_length") != 1:
        return "too_few"
    return kind


def _path(loc: tuple) -> str:
    return ".".join(str(p) for p in loc)


def pydantic_errors(exc: ValidationError) -> list[FieldError]:
    errors = []
    for err in exc.errors(include_url=False):
        loc = err["loc"]
        # Strict JSON mode tags union members; drop the tags so the path stays the contract's.
        loc = tuple(p for p in loc if not (isinstance(p, str) and (p.endswith("]") or p in {"none", "nullable"})))
        errors.append(FieldError(_path(loc) or "body", error_message(err), error_code(err)))
    return errors


def _without_lone_surrogates(value: Any, path: tuple, found: list[FieldError]) -> Any:
    """`value` with each unpaired surrogate (a lone \\ud800 escape) replaced, noting where each was.

    pydantic's JSON parser refuses them for the whole body at once; replacing them lets every other
    error be found too, and the noted ones name their own field.
    """
    if isinstance(value, str):
        lone = _LONE_SURROGATE.search(value)
        if lone is None:
            return value
        code = ord(lone.group())
        found.append(
            FieldError(
                _path(path) or "body",
                f"Remove the unpaired surrogate U+{code:04X}: text must be valid Unicode",
                "unpaired_surrogate",
            )
        )
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_without_lone_surrogates(v, (*path, i), found) for i, v in enumerate(value)]
    if isinstance(value, dict):
        clean = {}
        for key, v in value.items():
            # A key with a surrogate is an unknown field: pydantic names it, under the cleaned name.
            key = _LONE_SURROGATE.sub("\ufffd", key)
            clean[key] = _without_lone_surrogates(v, (*path, key), found)
        return clean
    return value


def too_deep(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether lists and objects nest deeper than `limit` (checked without recursion, so any depth is safe)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > limit:
                return True
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return False


TOO_DEEP = FieldError(
    "body",
    f"The body nests lists and objects more than {MAX_JSON_DEPTH} levels deep; a referral needs no more than 4",
    "too_deep",
)


def _parse(model: type[BaseModel], data: Any) -> tuple[BaseModel | None, list[FieldError]]:
    if not isinstance(data, dict):
        return None, [FieldError("body", "The body must be a JSON object", "not_an_object")]
    if too_deep(data):
        return None, [TOO_DEEP]
    surrogates: list[FieldError] = []
    data = _without_lone_surrogates(data, (), surrogates)
    try:
        parsed, errors = model.model_validate_json(json.dumps(data), strict=True), []
    except ValidationError as exc:
        parsed, errors = None, pydantic_errors(exc)
    # One message a field: where pydantic already objects (an unknown field, a wrong code) that is enough.
    named = {e.field for e in errors}
    errors += [e for e in surrogates if e.field not in named]
    return (None if errors else parsed), errors


def _get(data: Any, *path, default=None):
    for key in path:
        if isinstance(data, dict):
            data = data.get(key)
        elif isinstance(data, list) and isinstance(key, int) and 0 <= key < len(data):
            data = data[key]
        else:
            return default
    return default if data is None else data


def _as_date(value) -> dt.date | None:
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _as_datetime(value) -> dt.datetime | None:
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else None
    return None


def age_on(dob: dt.date, day: dt.date) -> int:
    """Age in whole years on `day` of a person born on `dob`."""
    return day.year - dob.year - ((day.month, day.day) < (dob.month, dob.day))


def _exploitation_rules(items: Any, today: dt.date) -> list[FieldError]:
    errors = []
    for i, item in enumerate(items if isinstance(items, list) else []):
        if not isinstance(item, dict):
            continue
        base = f"exploitation.{i}"
        types = item.get("types") if isinstance(item.get("types"), list) else []
        if item.get("criminal_subtypes") and "criminal" not in types:
            errors.append(
                FieldError(
                    f"{base}.criminal_subtypes",
                    "Give criminal exploitation subtypes only when the types include criminal",
                    "subtypes_without_criminal",
                )
            )
        if isinstance(types, list) and len(types) != len(set(map(str, types))):
            errors.append(FieldError(f"{base}.types", "Give each type once", "repeated"))
        started, ended = _as_date(item.get("started_on")), _as_date(item.get("ended_on"))
        for name, value in (("started_on", started), ("ended_on", ended)):
            if value and value > today:
                errors.append(FieldError(f"{base}.{name}", "Must be today or in the past", "date_in_future"))
        if started and ended and ended < started:
            errors.append(
                FieldError(
                    f"{base}.ended_on", "Must be on or after the date the exploitation started", "ended_before_started"
                )
            )
        if item.get("ongoing") is True and item.get("ended_on") is not None:
            errors.append(
                FieldError(
                    f"{base}.ended_on",
                    "Leave out the end date when the exploitation is ongoing, or set ongoing to false",
                    "ended_while_ongoing",
                )
            )
        location = item.get("location")
        # Shapes are pydantic's to report; these rules only compare lists that are lists.
        countries = item.get("countries") if isinstance(item.get("countries"), list) else []
        if location == "uk" and [c for c in countries if c != "GBR"]:
            errors.append(
                FieldError(
                    f"{base}.countries",
                    "The location is the UK only: remove the overseas countries, or choose UK and overseas",
                    "countries_outside_location",
                )
            )
        if location == "overseas" and item.get("uk_towns"):
            errors.append(
                FieldError(
                    f"{base}.uk_towns",
                    "The location is overseas only: remove the UK towns, or choose UK and overseas",
                    "uk_towns_outside_location",
                )
            )
    return errors


def _identity_rules(pv: dict, today: dt.date) -> list[FieldError]:
    errors = []
    age_group = pv.get("age_group")
    # A name written only in the person's own script is still a name; one that is not a name (blank, invisible) is none.
    aliases = pv.get("aliases") if isinstance(pv.get("aliases"), list) else []
    names = [pv.get("given_names"), pv.get("family_name"), pv.get("names_in_original_script"), *aliases]
    if not any(isinstance(name, str) and name_problem(name) is None for name in names):
        errors.append(
            FieldError(
                "potential_victim.given_names",
                "Enter a name, or at least one alias or nickname the person is known by",
                "no_name",
            )
        )
    dob = _as_date(pv.get("date_of_birth"))
    if dob:
        if dob > today:
            errors.append(
                FieldError("potential_victim.date_of_birth", "The date of birth must be in the past", "born_in_future")
            )
        elif age_on(dob, today) > MAX_AGE_YEARS:
            errors.append(
                FieldError(
                    "potential_victim.date_of_birth",
                    f"The date of birth is more than {MAX_AGE_YEARS} years ago: check the year",
                    "born_too_long_ago",
                )
            )
        elif (
            age_group == "adult"
            and pv.get("date_of_birth_precision") in ("day", "month", None)
            and age_on(dob, today) < 18
        ):
            errors.append(
                FieldError(
                    "potential_victim.age_group",
                    "The date of birth makes them under 18: a person who may be "
                    "a child must be referred as a child (answer yes or not sure)",
                    "adult_under_18",
                )
            )
    if pv.get("date_of_birth_precision") and not pv.get("date_of_birth"):
        errors.append(
            FieldError(
                "potential_victim.date_of_birth",
                "Enter the date of birth, or leave out its precision",
                "precision_without_date",
            )
        )
    return errors


def _referral_rules(data: dict, *, now: dt.datetime) -> list[FieldError]:
    today = now.date()
    errors: list[FieldError] = []
    pv = data.get("potential_victim") if isinstance(data.get("potential_victim"), dict) else {}
    age_group = pv.get("age_group")
    consent = data.get("consent")
    if age_group in CHILD_AGE_GROUPS:
        if data.get("local_authority_contact") is None:
            errors.append(
                FieldError(
                    "local_authority_contact",
                    "Give the local authority you contacted: you must contact the local authority to safeguard a child before referring",
                    "local_authority_contact_required",
                )
            )
        if consent is not None:
            errors.append(
                FieldError(
                    "consent",
                    "Leave out consent: a child, or a person who may be a child, is referred without consent",
                    "consent_for_child",
                )
            )
    elif age_group == "adult":
        if consent is None:
            errors.append(
                FieldError(
                    "consent",
                    "Record the adult's consent to the referral (given: true); "
                    "an adult who does not consent is reported through Duty to "
                    "Notify instead",
                    "consent_required",
                )
            )
        elif isinstance(consent, dict) and consent.get("given") is False:
            errors.append(
                FieldError(
                    "consent.given",
                    "An adult who does not consent is not referred: send a Duty to Notify (POST /api/v1/duty-to-notify) instead",
                    "consent_refused",
                )
            )
    for path in (("local_authority_contact", "contacted_at"), ("consent", "recorded_at")):
        when = _as_datetime(_get(data, *path))
        if when and when > now + CLOCK_SKEW:
            errors.append(FieldError(".".join(path), "Must not be in the future", "time_in_future"))
    errors += _identity_rules(pv, today)
    errors += _exploitation_rules(data.get("exploitation"), today)
    return errors


def _merge(*lists: list[FieldError]) -> list[FieldError]:
    seen, merged = set(), []
    for err in (e for lst in lists for e in lst):
        if err not in seen:
            seen.add(err)
            merged.append(err)
    return merged


def validate_referral(data: Any, *, now: dt.datetime) -> tuple[ReferralIn | None, list[FieldError]]:
    parsed, errors = _parse(ReferralIn, data)
    if isinstance(data, dict):
        errors = _merge(errors, _referral_rules(data, now=now))
    return (parsed if not errors else None), errors


def validate_import_line(data: Any, *, now: dt.datetime) -> tuple[ImportLine | None, list[FieldError]]:
    parsed, errors = _parse(ImportLine, data)
    if isinstance(data, dict):
        received = _as_datetime(data.get("received_at"))
        # Historic referrals are checked against the day they were received, not today.
        rules_now = min(now, received) if received else now
        errors = _merge(errors, _referral_rules(data, now=rules_now))
        if received and received > now + CLOCK_SKEW:
            errors.append(FieldError("received_at", "Must not be in the future", "time_in_future"))
    return (parsed if not errors else None), errors


def potential_victim_of(referral: dict) -> dict:
    """The potential victim's answers in a (draft) referral body, or none."""
    value = referral.get("potential_victim")
    return value if isinstance(value, dict) else {}


# --- What a referral asks, by the person's age (nrm.md 1.3) -----------------------------------------
#
# A child, or a person who may be a child (presumption of age, MSA 2015 s.51), is referred without consent, and
# only after the local authority has been contacted to safeguard them. An adult must consent to being referred.
# The same rules are checked in _referral_rules; these say which answers a referral body asks for.


def treated_as_child(referral: dict) -> bool:
    """Whether the person is referred as a child: under 18, or not known not to be (presumption of age)."""
    return potential_victim_of(referral).get("age_group") in CHILD_AGE_GROUPS


def asks_local_authority_contact(referral: dict) -> bool:
    """Whether the referral needs the local authority contacted: a child is safeguarded first, then referred."""
    return treated_as_child(referral)


def asks_consent(referral: dict) -> bool:
    """Whether the person is asked to consent to being referred: an adult is; a child is referred without."""
    return potential_victim_of(referral).get("age_group") == "adult"


def forget_answers_not_asked(referral: dict) -> None:
    """Drop from a referral body the answers its age does not ask for (a child's consent, an adult's local
    authority contact), so that an age answer changed later leaves nothing behind that the rules refuse."""
    if not asks_consent(referral):
        referral.pop("consent", None)
    if not asks_local_authority_contact(referral):
        referral.pop("local_authority_contact", None)


def consent_answer(previous: Any, *, given: bool, now: dt.datetime) -> dict:
    """The consent to keep for a yes or no: the time it was first recorded stays while the answer does (a re-saved
    answer is not a new consent); a new or changed answer is recorded now."""
    previous = previous if isinstance(previous, dict) else {}
    recorded_at = previous.get("recorded_at") if previous.get("given") is given else None
    return {"given": given, "recorded_at": recorded_at or now.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")}


# --- A Duty to Notify made from a referral's answers (nrm.md 1.3) -----------------------------------
#
# An adult must consent to being referred. When they say no, a public authority in England and Wales must
# still notify the Home Office (Modern Slavery Act 2015 s.52), but the notification may not identify them
# (s.52(3)). The pages ask one set of questions; these rules say what the answers make, and what of them is sent.

# What a Duty to Notify carries of a referral body's answers, in the body's order: about the report, what the
# person is (never who), and what happened to them. Nothing else is taken, so nothing identifying can slip in.
DUTY_TO_NOTIFY_REPORT_FIELDS = ("nation", "first_responder_reference")
DUTY_TO_NOTIFY_PERSON_FIELDS = ("age_group", "sex", "nationalities")
DUTY_TO_NOTIFY_SITUATION_FIELDS = ("exploitation", "indicators", "police")


def is_duty_to_notify(referral: dict) -> bool:
    """Whether a referral body's answers make a Duty to Notify: an adult who has said no to being referred."""
    consent = referral.get("consent")
    return (
        potential_victim_of(referral).get("age_group") == "adult"
        and isinstance(consent, dict)
        and consent.get("given") is False
    )


def may_identify(referral: dict) -> bool:
    """Whether these answers may hold details that identify the person (names, date of birth, languages,
    address, phone, references): not when they make a Duty to Notify (MSA 2015 s.52(3))."""
    return not is_duty_to_notify(referral)


def duty_to_notify_answers(referral: dict) -> dict:
    """The Duty to Notify body made of a referral body's answers: only those that cannot identify the person
    (MSA 2015 s.52(3)), each left out when not given."""
    pv = potential_victim_of(referral)
    body = {key: referral.get(key) for key in DUTY_TO_NOTIFY_REPORT_FIELDS}
    body.update({key: pv.get(key) for key in DUTY_TO_NOTIFY_PERSON_FIELDS})
    body.update({key: referral.get(key) for key in DUTY_TO_NOTIFY_SITUATION_FIELDS})
    return {key: value for key, value in body.items() if value is not None}


def validate_answers(
    referral: dict, *, now: dt.datetime
) -> tuple[ReferralIn | DutyToNotifyIn | None, list[FieldError]]:
    """Check a referral body's answers as what they make: a Duty to Notify of only its permitted answers when the
    adult does not consent, else a referral."""
    if is_duty_to_notify(referral):
        return validate_duty_to_notify(duty_to_notify_answers(referral), now=now)
    return validate_referral(referral, now=now)


def validate_duty_to_notify(data: Any, *, now: dt.datetime) -> tuple[DutyToNotifyIn | None, list[FieldError]]:
    if not isinstance(data, dict):
        return None, [FieldError("body", "The body must be a JSON object", "not_an_object")]
    identifying = [
        FieldError(
            key,
            "A Duty to Notify must not identify the person (Modern Slavery Act 2015 s.52(3)): remove this field",
            "identifying",
        )
        for key in IDENTIFYING_FIELDS
        if key in data
    ]
    rest = {k: v for k, v in data.items() if k not in IDENTIFYING_FIELDS}
    parsed, errors = _parse(DutyToNotifyIn, rest)
    age_group = data.get("age_group")
    if age_group in CHILD_AGE_GROUPS:
        # Replace the generic message: the point is where a child goes instead.
        errors = [e for e in errors if e.field != "age_group"]
        errors.append(
            FieldError(
                "age_group",
                "A child, or a person who may be a child, cannot be reported "
                "through Duty to Notify: a child must be referred through the "
                "NRM (POST /api/v1/referrals), without consent",
                "child_duty_to_notify",
            )
        )
    errors = _merge(identifying, errors, _exploitation_rules(data.get("exploitation"), now.date()))
    return (parsed if not errors else None), errors
