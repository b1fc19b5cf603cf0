"""The decision routes of the API (contract section 4): who may call them, bad bodies, wrong order, and the issue's journey."""

import datetime as dt
import threading
import uuid

import pytest
from django.db import connection, connections

from opennrm.decisions.models import Decision
from opennrm.referrals.models import Referral

from .conftest import make_referral

pytestmark = pytest.mark.django_db
BASE = "/api/v1/referrals"
RG, CG = "reasonable_grounds", "conclusive_grounds"


@pytest.fixture
def clients(people, api_client):
    return {name: api_client(user) for name, user in people.items()}


def decide(client, referral, stage=RG, outcome="positive", reasons="Consistent account", **headers):
    return client.post(
        f"{BASE}/{referral.uuid}/decisions",
        {"stage": stage, "outcome": outcome, "reasons": reasons},
        headers=headers or None,
    )


def state(referral) -> tuple:
    fresh = Referral.objects.get(pk=referral.pk)
    return (
        fresh.status,
        fresh.competent_authority,
        fresh.reasonable_grounds_due,
        Decision.objects.filter(referral=fresh).count(),
    )


def test_done_when_negative_rg_confirmed_then_reconsideration_requested(clients, people, child_referral_body):
    referral = make_referral(people["referrer"], child_referral_body, days_ago=2)
    proposed = decide(
        clients["sca1"], referral, outcome="negative", reasons="Little specific detail of recruitment or control"
    )
    assert proposed.status_code == 201, proposed.content
    body = proposed.json()
    assert (body["state"], body["referral"]["status"], body["guidance_version"]) == (
        "proposed",
        "awaiting_reasonable_grounds",
        "rg-all-evidence-2023-07",
    )
    # Not yet a decision: the first responder's view of the status shows none.
    assert clients["referrer"].get(f"{BASE}/{referral.uuid}").json()["decisions"] == []

    confirm_url = f"{BASE}/{referral.uuid}/decisions/{body['id']}/confirm"
    by_proposer = clients["sca1"].post(confirm_url, {})
    assert by_proposer.status_code == 409 and "different decision maker" in by_proposer.json()["detail"]
    confirmed = clients["sca2"].post(confirm_url, raw=b"")
    assert confirmed.status_code == 200, confirmed.content
    assert (confirmed.json()["state"], confirmed.json()["reviewed_by"], confirmed.json()["referral"]["status"]) == (
        "issued",
        "sca2",
        "reasonable_grounds_negative",
    )
    seen = clients["referrer"].get(f"{BASE}/{referral.uuid}").json()
    assert [(d["stage"], d["outcome"]) for d in seen["decisions"]] == [(RG, "negative")]

    asked = clients["referrer"].post(
        f"{BASE}/{referral.uuid}/reconsideration-requests", {"grounds": "The school's safeguarding records"}
    )
    assert asked.status_code == 201, asked.content
    assert asked.json()["referral"]["status"] == "reconsideration" and asked.json()["decision_id"] == body["id"]
    again = decide(clients["sca2"], referral)
    assert again.status_code == 201 and again.json()["referral"]["status"] == "recovery_period"


def test_done_when_the_islington_panel_decides_a_child_from_islington(clients, people, islington_child_body):
    referral = make_referral(people["referrer"], islington_child_body, days_ago=1)
    assert referral.competent_authority == "LOCAL_PANEL"
    assert decide(clients["other_panel"], referral).status_code == 404
    assert decide(clients["sca1"], referral).status_code == 404
    decided = decide(clients["panel"], referral)
    assert decided.status_code == 201 and decided.json()["referral"]["status"] == "recovery_period"


def test_who_may_decide(clients, child_referral):
    before = state(child_referral)
    for name in ("referrer", "la", "guardian", "immigration", "admin"):
        response = decide(clients[name], child_referral)
        assert response.status_code == 403, name
    for name in ("ieca", "panel"):
        assert decide(clients[name], child_referral).json() == {"detail": "Not found"}
    assert decide(clients["sca1"], Referral(uuid=uuid.uuid4())).status_code == 404
    assert (
        clients["sca1"]
        .post(f"{BASE}/not-an-id/decisions", {"stage": RG, "outcome": "positive", "reasons": "x"})
        .status_code
        == 404
    )
    assert state(child_referral) == before


def test_bad_bodies_get_every_error_at_once(clients, child_referral):
    response = clients["sca1"].post(
        f"{BASE}/{child_referral.uuid}/decisions", {"stage": "final", "outcome": "maybe", "reasons": "", "extra": 1}
    )
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"stage", "outcome", "reasons", "extra"}
    assert clients["sca1"].post(f"{BASE}/{child_referral.uuid}/decisions", raw=b"[1]").status_code == 422
    assert clients["sca1"].post(f"{BASE}/{child_referral.uuid}/decisions", raw=b"{").status_code == 422
    for path, body, field in [
        ("reroute", {"competent_authority": "NCA", "reason": "x"}, "competent_authority"),
        ("reroute", {"competent_authority": "IECA"}, "reason"),
        ("withdraw", {"reason": 3}, "reason"),
        ("reconsideration-requests", {}, "grounds"),
    ]:
        client = clients["referrer"] if path in ("withdraw", "reconsideration-requests") else clients["sca1"]
        response = client.post(f"{BASE}/{child_referral.uuid}/{path}", body)
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == field, (path, response.content)
    assert state(child_referral)[3] == 0


