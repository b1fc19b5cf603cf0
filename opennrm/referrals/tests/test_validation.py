"""The shared validators the API, the pages and `opennrm import` all use: every problem at once, each naming its field."""

import copy
import datetime as dt

import pytest

from opennrm.conftest import VALID_CHILD_REFERRAL
from opennrm.referrals.schemas import ImportLine, ReferralIn
from opennrm.referrals.validation import (
    MAX_JSON_DEPTH,
    FieldError,
    too_deep,
    validate_duty_to_notify,
    validate_import_line,
    validate_referral,
)

NOW = dt.datetime(2026, 11, 28, 15, 0, tzinfo=dt.UTC)


@pytest.fixture
def body():
    return copy.deepcopy(VALID_CHILD_REFERRAL)


def fields(errors: list[FieldError]) -> list[str]:
    assert all(isinstance(e, FieldError) and e.field and e.message for e in errors)
    return [e.field for e in errors]


def test_valid_body_gives_the_parsed_referral(body):
    parsed, errors = validate_referral(body, now=NOW)
    assert errors == []
    assert isinstance(parsed, ReferralIn)
    assert parsed.potential_victim.date_of_birth == dt.date(2010, 3, 1)
    assert parsed.local_authority_contact.contacted_at == dt.datetime(2026, 11, 27, 10, 15, tzinfo=dt.UTC)


def test_invalid_body_gives_no_parsed_referral(body):
    body["consent"] = {"given": True}  # only a rule across fields is broken; the shape is fine
    parsed, errors = validate_referral(body, now=NOW)
    assert parsed is None
    assert fields(errors) == ["consent"]


@pytest.mark.parametrize("data", [None, [], "text", 3, [VALID_CHILD_REFERRAL]])
def test_non_object_is_one_body_error(data):
    for validate in (validate_referral, validate_duty_to_notify, validate_import_line):
        parsed, errors = validate(data, now=NOW)
        assert parsed is None and fields(errors) == ["body"]


def test_shape_errors_and_rule_errors_come_together(body):
    body["nation"] = "XX"
    body["potential_victim"]["sex"] = "F"
    body["exploitation"][0].update(types=["labour"], started_on="2025-06-02", ended_on="2025-06-01")
    _, errors = validate_referral(body, now=NOW)
    assert set(fields(errors)) == {
        "nation",
        "potential_victim.sex",
        "exploitation.0.criminal_subtypes",
        "exploitation.0.ended_on",
    }


def test_rules_are_checked_against_the_given_now(body):
    """'In the future' means after `now`, not after the wall clock, so pages and imports agree."""
    body["potential_victim"]["date_of_birth"] = "2026-11-20"
    body["local_authority_contact"]["contacted_at"] = "2026-11-01T10:00:00Z"
    assert fields(validate_referral(body, now=NOW)[1]) == []
    assert fields(validate_referral(body, now=NOW - dt.timedelta(days=10))[1]) == ["potential_victim.date_of_birth"]


def test_contact_a_few_minutes_ahead_is_clock_skew_not_the_future(body):
    body["local_authority_contact"]["contacted_at"] = (NOW + dt.timedelta(minutes=4)).isoformat()
    assert validate_referral(body, now=NOW)[1] == []
    body["local_authority_contact"]["contacted_at"] = (NOW + dt.timedelta(minutes=6)).isoformat()
    assert fields(validate_referral(body, now=NOW)[1]) == ["local_authority_contact.contacted_at"]


def test_each_error_is_listed_once(body):
    body["exploitation"][0]["types"] = ["labour", "labour"]
    _, errors = validate_referral(body, now=NOW)
    assert len(errors) == len(set(errors))


def test_control_character_message_names_the_character(body):
    body["potential_victim"]["given_names"] = "Anh\x07"
    [error] = validate_referral(body, now=NOW)[1]
    assert error.field == "potential_victim.given_names"
    assert "U+0007" in error.message and "{" not in error.message


