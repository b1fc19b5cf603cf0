"""POST /api/v1/referrals: the contract's example, every rule of section 2, and bad input of every kind."""

import datetime as dt
import io
import json
import re
import unicodedata

import pytest
import time_machine
from django.conf import settings
from django.test import Client

from opennrm.referrals.models import Referral
from opennrm.tests.names import NOT_NAMES, REAL_NAMES

from .support import error_fields, error_for, errors_of, nothing_stored

URL = "/api/v1/referrals"

# Section 2 of the contract, verbatim: a client written from that page must work unchanged.
CONTRACT_EXAMPLE = json.loads("""
{
  "nation": "ENG",
  "first_responder_reference": "CRO-2026-0042",
  "potential_victim": {
    "given_names": "Thi Anh",
    "family_name": "Nguyen",
    "aliases": ["Anh Nguyen", "Annie"],
    "names_in_original_script": "Nguyễn Thị Ánh",
    "date_of_birth": "2010-03-01",
    "date_of_birth_precision": "day",
    "age_group": "child",
    "age_disputed": false,
    "sex": "female",
    "nationalities": ["VNM"],
    "languages": ["vi"],
    "interpreter_needed": true,
    "home_office_reference": null,
    "current_address": "text",
    "phone": "text"
  },
  "local_authority_contact": {
    "local_authority": "E09000008",
    "name": "Duty social worker",
    "contacted_at": "2026-11-27T10:15:00Z"
  },
  "consent": null,
  "exploitation": [
    {
      "types": ["criminal"],
      "criminal_subtypes": ["cannabis_cultivation"],
      "location": "uk_and_overseas",
      "uk_towns": ["Croydon"],
      "countries": ["VNM", "FRA"],
      "started_on": "2025-06-01",
      "ended_on": null,
      "ongoing": true,
      "account": "free text"
    }
  ],
  "indicators": ["free text"],
  "police": {"force": "Metropolitan Police Service", "crime_reference": "6029384/26"}
}
""")

FRIDAY_NOON = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _refused(client, body=None, *, raw=None, headers=None):
    """Post, and check that the refusal stored nothing."""
    with nothing_stored():
        return client.post(URL, body, raw=raw, headers=headers)


# --- Accepted ------------------------------------------------------------------------------------


@time_machine.travel(FRIDAY_NOON, tick=False)
def test_contract_example_is_accepted(fr_client, first_responder):
    response = fr_client.post(URL, CONTRACT_EXAMPLE)
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"id", "reference", "status", "competent_authority", "received_at", "reasonable_grounds_due"}
    assert re.fullmatch(r"NRM-2026-\d{6}", body["reference"])
    assert body["status"] == "awaiting_reasonable_grounds"
    assert body["competent_authority"] == "SCA"
    assert dt.datetime.fromisoformat(body["received_at"]) == FRIDAY_NOON
    assert body["reasonable_grounds_due"] == "2026-12-04"
    stored = Referral.objects.get(uuid=body["id"])
    assert stored.reference == body["reference"]
    assert stored.organisation_id == first_responder.organisation_id
    assert stored.created_by == first_responder
    assert stored.potential_victim["names_in_original_script"] == "Nguyễn Thị Ánh"
    # Address and phone are kept apart, in the safeguarding compartment.
    assert (stored.current_address, stored.phone) == ("text", "text")
    assert "current_address" not in stored.potential_victim and "phone" not in stored.potential_victim


def test_each_referral_gets_its_own_reference(fr_client, child_referral_body):
    first = fr_client.post(URL, child_referral_body).json()
    second = fr_client.post(URL, child_referral_body).json()
    assert first["id"] != second["id"]
    assert first["reference"] != second["reference"]
    assert Referral.objects.count() == 2


def test_adult_with_consent_is_accepted(fr_client, adult_referral_body):
    response = fr_client.post(URL, adult_referral_body)
    assert response.status_code == 201, response.content
    assert Referral.objects.get(uuid=response.json()["id"]).consent["given"] is True


def test_not_sure_of_age_is_referred_like_a_child_without_consent(fr_client, child_referral_body):
    child_referral_body["potential_victim"].update(
        age_group="unknown", date_of_birth=None, date_of_birth_precision=None
    )
    response = fr_client.post(URL, child_referral_body)
    assert response.status_code == 201, response.content


