"""GET /api/v1/referrals and /referrals/{id}: scoped, paginated, filtered, compartmented (contract sections 2 and 5)."""

import uuid
from urllib.parse import parse_qs, urlsplit

import pytest

from opennrm.audit.models import AuditEvent
from opennrm.policy import Role
from opennrm.referrals.models import Referral, Status

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
REFERRAL_KEYS = {
    "first_responder_reference",
    "potential_victim",
    "local_authority_contact",
    "consent",
    "exploitation",
    "indicators",
    "police",
}


@pytest.fixture
def other_org_client(make_user, api_client):
    """A first responder of a different organisation."""
    return api_client(make_user(Role.FIRST_RESPONDER, name="Croydon Council", kind="local_authority"))


def _create(client, body, **changes) -> dict:
    body = {**body, **changes}
    response = client.post("/api/v1/referrals", body)
    assert response.status_code == 201, response.content
    return response.json()


def test_own_organisations_referral_is_shown_in_every_compartment(fr_client, child_referral_body):
    created = _create(fr_client, child_referral_body)
    response = fr_client.get(f"/api/v1/referrals/{created['id']}")
    assert response.status_code == 200
    shown = response.json()
    assert set(shown) == STATUS_KEYS | REFERRAL_KEYS | {"safeguarding"}
    for key in ("id", "reference", "status", "competent_authority", "received_at", "reasonable_grounds_due"):
        assert shown[key] == created[key]
    assert shown["decisions"] == []
    assert shown["potential_victim"]["given_names"] == "Thi Anh"
    # As referred, less the answers left empty.
    assert shown["exploitation"] == [
        {k: v for k, v in e.items() if v is not None} for e in child_referral_body["exploitation"]
    ]
    assert shown["local_authority_contact"]["local_authority"] == "E09000008"
    assert shown["safeguarding"] == {"current_address": "Flat 1, 1 Example Road, Croydon", "phone": "020 7946 0000"}


def test_a_colleague_in_the_same_organisation_sees_it(
    make_user, api_client, fr_client, first_responder, child_referral_body
):
    created = _create(fr_client, child_referral_body)
    colleague = api_client(make_user(Role.FIRST_RESPONDER, organisation=first_responder.organisation))
    assert colleague.get(f"/api/v1/referrals/{created['id']}").status_code == 200


def test_reading_a_referral_is_audited(fr_client, first_responder, child_referral_body):
    created = _create(fr_client, child_referral_body)
    fr_client.get(f"/api/v1/referrals/{created['id']}")
    read = AuditEvent.objects.get(action="referral.read", object_id=created["id"])
    assert read.actor_id == first_responder.pk


def test_another_organisations_first_responder_gets_404(fr_client, other_org_client, child_referral_body):
    created = _create(fr_client, child_referral_body)
    response = other_org_client.get(f"/api/v1/referrals/{created['id']}")
    assert response.status_code == 404
    unknown = other_org_client.get(f"/api/v1/referrals/{uuid.uuid4()}")
    # Indistinguishable from a referral that does not exist.
    assert response.json() == unknown.json()
    assert not AuditEvent.objects.filter(action="referral.read").exists()


@pytest.mark.parametrize(
    "referral_id",
    [
        "0b6f1c4e-2f0e-4d7b-8a55-3c9d1e2f4a6b",
        "not-a-uuid",
        "1",
        "00000000-0000-0000-0000-00000000000g",
        "%00",
        "ab" * 100,
    ],
)
def test_unknown_or_malformed_id_is_404(fr_client, referral_id):
    response = fr_client.get(f"/api/v1/referrals/{referral_id}")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found"}


def test_the_database_id_is_not_an_id(fr_client, child_referral_body):
    _create(fr_client, child_referral_body)
    pk = Referral.objects.get().pk
    assert fr_client.get(f"/api/v1/referrals/{pk}").status_code == 404


def test_decision_makers_see_status_and_referral_but_not_safeguarding(
    make_user, api_client, fr_client, child_referral_body
):
    created = _create(fr_client, child_referral_body)
    shown = api_client(make_user(Role.SCA_DECISION_MAKER)).get(f"/api/v1/referrals/{created['id']}")
    assert shown.status_code == 200
    assert set(shown.json()) == STATUS_KEYS | REFERRAL_KEYS


@pytest.mark.parametrize(
    "role", [Role.IMMIGRATION_OFFICER, Role.STATISTICIAN, Role.AUDITOR, Role.ADMIN, Role.IECA_DECISION_MAKER]
)
def test_roles_outside_the_referrals_scope_get_404(make_user, api_client, fr_client, child_referral_body, role):
    created = _create(fr_client, child_referral_body)
    assert api_client(make_user(role)).get(f"/api/v1/referrals/{created['id']}").status_code == 404


@pytest.mark.parametrize("role", [Role.IMMIGRATION_OFFICER, Role.STATISTICIAN])
def test_roles_without_a_list_are_refused_as_in_the_pages(make_user, api_client, fr_client, child_referral_body, role):
    # Issue 22: was an empty 200 list, which reads as "there are none"; the page (/referrals) refuses with 403.
    _create(fr_client, child_referral_body)
    response = api_client(make_user(role)).get("/api/v1/referrals")
    assert response.status_code == 403
    assert "cannot do this" in response.json()["detail"]


