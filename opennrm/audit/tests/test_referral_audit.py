"""Every create, read and list of a referral writes its audit event: who, what, which record, from where.

Through the API and through the pages, with the client's address taken from REMOTE_ADDR.
"""

import pytest
from django.urls import reverse

from opennrm.audit.models import AuditEvent
from opennrm.audit.verify import audit_verify
from opennrm.policy import Role
from opennrm.referrals.models import Referral
from opennrm.referrals.services import draft_save, draft_start

CLIENT_IP = "203.0.113.7"
CLIENT_IPV6 = "2001:db8::17"
USER_AGENT = "opennrm-audit-test/1.0"


@pytest.fixture
def first_responder(make_user):
    return make_user(Role.FIRST_RESPONDER)


def api_as(api_client, user, ip=CLIENT_IP):
    api = api_client(user)
    api.client.defaults.update(REMOTE_ADDR=ip, HTTP_USER_AGENT=USER_AGENT)
    return api


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("chain", "seq"))


def assert_event(event: AuditEvent, *, actor, action: str, referral: Referral, ip: str = CLIENT_IP):
    assert (event.action, event.object_type, event.object_id) == (action, "referral", str(referral.uuid))
    assert (event.actor_id, event.actor_username, event.actor_role) == (actor.pk, actor.username, actor.role)
    assert (event.ip_address, event.user_agent) == (ip, USER_AGENT)


def test_api_create_read_and_list_are_audited(api_client, first_responder, child_referral_body):
    api = api_as(api_client, first_responder)
    response = api.post("/api/v1/referrals", child_referral_body)
    assert response.status_code == 201, response.content
    referral = Referral.objects.get(uuid=response.json()["id"])
    [created] = events("referral.create")
    assert_event(created, actor=first_responder, action="referral.create", referral=referral)
    assert created.details == {"reference": referral.reference, "via": "api"}

    assert api.get(f"/api/v1/referrals/{referral.uuid}").status_code == 200
    [read] = events("referral.read")
    assert_event(read, actor=first_responder, action="referral.read", referral=referral)
    assert read.details == {"compartments": ["referral", "safeguarding", "status"], "purpose": "view"}

    second = Referral.objects.get(uuid=api.post("/api/v1/referrals", child_referral_body).json()["id"])
    listed = api.get("/api/v1/referrals")
    assert listed.json()["count"] == 2
    listed_events = events("referral.list")
    assert {e.object_id for e in listed_events} == {str(referral.uuid), str(second.uuid)}
    for event in listed_events:
        assert_event(
            event, actor=first_responder, action="referral.list", referral=Referral.objects.get(uuid=event.object_id)
        )
    assert audit_verify().ok


def test_an_ipv6_client_address_is_recorded(api_client, first_responder, child_referral_body):
    api = api_as(api_client, first_responder, ip=CLIENT_IPV6)
    referral_id = api.post("/api/v1/referrals", child_referral_body).json()["id"]
    [created] = events("referral.create")
    assert (created.object_id, created.ip_address) == (referral_id, CLIENT_IPV6)


def test_a_refused_create_writes_no_create_event(api_client, first_responder, child_referral_body):
    child_referral_body["potential_victim"]["sex"] = "not-a-sex"
    response = api_as(api_client, first_responder).post("/api/v1/referrals", child_referral_body)
    assert response.status_code == 422
    assert events("referral.create") == []
    assert not Referral.objects.exists()


def test_page_reads_and_lists_are_audited(api_client, web_client, first_responder, make_user, child_referral_body):
    referral_id = api_as(api_client, first_responder).post("/api/v1/referrals", child_referral_body).json()["id"]
    referral = Referral.objects.get(uuid=referral_id)
    social_worker = make_user(Role.LA_SOCIAL_WORKER)
    pages = web_client(social_worker)
    pages.defaults.update(REMOTE_ADDR=CLIENT_IP, HTTP_USER_AGENT=USER_AGENT)

    assert pages.get(f"/referrals/{referral.uuid}").status_code == 200
    [read] = events("referral.read")
    assert_event(read, actor=social_worker, action="referral.read", referral=referral)

    for page in ("/referrals", "/"):  # the home page lists recent referrals too
        before = len(events("referral.list"))
        assert pages.get(page).status_code == 200
        listed = events("referral.list")[before:]
        assert len(listed) == 1, page
        assert_event(listed[0], actor=social_worker, action="referral.list", referral=referral)
    assert audit_verify().ok