def test_optional_fields_may_be_left_out(fr_client):
    minimal = {
        "nation": "WLS",
        "potential_victim": {"aliases": ["Sam"], "age_group": "adult", "sex": "unknown"},
        "consent": {"given": True},
        "exploitation": [{"types": ["labour"]}],
    }
    response = fr_client.post(URL, minimal)
    assert response.status_code == 201, response.content


def test_a_name_in_the_original_script_alone_is_a_name(fr_client, adult_referral_body):
    pv = adult_referral_body["potential_victim"]
    pv.update(given_names=None, family_name=None, aliases=None, names_in_original_script="محمد عبد الله")
    assert fr_client.post(URL, adult_referral_body).status_code == 201


# --- Wrong codes ---------------------------------------------------------------------------------


WRONG_CODES = [
    (("nation",), "GBR", "nation"),
    (("nation",), "eng", "nation"),
    (("potential_victim", "nationalities"), ["XXX"], "potential_victim.nationalities.0"),
    (("potential_victim", "nationalities"), ["GBR", "VN"], "potential_victim.nationalities.1"),
    (("potential_victim", "languages"), ["english"], "potential_victim.languages.0"),
    (("potential_victim", "languages"), ["vi", "xx"], "potential_victim.languages.1"),
    (("local_authority_contact", "local_authority"), "E09999999", "local_authority_contact.local_authority"),
    (("local_authority_contact", "local_authority"), "Croydon", "local_authority_contact.local_authority"),
    (("potential_victim", "sex"), "F", "potential_victim.sex"),
    (("potential_victim", "age_group"), "minor", "potential_victim.age_group"),
    (("potential_victim", "date_of_birth_precision"), "exact", "potential_victim.date_of_birth_precision"),
    (("exploitation", 0, "types"), ["criminal", "slavery"], "exploitation.0.types.1"),
    (("exploitation", 0, "criminal_subtypes"), ["drugs"], "exploitation.0.criminal_subtypes.0"),
    (("exploitation", 0, "location"), "england", "exploitation.0.location"),
    (("exploitation", 0, "countries"), ["VNM", "ZZZ"], "exploitation.0.countries.1"),
]


def _set(body, path, value):
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return body


def _delete(body, path):
    target = body
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return body


@pytest.mark.parametrize("path, value, field", WRONG_CODES, ids=[f for *_, f in WRONG_CODES])
def test_wrong_code_is_422_naming_the_field(fr_client, child_referral_body, path, value, field):
    response = _refused(fr_client, _set(child_referral_body, path, value))
    assert error_fields(response) == [field]


def test_wrong_sex_has_the_contracts_message(fr_client, child_referral_body):
    response = _refused(fr_client, _set(child_referral_body, ("potential_victim", "sex"), "f"))
    assert error_for(response, "potential_victim.sex") == "Choose female, male, other or unknown"


@pytest.mark.parametrize(
    "path, value, expected",
    [
        (("nation",), "XX", "ENG, WLS, SCT or NIR"),
        (("potential_victim", "nationalities"), ["XXX"], "ISO 3166-1 alpha-3"),
        (("potential_victim", "languages"), ["xx"], "ISO 639"),
        (("local_authority_contact", "local_authority"), "E0", "GSS"),
        (
            ("exploitation", 0, "types"),
            ["slavery"],
            "labour, sexual, criminal, domestic_servitude, organ_removal or other",
        ),
    ],
)
def test_wrong_code_message_says_what_to_use(fr_client, child_referral_body, path, value, expected):
    field = ".".join(str(p) for p in path) + (".0" if isinstance(value, list) else "")
    message = error_for(_refused(fr_client, _set(child_referral_body, path, value)), field)
    assert expected in message


def test_wrong_code_message_quotes_a_long_value_only_in_part(fr_client, child_referral_body):
    message = error_for(
        _refused(fr_client, _set(child_referral_body, ("potential_victim", "nationalities"), ["X" * 5000])),
        "potential_victim.nationalities.0",
    )
    assert len(message) < 300


# --- Missing answers -----------------------------------------------------------------------------


MISSING = [
    (("nation",), "nation"),
    (("potential_victim",), "potential_victim"),
    (("potential_victim", "age_group"), "potential_victim.age_group"),
    (("potential_victim", "sex"), "potential_victim.sex"),
    (("exploitation",), "exploitation"),
    (("exploitation", 0, "types"), "exploitation.0.types"),
]


