"""The database itself refuses to change or remove audit entries, whatever the application asks."""

import pytest
from django.db import DatabaseError, connection, transaction

from opennrm.audit.models import AuditEvent
from opennrm.audit.services import audit_record
from opennrm.audit.verify import audit_verify


@pytest.fixture
def recorded(db):
    with transaction.atomic():
        audit_record(actor=None, action="test.first", details={"n": 1})
        return audit_record(actor=None, action="test.second", details={"n": 2})


def refused(change) -> bool:
    # A savepoint, so that on PostgreSQL the refused statement does not abort the test's transaction.
    try:
        with transaction.atomic():
            change()
    except DatabaseError as exc:
        assert "append-only" in str(exc)
        return True
    return False


def test_the_app_cannot_update_an_audit_event(recorded):
    assert refused(lambda: AuditEvent.objects.filter(pk=recorded.pk).update(action="test.rewritten"))

    def save_edited():
        recorded.details = {"n": 99}
        recorded.save()

    assert refused(save_edited)
    assert refused(lambda: AuditEvent.objects.update(actor_username="someone else"))
    with connection.cursor() as cursor:
        assert refused(lambda: cursor.execute("UPDATE audit_auditevent SET ip_address = NULL"))
    assert AuditEvent.objects.get(pk=recorded.pk).details == {"n": 2}
    assert audit_verify().ok


def test_the_app_cannot_delete_an_audit_event(recorded):
    assert refused(lambda: AuditEvent.objects.get(pk=recorded.pk).delete())
    assert refused(lambda: AuditEvent.objects.all().delete())
    with connection.cursor() as cursor:
        assert refused(lambda: cursor.execute("DELETE FROM audit_auditevent"))
    assert AuditEvent.objects.count() == 2
    assert audit_verify().ok


def test_the_app_cannot_truncate_the_audit_trail(recorded):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no TRUNCATE; its DELETE without WHERE is refused above")
    with connection.cursor() as cursor:
        assert refused(lambda: cursor.execute("TRUNCATE audit_auditevent"))
        assert refused(lambda: cursor.execute("TRUNCATE audit_auditevent CASCADE"))
    assert AuditEvent.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_transactional_test_can_write_the_trail_and_be_flushed():
    # The flush after this test must get past the triggers (opennrm/conftest.py lifts them for it);
    # the next test checks that they are back.
    with transaction.atomic():
        audit_record(actor=None, action="test.transactional")
    assert AuditEvent.objects.count() == 1


def test_the_triggers_are_back_after_a_transactional_test_was_flushed(recorded):
    assert AuditEvent.objects.count() == 2  # the transactional test's entry was flushed
    assert refused(lambda: AuditEvent.objects.filter(pk=recorded.pk).update(action="test.rewritten"))
    assert refused(lambda: AuditEvent.objects.filter(pk=recorded.pk).delete())
