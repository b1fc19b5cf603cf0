"""The NRM status lookup, page and API: the firewall's one opening (contract section 5, issue 22 points 1 and 2).

An attacker signed in as an immigration officer tried it: the page listed a negative Reasonable Grounds decision
that was only proposed, and still after it was sent back; "ho-demo-1005", spaces or a stray dash answered "no
referral", which an officer might act on; and fifty lookups in 1.6 seconds were all answered.
"""

import datetime as dt

import pytest
import time_machine
from django.test import Client

from opennrm.audit.models import AuditEvent
from opennrm.conftest import PASSWORD, ApiClient
from opennrm.linkage.models import Band, CandidateStatus, MatchCandidate, PersonLink
from opennrm.linkage.services import referrals_check_on_arrival
from opennrm.linkage.tests.support import SOMEONE_ELSE, TESFAYE_FIRST, child_body, refer
from opennrm.policy import Role
from opennrm.tests.record_states import make_records_in_every_state
from opennrm.tests.status_pages import status_lookup_items, visible_text

STORED = "HO-DEMO-1005"


@pytest.fixture
def people(make_user):
    roles = {
        "fr": Role.FIRST_RESPONDER,
        "sca1": Role.SCA_DECISION_MAKER,
        "sca2": Role.SCA_DECISION_MAKER,
        "officer": Role.IMMIGRATION_OFFICER,
    }
    return {username: make_user(role, username=username) for username, role in roles.items()}


@pytest.fixture
def records(people):
    return make_records_in_every_state(referrer=people["fr"], decider=people["sca1"], reviewer=people["sca2"])


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page_items(response) -> list[dict]:
    """What the status page shows of each referral found: its NRM reference, status and decisions (stage, outcome)."""
    return [
        {**item, "decisions": sorted((stage, outcome) for stage, outcome, _ in item["decisions"])}
        for item in status_lookup_items(response.content.decode())
    ]


def page_text(response) -> str:
    return visible_text(response.content.decode())


def record_reference(records, state) -> str:
    return records[state].referral.reference


# --- Point 1: the firewall, in the page as in the API ---------------------------------------------


@pytest.mark.parametrize("state", ["proposed", "sentback"])
def test_a_proposed_or_sent_back_negative_reasonable_grounds_decision_is_invisible_to_the_officer(
    people, records, state
):
    referral = records[state].referral
    page = signed_in(people["officer"]).get("/nrm-status", {"home_office_reference": referral.home_office_reference})
    assert page.status_code == 200
    visible = page_text(page)
    assert record_reference(records, state) in visible
    assert "Negative" not in visible and "negative" not in visible
    assert "None issued yet" in visible
    assert [i["decisions"] for i in page_items(page)] == [[]]
    api = ApiClient(people["officer"]).get("/api/v1/nrm-status", home_office_reference=referral.home_office_reference)
    assert api.status_code == 200
    assert [item["decisions"] for item in api.json()["items"]] == [[]]


@pytest.mark.parametrize(
    "state", ["awaiting", "proposed", "sentback", "confirmed", "positive", "reconsidered", "withdrawn"]
)
def test_the_page_shows_exactly_what_the_api_answers(people, records, state):
    record = records[state]
    reference = record.referral.home_office_reference
    page = page_items(signed_in(people["officer"]).get("/nrm-status", {"home_office_reference": reference}))
    api = ApiClient(people["officer"]).get("/api/v1/nrm-status", home_office_reference=reference).json()["items"]
    assert page == [
        {
            "reference": i["reference"],
            "status": i["status"],
            "decisions": sorted((d["stage"], d["outcome"]) for d in i["decisions"]),
        }
        for i in api
    ]
    assert {tuple(d) for d in page[0]["decisions"]} == record.issued


# --- Point 2: a safe lookup -----------------------------------------------------------------------


@pytest.fixture
def stored(people, child_referral_body):
    child_referral_body["potential_victim"]["home_office_reference"] = STORED
    response = ApiClient(people["fr"]).post("/api/v1/referrals", child_referral_body)
    assert response.status_code == 201, response.content
    return response.json()


TYPED_AS = [
    "ho-demo-1005",  # lower case
    "HO DEMO 1005",  # spaces for dashes
    " HO-DEMO-1005 ",  # spaces around
    "HODEMO1005",  # no dashes
    "HO-DEMO--1005",  # a stray dash
    "HO-DEMO-10-05",  # a dash in the wrong place
    "HO\u2013DEMO\u20131005",  # en dashes, as a word processor writes them
    "HO\u2212DEMO\u22121005",  # minus signs
    "HO\u2011DEMO\u00a01005",  # a non-breaking hyphen and a no-break space
    "HO-DEMO-1005\u200b",  # a zero-width space pasted with it
    "\uff28\uff2f-\uff24\uff25\uff2d\uff2f-\uff11\uff10\uff10\uff15",  # full-width letters and digits
    "Ho.Demo.1005",  # dots
]