@pytest.mark.parametrize("path, field", MISSING, ids=[f for _, f in MISSING])
def test_missing_required_answer_is_422(fr_client, child_referral_body, path, field):
    response = _refused(fr_client, _delete(child_referral_body, path))
    assert field in error_fields(response)
    assert error_for(response, field)


@pytest.mark.parametrize(
    "path, field",
    [
        (("nation",), "nation"),
        (("potential_victim", "sex"), "potential_victim.sex"),
        (("potential_victim", "age_group"), "potential_victim.age_group"),
    ],
)
def test_required_answer_given_as_null_is_422(fr_client, child_referral_body, path, field):
    assert field in error_fields(_refused(fr_client, _set(child_referral_body, path, None)))


@pytest.mark.parametrize(
    "path, field", [(("exploitation",), "exploitation"), (("exploitation", 0, "types"), "exploitation.0.types")]
)
def test_empty_list_where_one_is_required_is_422(fr_client, child_referral_body, path, field):
    message = error_for(_refused(fr_client, _set(child_referral_body, path, [])), field)
    assert "at least one" in message.lower()


@pytest.mark.parametrize("aliases", [None, [], "missing"])
def test_no_name_and_no_alias_is_422(fr_client, child_referral_body, aliases):
    pv = child_referral_body["potential_victim"]
    pv.update(given_names=None, family_name=None, names_in_original_script=None)
    if aliases == "missing":
        del pv["aliases"]
    else:
        pv["aliases"] = aliases
    message = error_for(_refused(fr_client, child_referral_body), "potential_victim.given_names")
    assert "alias" in message


def test_family_name_alone_is_enough(fr_client, child_referral_body):
    child_referral_body["potential_victim"].update(given_names=None, aliases=None, names_in_original_script=None)
    assert fr_client.post(URL, child_referral_body).status_code == 201


# --- Contradictory answers -----------------------------------------------------------------------


def test_child_with_consent_is_422(fr_client, child_referral_body):
    child_referral_body["consent"] = {"given": True, "recorded_at": "2026-11-27T09:00:00Z"}
    message = error_for(_refused(fr_client, child_referral_body), "consent")
    assert "without consent" in message


def test_not_sure_of_age_with_consent_is_422(fr_client, child_referral_body):
    child_referral_body["potential_victim"]["age_group"] = "unknown"
    child_referral_body["consent"] = {"given": True}
    assert error_fields(_refused(fr_client, child_referral_body)) == ["consent"]


@pytest.mark.parametrize("age_group", ["child", "unknown"])
def test_child_without_local_authority_contact_is_422(fr_client, child_referral_body, age_group):
    child_referral_body["potential_victim"]["age_group"] = age_group
    child_referral_body["local_authority_contact"] = None
    message = error_for(_refused(fr_client, child_referral_body), "local_authority_contact")
    assert "local authority" in message


@pytest.mark.parametrize("consent", ["missing", None])
def test_adult_without_consent_is_422(fr_client, adult_referral_body, consent):
    if consent == "missing":
        del adult_referral_body["consent"]
    else:
        adult_referral_body["consent"] = None
    message = error_for(_refused(fr_client, adult_referral_body), "consent")
    assert "Duty to Notify" in message


def test_adult_who_does_not_consent_is_pointed_to_duty_to_notify(fr_client, adult_referral_body):
    adult_referral_body["consent"] = {"given": False, "recorded_at": "2026-11-27T09:00:00Z"}
    message = error_for(_refused(fr_client, adult_referral_body), "consent.given")
    assert "Duty to Notify" in message and "/api/v1/duty-to-notify" in message


def test_criminal_subtypes_without_criminal_is_422(fr_client, child_referral_body):
    child_referral_body["exploitation"][0]["types"] = ["labour"]
    message = error_for(_refused(fr_client, child_referral_body), "exploitation.0.criminal_subtypes")
    assert "criminal" in message


def test_ongoing_with_an_end_date_is_422(fr_client, child_referral_body):
    child_referral_body["exploitation"][0].update(ongoing=True, ended_on="2026-01-01")
    message = error_for(_refused(fr_client, child_referral_body), "exploitation.0.ended_on")
    assert "ongoing" in message


def test_ended_before_it_started_is_422(fr_client, child_referral_body):
    child_referral_body["exploitation"][0].update(ongoing=False, started_on="2025-06-01", ended_on="2025-05-31")
    message = error_for(_refused(fr_client, child_referral_body), "exploitation.0.ended_on")
    assert "started" in message


