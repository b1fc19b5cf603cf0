"""Helpers for the API tests: reading 422 bodies and counting what was stored."""

from contextlib import contextmanager

from opennrm.api.models import IdempotencyRecord
from opennrm.audit.models import AuditEvent
from opennrm.referrals.models import DutyToNotify, Referral


def stored_counts() -> dict[str, int]:
    """What a refused request must leave untouched: records, audit events and idempotency replies."""
    return {
        "referrals": Referral.objects.count(),
        "duty_to_notify": DutyToNotify.objects.count(),
        "audit_events": AuditEvent.objects.count(),
        "idempotency_records": IdempotencyRecord.objects.count(),
    }


@contextmanager
def nothing_stored():
    """`with nothing_stored(): response = ...` fails if the block stored anything."""
    before = stored_counts()
    yield
    assert stored_counts() == before, "a refused request stored something"


def errors_of(response) -> list[dict]:
    """The errors of a 422, after checking the body has the contract's shape."""
    assert response.status_code == 422, (response.status_code, response.content[:2000])
    body = response.json()
    assert set(body) == {"errors"}, body
    assert body["errors"], body
    for err in body["errors"]:
        assert set(err) == {"field", "message"}, err
        assert isinstance(err["field"], str) and err["field"], err
        assert isinstance(err["message"], str) and len(err["message"].strip()) > 5, err
    return body["errors"]


def error_fields(response) -> list[str]:
    return [err["field"] for err in errors_of(response)]


def error_for(response, field: str) -> str:
    """The message for `field`, failing if there is none."""
    errors = errors_of(response)
    messages = [e["message"] for e in errors if e["field"] == field]
    assert messages, (field, errors)
    # A message must be readable text, not an unfilled template.
    assert "{" not in messages[0] and "}" not in messages[0], messages[0]
    return messages[0]