def test_lone_surrogate_is_named_at_its_field_with_the_other_errors(body):
    body["potential_victim"]["aliases"] = ["Annie", "An\ud800nie"]
    body["exploitation"][0]["account"] = "\udc00"
    body["nation"] = "XX"
    _, errors = validate_referral(body, now=NOW)
    assert set(fields(errors)) == {"potential_victim.aliases.1", "exploitation.0.account", "nation"}
    assert "U+D800" in next(e.message for e in errors if e.field == "potential_victim.aliases.1")


def test_lone_surrogate_where_a_code_belongs_gives_one_error(body):
    body["nation"] = "EN\ud800"
    assert fields(validate_referral(body, now=NOW)[1]) == ["nation"]


def test_too_deep_is_found_without_recursion():
    deep: list = []
    for _ in range(100_000):
        deep = [deep]
    assert too_deep({"a": deep})
    assert not too_deep({"a": [[{"b": [1]}]]})
    shallow = nested = {}
    for _ in range(MAX_JSON_DEPTH - 1):
        nested["x"] = {}
        nested = nested["x"]
    assert not too_deep(shallow)
    nested["x"] = {}
    assert too_deep(shallow)


def test_deep_body_is_one_error_not_a_crash(body):
    deep: list = []
    for _ in range(5_000):
        deep = [deep]
    body["indicators"] = deep
    parsed, errors = validate_referral(body, now=NOW)
    assert parsed is None and "body" in fields(errors)


def test_long_wrong_code_is_quoted_short(body):
    body["potential_victim"]["languages"] = ["x" * 10_000]
    [error] = validate_referral(body, now=NOW)[1]
    assert len(error.message) < 200


# --- Import lines --------------------------------------------------------------------------------


def import_line(body, **extra):
    return {**body, "received_at": "2026-11-28T10:00:00Z", "external_id": "SRC-1", **extra}


def test_import_line_is_parsed(body):
    parsed, errors = validate_import_line(import_line(body), now=NOW)
    assert errors == []
    assert isinstance(parsed, ImportLine)
    assert parsed.received_at == dt.datetime(2026, 11, 28, 10, 0, tzinfo=dt.UTC)
    assert parsed.external_id == "SRC-1"


@pytest.mark.parametrize("received_at", ["2025-03-03T10:00:00", "2025-03-03", "", None, 1741000000])
def test_import_line_received_at_needs_a_datetime_with_offset(body, received_at):
    assert "received_at" in fields(validate_import_line(import_line(body, received_at=received_at), now=NOW)[1])


def test_import_line_received_in_the_future_is_refused(body):
    line = import_line(body, received_at=(NOW + dt.timedelta(days=1)).isoformat())
    assert "received_at" in fields(validate_import_line(line, now=NOW)[1])


def test_historic_referral_is_checked_against_the_day_it_was_received(body):
    """A contact made after the referral was received is in that referral's future."""
    line = import_line(body, received_at="2026-11-01T10:00:00Z")
    assert fields(validate_import_line(line, now=NOW)[1]) == ["local_authority_contact.contacted_at"]


@pytest.mark.parametrize(
    "external_id, ok", [("SRC-1", True), ("", False), ("x" * 101, False), ("SRC\n1", False), (17, False)]
)
def test_import_line_external_id(body, external_id, ok):
    errors = validate_import_line(import_line(body, external_id=external_id), now=NOW)[1]
    assert (errors == []) is ok
    if not ok:
        assert fields(errors) == ["external_id"]


def test_the_api_refuses_the_import_only_fields(body):
    assert set(fields(validate_referral(import_line(body), now=NOW)[1])) == {"received_at", "external_id"}


# --- Duty to Notify ------------------------------------------------------------------------------


DTN = {"nation": "ENG", "age_group": "adult", "sex": "female", "exploitation": [{"types": ["sexual"]}]}


def test_duty_to_notify_is_parsed():
    parsed, errors = validate_duty_to_notify(copy.deepcopy(DTN), now=NOW)
    assert errors == [] and parsed.sex == "female"


