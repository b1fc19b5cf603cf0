"""referral_create and referrals_import: reference, deadline in the nation's working days, audit in the same transaction."""

import copy
import datetime as dt
import re

import pytest

from opennrm.audit.models import AuditEvent
from opennrm.cases import services
from opennrm.cases.services import ImportItem, referral_create, referrals_import
from opennrm.conftest import VALID_CHILD_REFERRAL
from opennrm.core.errors import NotAllowed
from opennrm.policy import Role
from opennrm.referrals.models import Referral
from opennrm.referrals.validation import validate_referral
from opennrm.workdays.calendar import forget_closure_days

CHECKED_AT = dt.datetime(2026, 11, 28, 15, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def fresh_closure_days():
    # Closure days are cached per process; another test's must not move these deadlines.
    forget_closure_days()
    yield
    forget_closure_days()


@pytest.fixture
def first_responder(make_user):
    return make_user(Role.FIRST_RESPONDER)


def referral_data(nation: str = "ENG", **changes):
    body = copy.deepcopy(VALID_CHILD_REFERRAL)
    body.update(nation=nation, **changes)
    data, errors = validate_referral(body, now=CHECKED_AT)
    assert not errors, errors
    return data


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


# --- referral_create -----------------------------------------------------------------------------


def test_create_stores_the_referral_and_audits_it(first_responder):
    referral = referral_create(actor=first_responder, data=referral_data(), received_at=at("2026-11-27T12:00:00Z"))
    stored = Referral.objects.get(pk=referral.pk)
    assert stored.reference == referral.reference
    assert stored.status == "awaiting_reasonable_grounds" and stored.competent_authority == "SCA"
    assert stored.organisation_id == first_responder.organisation_id and stored.created_by_id == first_responder.pk
    [event] = AuditEvent.objects.filter(action="referral.create")
    assert (event.object_type, event.object_id) == ("referral", str(referral.uuid))
    assert event.actor_id == first_responder.pk
    assert event.details["reference"] == referral.reference


def test_create_and_its_audit_event_commit_or_fail_together(first_responder, monkeypatch):
    def audit_fails(**kwargs):
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr(services, "audit_record", audit_fails)
    events = AuditEvent.objects.count()
    with pytest.raises(RuntimeError):
        referral_create(actor=first_responder, data=referral_data())
    # No referral without its audit event.
    assert Referral.objects.count() == 0
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize(
    "role", [Role.SCA_DECISION_MAKER, Role.IMMIGRATION_OFFICER, Role.STATISTICIAN, Role.LA_SOCIAL_WORKER]
)
def test_only_first_responders_may_create(make_user, role):
    with pytest.raises(NotAllowed):
        referral_create(actor=make_user(role), data=referral_data())
    assert Referral.objects.count() == 0
    assert not AuditEvent.objects.filter(action="referral.create").exists()


def test_reference_format_and_uniqueness(first_responder):
    first = referral_create(actor=first_responder, data=referral_data(), received_at=at("2026-11-27T12:00:00Z"))
    second = referral_create(actor=first_responder, data=referral_data(), received_at=at("2026-11-27T12:00:01Z"))
    for referral in (first, second):
        assert re.fullmatch(r"NRM-2026-\d{6}", referral.reference)
        assert referral.reference == f"NRM-2026-{referral.pk:06d}"
    assert first.reference != second.reference


def test_reference_year_is_the_year_in_london(first_responder):
    # 31 Dec 23:30 at UTC-01:00 is 1 January 00:30 in London: a referral of the new year.
    new_year = referral_create(actor=first_responder, data=referral_data(), received_at=at("2026-12-31T23:30:00-01:00"))
    assert new_year.reference.startswith("NRM-2027-")
    old_year = referral_create(actor=first_responder, data=referral_data(), received_at=at("2026-12-31T23:30:00+00:00"))
    assert old_year.reference.startswith("NRM-2026-")


DEADLINES = [
    # Friday noon: five working days are Mon 30 Nov to Fri 4 Dec.
    ("2026-11-27T12:00:00Z", "ENG", "2026-12-04"),
    ("2026-11-27T12:00:00Z", "WLS", "2026-12-04"),
    ("2026-11-27T12:00:00Z", "NIR", "2026-12-04"),
    # Scotland keeps St Andrew's Day, Monday 30 November 2026.
    ("2026-11-27T12:00:00Z", "SCT", "2026-12-07"),
    # Sunday 00:30 in London (GMT, so the same in UTC): counts from that Sunday.
    ("2026-11-29T00:30:00Z", "ENG", "2026-12-04"),
    ("2026-11-29T00:30:00Z", "SCT", "2026-12-07"),
    # 23:30 at UTC-01:00 on Friday is 00:30 on Saturday 28 November in London: counts from Saturday.
    ("2026-11-27T23:30:00-01:00", "ENG", "2026-12-04"),
    # The same clock time a day earlier falls on Friday in London, not Thursday: Fri 4 Dec, not Thu 3 Dec.
    ("2026-11-26T23:30:00-01:00", "ENG", "2026-12-04"),
    ("2026-11-26T23:30:00+00:00", "ENG", "2026-12-03"),
    # In summer London is UTC+1: 23:30 UTC on Sunday 5 July is Monday 6 July, so due Monday 13 July.
    ("2026-07-05T23:30:00Z", "ENG", "2026-07-13"),
    ("2026-07-05T22:30:00Z", "ENG", "2026-07-10"),
    # Christmas and New Year: Fri 25 Dec, Mon 28 Dec (for Boxing Day) and Fri 1 Jan are bank holidays.
    ("2026-12-23T09:00:00Z", "ENG", "2027-01-04"),
    # Scotland also keeps 2 January (Saturday in 2027, so Monday 4 January instead).
    ("2026-12-30T09:00:00Z", "ENG", "2027-01-07"),
    ("2026-12-30T09:00:00Z", "SCT", "2027-01-08"),
    # Northern Ireland keeps St Patrick's Day, Tuesday 17 March 2026.
    ("2026-03-13T09:00:00Z", "NIR", "2026-03-23"),
    ("2026-03-13T09:00:00Z", "ENG", "2026-03-20"),
]


@pytest.mark.parametrize("received, nation, due", DEADLINES)
def test_reasonable_grounds_deadline_is_five_working_days_in_the_nation(first_responder, received, nation, due):
    referral = referral_create(actor=first_responder, data=referral_data(nation), received_at=at(received))
    assert referral.reasonable_grounds_due == dt.date.fromisoformat(due)
    assert Referral.objects.get(pk=referral.pk).reasonable_grounds_due == dt.date.fromisoformat(due)


def test_received_at_is_stored_as_the_same_instant(first_responder):
    referral = referral_create(actor=first_responder, data=referral_data(), received_at=at("2026-11-27T23:30:00-01:00"))
    assert Referral.objects.get(pk=referral.pk).received_at == dt.datetime(2026, 11, 28, 0, 30, tzinfo=dt.UTC)


# --- referrals_import ----------------------------------------------------------------------------


def import_items(*external_ids: str, start_line: int = 1) -> list[ImportItem]:
    return [
        ImportItem(
            line_number=start_line + i,
            external_id=external_id,
            received_at=at("2026-10-01T09:00:00Z"),
            data=referral_data(),
        )
        for i, external_id in enumerate(external_ids)
    ]


def test_import_creates_each_referral_with_reference_deadline_and_audit(first_responder):
    outcome = referrals_import(actor=first_responder, items=import_items("SRC-1", "SRC-2"))
    assert [line for line, _ in outcome.created] == [1, 2]
    assert outcome.already_present == []
    referrals = list(Referral.objects.order_by("pk"))
    assert [r.external_id for r in referrals] == ["SRC-1", "SRC-2"]
    assert [r.reference for r in referrals] == [ref for _, ref in outcome.created]
    for referral in referrals:
        assert re.fullmatch(r"NRM-2026-\d{6}", referral.reference)
        # Thursday 1 October 2026: five working days on is Thursday 8 October.
        assert referral.reasonable_grounds_due == dt.date(2026, 10, 8)
        assert referral.received_at == at("2026-10-01T09:00:00Z")
    assert {e.object_id for e in AuditEvent.objects.filter(action="referral.import")} == {
        str(r.uuid) for r in referrals
    }


def test_import_is_idempotent_on_external_id(first_responder):
    first = referrals_import(actor=first_responder, items=import_items("SRC-1", "SRC-2"))
    events = AuditEvent.objects.count()
    again = referrals_import(actor=first_responder, items=import_items("SRC-1", "SRC-2", "SRC-3"))
    assert [line for line, _ in again.created] == [3]
    assert again.already_present == first.created
    assert Referral.objects.count() == 3
    # Only the new referral is audited as imported.
    assert AuditEvent.objects.filter(action="referral.import").count() == 3
    assert AuditEvent.objects.count() == events + 1


def test_a_repeated_external_id_in_one_batch_is_imported_once(first_responder):
    outcome = referrals_import(actor=first_responder, items=import_items("SRC-1", "SRC-1"))
    assert len(outcome.created) == 1
    assert [line for line, _ in outcome.already_present] == [2]
    assert Referral.objects.count() == 1


def test_external_ids_are_per_organisation(make_user, first_responder):
    other = make_user(Role.FIRST_RESPONDER, name="Croydon Council", kind="local_authority")
    referrals_import(actor=first_responder, items=import_items("SRC-1"))
    outcome = referrals_import(actor=other, items=import_items("SRC-1"))
    assert len(outcome.created) == 1
    assert Referral.objects.filter(external_id="SRC-1").count() == 2


def test_import_refused_for_a_role_that_may_not_import(make_user):
    with pytest.raises(NotAllowed):
        referrals_import(actor=make_user(Role.SCA_DECISION_MAKER), items=import_items("SRC-1"))
    assert Referral.objects.count() == 0


def test_api_referrals_are_not_mistaken_for_imports(first_responder):
    """A referral made through the API has no external_id, so it never blocks an import."""
    referral_create(actor=first_responder, data=referral_data())
    outcome = referrals_import(actor=first_responder, items=import_items("SRC-1"))
    assert len(outcome.created) == 1