@pytest.mark.parametrize("typed", TYPED_AS)
def test_the_reference_is_found_whatever_its_case_spaces_and_dashes(people, stored, typed):
    api = ApiClient(people["officer"]).get("/api/v1/nrm-status", home_office_reference=typed)
    assert api.status_code == 200, api.content
    assert [item["reference"] for item in api.json()["items"]] == [stored["reference"]]
    page = signed_in(people["officer"]).get("/nrm-status", {"home_office_reference": typed})
    assert [item["reference"] for item in page_items(page)] == [stored["reference"]]
    # The lookup is audited against the referral found.
    assert AuditEvent.objects.filter(action="nrm_status.lookup", object_id=stored["id"]).count() == 2


def test_the_reference_is_shown_as_given_and_keyed_for_matching(people, stored):
    from opennrm.referrals.models import Referral

    referral = Referral.objects.get(uuid=stored["id"])
    assert (referral.home_office_reference, referral.home_office_reference_key) == (STORED, "hodemo1005")


@pytest.mark.parametrize("typed", ["HO-DEMO-1006", "HO/DEMO/1005", "HO-DEMO-100"])
def test_no_match_says_it_is_no_proof_and_whom_to_ask(people, stored, typed, settings):
    settings.NRM_STATUS_CONTACT = "the SCA duty desk on 0300 000 0000"
    api = ApiClient(people["officer"]).get("/api/v1/nrm-status", home_office_reference=typed)
    assert api.status_code == 404
    body = api.json()
    assert body["detail"] == "Not found"  # the field clients already read, unchanged
    message = body["message"]
    for words in (
        "not proof that no referral exists",
        "another reference",
        "not yet be linked",
        "mistyped",
        "the SCA duty desk on 0300 000 0000",
    ):
        assert words in message, words
    assert stored["reference"] not in message
    page = signed_in(people["officer"]).get("/nrm-status", {"home_office_reference": typed})
    assert page.status_code == 200
    assert "There is no NRM referral" not in page.content.decode()
    assert message in page_text(page)
    assert page_items(page) == []


@pytest.mark.parametrize(
    "typed, message",
    [
        ("", "Enter a Home Office reference"),
        (" - ", "Enter a Home Office reference"),
        ("H123\x00", "Enter the Home Office reference as letters, digits, / and - only (spaces are ignored)"),
        ("H" * 41, "A Home Office reference is 40 characters or fewer, not counting spaces and dashes"),
    ],
)
def test_a_reference_that_cannot_be_looked_up_says_what_to_fix(people, typed, message):
    api = ApiClient(people["officer"]).get("/api/v1/nrm-status", home_office_reference=typed)
    assert api.status_code == 422
    assert api.json() == {"errors": [{"field": "home_office_reference", "message": message}]}
    page = signed_in(people["officer"]).get("/nrm-status", {"home_office_reference": typed})
    assert message in page.content.decode()
    assert not AuditEvent.objects.filter(action__startswith="nrm_status.").exists()  # nothing was looked up


def test_duplicate_detection_links_the_same_reference_written_differently(people):
    first = refer(people["fr"], child_body(**SOMEONE_ELSE, home_office_reference="HO-LINK-77"))
    again = refer(people["fr"], child_body(**TESFAYE_FIRST, home_office_reference="ho-link77"))
    referrals_check_on_arrival()
    candidate = MatchCandidate.objects.get(referral=again, earlier=first)
    assert candidate.band == Band.CERTAIN and candidate.status == CandidateStatus.AUTO_LINKED
    assert candidate.evidence[0]["field"] == "home_office_reference"
    assert PersonLink.objects.filter(undone_at__isnull=True, method="automatic").count() == 2


# --- Point 2: the throttle ------------------------------------------------------------------------


