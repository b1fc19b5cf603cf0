"""The local authority's record of a child (care, placement, social worker, transfer), guardians, and age."""

import datetime as dt

import pytest
from django.utils import timezone

from opennrm.policy import Role
from opennrm.referrals.selectors import referrals_visible_to
from opennrm.safeguarding.guardians import guardian_request_for_new_referral
from opennrm.safeguarding.models import (
    AgeAssessment,
    CareRecord,
    GuardianAllocationRequest,
    GuardianCoverage,
    GuardianService,
    LocalAuthorityTransfer,
)

from .conftest import BELFAST, CARDIFF, CROYDON, EDINBURGH, make_child

API = "/api/v1/referrals"


def care(api, child, **body):
    return api.post(
        f"{API}/{child.uuid}/care-records",
        {
            "care_status": "looked_after",
            "placement_type": "foster_care",
            "placement_address": "12 Synthetic Close, Croydon",
            **body,
        },
    )


def test_coverage_is_data_for_every_programme(coverage):
    services = {s.code: s for s in GuardianService.objects.all()}
    assert set(services) == {"ICTG", "SGS", "NI-IGS"}
    assert services["ICTG"].support_models == ["direct", "indirect"]
    assert GuardianCoverage.objects.get(local_authority=CROYDON).service.code == "ICTG"
    assert GuardianCoverage.objects.get(local_authority=CARDIFF).service.code == "ICTG"
    assert GuardianCoverage.objects.get(local_authority=EDINBURGH).service.code == "SGS"
    assert GuardianCoverage.objects.get(local_authority=BELFAST).service.code == "NI-IGS"
    # An English area without guardians (Hartlepool) has none.
    assert not GuardianCoverage.objects.filter(local_authority="E06000001").exists()


def test_a_child_referral_in_a_covered_area_asks_for_a_guardian_in_the_same_transaction(
    people, child_referral_body, adult_referral_body
):
    child = make_child(people["police"], child_referral_body)
    request = GuardianAllocationRequest.objects.get(referral=child)
    assert (request.service.code, request.organisation, request.requested_at) == (
        "ICTG",
        people["guardian"].organisation,
        child.received_at,
    )
    unsure = make_child(people["police"], child_referral_body, age_group="unknown")
    assert GuardianAllocationRequest.objects.filter(referral=unsure).exists()  # presumption of age
    uncovered = make_child(people["police"], child_referral_body, local_authority="E06000001")
    assert not GuardianAllocationRequest.objects.filter(referral=uncovered).exists()
    from opennrm.cases.services import referral_create
    from opennrm.referrals.validation import validate_referral

    data, errors = validate_referral(adult_referral_body, now=timezone.now())
    assert not errors
    adult = referral_create(actor=people["police"], data=data)
    assert (
        guardian_request_for_new_referral(referral=adult) is None
        and not GuardianAllocationRequest.objects.filter(referral=adult).exists()
    )


def test_allocation_time_is_tracked_and_a_guardian_outside_the_area_is_refused(people, child, api_client):
    guardian = api_client(people["guardian"])
    outside = guardian.post(
        f"{API}/{child.uuid}/guardian-allocation", {"guardian": "guardian.wales", "support_model": "direct"}
    )
    assert outside.status_code == 422
    assert (
        outside.json()["errors"][0]["field"] == "guardian"
        and "not a guardian of the service covering Croydon" in outside.json()["errors"][0]["message"]
    )
    wrong_model = guardian.post(
        f"{API}/{child.uuid}/guardian-allocation", {"guardian": "guardian2", "support_model": "remote"}
    )
    assert wrong_model.status_code == 422
    assert GuardianAllocationRequest.objects.get(referral=child).allocated_to is None

    allocated = guardian.post(
        f"{API}/{child.uuid}/guardian-allocation", {"guardian": "guardian2", "support_model": "indirect"}
    )
    assert allocated.status_code == 200, allocated.content
    assert (
        allocated.json()["allocated_to"] == "guardian2" and 71 < allocated.json()["hours_to_allocation"] < 73
    )  # referred 3 days ago
    again = api_client(people["guardian2"]).post(
        f"{API}/{child.uuid}/guardian-allocation", {"guardian": "guardian", "support_model": "direct"}
    )
    assert again.status_code == 409 and "already allocated" in again.json()["detail"]
    # Now the child is the allocated guardian's: their colleague no longer sees the case, the guardian does, and may add notes.
    assert not referrals_visible_to(actor=people["guardian"]).filter(pk=child.pk).exists()
    assert guardian.get(f"{API}/{child.uuid}").status_code == 404
    allocated_api = api_client(people["guardian2"])
    note = allocated_api.post(
        f"{API}/{child.uuid}/case-notes",
        {"text": "Met the child with an interpreter; she wants to stay at the placement."},
    )
    assert note.status_code == 201
    record = allocated_api.get(f"{API}/{child.uuid}/safeguarding").json()
    assert (
        record["case_notes"][0]["author"] == "guardian2"
        and record["guardian_requests"][0]["allocated_to"] == "guardian2"
    )


