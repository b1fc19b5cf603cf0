"""POST /api/v1/duty-to-notify: adults who do not consent, reported without identifying them (contract section 3)."""

import copy
import re

import pytest

from opennrm.audit.models import AuditEvent
from opennrm.referrals.models import DutyToNotify, Referral

from .support import error_fields, error_for, nothing_stored

URL = "/api/v1/duty-to-notify"

VALID_DUTY_TO_NOTIFY = {
    "nation": "ENG",
    "first_responder_reference": "MPS-DTN-2026-007",
    "age_group": "adult",
    "sex": "male",
    "nationalities": ["ALB"],
    "exploitation": [
        {"types": ["labour"], "location": "uk", "uk_towns": ["Slough"], "started_on": "2025-09-01", "ongoing": True}
    ],
    "indicators": ["Passport held by employer"],
    "police": {"force": "Thames Valley Police", "crime_reference": "43210/26"},
}

IDENTIFYING = {
    "given_names": "Arben",
    "family_name": "Hoxha",
    "aliases": ["Ben"],
    "names_in_original_script": "Arbën Hoxha",
    "date_of_birth": "1995-04-01",
    "current_address": "1 Example Street, Slough",
    "phone": "07700 900123",
    "home_office_reference": "H1234567",
    "potential_victim": {"given_names": "Arben"},
}


@pytest.fixture
def body():
    return copy.deepcopy(VALID_DUTY_TO_NOTIFY)


def test_valid_duty_to_notify_is_201(fr_client, first_responder, body):
    events = AuditEvent.objects.count()
    response = fr_client.post(URL, body)
    assert response.status_code == 201, response.content
    data = response.json()
    assert re.fullmatch(r"DTN-\d{4}-\d{6}", data["reference"])
    report = DutyToNotify.objects.get(uuid=data["id"])
    assert report.reference == data["reference"]
    assert report.organisation_id == first_responder.organisation_id
    assert report.sex == "male" and report.nationalities == ["ALB"]
    assert Referral.objects.count() == 0
    assert AuditEvent.objects.filter(action="duty_to_notify.create", object_id=data["id"]).count() == 1
    assert AuditEvent.objects.count() == events + 1


def test_minimal_duty_to_notify_is_201(fr_client):
    minimal = {"nation": "NIR", "age_group": "adult", "sex": "unknown", "exploitation": [{"types": ["sexual"]}]}
    assert fr_client.post(URL, minimal).status_code == 201


@pytest.mark.parametrize("field", IDENTIFYING, ids=IDENTIFYING.keys())
def test_each_identifying_field_is_422_naming_it(fr_client, body, field):
    body[field] = IDENTIFYING[field]
    with nothing_stored():
        response = fr_client.post(URL, body)
    assert error_fields(response) == [field]
    assert "identify" in error_for(response, field)


@pytest.mark.parametrize("field", IDENTIFYING, ids=IDENTIFYING.keys())
def test_identifying_field_given_as_null_is_still_refused(fr_client, body, field):
    """The field has no place in a Duty to Notify at all, so even an empty one is sent back."""
    body[field] = None
    with nothing_stored():
        assert error_fields(fr_client.post(URL, body)) == [field]


def test_every_identifying_field_is_named_at_once(fr_client, body):
    body.update(IDENTIFYING)
    body["sex"] = "M"
    with nothing_stored():
        fields = error_fields(fr_client.post(URL, body))
    assert set(fields) == {*IDENTIFYING, "sex"}


@pytest.mark.parametrize("age_group", ["child", "unknown"])
def test_a_child_is_sent_to_the_nrm(fr_client, body, age_group):
    body["age_group"] = age_group
    with nothing_stored():
        response = fr_client.post(URL, body)
    assert error_fields(response) == ["age_group"]
    message = error_for(response, "age_group")
    assert "child must be referred through the NRM" in message


@pytest.mark.parametrize(
    "change, field",
    [
        ({"age_group": "teen"}, "age_group"),
        ({"nation": "UK"}, "nation"),
        ({"sex": None}, "sex"),
        ({"nationalities": ["XX"]}, "nationalities.0"),
        ({"exploitation": []}, "exploitation"),
        ({"exploitation": [{"types": ["labour"], "colour": "red"}]}, "exploitation.0.colour"),
        (
            {"exploitation": [{"types": ["labour"], "ongoing": True, "ended_on": "2026-01-01"}]},
            "exploitation.0.ended_on",
        ),
        ({"consent": {"given": False}}, "consent"),
        ({"notes": "anything"}, "notes"),
    ],
)
def test_other_bad_input_is_422(fr_client, body, change, field):
    body.update(change)
    with nothing_stored():
        assert field in error_fields(fr_client.post(URL, body))


def test_missing_age_group_is_422(fr_client, body):
    del body["age_group"]
    with nothing_stored():
        assert error_fields(fr_client.post(URL, body)) == ["age_group"]


@pytest.mark.parametrize("raw", [b"", b"[]", b"{", b'{"nation": NaN}', b"\xff"])
def test_body_that_is_not_a_json_object_is_422(fr_client, raw):
    with nothing_stored():
        assert error_fields(fr_client.post(URL, raw=raw)) == ["body"]
