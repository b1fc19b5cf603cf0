"""Access granted by an event is scoped to what the role needs and ends with the event (issue 22 point 6, ADR 0028):
a police force named on a missing episode, a guardian service's waiting list, the local authority a child left."""

import datetime as dt
import json

import time_machine

from opennrm.audit.models import AuditEvent
from opennrm.safeguarding.services import (
    care_record_save,
    case_note_add,
    local_authority_transfer,
    missing_episode_found,
    missing_episode_report,
)

from .conftest import CARDIFF, ago, allocate_guardian, make_child

API = "/api/v1/referrals"
ACCOUNT = "Kept in a house and made to tend plants."  # the exploitation account of conftest.VALID_CHILD_REFERRAL
INDICATOR = "Found locked inside a cannabis farm"
ADDRESS, PHONE = "Flat 1, 1 Example Road, Croydon", "020 7946 0000"
PLACEMENT = "7 Synthetic Gardens, Croydon"
NOTE = "Told me about the men at the station"
GRACE = dt.timedelta(hours=72)


def _body(response) -> str:
    return response.content.decode()


def _named_child(people, child_referral_body):
    """An NGO's referral naming the Metropolitan Police, with a placement, a guardian and a case note."""
    child = make_child(people["ngo"], child_referral_body)
    care_record_save(
        actor=people["la"],
        referral=child,
        care_status="looked_after",
        placement_type="foster_care",
        placement_address=PLACEMENT,
        social_worker=people["la"].username,
    )
    allocate_guardian(people, child)
    case_note_add(actor=people["guardian"], referral=child, text=NOTE)
    return child


def test_a_police_force_named_on_a_missing_episode_sees_what_finding_the_child_needs_until_found_and_the_grace_period(
    people, child_referral_body, api_client, web_client
):
    child = _named_child(people, child_referral_body)
    episode = missing_episode_report(
        actor=people["la"],
        referral=child,
        missing_since=ago(hours=6),
        last_seen="West Croydon bus station",
        risk="high",
    )

    police = api_client(people["police"])
    referral = police.get(f"{API}/{child.uuid}")
    assert referral.status_code == 200
    seen = referral.json()
    # Who the child is, where they live and their phone, the kinds of exploitation: to find them.
    assert seen["potential_victim"]["given_names"] == "Thi Anh" and seen["safeguarding"] == {
        "current_address": ADDRESS,
        "phone": PHONE,
    }
    assert seen["exploitation"] == [
        {"types": ["criminal"], "criminal_subtypes": ["cannabis_cultivation"], "uk_towns": ["Croydon"]}
    ]
    assert seen["access"]["grant"] == "missing_episode" and seen["access"]["ends_at"] is None
    # Not the account, the indicators, the first responder's details or the Home Office reference.
    for hidden in (
        ACCOUNT,
        INDICATOR,
        "Duty social worker",
        "first_responder_reference",
        "home_office_reference",
        "indicators",
    ):
        assert hidden not in _body(referral), hidden
    record = police.get(f"{API}/{child.uuid}/safeguarding")
    assert record.status_code == 200
    assert (
        record.json()["care"]["placement_address"] == PLACEMENT
        and record.json()["missing_episodes"][0]["last_seen"] == "West Croydon bus station"
    )
    assert "case_notes" not in record.json() and "care_history" not in record.json() and NOTE not in _body(record)
    # The pages answer the same.
    pages = web_client(people["police"])
    page = _body(pages.get(f"/referrals/{child.uuid}"))
    assert "Thi Anh" in page and ADDRESS in page and ACCOUNT not in page and INDICATOR not in page
    safeguarding_page = _body(pages.get(f"/referrals/{child.uuid}/safeguarding"))
    assert PLACEMENT in safeguarding_page and NOTE not in safeguarding_page
    # Each read is audited with what it showed and why.
    read = AuditEvent.objects.filter(
        actor_id=people["police"].pk, action="referral.read", object_id=str(child.uuid)
    ).latest("id")
    assert (read.details["view"], read.details["grant"], read.details["grant_ends_at"]) == (
        "missing_person",
        "missing_episode",
        None,
    )
    # A grant to look for the child is no grant to act on the case: no note, no reconsideration.
    assert police.post(f"{API}/{child.uuid}/case-notes", {"text": "x"}).status_code in (403, 404)

    found_at = ago(hours=1)
    found = police.post(f"{API}/{child.uuid}/missing-episodes/{episode.uuid}/found", {"found_at": found_at.isoformat()})
    assert found.status_code == 200, found.content

    with time_machine.travel(found_at + GRACE - dt.timedelta(hours=1), tick=False):
        during = api_client(people["police"])
        assert during.get(f"{API}/{child.uuid}").json()["access"]["ends_at"] == (found_at + GRACE).isoformat()
    with time_machine.travel(found_at + GRACE + dt.timedelta(minutes=1), tick=False):
        after, after_pages = api_client(people["police"]), web_client(people["police"])
        for path in (f"{API}/{child.uuid}", f"{API}/{child.uuid}/safeguarding"):
            assert after.get(path).status_code == 404, path
        for path in (f"/referrals/{child.uuid}", f"/referrals/{child.uuid}/safeguarding"):
            assert after_pages.get(path).status_code == 404, path
        assert child.reference not in _body(after.get("/api/v1/referrals")) and child.reference not in _body(
            after_pages.get("/safeguarding")
        )