def test_ended_on_the_day_it_started_is_fine(fr_client, child_referral_body):
    child_referral_body["exploitation"][0].update(ongoing=False, started_on="2025-06-01", ended_on="2025-06-01")
    assert fr_client.post(URL, child_referral_body).status_code == 201


def test_uk_only_with_overseas_countries_is_422(fr_client, child_referral_body):
    child_referral_body["exploitation"][0].update(location="uk", countries=["GBR", "VNM"])
    message = error_for(_refused(fr_client, child_referral_body), "exploitation.0.countries")
    assert "UK" in message


def test_uk_only_with_gbr_is_fine(fr_client, child_referral_body):
    child_referral_body["exploitation"][0].update(location="uk", countries=["GBR"])
    assert fr_client.post(URL, child_referral_body).status_code == 201


def test_overseas_only_with_uk_towns_is_422(fr_client, child_referral_body):
    child_referral_body["exploitation"][0].update(location="overseas", uk_towns=["Croydon"])
    assert error_fields(_refused(fr_client, child_referral_body)) == ["exploitation.0.uk_towns"]


@pytest.mark.parametrize("countries", ["VNM", 5, {"VNM": 1}, [None]])
def test_uk_only_with_countries_of_the_wrong_shape_is_422_not_500(fr_client, child_referral_body, countries):
    child_referral_body["exploitation"][0].update(location="uk", countries=countries)
    fields = error_fields(_refused(fr_client, child_referral_body))
    assert all(f.startswith("exploitation.0.countries") for f in fields), fields


@pytest.mark.parametrize("precision", ["day", "month"])
def test_adult_whose_date_of_birth_makes_them_under_18_is_422(fr_client, adult_referral_body, precision):
    dob = _years_before(_today(), 18) + dt.timedelta(days=1)
    adult_referral_body["potential_victim"].update(date_of_birth=dob.isoformat(), date_of_birth_precision=precision)
    message = error_for(_refused(fr_client, adult_referral_body), "potential_victim.age_group")
    assert "child" in message


def test_adult_who_turned_18_today_is_an_adult(fr_client, adult_referral_body):
    adult_referral_body["potential_victim"].update(
        date_of_birth=_years_before(_today(), 18).isoformat(), date_of_birth_precision="day"
    )
    assert fr_client.post(URL, adult_referral_body).status_code == 201


# --- Dates ---------------------------------------------------------------------------------------


def test_date_of_birth_in_the_future_is_422(fr_client, child_referral_body):
    child_referral_body["potential_victim"]["date_of_birth"] = (_today() + dt.timedelta(days=1)).isoformat()
    assert "past" in error_for(_refused(fr_client, child_referral_body), "potential_victim.date_of_birth")


def test_date_of_birth_over_120_years_ago_is_422(fr_client, adult_referral_body):
    adult_referral_body["potential_victim"]["date_of_birth"] = (_years_before(_today(), 121)).isoformat()
    assert "120" in error_for(_refused(fr_client, adult_referral_body), "potential_victim.date_of_birth")


def test_date_of_birth_119_years_ago_is_accepted(fr_client, adult_referral_body):
    adult_referral_body["potential_victim"]["date_of_birth"] = (_years_before(_today(), 119)).isoformat()
    assert fr_client.post(URL, adult_referral_body).status_code == 201


def test_precision_without_a_date_of_birth_is_422(fr_client, child_referral_body):
    child_referral_body["potential_victim"]["date_of_birth"] = None
    assert error_fields(_refused(fr_client, child_referral_body)) == ["potential_victim.date_of_birth"]


@pytest.mark.parametrize(
    "value",
    [
        "2026-02-30",
        "2025-13-01",
        "2026-11-31",
        "01/03/2010",
        "2010-3-1",
        "20100301",
        "2010-03-01T00:00:00Z",
        "",
        20100301,
    ],
)
def test_invalid_date_is_422(fr_client, child_referral_body, value):
    child_referral_body["potential_victim"]["date_of_birth"] = value
    child_referral_body["exploitation"][0]["started_on"] = value
    response = _refused(fr_client, child_referral_body)
    assert set(error_fields(response)) == {"potential_victim.date_of_birth", "exploitation.0.started_on"}
    assert "YYYY-MM-DD" in error_for(response, "potential_victim.date_of_birth")