def test_care_status_placement_and_social_worker_are_history(people, allocated_child, api_client):
    child = allocated_child
    la = api_client(people["la"])
    first = care(la, child, care_status="section_20", social_worker="la2")
    assert first.status_code == 201, first.content
    assert (
        care(
            la,
            child,
            care_status="looked_after",
            placement_type="childrens_home",
            placement_address="The Synthetic Home",
        ).status_code
        == 201
    )
    record = la.get(f"{API}/{child.uuid}/safeguarding").json()
    assert (
        record["care"]["care_status"] == "looked_after" and record["care"]["placement_address"] == "The Synthetic Home"
    )
    assert [c["care_status"] for c in record["care_history"]] == ["looked_after", "section_20"]
    # A social worker of another authority, a placement without an address, an unknown status: 422, naming the field.
    for body, field in (
        ({"social_worker": "cardiff"}, "social_worker"),
        ({"placement_address": ""}, "placement_address"),
        ({"care_status": "fostered"}, "care_status"),
    ):
        refused = care(la, child, **body)
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == field, refused.content
    assert CareRecord.objects.filter(referral=child).count() == 2
    # The guardian and the police see it; they may not record it.
    assert care(api_client(people["guardian"]), child).status_code == 403
    assert (
        api_client(people["guardian"]).get(f"{API}/{child.uuid}/safeguarding").json()["care"]["care_status"]
        == "looked_after"
    )


def test_a_transfer_moves_the_child_and_their_open_episode_to_the_new_authority(people, child, api_client):
    la = api_client(people["la"])
    episode = la.post(
        f"{API}/{child.uuid}/missing-episodes",
        {
            "missing_since": (timezone.now() - dt.timedelta(hours=2)).isoformat(),
            "last_seen": "Cardiff Central",
            "risk": "low",
        },
    ).json()
    moved = la.post(
        f"{API}/{child.uuid}/transfers",
        {"to_local_authority": CARDIFF, "moved_on": str(dt.date.today()), "reason": "Placed with an aunt in Cardiff"},
    )
    assert moved.status_code == 201, moved.content
    cardiff = api_client(people["cardiff"])
    assert cardiff.get(f"{API}/{child.uuid}/safeguarding").json()["local_authority"]["code"] == CARDIFF
    assert [i["episode"]["id"] for i in cardiff.get("/api/v1/missing-now").json()["items"]] == [episode["id"]]
    assert la.get("/api/v1/missing-now").json()["count"] == 0
    # Croydon no longer has the child: it reads the record to hand over for the grace period, and acts no more (ADR 0028).
    assert la.get(f"{API}/{child.uuid}/safeguarding").status_code == 200
    assert care(la, child).status_code == 404
    # History kept; the new authority can record care; a transfer to the same authority or an unknown code is refused.
    assert care(cardiff, child, placement_address="1 Synthetic Street, Cardiff").status_code == 201
    same = cardiff.post(
        f"{API}/{child.uuid}/transfers",
        {"to_local_authority": CARDIFF, "moved_on": str(dt.date.today()), "reason": "x"},
    )
    assert same.status_code == 422 and "already responsible" in same.json()["errors"][0]["message"]
    unknown = cardiff.post(
        f"{API}/{child.uuid}/transfers", {"to_local_authority": "E99999999", "moved_on": "2099-01-01", "reason": "x"}
    )
    assert {e["field"] for e in unknown.json()["errors"]} == {"to_local_authority", "moved_on"}
    assert list(
        LocalAuthorityTransfer.objects.filter(referral=child).values_list(
            "from_local_authority", "to_local_authority", "is_current"
        )
    ) == [(CROYDON, CARDIFF, True)]
    # Moving back makes Croydon responsible again, with both transfers on the record.
    assert (
        cardiff.post(
            f"{API}/{child.uuid}/transfers",
            {"to_local_authority": CROYDON, "moved_on": str(dt.date.today()), "reason": "Back"},
        ).status_code
        == 201
    )
    assert la.get(f"{API}/{child.uuid}/safeguarding").json()["transfers"][0]["to_local_authority"] == CROYDON
    assert LocalAuthorityTransfer.objects.filter(referral=child, is_current=True).count() == 1


