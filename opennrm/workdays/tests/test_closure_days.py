"""Closure days from the ClosureDay table: added through the audited service, they move deadlines at once."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError

from opennrm.audit.models import AuditEvent
from opennrm.audit.verify import audit_verify
from opennrm.policy import Role
from opennrm.referrals.models import Referral
from opennrm.workdays.calendar import add_working_days
from opennrm.workdays.models import ClosureDay
from opennrm.workdays.services import closure_day_delete, closure_day_save

FRIDAY = dt.date(2026, 11, 27)
WEDNESDAY_AFTER = dt.date(2026, 12, 2)


@pytest.fixture
def admin(make_user):
    return make_user(Role.ADMIN)


def expected_before_closure():
    return {
        "ENG": dt.date(2026, 12, 4),
        "WLS": dt.date(2026, 12, 4),
        "NIR": dt.date(2026, 12, 4),
        "SCT": dt.date(2026, 12, 7),
    }


@pytest.mark.django_db(transaction=True)
def test_a_closure_for_all_nations_moves_every_deadline_at_once(admin):
    assert {n: add_working_days(FRIDAY, 5, n) for n in expected_before_closure()} == expected_before_closure()
    closure = closure_day_save(
        actor=admin, closure=ClosureDay(date=WEDNESDAY_AFTER, nation="", description="Office move")
    )
    # No waiting for the 30-second cache: the service's commit clears it in this process.
    assert {n: add_working_days(FRIDAY, 5, n) for n in ("ENG", "WLS", "NIR", "SCT")} == {
        "ENG": dt.date(2026, 12, 7),
        "WLS": dt.date(2026, 12, 7),
        "NIR": dt.date(2026, 12, 7),
        "SCT": dt.date(2026, 12, 8),
    }
    [event] = AuditEvent.objects.filter(action="closure_day.create")
    assert (event.actor_id, event.object_type, event.object_id) == (admin.pk, "closure_day", str(closure.pk))
    assert (
        event.details["after"] == {"id": closure.pk, "date": "2026-12-02", "nation": "", "description": "Office move"}
        and event.details["before"] == {}
    )

    closure_id = str(closure.pk)
    closure_day_delete(actor=admin, closure=closure)
    assert {n: add_working_days(FRIDAY, 5, n) for n in expected_before_closure()} == expected_before_closure()
    assert AuditEvent.objects.filter(action="closure_day.delete", object_id=closure_id).count() == 1
    assert audit_verify().ok


@pytest.mark.django_db(transaction=True)
def test_a_closure_for_one_nation_moves_only_that_nations_deadlines(admin):
    add_working_days(FRIDAY, 5, "ENG")  # fill the cache first, as a running server would have
    closure_day_save(actor=admin, closure=ClosureDay(date=WEDNESDAY_AFTER, nation="WLS", description="Severe weather"))
    assert {n: add_working_days(FRIDAY, 5, n) for n in ("ENG", "WLS", "NIR", "SCT")} == {
        "ENG": dt.date(2026, 12, 4),
        "WLS": dt.date(2026, 12, 7),
        "NIR": dt.date(2026, 12, 4),
        "SCT": dt.date(2026, 12, 7),
    }


@pytest.mark.django_db(transaction=True)
def test_changing_a_closure_day_moves_the_deadline_again(admin):
    closure = closure_day_save(
        actor=admin, closure=ClosureDay(date=WEDNESDAY_AFTER, nation="ENG", description="Severe weather")
    )
    assert add_working_days(FRIDAY, 5, "ENG") == dt.date(2026, 12, 7)
    closure.date = dt.date(2026, 12, 10)  # after the deadline: no longer in the way
    closure_day_save(actor=admin, closure=closure)
    assert add_working_days(FRIDAY, 5, "ENG") == dt.date(2026, 12, 4)
    assert AuditEvent.objects.filter(action="closure_day.change", object_id=str(closure.pk)).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_referral_received_after_a_closure_is_added_gets_the_later_deadline(
    admin, make_user, api_client, child_referral_body
):
    api = api_client(make_user(Role.FIRST_RESPONDER))
    with time_machine.travel(dt.datetime(2026, 11, 27, 10, 30, tzinfo=dt.UTC), tick=False):
        child_referral_body["local_authority_contact"]["contacted_at"] = "2026-11-27T10:15:00Z"
        before = api.post("/api/v1/referrals", child_referral_body)
        assert before.status_code == 201, before.content
        assert before.json()["reasonable_grounds_due"] == "2026-12-04"
        closure_day_save(actor=admin, closure=ClosureDay(date=WEDNESDAY_AFTER, nation="", description="Office move"))
        after = api.post("/api/v1/referrals", child_referral_body)
        assert after.json()["reasonable_grounds_due"] == "2026-12-07"
    # A deadline already given is not changed by a later closure.
    assert Referral.objects.get(uuid=before.json()["id"]).reasonable_grounds_due == dt.date(2026, 12, 4)


def test_a_closure_day_is_checked_before_it_is_saved(admin):
    with pytest.raises(ValidationError):
        closure_day_save(
            actor=admin, closure=ClosureDay(date=WEDNESDAY_AFTER, nation="XXX", description="Not a nation")
        )
    closure_day_save(actor=admin, closure=ClosureDay(date=WEDNESDAY_AFTER, nation="ENG", description="Severe weather"))
    with pytest.raises(ValidationError):
        closure_day_save(
            actor=admin, closure=ClosureDay(date=WEDNESDAY_AFTER, nation="ENG", description="The same day again")
        )
    assert ClosureDay.objects.count() == 1
    assert AuditEvent.objects.filter(action__startswith="closure_day.").count() == 1