def test_a_read_outside_scope_is_not_recorded_as_a_read(
    api_client, web_client, first_responder, make_user, child_referral_body
):
    referral_id = api_as(api_client, first_responder).post("/api/v1/referrals", child_referral_body).json()["id"]
    ieca = make_user(Role.IECA_DECISION_MAKER)  # the referral went to the SCA
    assert api_as(api_client, ieca).get(f"/api/v1/referrals/{referral_id}").status_code == 404
    assert web_client(ieca).get(f"/referrals/{referral_id}").status_code == 404
    assert events("referral.read") == []


@pytest.mark.parametrize("via", ["api", "pages"])
def test_nrm_status_lookups_are_audited(api_client, web_client, first_responder, make_user, child_referral_body, via):
    child_referral_body["potential_victim"]["home_office_reference"] = "HO-AUDIT-4471"
    referral = Referral.objects.get(
        uuid=api_as(api_client, first_responder).post("/api/v1/referrals", child_referral_body).json()["id"]
    )
    officer = make_user(Role.IMMIGRATION_OFFICER)
    if via == "api":
        client = api_as(api_client, officer)
        assert client.get("/api/v1/nrm-status", home_office_reference="HO-AUDIT-4471").status_code == 200
        assert client.get("/api/v1/nrm-status", home_office_reference="HO-NOBODY-1").status_code == 404
    else:
        client = web_client(officer)
        client.defaults.update(REMOTE_ADDR=CLIENT_IP, HTTP_USER_AGENT=USER_AGENT)
        assert client.get("/nrm-status", {"home_office_reference": "HO-AUDIT-4471"}).status_code == 200
        assert client.get("/nrm-status", {"home_office_reference": "HO-NOBODY-1"}).status_code == 200
    found, not_found = events("nrm_status.lookup")
    assert_event(found, actor=officer, action="nrm_status.lookup", referral=referral)
    assert found.details == {"compartments": ["status"]}
    # A lookup that finds nothing is audited too.
    assert (not_found.object_id, not_found.details["found"], not_found.actor_id) == ("", 0, officer.pk)


def test_a_referral_sent_from_the_pages_is_audited(web_client, first_responder, child_referral_body):
    # A finished draft, in the journey's format (web/journey.py), sent from "Check your answers".
    draft = draft_save(
        actor=first_responder,
        draft=draft_start(actor=first_responder),
        answers={"referral": child_referral_body, "typed": {}, "pages_saved": []},
    )
    pages = web_client(first_responder)
    pages.defaults.update(REMOTE_ADDR=CLIENT_IP, HTTP_USER_AGENT=USER_AGENT)
    response = pages.post(reverse("web:draft-check", args=[draft.uuid]))
    assert response.status_code == 302, response.content[:2000]
    referral = Referral.objects.get()
    [created] = events("referral.create")
    assert_event(created, actor=first_responder, action="referral.create", referral=referral)
    assert created.details == {"reference": referral.reference, "via": "pages"}
    assert audit_verify().ok


def test_refused_reads_and_empty_status_lookups_are_audited(
    api_client, make_user, first_responder, child_referral_body
):
    """An attempt to open a record outside one's scope is an authorisation decision: it is logged too."""
    referral_id = api_as(api_client, first_responder).post("/api/v1/referrals", child_referral_body).json()["id"]
    officer = make_user(Role.IMMIGRATION_OFFICER)
    api = api_as(api_client, officer)

    assert api.get(f"/api/v1/referrals/{referral_id}").status_code == 404
    [refused] = events("referral.read_refused")
    assert (refused.actor_id, refused.object_id, refused.ip_address) == (officer.pk, referral_id, CLIENT_IP)
    assert not events("referral.read")

    assert api.get("/api/v1/nrm-status", home_office_reference="HO-NOT-KNOWN-1").status_code == 404
    [lookup] = events("nrm_status.lookup")
    assert lookup.details == {"found": 0, "home_office_reference": "HO-NOT-KNOWN-1"}
    assert audit_verify().ok
