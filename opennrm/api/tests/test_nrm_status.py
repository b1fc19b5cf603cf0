"""GET /api/v1/nrm-status: the immigration firewall's one opening, the status compartment only (contract section 5)."""

import json

import pytest

from opennrm.audit.models import AuditEvent
from opennrm.policy import Role

STATUS_KEYS = {
    "id",
    "reference",
    "nation",
    "status",
    "competent_authority",
    "received_at",
    "reasonable_grounds_due",
    "recovery_period_ends_on",
    "decisions",
}
HOME_OFFICE_REFERENCE = "H1234567/26"


@pytest.fixture
def officer(make_user, api_client):
    return api_client(make_user(Role.IMMIGRATION_OFFICER))


@pytest.fixture
def referred(fr_client, adult_referral_body):
    adult_referral_body["potential_victim"]["home_office_reference"] = HOME_OFFICE_REFERENCE
    response = fr_client.post("/api/v1/referrals", adult_referral_body)
    assert response.status_code == 201, response.content
    return response.json()


def test_immigration_officer_sees_the_status_compartment_only(officer, referred, adult_referral_body):
    response = officer.get("/api/v1/nrm-status", home_office_reference=HOME_OFFICE_REFERENCE)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"items", "count"}
    assert body["count"] == 1
    (item,) = body["items"]
    assert set(item) == STATUS_KEYS
    assert item["id"] == referred["id"] and item["reference"] == referred["reference"]
    assert item["status"] == "awaiting_reasonable_grounds"
    assert item["reasonable_grounds_due"] == referred["reasonable_grounds_due"]
    # Nothing of the referral or safeguarding compartments, anywhere in the answer.
    text = response.content.decode()
    pv = adult_referral_body["potential_victim"]
    for secret in (
        pv["given_names"],
        pv["family_name"],
        pv["current_address"],
        pv["phone"],
        "cannabis",
        "Croydon",
        "VNM",
    ):
        assert secret not in text, secret


def test_the_lookup_is_audited(officer, referred):
    officer.get("/api/v1/nrm-status", home_office_reference=HOME_OFFICE_REFERENCE)
    event = AuditEvent.objects.get(action="nrm_status.lookup", object_id=referred["id"])
    assert event.details["compartments"] == ["status"]


def test_every_referral_with_the_reference_is_listed(officer, fr_client, adult_referral_body, referred):
    adult_referral_body["potential_victim"]["home_office_reference"] = HOME_OFFICE_REFERENCE
    second = fr_client.post("/api/v1/referrals", adult_referral_body).json()
    body = officer.get("/api/v1/nrm-status", home_office_reference=HOME_OFFICE_REFERENCE).json()
    assert body["count"] == 2
    assert {item["id"] for item in body["items"]} == {referred["id"], second["id"]}


@pytest.mark.parametrize("reference", ["H7654321", "H1234567", "H12345/6726"])
def test_unknown_reference_is_404(officer, referred, reference):
    # Issue 22: the 404 keeps its "detail" and adds a "message" that no match is not proof of no referral.
    response = officer.get("/api/v1/nrm-status", home_office_reference=reference)
    assert response.status_code == 404
    body = response.json()
    assert set(body) == {"detail", "message"} and body["detail"] == "Not found"
    assert "not proof that no referral exists" in body["message"]


@pytest.mark.parametrize("reference", ["h1234567/26", "H 1234567/26", "H-1234567/26"])
def test_case_spaces_and_dashes_do_not_matter(officer, referred, reference):
    # Issue 22: these answered 404 ("no referral") before.
    response = officer.get("/api/v1/nrm-status", home_office_reference=reference)
    assert response.status_code == 200
    assert [item["id"] for item in response.json()["items"]] == [referred["id"]]


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"home_office_reference": ""},
        {"home_office_reference": "H123\x00"},
        {"home_office_reference": "H" * 41},
        {"home_office_reference": "H_?123"},
    ],
)
def test_missing_or_malformed_reference_is_422(officer, params):
    response = officer.get("/api/v1/nrm-status", **params)
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert [e["field"] for e in errors] == ["home_office_reference"]
    assert errors[0]["message"]


def test_officer_cannot_open_the_referral(officer, referred):
    assert officer.get(f"/api/v1/referrals/{referred['id']}").status_code == 404


def test_officer_may_not_list(officer, referred):
    # Issue 22: was an empty 200 list; now refused, as the page is.
    for filters in (
        {},
        {"nation": "ENG"},
        {"status": "awaiting_reasonable_grounds"},
        {"first_responder_reference": "CRO-2026-0042"},
    ):
        response = officer.get("/api/v1/referrals", **filters)
        assert response.status_code == 403
        assert referred["reference"] not in response.content.decode()


def test_officer_cannot_refer_or_notify(officer, adult_referral_body):
    assert officer.post("/api/v1/referrals", adult_referral_body).status_code == 403
    assert officer.post("/api/v1/duty-to-notify", {"nation": "ENG"}).status_code == 403


def test_officer_error_bodies_carry_no_case_content(officer, referred, adult_referral_body):
    answers = [
        officer.get(f"/api/v1/referrals/{referred['id']}"),
        officer.get("/api/v1/nrm-status", home_office_reference="H0000000"),
        officer.post("/api/v1/referrals", adult_referral_body),
    ]
    for response in answers:
        text = json.dumps(response.json())
        assert referred["reference"] not in text and "Thi Anh" not in text