@pytest.mark.parametrize("value", ["2026-11-27T10:15:00", "2026-11-27 10:15:00", "2026-11-27T10:15"])
def test_datetime_without_an_offset_is_422(fr_client, child_referral_body, value):
    child_referral_body["local_authority_contact"]["contacted_at"] = value
    message = error_for(_refused(fr_client, child_referral_body), "local_authority_contact.contacted_at")
    assert "offset" in message


def test_consent_time_without_an_offset_is_422(fr_client, adult_referral_body):
    adult_referral_body["consent"]["recorded_at"] = "2026-11-27T09:00:00"
    assert error_fields(_refused(fr_client, adult_referral_body)) == ["consent.recorded_at"]


@pytest.mark.parametrize("value", ["2026-11-27", "2026-02-30T10:00:00Z", "yesterday", 1764238500])
def test_invalid_datetime_is_422(fr_client, child_referral_body, value):
    child_referral_body["local_authority_contact"]["contacted_at"] = value
    assert error_fields(_refused(fr_client, child_referral_body)) == ["local_authority_contact.contacted_at"]


@pytest.mark.parametrize(
    "value", ["2026-11-27T10:15:00+01:00", "2026-11-27T10:15:00.123456Z", "2026-11-27T05:15:00-05:00"]
)
def test_datetime_with_an_offset_is_accepted(fr_client, child_referral_body, value):
    child_referral_body["local_authority_contact"]["contacted_at"] = value
    assert fr_client.post(URL, child_referral_body).status_code == 201


def test_contact_in_the_future_is_422(fr_client, child_referral_body):
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)).isoformat()
    child_referral_body["local_authority_contact"]["contacted_at"] = later
    assert error_fields(_refused(fr_client, child_referral_body)) == ["local_authority_contact.contacted_at"]


def test_exploitation_starting_in_the_future_is_422(fr_client, child_referral_body):
    child_referral_body["exploitation"][0]["started_on"] = (_today() + dt.timedelta(days=3)).isoformat()
    assert error_fields(_refused(fr_client, child_referral_body)) == ["exploitation.0.started_on"]


# --- Types and sizes -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path, value, field",
    [
        (("potential_victim", "age_disputed"), "no", "potential_victim.age_disputed"),
        (("potential_victim", "interpreter_needed"), 1, "potential_victim.interpreter_needed"),
        (("potential_victim", "given_names"), 42, "potential_victim.given_names"),
        (("potential_victim", "aliases"), "Annie", "potential_victim.aliases"),
        (("potential_victim", "aliases"), ["Annie", 7], "potential_victim.aliases.1"),
        (("potential_victim",), "Thi Anh Nguyen", "potential_victim"),
        (("exploitation",), {"types": ["labour"]}, "exploitation"),
        (("exploitation", 0), "labour", "exploitation.0"),
        (("consent",), "yes", "consent"),
        (("indicators",), "free text", "indicators"),
        (("police",), [], "police"),
        (("potential_victim", "given_names"), "", "potential_victim.given_names"),
        (("potential_victim", "given_names"), "x" * 201, "potential_victim.given_names"),
        (("potential_victim", "aliases"), ["a"] * 21, "potential_victim.aliases"),
        (("potential_victim", "nationalities"), ["VNM", "ALB", "GBR"], "potential_victim.nationalities"),
        (("exploitation", 0, "account"), "x" * 20_001, "exploitation.0.account"),
        (("potential_victim", "home_office_reference"), "HO ref; DROP", "potential_victim.home_office_reference"),
    ],
)
def test_wrong_type_or_size_is_422_naming_the_field(fr_client, child_referral_body, path, value, field):
    assert field in error_fields(_refused(fr_client, _set(child_referral_body, path, value)))


@pytest.mark.parametrize(
    "path",
    [(), ("potential_victim",), ("exploitation", 0), ("local_authority_contact",), ("police",)],
    ids=["top", "potential_victim", "exploitation.0", "local_authority_contact", "police"],
)
def test_unknown_field_is_422_at_every_level(fr_client, child_referral_body, path):
    target = child_referral_body
    for key in path:
        target = target[key]
    target["favourite_colour"] = "blue"
    field = ".".join([*map(str, path), "favourite_colour"])
    assert "Unknown field" in error_for(_refused(fr_client, child_referral_body), field)


