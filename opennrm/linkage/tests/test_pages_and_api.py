"""The duplicate-detection pages and API, end to end: a referral made through the API is checked on arrival by the
worker, offered in the queue, compared with its evidence, decided, undone; refusals are 4xx with what to fix."""

import pytest
from django.core.management import call_command

from opennrm.linkage.models import CandidateStatus, MatchCandidate, PersonLink
from opennrm.linkage.services import referrals_check_on_arrival
from opennrm.linkage.tasks import LINKAGE_QUEUE
from opennrm.policy import Role

from .support import SOMEONE_ELSE, TESFAYE_AGAIN, TESFAYE_FIRST, child_body, refer


@pytest.fixture
def people(make_user):
    return {role: make_user(role, username=f"u.{role.value}") for role in Role}


def run_linkage_worker():
    """The real django-tasks-db worker on duplicate detection's queue, as `opennrm serve` runs it, until the queue is empty."""
    call_command("db_worker", queue_name=LINKAGE_QUEUE, batch=True, interval=0, startup_delay=False, verbosity=0)


def refer_tesfaye_twice(people, api_client) -> None:
    """Tesfaye referred (the pages' service), someone else, then Tesfaye again through the API under another spelling."""
    fr = people[Role.FIRST_RESPONDER]
    refer(fr, child_body(**TESFAYE_FIRST))
    refer(fr, child_body(**SOMEONE_ELSE))
    response = api_client(fr).post("/api/v1/referrals", child_body(**TESFAYE_AGAIN))
    assert response.status_code == 201, response.content
    assert not MatchCandidate.objects.exists()  # the check is the worker's, after the commit


@pytest.fixture
def candidate(people, api_client):
    refer_tesfaye_twice(people, api_client)
    referrals_check_on_arrival()  # what the worker runs (the worker itself: the transactional tests below)
    return MatchCandidate.objects.get()


@pytest.mark.django_db(transaction=True)
def test_a_referral_made_through_the_api_is_offered_in_the_queue_by_the_worker(people, api_client):
    from django_tasks_db.models import DBTaskResult

    refer_tesfaye_twice(people, api_client)
    queued = DBTaskResult.objects.filter(task_path__endswith="check_new_referrals")
    # One check task for the three: the second and third submissions found it waiting (linkage/tasks.py).
    assert queued.count() == 1 and queued.get().queue_name == LINKAGE_QUEUE  # not the notifications' queue
    run_linkage_worker()
    queue = api_client(people[Role.DATA_QUALITY_OFFICER]).get("/api/v1/duplicates").json()
    assert queue["count"] == 1
    assert (queue["items"][0]["referral"]["family_name"], queue["items"][0]["earlier"]["family_name"]) == (
        "Gebre Medhin",
        "Gebremedhin Haile",
    )