def test_lookups_past_the_limit_are_refused_for_the_user_across_clients_and_allowed_again_later(
    people, stored, settings
):
    settings.NRM_STATUS_LOOKUPS_PER_MINUTE = 4
    settings.NRM_STATUS_LOOKUPS_PER_HOUR = 60
    officer = people["officer"]
    with time_machine.travel(dt.datetime(2026, 12, 8, 10, 0, tzinfo=dt.UTC), tick=False) as clock:
        # Two API clients (two tokens) and the page, all the same officer: one allowance between them.
        first, second, page = ApiClient(officer), ApiClient(officer), signed_in(officer)
        answers = [first.get("/api/v1/nrm-status", home_office_reference=STORED).status_code]
        clock.shift(dt.timedelta(seconds=10))
        answers += [
            second.get("/api/v1/nrm-status", home_office_reference="HO-NONE-1").status_code,
            page.get("/nrm-status", {"home_office_reference": STORED}).status_code,
            second.get("/api/v1/nrm-status", home_office_reference=STORED).status_code,
        ]
        assert answers == [200, 404, 200, 200]
        clock.shift(dt.timedelta(seconds=10))
        refused = first.get("/api/v1/nrm-status", home_office_reference=STORED)
        assert refused.status_code == 429
        assert refused["Retry-After"] == "40"  # the first lookup leaves the minute at 10:01:00
        assert refused.json()["retry_after_seconds"] == 40 and "try again in 40 seconds" in refused.json()["detail"]
        assert stored["reference"] not in refused.content.decode()
        refused_page = page.get("/nrm-status", {"home_office_reference": STORED})
        assert refused_page.status_code == 429 and refused_page["Retry-After"] == "40"
        assert "too many references in a short time" in page_text(refused_page)
        assert page_items(refused_page) == [] and stored["reference"] not in refused_page.content.decode()
        # Each refusal is audited, with what was asked for; no referral's read is.
        throttled = AuditEvent.objects.filter(action="nrm_status.lookup_throttled", actor_username=officer.username)
        assert throttled.count() == 2 and throttled.first().details["home_office_reference"] == STORED
        assert AuditEvent.objects.filter(action="nrm_status.lookup", object_id=stored["id"]).count() == 3
        # Another officer is not held up by this one.
        assert (
            ApiClient(
                people["officer"].__class__.objects.create_user(
                    username="officer2",
                    password=PASSWORD,
                    organisation=officer.organisation,
                    role=Role.IMMIGRATION_OFFICER,
                )
            )
            .get("/api/v1/nrm-status", home_office_reference=STORED)
            .status_code
            == 200
        )
        # Once the first lookup has left the minute, one more is allowed, and then refused again.
        clock.shift(dt.timedelta(seconds=40))
        assert second.get("/api/v1/nrm-status", home_office_reference=STORED).status_code == 200
        assert first.get("/api/v1/nrm-status", home_office_reference=STORED).status_code == 429
        clock.shift(dt.timedelta(minutes=2))
        assert [first.get("/api/v1/nrm-status", home_office_reference=STORED).status_code for _ in range(4)] == [
            200
        ] * 4


def test_the_hourly_limit_holds_when_each_minute_stays_under_its_own(people, stored, settings):
    settings.NRM_STATUS_LOOKUPS_PER_MINUTE = 3
    settings.NRM_STATUS_LOOKUPS_PER_HOUR = 5
    with time_machine.travel(dt.datetime(2026, 12, 8, 10, 0, tzinfo=dt.UTC), tick=False) as clock:
        client = ApiClient(people["officer"])
        codes = []
        for _ in range(3):
            codes += [client.get("/api/v1/nrm-status", home_office_reference=STORED).status_code for _ in range(2)]
            clock.shift(dt.timedelta(minutes=2))
        assert codes == [200, 200, 200, 200, 200, 429]
        refused = client.get("/api/v1/nrm-status", home_office_reference=STORED)
        assert refused.status_code == 429 and refused["Retry-After"] == str(60 * 60 - 6 * 60)
        clock.shift(dt.timedelta(minutes=54))
        assert client.get("/api/v1/nrm-status", home_office_reference=STORED).status_code == 200


def test_the_migration_keys_referrals_stored_before_it(people, child_referral_body):
    """referrals 0004 gives every referral stored before it the key its reference is now matched by."""
    import importlib

    from django.apps import apps

    from opennrm.referrals.models import Referral

    migration = importlib.import_module("opennrm.referrals.migrations.0004_home_office_reference_key")
    for reference in ("ho-old-1", "HO-OLD-2", ""):
        child_referral_body["potential_victim"]["home_office_reference"] = reference or None
        assert ApiClient(people["fr"]).post("/api/v1/referrals", child_referral_body).status_code == 201
    Referral.objects.update(home_office_reference_key="")  # as they were before the migration
    migration.key_existing_references(apps, None)
    assert sorted(Referral.objects.values_list("home_office_reference", "home_office_reference_key")) == [
        ("", ""),
        ("HO-OLD-2", "hoold2"),
        ("ho-old-1", "hoold1"),
    ]
    response = ApiClient(people["officer"]).get("/api/v1/nrm-status", home_office_reference="HO OLD 1")
    assert response.status_code == 200 and response.json()["count"] == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_lookups_of_one_user_never_take_more_than_the_limit(people, stored, settings):
    """Four clients of one officer at once, as from several server processes: exactly the limit is answered."""
    import threading

    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers for the whole database; concurrent counting is tested on PostgreSQL")
    settings.NRM_STATUS_LOOKUPS_PER_MINUTE = 5
    clients = [ApiClient(people["officer"]) for _ in range(4)]
    start = threading.Barrier(len(clients))
    codes: list[int] = []

    def look_up(client):
        try:
            start.wait()
            for _ in range(3):
                codes.append(client.get("/api/v1/nrm-status", home_office_reference=STORED).status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=look_up, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(codes) == [200] * 5 + [429] * 7
    assert AuditEvent.objects.filter(action="nrm_status.lookup_throttled").count() == 7