def test_unknown_field_in_consent_is_422(fr_client, adult_referral_body):
    adult_referral_body["consent"]["witness"] = "PC 123"
    assert error_fields(_refused(fr_client, adult_referral_body)) == ["consent.witness"]


def test_misspelt_field_is_unknown_and_the_real_one_missing(fr_client, child_referral_body):
    child_referral_body["potential_victim"]["gender"] = child_referral_body["potential_victim"].pop("sex")
    assert set(error_fields(_refused(fr_client, child_referral_body))) == {
        "potential_victim.gender",
        "potential_victim.sex",
    }


# --- Every error at once -------------------------------------------------------------------------


def test_every_error_is_reported_at_once(fr_client, child_referral_body):
    body = child_referral_body
    body["nation"] = "XYZ"
    body["colour"] = "blue"
    body["consent"] = {"given": True}
    body["potential_victim"].update(sex="F", date_of_birth="2026-02-30", nickname="Annie")
    body["potential_victim"]["nationalities"] = ["VNM", "XXX"]
    body["exploitation"][0]["types"] = ["labour", "slavery"]
    body["exploitation"].append({"types": [], "location": "uk", "countries": ["FRA"], "severity": "high"})
    body["local_authority_contact"]["contacted_at"] = "2026-11-27T10:15:00"
    response = _refused(fr_client, body)
    expected = {
        "nation",
        "colour",
        "consent",
        "potential_victim.sex",
        "potential_victim.date_of_birth",
        "potential_victim.nickname",
        "potential_victim.nationalities.1",
        "exploitation.0.types.1",
        "exploitation.0.criminal_subtypes",
        "exploitation.1.types",
        "exploitation.1.countries",
        "exploitation.1.severity",
        "local_authority_contact.contacted_at",
    }
    fields = error_fields(response)
    assert set(fields) == expected
    assert len(fields) == len(set(fields)), "each problem once"


def test_errors_in_the_second_exploitation_entry_are_indexed(fr_client, child_referral_body):
    child_referral_body["exploitation"].append(
        {"types": ["labour", "labour"], "started_on": "2025-01-02", "ended_on": "2025-01-01"}
    )
    assert set(error_fields(_refused(fr_client, child_referral_body))) == {
        "exploitation.1.types",
        "exploitation.1.ended_on",
    }


# --- Bodies that are not a referral at all -------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"   \n",
        b"{",
        b'{"nation": "ENG",}',
        b"{'nation': 'ENG'}",
        b"nation=ENG",
        b"[]",
        b"[{}]",
        b'"a referral"',
        b"42",
        b"null",
        b"true",
        b'{"nation": NaN}',
        b'{"nation": Infinity}',
        b'{"nation": -Infinity}',
        b'{"nation": "\xff\xfe"}',
        b'{"nation": "ENG"} {"nation": "WLS"}',
        "\ufeff{}".encode("utf-8"),
        '{"nation": "ENG"}'.encode("utf-16"),
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a":' * 5_000 + b"1" + b"}" * 5_000,
        b'{"nation": ' + b"9" * 5_000 + b"}",
    ],
    ids=lambda raw: repr(raw[:24]),
)
def test_body_that_is_not_a_json_object_is_422_on_the_body(fr_client, raw):
    response = _refused(fr_client, raw=raw)
    assert error_fields(response) == ["body"]


@pytest.mark.parametrize("depth", [150, 400, 900])
def test_deeply_nested_values_are_422_not_500(fr_client, child_referral_body, depth):
    nested = "[" * depth + "]" * depth
    raw = json.dumps(child_referral_body)[:-1] + f', "indicators": {nested}}}'
    raw = raw.replace('"indicators": ["Found locked inside a cannabis farm"], ', "")
    response = _refused(fr_client, raw=raw)
    assert errors_of(response)


def test_number_too_large_for_a_float_is_422(fr_client, child_referral_body):
    raw = json.dumps(child_referral_body).replace('"age_disputed": false', '"age_disputed": 1e400')
    assert "potential_victim.age_disputed" in error_fields(_refused(fr_client, raw=raw))


def test_body_over_the_limit_is_413(fr_client, child_referral_body):
    child_referral_body["indicators"] = ["x" * 1000] * 5000  # about 5 MB
    raw = json.dumps(child_referral_body)
    assert len(raw) > 5_000_000
    response = _refused(fr_client, raw=raw)
    assert response.status_code == 413
    assert response.json()["errors"][0]["field"] == "body"


