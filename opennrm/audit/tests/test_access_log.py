"""Who has seen this record: the per-record access log, for the child's local authority, guardian and auditors."""

import datetime as dt
import html
import re

import pytest
from django.test import Client
from django.utils import timezone

from opennrm.accounts.models import Organisation, OrganisationKind
from opennrm.audit.models import AuditEvent
from opennrm.cases.services import referral_create
from opennrm.policy import Role
from opennrm.referrals.selectors import referral_open
from opennrm.referrals.validation import validate_referral
from opennrm.safeguarding.services import guardian_allocate

SEES_THE_LOG = {Role.LA_SOCIAL_WORKER, Role.GUARDIAN, Role.AUDITOR}
VIEWER_IP = "198.51.100.23"


@pytest.fixture
def referral(make_user, child_referral_body):
    """A Croydon child referred by the Metropolitan Police (the demo's shape: Croydon's LA and guardian see it)."""
    data, errors = validate_referral(child_referral_body, now=timezone.now())
    assert not errors
    # The guardian service exists before the referral, so the child's guardian request goes to it (ADR 0009).
    make_user(Role.GUARDIAN)
    return referral_create(actor=make_user(Role.FIRST_RESPONDER), data=data)


def _page(user, referral, **params):
    client = Client(REMOTE_ADDR=VIEWER_IP, HTTP_USER_AGENT="access-log-test/1.0")
    client.force_login(user)
    return client.get(f"/referrals/{referral.uuid}/access-log", params)


def _text(response) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


@pytest.mark.parametrize("role", list(Role))
def test_only_the_childs_local_authority_guardian_and_auditors_see_the_log(make_user, api_client, referral, role):
    user = make_user(role)
    if (
        role == Role.GUARDIAN
    ):  # the child's guardian: allocated (a guardian of the service only sees the waiting list, ADR 0028)
        guardian_allocate(actor=user, referral=referral, guardian=user.username, support_model="direct")
    page = _page(user, referral)
    api = api_client(user).get(f"/api/v1/referrals/{referral.uuid}/access-log")
    if role in SEES_THE_LOG:
        assert page.status_code == 200
        assert api.status_code == 200 and api.json()["count"] >= 1
    else:
        # As if the record did not exist (ADR 0003), in the pages and the API alike.
        assert page.status_code == 404
        assert api.status_code == 404 and api.json() == {"detail": "Not found"}
    # Asking is audited either way.
    assert (
        AuditEvent.objects.filter(
            actor_id=user.pk,
            object_id=str(referral.uuid),
            action="referral.access_log_read" if role in SEES_THE_LOG else "referral.access_log_refused",
        ).count()
        == 2
    )


def test_another_local_authority_and_a_guardian_service_elsewhere_do_not_see_it(make_user, referral):
    islington = Organisation.objects.create(
        name="Islington children's services", kind=OrganisationKind.LOCAL_AUTHORITY, local_authority="E09000019"
    )
    elsewhere = Organisation.objects.create(
        name="Guardians (Cardiff)", kind=OrganisationKind.GUARDIAN_SERVICE, covered_local_authorities=["W06000015"]
    )
    assert _page(make_user(Role.LA_SOCIAL_WORKER, organisation=islington), referral).status_code == 404
    assert _page(make_user(Role.GUARDIAN, organisation=elsewhere), referral).status_code == 404


def test_the_log_says_who_saw_the_record_what_they_did_when_and_from_where(make_user, referral):
    decision_maker = make_user(Role.SCA_DECISION_MAKER, username="sca.reader")
    decision_maker.first_name, decision_maker.last_name = "Sam", "Reader"
    decision_maker.save()
    referral_open(actor=decision_maker, uuid=referral.uuid)
    social_worker = make_user(Role.LA_SOCIAL_WORKER)
    text = _text(_page(social_worker, referral))
    assert "Sam Reader sca.reader Single Competent Authority decision maker, Single Competent Authority" in text
    assert "Opened the record Saw: referral, status" in text
    assert "Made the referral" in text
    # Looking at the log is itself in the log, newest first, with where it came from.
    assert (
        text.index("Looked at who has seen the record")
        < text.index("Opened the record")
        < text.index("Made the referral")
    )
    assert f"{VIEWER_IP} access-log-test/1.0" in text
    assert f"Referral {referral.reference}" in text


def test_an_auditor_sees_the_log_but_not_the_reference(make_user, referral):
    text = _text(_page(make_user(Role.AUDITOR), referral))
    assert "Who has seen this record" in text and str(referral.uuid) in text
    assert referral.reference not in text


def test_the_referral_page_links_to_the_log_for_those_who_may_read_it(make_user, web_client, referral):
    link = f'href="/referrals/{referral.uuid}/access-log"'
    assert link in web_client(make_user(Role.LA_SOCIAL_WORKER)).get(f"/referrals/{referral.uuid}").content.decode()
    assert (
        link not in web_client(make_user(Role.SCA_DECISION_MAKER)).get(f"/referrals/{referral.uuid}").content.decode()
    )


def test_the_log_is_paginated_in_the_pages_and_the_api(make_user, api_client, referral):
    reader = make_user(Role.SCA_DECISION_MAKER)
    guardian = make_user(Role.GUARDIAN)
    guardian_allocate(actor=guardian, referral=referral, guardian=guardian.username, support_model="direct")
    for _ in range(30):
        referral_open(actor=reader, uuid=referral.uuid)
    first = _text(_page(guardian, referral))
    assert "33 events" in first  # made, the guardian allocated, read 30 times, and this look at the log
    assert first.count("Opened the record") == 24
    # Newest first: the second look at the log is one more event, which pushes one more read to page 2.
    second = _text(_page(guardian, referral, page=2))
    assert second.count("Opened the record") == 7 and "Made the referral" in second

    api = api_client(guardian)
    body = api.get(f"/api/v1/referrals/{referral.uuid}/access-log", page_size=20).json()
    assert body["count"] == 35 and len(body["items"]) == 20
    assert "page=2" in body["next"]
    rest = api.client.get(body["next"], headers=api.headers).json()
    assert len(rest["items"]) == 16 and rest["next"] is None
    item = body["items"][0]
    assert set(item) == {"at", "action", "description", "actor", "ip_address", "user_agent", "compartments", "purpose"}
    assert (
        item["action"] == "referral.access_log_read"
        and item["actor"]["role"] == "Independent child trafficking guardian"
    )
    assert dt.datetime.fromisoformat(item["at"]).tzinfo is not None


def test_bad_page_numbers_are_422_in_the_api(make_user, api_client, referral):
    api = api_client(make_user(Role.AUDITOR))
    response = api.get(f"/api/v1/referrals/{referral.uuid}/access-log", page=0)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "page"
    assert api.get("/api/v1/referrals/not-a-uuid/access-log").status_code == 404