def test_age_presumption_assessments_and_an_adult_finding_kept_with_the_history(
    people, child_referral_body, api_client, coverage
):
    unsure = make_child(people["police"], child_referral_body, age_group="unknown")
    la = api_client(people["la"])
    age = la.get(f"{API}/{unsure.uuid}/safeguarding").json()["age"]
    assert (age["treated_as_child"], age["basis"]) == (True, "presumed")
    # Treated as a child, so a care status may be recorded.
    assert care(la, unsure, care_status="section_20").status_code == 201

    child_finding = la.post(
        f"{API}/{unsure.uuid}/age-assessments",
        {
            "outcome": "child",
            "assessed_on": "2026-10-01",
            "assessor": "local_authority",
            "claimed_date_of_birth": "2010-03-01",
            "assessed_date_of_birth": "2009-06-01",
        },
    )
    assert child_finding.status_code == 201, child_finding.content
    adult_finding = la.post(
        f"{API}/{unsure.uuid}/age-assessments",
        {
            "outcome": "adult",
            "assessed_on": "2026-11-01",
            "assessor": "naab",
            "claimed_date_of_birth": "2010-03-01",
            "assessed_date_of_birth": "2005-01-01",
            "notes": "Assessed by two social workers with an interpreter",
        },
    )
    assert adult_finding.status_code == 201, adult_finding.content
    age = la.get(f"{API}/{unsure.uuid}/safeguarding").json()["age"]
    assert (age["treated_as_child"], age["basis"]) == (False, "assessed")
    # Nothing erased: both assessments, newest first.
    assert [a["outcome"] for a in age["assessments"]] == ["adult", "child"]
    assert AgeAssessment.objects.filter(referral=unsure).count() == 2

    # A care status for an adult: refused, with the reason, nothing stored.
    before = CareRecord.objects.filter(referral=unsure).count()
    adult_care = care(la, unsure, care_status="looked_after")
    assert adult_care.status_code == 409 and "treated as an adult" in adult_care.json()["detail"]
    assert CareRecord.objects.filter(referral=unsure).count() == before
    assert care(la, unsure, care_status="care_leaver", placement_type="none", placement_address="").status_code == 201

    # An outcome that contradicts the assessed date of birth, a date in the future: 422.
    contradiction = la.post(
        f"{API}/{unsure.uuid}/age-assessments",
        {"outcome": "child", "assessed_on": "2026-11-01", "assessor": "court", "assessed_date_of_birth": "2000-01-01"},
    )
    assert contradiction.status_code == 422 and contradiction.json()["errors"][0]["field"] == "assessed_date_of_birth"
    future = la.post(
        f"{API}/{unsure.uuid}/age-assessments", {"outcome": "child", "assessed_on": "2099-01-01", "assessor": "court"}
    )
    assert future.status_code == 422 and future.json()["errors"][0]["field"] == "assessed_on"
    assert AgeAssessment.objects.filter(referral=unsure).count() == 2


@pytest.mark.parametrize("role", [Role.LA_SOCIAL_WORKER, Role.GUARDIAN])
def test_local_authority_and_guardian_scope(people, child_referral_body, role, coverage):
    croydon = make_child(people["police"], child_referral_body)
    cardiff = make_child(people["police"], child_referral_body, local_authority=CARDIFF)
    user = people["la"] if role == Role.LA_SOCIAL_WORKER else people["guardian"]
    visible = set(referrals_visible_to(actor=user).values_list("pk", flat=True))
    assert croydon.pk in visible and cardiff.pk not in visible
    other = people["cardiff"] if role == Role.LA_SOCIAL_WORKER else people["welsh_guardian"]
    visible = set(referrals_visible_to(actor=other).values_list("pk", flat=True))
    assert cardiff.pk in visible and croydon.pk not in visible


def test_imported_child_referrals_ask_for_a_guardian_too(people, child_referral_body):
    from opennrm.cases.services import ImportItem, referrals_import
    from opennrm.referrals.models import Referral
    from opennrm.referrals.validation import validate_referral

    items = []
    for n, la in enumerate((CROYDON, "E06000001", EDINBURGH)):
        child_referral_body["local_authority_contact"]["local_authority"] = la
        data, errors = validate_referral(child_referral_body, now=timezone.now())
        assert not errors
        items.append(ImportItem(n + 1, f"ext-{n}", timezone.now() - dt.timedelta(days=30), data))
    referrals_import(actor=people["police"], items=items)
    requests = {
        r.referral.local_authority: r
        for r in GuardianAllocationRequest.objects.filter(referral__external_id__startswith="ext-")
    }
    assert set(requests) == {CROYDON, EDINBURGH}  # Hartlepool has no guardianship service
    assert (
        requests[CROYDON].organisation == people["guardian"].organisation and requests[EDINBURGH].service.code == "SGS"
    )
    assert requests[CROYDON].requested_at == Referral.objects.get(external_id="ext-0").received_at