def test_body_over_the_limit_without_content_length_is_413(fr_client, child_referral_body):
    """A chunked upload has no Content-Length; the limit must hold for it too."""
    child_referral_body["indicators"] = ["x" * 1000] * 5000
    raw = json.dumps(child_referral_body).encode()
    with nothing_stored():
        response = fr_client.client.generic(
            "POST",
            URL,
            b"",
            content_type="application/json",
            headers=fr_client.headers,
            **{"wsgi.input": io.BytesIO(raw), "wsgi.input_terminated": True, "HTTP_TRANSFER_ENCODING": "chunked"},
        )
    assert response.status_code == 413
    assert response.json()["errors"][0]["field"] == "body"


def test_body_under_the_limit_without_content_length_is_read(fr_client, child_referral_body):
    raw = json.dumps(child_referral_body).encode()
    response = fr_client.client.generic(
        "POST",
        URL,
        b"",
        content_type="application/json",
        headers=fr_client.headers,
        **{"wsgi.input": io.BytesIO(raw), "wsgi.input_terminated": True, "HTTP_TRANSFER_ENCODING": "chunked"},
    )
    assert response.status_code == 201, response.content


def test_body_just_under_the_limit_is_read(fr_client, child_referral_body):
    child_referral_body["indicators"] = ["x" * 20_001] * 45
    raw = json.dumps(child_referral_body)
    assert len(raw) < settings.MAX_REQUEST_BODY_BYTES
    response = _refused(fr_client, raw=raw)
    # Read and checked: the indicators are too long, but the body was not refused for its size.
    assert response.status_code == 422


def test_size_limit_applies_before_sign_in():
    big = b"{" + b" " * (settings.MAX_REQUEST_BODY_BYTES + 1) + b"}"
    assert Client().post(URL, big, content_type="application/json").status_code == 413


# --- Characters ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw_value",
    [
        r"Anh\u0000",
        r"Anh\u0007",
        r"Anh\u0085",
        r"Anh\ud800",
        r"\udfffAnh",
        "Anh\\nNguyen",
        r"Anh\u001b[31m",
        r"Anh\u007f",
    ],
    ids=["NUL", "BEL", "NEL", "lone-high-surrogate", "lone-low-surrogate", "newline", "ESC", "DEL"],
)
def test_control_characters_in_a_name_are_422(fr_client, child_referral_body, raw_value):
    raw = json.dumps(child_referral_body).replace('"given_names": "Thi Anh"', f'"given_names": "{raw_value}"')
    assert raw_value in raw
    message = error_for(_refused(fr_client, raw=raw), "potential_victim.given_names")
    assert message.startswith("Remove the") and "U+" in message


def test_control_character_errors_come_with_every_other_error(fr_client, child_referral_body):
    raw = (
        json.dumps(child_referral_body)
        .replace('"given_names": "Thi Anh"', r'"given_names": "Anh\ud800"')
        .replace('"sex": "female"', '"sex": "F"')
    )
    raw = raw.replace('"Annie"', r'"Ann\u0000ie"')
    fields = set(error_fields(_refused(fr_client, raw=raw)))
    assert fields == {"potential_victim.given_names", "potential_victim.sex", "potential_victim.aliases.1"}


def test_lone_surrogate_in_a_field_name_is_422(fr_client, child_referral_body):
    raw = json.dumps(child_referral_body)[:-1] + r', "x\ud800": 1}'
    fields = error_fields(_refused(fr_client, raw=raw))
    assert len(fields) == 1 and fields[0].startswith("x")


@pytest.mark.parametrize(
    "path, field",
    [
        (("exploitation", 0, "account"), "exploitation.0.account"),
        (("potential_victim", "current_address"), "potential_victim.current_address"),
    ],
)
def test_control_characters_in_free_text_are_422(fr_client, child_referral_body, path, field):
    assert error_fields(_refused(fr_client, _set(child_referral_body, path, "Line one\x00line two"))) == [field]


def test_newlines_and_tabs_are_kept_in_free_text(fr_client, child_referral_body):
    account = "First line.\nSecond line.\r\n\tIndented third line."
    child_referral_body["exploitation"][0]["account"] = account
    child_referral_body["indicators"] = ["One\ntwo"]
    child_referral_body["potential_victim"]["current_address"] = "Flat 1\n1 Example Road\nCroydon"
    response = fr_client.post(URL, child_referral_body)
    assert response.status_code == 201, response.content
    shown = fr_client.get(f"{URL}/{response.json()['id']}").json()
    assert shown["exploitation"][0]["account"] == account
    assert shown["indicators"] == ["One\ntwo"]
    assert shown["safeguarding"]["current_address"] == "Flat 1\n1 Example Road\nCroydon"