# --- The list ------------------------------------------------------------------------------------


def test_list_shows_only_the_callers_organisation(fr_client, other_org_client, child_referral_body):
    mine = _create(fr_client, child_referral_body)
    _create(other_org_client, child_referral_body)
    listed = fr_client.get("/api/v1/referrals").json()
    assert listed["count"] == 1
    assert [item["id"] for item in listed["items"]] == [mine["id"]]
    assert set(listed["items"][0]) == STATUS_KEYS | REFERRAL_KEYS | {"safeguarding"}


def test_list_is_paginated_with_a_next_link(fr_client, child_referral_body):
    created = [_create(fr_client, child_referral_body, first_responder_reference=f"CRO-{i}")["id"] for i in range(5)]
    page1 = fr_client.get("/api/v1/referrals", page_size=2).json()
    assert page1["count"] == 5 and len(page1["items"]) == 2
    seen = [item["id"] for item in page1["items"]]
    next_url = page1["next"]
    pages = 1
    while next_url:
        parts = urlsplit(next_url)
        assert parts.path == "/api/v1/referrals"
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        assert query["page_size"] == "2"
        page = fr_client.get(parts.path, **query).json()
        assert page["count"] == 5
        seen += [item["id"] for item in page["items"]]
        next_url = page["next"]
        pages += 1
    assert pages == 3
    assert sorted(seen) == sorted(created) and len(set(seen)) == 5
    # Newest first.
    assert seen == list(reversed(created))


def test_last_page_has_no_next_and_a_page_past_the_end_is_empty(fr_client, child_referral_body):
    _create(fr_client, child_referral_body)
    assert fr_client.get("/api/v1/referrals").json()["next"] is None
    beyond = fr_client.get("/api/v1/referrals", page=3).json()
    assert beyond == {"items": [], "count": 1, "next": None}


def test_list_filters(fr_client, child_referral_body):
    england = _create(fr_client, child_referral_body, first_responder_reference="CRO-A")
    wales = _create(fr_client, child_referral_body, nation="WLS", first_responder_reference="CRD-B")
    Referral.objects.filter(uuid=wales["id"]).update(status=Status.RECOVERY_PERIOD)

    def ids(**filters):
        body = fr_client.get("/api/v1/referrals", **filters).json()
        assert body["count"] == len(body["items"])
        return {item["id"] for item in body["items"]}

    assert ids(nation="ENG") == {england["id"]}
    assert ids(nation="WLS") == {wales["id"]}
    assert ids(nation="SCT") == set()
    assert ids(status="recovery_period") == {wales["id"]}
    assert ids(status="awaiting_reasonable_grounds") == {england["id"]}
    assert ids(first_responder_reference="CRO-A") == {england["id"]}
    assert ids(first_responder_reference="CRO") == set()
    assert ids(nation="WLS", status="awaiting_reasonable_grounds") == set()
    # An empty filter, as a search form sends it, is no filter.
    assert ids(nation="", status="", first_responder_reference="") == {england["id"], wales["id"]}


def test_next_link_keeps_the_filters(fr_client, child_referral_body):
    for _ in range(3):
        _create(fr_client, child_referral_body, nation="SCT")
    _create(fr_client, child_referral_body)
    page = fr_client.get("/api/v1/referrals", nation="SCT", page_size=2).json()
    assert page["count"] == 3
    query = parse_qs(urlsplit(page["next"]).query)
    assert query["nation"] == ["SCT"] and query["page"] == ["2"]


@pytest.mark.parametrize(
    "params, field",
    [
        ({"status": "open"}, "status"),
        ({"nation": "GBR"}, "nation"),
        ({"nation": "eng"}, "nation"),
        ({"page": "0"}, "page"),
        ({"page": "two"}, "page"),
        ({"page": "99999999999999999999999"}, "page"),
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "201"}, "page_size"),
        ({"page_size": "-5"}, "page_size"),
        ({"first_responder_reference": "x" * 101}, "first_responder_reference"),
        ({"first_responder_reference": "CRO\x00"}, "first_responder_reference"),
    ],
)
def test_invalid_filter_is_422_naming_it(fr_client, params, field):
    response = fr_client.get("/api/v1/referrals", **params)
    assert response.status_code == 422, response.content
    errors = response.json()["errors"]
    assert [e["field"] for e in errors] == [field]
    assert errors[0]["message"]


def test_a_far_page_number_is_not_a_500(fr_client, child_referral_body):
    _create(fr_client, child_referral_body)
    response = fr_client.get("/api/v1/referrals", page="1000000")
    assert response.status_code == 200
    assert response.json()["items"] == []


def test_listing_is_audited_per_record(fr_client, child_referral_body):
    created = _create(fr_client, child_referral_body)
    fr_client.get("/api/v1/referrals")
    assert AuditEvent.objects.filter(action="referral.list", object_id=created["id"]).count() == 1