def test_the_api_lists_the_queue_shows_the_evidence_and_decides(candidate, people, api_client):
    api = api_client(people[Role.SCA_DECISION_MAKER])
    queue = api.get("/api/v1/duplicates").json()
    assert queue["count"] == 1 and queue["items"][0]["id"] == str(candidate.uuid)
    assert (
        queue["items"][0]["referral"]["given_names"] == "Tesfay"
        and queue["items"][0]["earlier"]["given_names"] == "Tesfaye"
    )
    detail = api.get(f"/api/v1/duplicates/{candidate.uuid}").json()
    assert {"Names", "Date of birth"} <= {e["field"] for e in detail["evidence"]}
    assert (
        "current_address" not in detail["referral"]
        and "phone" not in detail["referral"]
        and "exploitation" not in detail["referral"]
    )

    missing = api.post(f"/api/v1/duplicates/{candidate.uuid}/confirm", {})
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "reason"
    blank = api.post(f"/api/v1/duplicates/{candidate.uuid}/confirm", {"reason": "  "})
    assert blank.status_code == 422 and "Give a reason" in blank.json()["errors"][0]["message"]
    confirmed = api.post(f"/api/v1/duplicates/{candidate.uuid}/confirm", {"reason": "Same father's name"})
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed"
    person = confirmed.json()["person"]
    stale = api.post(f"/api/v1/duplicates/{candidate.uuid}/reject", {"reason": "From a page left open"})
    assert stale.status_code == 409 and "already been decided" in stale.json()["detail"]

    linked = api.get(f"/api/v1/people/{person}").json()
    assert len(linked["referrals"]) == 2
    bad = api.post(f"/api/v1/people/{person}/unlink", {"referral": "not-an-id", "reason": "x"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "referral"
    unlinked = api.post(
        f"/api/v1/people/{person}/unlink", {"referral": candidate.referral.uuid.hex, "reason": "Twin brother"}
    )
    assert (
        unlinked.status_code == 200 and len(unlinked.json()["referrals"]) == 1 and len(unlinked.json()["unlinked"]) == 1
    )
    candidate.refresh_from_db()
    assert candidate.status == CandidateStatus.OPEN


@pytest.mark.parametrize(
    "role, status",
    [
        (Role.FIRST_RESPONDER, 403),
        (Role.IMMIGRATION_OFFICER, 403),
        (Role.IECA_DECISION_MAKER, 404),
        (Role.GUARDIAN, 403),
    ],
)
def test_others_get_nothing_through_the_api(candidate, people, api_client, role, status):
    api = api_client(people[role])
    if status == 403:
        assert api.get("/api/v1/duplicates").status_code == 403
    else:
        assert api.get("/api/v1/duplicates").json()["count"] == 0
    assert api.get(f"/api/v1/duplicates/{candidate.uuid}").status_code == status
    assert api.post(f"/api/v1/duplicates/{candidate.uuid}/confirm", {"reason": "Not mine"}).status_code == status
    assert PersonLink.objects.count() == 0


def test_a_decision_maker_confirms_in_the_pages_and_undoes_it(candidate, people, web_client):
    client = web_client(people[Role.SCA_DECISION_MAKER])
    queue = client.get("/duplicates")
    assert queue.status_code == 200 and f"/duplicates/{candidate.uuid}" in queue.text
    page = client.get(f"/duplicates/{candidate.uuid}")
    assert "Tesfay" in page.text and "Gebremedhin Haile" in page.text and "The evidence, field by field" in page.text
    assert "Flat 1, 1 Example Road" not in page.text  # never the safeguarding compartment
    assert "gives an assessed age older than the other" in page.text  # the bands the score is read against

    refused = client.post(f"/duplicates/{candidate.uuid}", {"action": "confirm", "reason": ""})
    assert refused.status_code == 422 and "Give a reason" in refused.text and PersonLink.objects.count() == 0
    done = client.post(
        f"/duplicates/{candidate.uuid}",
        {"action": "confirm", "reason": "Same father's and grandfather's names"},
        follow=True,
    )
    assert "Linked: both referrals" in done.text and PersonLink.objects.filter(undone_at__isnull=True).count() == 2
    detail = client.get(f"/referrals/{candidate.referral.uuid}")
    assert "a person with other referrals" in detail.text
    undone = client.post(f"/duplicates/{candidate.uuid}", {"action": "undo", "reason": "Wrong pair"}, follow=True)
    assert "Undone" in undone.text and PersonLink.objects.filter(undone_at__isnull=True).count() == 0
    detail = client.get(f"/referrals/{candidate.referral.uuid}")
    assert f"/duplicates/{candidate.uuid}" in detail.text


def test_the_person_page_unlinks_with_a_reason(candidate, people, web_client):
    from opennrm.linkage.services import candidate_confirm

    person = candidate_confirm(actor=people[Role.DATA_QUALITY_OFFICER], candidate=candidate, reason="Same boy")
    client = web_client(people[Role.DATA_QUALITY_OFFICER])
    page = client.get(f"/people/{person.uuid}")
    assert page.status_code == 200 and candidate.referral.reference in page.text
    url = f"/people/{person.uuid}/unlink/{candidate.referral.uuid}"
    refused = client.post(url, {"reason": ""})
    assert refused.status_code == 422 and "Give a reason" in refused.text
    done = client.post(url, {"reason": "Twin"}, follow=True)
    assert "unlinked from this person" in done.text and "Twin" in done.text
    # A data-quality officer opens no referral pages: identities through duplicate detection only.
    assert client.get(f"/referrals/{candidate.referral.uuid}").status_code == 404
    assert web_client(people[Role.FIRST_RESPONDER]).get(f"/people/{person.uuid}").status_code == 403
    assert web_client(people[Role.FIRST_RESPONDER]).get("/duplicates").status_code == 403


@pytest.mark.django_db(transaction=True)
def test_imported_referrals_are_checked_too_and_the_same_home_office_reference_is_linked(people, api_client):
    import datetime as dt

    from django.utils import timezone

    from opennrm.cases.services import ImportItem, referrals_import
    from opennrm.referrals.validation import validate_referral

    from .support import SOMEONE_ELSE

    fr = people[Role.FIRST_RESPONDER]
    items = []
    for line, body in enumerate(
        [
            child_body(**SOMEONE_ELSE, home_office_reference="HO-IMPORT-5"),
            child_body(
                given="Dawit", family="Tsegai", dob="2004-01-01", precision="year", home_office_reference="HO-IMPORT-5"
            ),
        ],
        2,
    ):
        data, errors = validate_referral(body, now=timezone.now())
        assert not errors
        items.append(ImportItem(line, f"EXT-{line}", timezone.now() - dt.timedelta(days=line), data))
    referrals_import(actor=fr, items=items)
    run_linkage_worker()
    candidate = MatchCandidate.objects.get()
    assert candidate.status == CandidateStatus.AUTO_LINKED
    flagged = api_client(people[Role.DATA_QUALITY_OFFICER]).get("/api/v1/duplicates").json()["items"][0]
    assert flagged["status"] == "auto_linked" and flagged["band"] == "certain"
    assert PersonLink.objects.filter(undone_at__isnull=True, method="automatic").count() == 2