NAMES = {
    "arabic": "محمد عبد الله",
    "geez": "ሰላም ተኽለ",
    "vietnamese-precomposed": unicodedata.normalize("NFC", "Nguyễn"),
    "vietnamese-combining": unicodedata.normalize("NFD", "Nguyễn"),
    "mixed-with-joiners": "Zoë\u200d Ó'Brien-Łukasz",
}


def test_the_two_vietnamese_spellings_really_differ():
    assert NAMES["vietnamese-precomposed"] != NAMES["vietnamese-combining"]
    assert len(NAMES["vietnamese-combining"]) > len(NAMES["vietnamese-precomposed"])


@pytest.mark.parametrize("name", NAMES.values(), ids=NAMES.keys())
@pytest.mark.parametrize("escaped", [False, True], ids=["utf-8", "json-escapes"])
def test_names_in_any_script_are_kept_as_sent_composed(fr_client, child_referral_body, name, escaped):
    """Every letter and mark kept, in its composed form (NFC): the decomposed Vietnamese spelling is stored as the
    precomposed one, so that one name typed on two keyboards is stored, shown and matched alike (issue 22)."""
    pv = child_referral_body["potential_victim"]
    pv.update(given_names=name, family_name=name, names_in_original_script=name, aliases=[name])
    raw = json.dumps(child_referral_body, ensure_ascii=escaped).encode("utf-8")
    response = fr_client.post(URL, raw=raw)
    assert response.status_code == 201, response.content
    shown = fr_client.get(f"{URL}/{response.json()['id']}")
    assert shown["Content-Type"].startswith("application/json")
    victim = json.loads(shown.content.decode("utf-8"))["potential_victim"]
    for key in ("given_names", "family_name", "names_in_original_script"):
        assert victim[key].encode("utf-8") == unicodedata.normalize("NFC", name).encode("utf-8"), key
    assert victim["aliases"] == [unicodedata.normalize("NFC", name)]


# --- What a name is (issue 22, contract section 2: "A name must contain a letter of some script") -------------

NAME_FIELDS = ("given_names", "family_name", "aliases", "names_in_original_script")


@pytest.mark.parametrize("name", REAL_NAMES.values(), ids=REAL_NAMES.keys())
def test_names_in_every_script_are_names(fr_client, child_referral_body, name):
    pv = child_referral_body["potential_victim"]
    pv.update(given_names=name, family_name=name, names_in_original_script=name, aliases=[name])
    response = fr_client.post(URL, child_referral_body)
    assert response.status_code == 201, response.content
    victim = fr_client.get(f"{URL}/{response.json()['id']}").json()["potential_victim"]
    composed = unicodedata.normalize("NFC", name)
    assert [victim[key] for key in NAME_FIELDS] == [composed, composed, [composed], composed]


@pytest.mark.parametrize("field", NAME_FIELDS)
@pytest.mark.parametrize(("name", "message"), NOT_NAMES.values(), ids=NOT_NAMES.keys())
def test_a_name_that_is_not_a_name_is_refused(fr_client, child_referral_body, field, name, message):
    child_referral_body["potential_victim"][field] = [name] if field == "aliases" else name
    with nothing_stored():
        response = fr_client.post(URL, child_referral_body)
    path = f"potential_victim.{field}" + (".0" if field == "aliases" else "")
    assert error_for(response, path).startswith(message)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("given_names", "\u00a0"),
        ("family_name", "\u3000"),
        ("aliases", ["\u200b", " "]),
        ("names_in_original_script", "\u202e"),
    ],
)
def test_a_name_or_alias_that_is_not_one_does_not_count_as_given(fr_client, child_referral_body, field, value):
    pv = child_referral_body["potential_victim"]
    for name in NAME_FIELDS:
        pv.pop(name)
    pv[field] = value
    with nothing_stored():
        response = fr_client.post(URL, child_referral_body)
    required = {
        "field": "potential_victim.given_names",
        "message": "Enter a name, or at least one alias or nickname the person is known by",
    }
    assert required in errors_of(response)