def test_duty_to_notify_child_message_replaces_the_generic_one():
    _, errors = validate_duty_to_notify({**DTN, "age_group": "child"}, now=NOW)
    assert fields(errors) == ["age_group"]
    assert "child must be referred through the NRM" in errors[0].message


def test_duty_to_notify_identifying_and_shape_errors_together():
    _, errors = validate_duty_to_notify(
        {**DTN, "phone": "07700 900123", "sex": "X", "exploitation": [{"types": []}]}, now=NOW
    )
    assert set(fields(errors)) == {"phone", "sex", "exploitation.0.types"}


# --- Codes: what kind of problem, whatever the message says -----------------------------------------


def codes(errors: list[FieldError]) -> dict[str, str]:
    return {e.field: e.code for e in errors}


def test_each_shape_problem_has_pydantic_s_type_as_its_code(body):
    del body["nation"]
    body["first_responder_reference"] = ""
    body["potential_victim"].update(given_names="\u202eAnh", family_name="123", nationalities=["XYZ"], sex="F")
    body["potential_victim"].update(home_office_reference="HO 1", phone="x" * 61, date_of_birth="2010-02-30")
    body["local_authority_contact"].update(local_authority="E1", contacted_at="2026-11-27T10:15:00")
    body["exploitation"][0].update(types=[], account=5, uk_towns=["Croydon"] * 11)
    _, errors = validate_referral(body, now=NOW)
    assert codes(errors) == {
        "nation": "missing",
        "first_responder_reference": "string_too_short",
        "potential_victim.given_names": "invisible_character",
        "potential_victim.family_name": "name_without_letters",
        "potential_victim.nationalities.0": "country_code",
        "potential_victim.sex": "literal_error",
        "potential_victim.home_office_reference": "home_office_reference_format",
        "potential_victim.phone": "string_too_long",
        "potential_victim.date_of_birth": "date_parsing",
        "local_authority_contact.local_authority": "local_authority_code",
        "local_authority_contact.contacted_at": "timezone_aware",
        "exploitation.0.types": "too_short",
        "exploitation.0.criminal_subtypes": "subtypes_without_criminal",
        "exploitation.0.account": "string_type",
        "exploitation.0.uk_towns": "too_long",
    }


def test_each_rule_names_itself_in_its_code(body):
    body["potential_victim"].update(given_names=None, family_name=None, aliases=None, names_in_original_script=None)
    body["potential_victim"].update(date_of_birth=None)
    body["consent"] = {"given": True}
    body["local_authority_contact"]["contacted_at"] = "2026-12-27T10:15:00Z"
    body["exploitation"][0].update(types=["labour", "labour"], started_on="2026-12-01", ended_on="2025-01-01")
    body["exploitation"][0].update(location="uk", ongoing=False)
    _, errors = validate_referral(body, now=NOW)
    assert codes(errors) == {
        "consent": "consent_for_child",
        "local_authority_contact.contacted_at": "time_in_future",
        "potential_victim.given_names": "no_name",
        "potential_victim.date_of_birth": "precision_without_date",
        "exploitation.0.criminal_subtypes": "subtypes_without_criminal",
        "exploitation.0.types": "repeated",
        "exploitation.0.started_on": "date_in_future",
        "exploitation.0.ended_on": "ended_before_started",
        "exploitation.0.countries": "countries_outside_location",
    }
    _, errors = validate_duty_to_notify(
        {"nation": "ENG", "age_group": "child", "sex": "male", "phone": "1", "exploitation": [{"types": ["labour"]}]},
        now=NOW,
    )
    assert codes(errors) == {"phone": "identifying", "age_group": "child_duty_to_notify"}


def test_the_code_is_not_part_of_an_api_answer(body):
    del body["nation"]
    _, errors = validate_referral(body, now=NOW)
    assert errors[0].as_dict() == {"field": "nation", "message": "This field is required"}