def test_the_access_log_shows_when_an_events_access_began_and_ended(
    people, child_referral_body, api_client, web_client
):
    child = _named_child(people, child_referral_body)
    episode = missing_episode_report(
        actor=people["la"], referral=child, missing_since=ago(hours=6), last_seen="Park", risk="low"
    )
    la = api_client(people["la"])
    [grant] = [
        g for g in la.get(f"{API}/{child.uuid}/access-log").json()["event_access"] if g["grant"] == "missing_episode"
    ]
    assert (grant["holder"], grant["began_at"], grant["ends_at"], grant["open"]) == (
        "Metropolitan Police Service",
        episode.reported_at.isoformat(),
        None,
        True,
    )
    page = _body(web_client(people["la"]).get(f"/referrals/{child.uuid}/access-log"))
    assert "Access given by events" in page and "Metropolitan Police Service" in page and "Still open" in page

    found_at = ago(hours=1)
    missing_episode_found(actor=people["la"], referral=child, episode=episode, found_at=found_at)
    with time_machine.travel(found_at + GRACE + dt.timedelta(hours=1), tick=False):
        [grant] = [
            g
            for g in api_client(people["la"]).get(f"{API}/{child.uuid}/access-log").json()["event_access"]
            if g["grant"] == "missing_episode"
        ]
        assert (grant["ends_at"], grant["open"]) == ((found_at + GRACE).isoformat(), False)


def test_a_guardian_services_waiting_list_shows_only_what_allocating_needs_in_the_page_and_the_api(
    people, child_referral_body, api_client, web_client
):
    child = make_child(people["police"], child_referral_body)
    care_record_save(
        actor=people["la"],
        referral=child,
        care_status="section_20",
        placement_type="secure",
        placement_address=PLACEMENT,
    )
    missing_episode_report(
        actor=people["la"], referral=child, missing_since=ago(hours=2), last_seen="Station", risk="high"
    )
    guardian = api_client(people["guardian2"])  # of the service, not (yet) the child's guardian
    never = (ACCOUNT, INDICATOR, ADDRESS, PHONE, PLACEMENT, "Thi Anh", "Nguyen", "Station")

    waiting = guardian.get("/api/v1/guardian-requests")
    assert waiting.status_code == 200
    [item] = waiting.json()["items"]
    assert item["reference"] == child.reference and item["local_authority"] == "E09000008"
    assert item["potential_victim"] == {
        "initials": "TAN",
        "age": 16,
        "age_group": "child",
        "sex": "female",
        "languages": ["vi"],
        "interpreter_needed": True,
    }
    assert item["urgency"] == {"missing_now": True, "missing_risk": "high", "secure_accommodation": True}
    pages = web_client(people["guardian2"])
    for response in (
        waiting,
        guardian.get(f"{API}/{child.uuid}"),
        guardian.get(f"{API}/{child.uuid}/safeguarding"),
        guardian.get("/api/v1/referrals"),
        pages.get("/safeguarding"),
        pages.get(f"/referrals/{child.uuid}"),
        pages.get(f"/referrals/{child.uuid}/safeguarding"),
        pages.get("/referrals"),
        pages.get("/"),
    ):
        assert response.status_code == 200, response.request["PATH_INFO"]
        body = _body(response)
        assert [v for v in never if v in body] == [], response.request["PATH_INFO"]
    assert child.reference in _body(pages.get("/safeguarding")) and "TAN" in _body(pages.get("/safeguarding"))
    assert guardian.get(f"{API}/{child.uuid}").json()["access"]["grant"] == "guardian_waiting_list"
    # Nothing but allocating: no note, no missing report on a child the service has not taken on.
    assert guardian.post(f"{API}/{child.uuid}/case-notes", {"text": "x"}).status_code == 404

    # Allocated: the guardian sees the whole record; the service's other guardians nothing.
    allocate_guardian(people, child)
    assert ACCOUNT in json.dumps(api_client(people["guardian"]).get(f"{API}/{child.uuid}").json())
    assert (
        guardian.get(f"{API}/{child.uuid}").status_code == 404
        and guardian.get("/api/v1/guardian-requests").json()["items"] == []
    )


def test_a_transfer_ends_the_old_authoritys_access_after_the_grace_period_and_the_new_one_begins(
    people, child, api_client, web_client
):
    transfer = local_authority_transfer(
        actor=people["la"],
        referral=child,
        to_local_authority=CARDIFF,
        moved_on=dt.date.today(),
        reason="Placed with an aunt in Cardiff",
    )
    cardiff, croydon = api_client(people["cardiff"]), api_client(people["la"])
    assert cardiff.get(f"{API}/{child.uuid}").json()["potential_victim"]["given_names"] == "Thi Anh"
    assert "access" not in cardiff.get(f"{API}/{child.uuid}").json()  # responsible now: standing access
    # Croydon hands over: it reads the record during the grace period and can no longer act.
    handover = croydon.get(f"{API}/{child.uuid}").json()["access"]
    assert (handover["grant"], handover["ends_at"]) == ("transfer_handover", (transfer.recorded_at + GRACE).isoformat())
    assert croydon.post(f"{API}/{child.uuid}/case-notes", {"text": "x"}).status_code == 404
    [grant] = cardiff.get(f"{API}/{child.uuid}/access-log").json()["event_access"][-1:]
    assert (grant["grant"], grant["holder"], grant["began_at"]) == (
        "transfer_handover",
        "Croydon",
        transfer.recorded_at.isoformat(),
    )

    with time_machine.travel(transfer.recorded_at + GRACE + dt.timedelta(minutes=1), tick=False):
        croydon, croydon_pages = api_client(people["la"]), web_client(people["la"])
        assert (
            croydon.get(f"{API}/{child.uuid}").status_code == 404
            and croydon.get(f"{API}/{child.uuid}/safeguarding").status_code == 404
        )
        assert croydon_pages.get(f"/referrals/{child.uuid}").status_code == 404
        assert api_client(people["cardiff"]).get(f"{API}/{child.uuid}/safeguarding").status_code == 200
