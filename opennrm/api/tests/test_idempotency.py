"""Idempotency-Key on every POST (contract section 1)."""

import json

import pytest

from opennrm.api.models import IdempotencyRecord
from opennrm.audit.models import AuditEvent
from opennrm.policy import Role
from opennrm.referrals.models import DutyToNotify, Referral

from .support import error_fields, error_for, nothing_stored
from .test_duty_to_notify import VALID_DUTY_TO_NOTIFY


def _key(value: str) -> dict:
    return {"Idempotency-Key": value}


def test_repeat_with_the_same_key_and_body_returns_the_first_response(fr_client, child_referral_body):
    first = fr_client.post("/api/v1/referrals", child_referral_body, headers=_key("5b0c6e1e-first"))
    assert first.status_code == 201
    events = AuditEvent.objects.count()
    with nothing_stored():
        again = fr_client.post("/api/v1/referrals", child_referral_body, headers=_key("5b0c6e1e-first"))
    assert again.status_code == 201
    assert again.json() == first.json()
    assert Referral.objects.count() == 1
    assert AuditEvent.objects.count() == events


def test_the_same_body_without_a_key_is_a_new_referral(fr_client, child_referral_body):
    fr_client.post("/api/v1/referrals", child_referral_body)
    fr_client.post("/api/v1/referrals", child_referral_body)
    assert Referral.objects.count() == 2


def test_different_keys_make_different_referrals(fr_client, child_referral_body):
    a = fr_client.post("/api/v1/referrals", child_referral_body, headers=_key("key-a")).json()
    b = fr_client.post("/api/v1/referrals", child_referral_body, headers=_key("key-b")).json()
    assert a["id"] != b["id"]
    assert Referral.objects.count() == 2


def test_same_key_with_a_different_body_is_422(fr_client, child_referral_body):
    fr_client.post("/api/v1/referrals", child_referral_body, headers=_key("reused"))
    child_referral_body["first_responder_reference"] = "CRO-2026-0043"
    with nothing_stored():
        response = fr_client.post("/api/v1/referrals", child_referral_body, headers=_key("reused"))
    assert "different request" in error_for(response, "Idempotency-Key")


def test_same_key_on_a_different_route_is_422(fr_client, child_referral_body):
    fr_client.post("/api/v1/referrals", child_referral_body, headers=_key("one-key"))
    with nothing_stored():
        response = fr_client.post("/api/v1/duty-to-notify", VALID_DUTY_TO_NOTIFY, headers=_key("one-key"))
    assert error_fields(response) == ["Idempotency-Key"]


def test_the_body_is_compared_byte_for_byte(fr_client, child_referral_body):
    """Reformatted JSON is a different request: the key promises the same bytes, not the same meaning."""
    fr_client.post("/api/v1/referrals", raw=json.dumps(child_referral_body), headers=_key("bytes"))
    response = fr_client.post("/api/v1/referrals", raw=json.dumps(child_referral_body, indent=2), headers=_key("bytes"))
    assert error_fields(response) == ["Idempotency-Key"]
    assert Referral.objects.count() == 1


def test_different_users_with_the_same_key_are_independent(make_user, api_client, child_referral_body):
    one = api_client(make_user(Role.FIRST_RESPONDER))
    other = api_client(
        make_user(Role.FIRST_RESPONDER, organisation=None, name="Croydon Council", kind="local_authority")
    )
    a = one.post("/api/v1/referrals", child_referral_body, headers=_key("shared-key"))
    b = other.post("/api/v1/referrals", child_referral_body, headers=_key("shared-key"))
    assert a.status_code == b.status_code == 201
    assert a.json()["id"] != b.json()["id"]
    assert Referral.objects.count() == 2
    # And each user's repeat still gets their own first answer.
    assert other.post("/api/v1/referrals", child_referral_body, headers=_key("shared-key")).json() == b.json()


def test_a_refused_request_does_not_use_up_its_key(fr_client, child_referral_body):
    child_referral_body["nation"] = "XX"
    assert fr_client.post("/api/v1/referrals", child_referral_body, headers=_key("retry")).status_code == 422
    assert IdempotencyRecord.objects.count() == 0
    # The same request again is checked again (and refused again), not replayed from storage.
    assert fr_client.post("/api/v1/referrals", child_referral_body, headers=_key("retry")).status_code == 422
    child_referral_body["nation"] = "ENG"
    assert fr_client.post("/api/v1/referrals", child_referral_body, headers=_key("retry")).status_code == 201


def test_duty_to_notify_is_idempotent_too(fr_client):
    first = fr_client.post("/api/v1/duty-to-notify", VALID_DUTY_TO_NOTIFY, headers=_key("dtn-1"))
    again = fr_client.post("/api/v1/duty-to-notify", VALID_DUTY_TO_NOTIFY, headers=_key("dtn-1"))
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert DutyToNotify.objects.count() == 1


@pytest.mark.parametrize("key", ["k" * 256, "", "tab\there"], ids=["too-long", "empty", "control-character"])
def test_bad_key_is_422(fr_client, child_referral_body, key):
    with nothing_stored():
        response = fr_client.post("/api/v1/referrals", child_referral_body, headers=_key(key))
    assert "255" in error_for(response, "Idempotency-Key")


def test_longest_allowed_key_works(fr_client, child_referral_body):
    assert fr_client.post("/api/v1/referrals", child_referral_body, headers=_key("k" * 255)).status_code == 201


def test_the_nightly_prune_removes_keys_older_than_the_retention_and_keeps_the_rest(fr_client, child_referral_body):
    import datetime as dt

    from django.utils import timezone

    from opennrm.api.services import IDEMPOTENCY_RETENTION
    from opennrm.api.tasks import idempotency_prune

    fr_client.post("/api/v1/referrals", child_referral_body, headers=_key("old-key"))
    fr_client.post(
        "/api/v1/referrals", {**child_referral_body, "first_responder_reference": "NEWER"}, headers=_key("new-key")
    )
    now = timezone.now()
    IdempotencyRecord.objects.filter(key="old-key").update(
        created_at=now - IDEMPOTENCY_RETENTION - dt.timedelta(minutes=1)
    )

    summary = idempotency_prune(now=now)

    assert summary["pruned"] == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new-key"]
    assert AuditEvent.objects.filter(action="idempotency.pruned").get().details["deleted"] == 1
    # A repeat of the kept key still answers as the first time did.
    again = fr_client.post(
        "/api/v1/referrals", {**child_referral_body, "first_responder_reference": "NEWER"}, headers=_key("new-key")
    )
    assert again.status_code == 201 and Referral.objects.count() == 2