def test_wrong_order_is_409_with_the_reason_and_leaves_the_record(clients, people, child_referral):
    before = state(child_referral)
    response = decide(clients["sca1"], child_referral, stage=CG)
    assert response.status_code == 409 and "Reasonable Grounds decision first" in response.json()["detail"]
    reconsider = clients["referrer"].post(
        f"{BASE}/{child_referral.uuid}/reconsideration-requests", {"grounds": "Look again"}
    )
    assert reconsider.status_code == 409 and "Only a negative decision" in reconsider.json()["detail"]
    withdraw = clients["referrer"].post(f"{BASE}/{child_referral.uuid}/withdraw", {"reason": "Asked to leave"})
    assert withdraw.status_code == 409 and "child" in withdraw.json()["detail"]
    assert state(child_referral) == before

    assert decide(clients["sca1"], child_referral).status_code == 201
    second = decide(clients["sca2"], child_referral)
    assert second.status_code == 409 and "already issued" in second.json()["detail"]
    referral = Referral.objects.get(pk=child_referral.pk)
    cg = decide(clients["sca1"], referral, stage=CG)
    assert cg.status_code == 409 and f"{referral.recovery_period_ends_on:%-d %B %Y}" in cg.json()["detail"]


def test_send_back_then_a_fresh_decision(clients, child_referral):
    proposal = decide(clients["sca1"], child_referral, outcome="negative").json()
    blocked = decide(clients["sca2"], child_referral)
    assert blocked.status_code == 409 and "awaits a second decision maker" in blocked.json()["detail"]
    url = f"{BASE}/{child_referral.uuid}/decisions/{proposal['id']}/send-back"
    assert clients["sca2"].post(url, {}).status_code == 422
    sent = clients["sca2"].post(url, {"comment": "Get the police interview first"})
    assert sent.status_code == 200 and sent.json()["state"] == "sent_back"
    assert (
        clients["sca2"].post(f"{BASE}/{child_referral.uuid}/decisions/{proposal['id']}/confirm", {}).status_code == 409
    )
    assert clients["sca2"].post(f"{BASE}/{child_referral.uuid}/decisions/{uuid.uuid4()}/confirm", {}).status_code == 404
    assert decide(clients["sca2"], child_referral).status_code == 201


def test_withdrawal_and_reroute_through_the_api(clients, people, adult_referral_body):
    referral = make_referral(
        people["referrer"], adult_referral_body, received_at=dt.datetime(2026, 11, 27, 10, tzinfo=dt.UTC)
    )
    assert clients["la"].post(f"{BASE}/{referral.uuid}/withdraw", {"reason": "x"}).status_code == 403
    assert clients["other_referrer"].post(f"{BASE}/{referral.uuid}/withdraw", {"reason": "x"}).status_code == 404
    rerouted = clients["sca1"].post(
        f"{BASE}/{referral.uuid}/reroute", {"competent_authority": "IECA", "reason": "In detention"}
    )
    assert rerouted.status_code == 200 and rerouted.json()["referral"]["competent_authority"] == "IECA"
    assert rerouted.json()["referral"]["reasonable_grounds_due"] == "2026-12-04"
    assert (
        clients["sca1"]
        .post(f"{BASE}/{referral.uuid}/reroute", {"competent_authority": "SCA", "reason": "x"})
        .status_code
        == 404
    )
    withdrawn = clients["referrer"].post(
        f"{BASE}/{referral.uuid}/withdraw", {"reason": "Returned home"}, headers={"Idempotency-Key": "w-1"}
    )
    assert withdrawn.status_code == 200 and withdrawn.json()["referral"]["status"] == "withdrawn"
    repeat = clients["referrer"].post(
        f"{BASE}/{referral.uuid}/withdraw", {"reason": "Returned home"}, headers={"Idempotency-Key": "w-1"}
    )
    assert repeat.status_code == 200 and repeat.json() == withdrawn.json()
    assert clients["referrer"].post(f"{BASE}/{referral.uuid}/withdraw", {"reason": "Again"}).status_code == 409


def test_an_idempotent_repeat_records_one_decision(clients, child_referral):
    first = decide(clients["sca1"], child_referral, **{"Idempotency-Key": "d-1"})
    second = decide(clients["sca1"], child_referral, **{"Idempotency-Key": "d-1"})
    assert first.status_code == second.status_code == 201 and first.json() == second.json()
    assert Decision.objects.filter(referral=child_referral).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_decision_makers_at_once_exactly_one_wins(people, api_client, child_referral_body):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers for the whole database; row locks are tested on PostgreSQL")
    referral = make_referral(people["referrer"], child_referral_body, days_ago=2)
    clients = [api_client(people["sca1"]), api_client(people["sca2"])]
    start = threading.Barrier(2)
    results: list[int] = []

    def attempt(client, outcome):
        try:
            start.wait()
            results.append(decide(client, referral, outcome=outcome).status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt, args=(c, o)) for c, o in zip(clients, ("positive", "negative"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [201, 409]
    assert Decision.objects.filter(referral=referral).count() == 1
