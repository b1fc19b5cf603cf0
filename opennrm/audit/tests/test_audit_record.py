"""Writing the audit trail: only inside a transaction, and every entry chained to the one before."""

import itertools

import pytest
from django.db import transaction
from django.test import override_settings

from opennrm.audit.chain import GENESIS, entry_digest, hashed_fields
from opennrm.audit.models import AuditChainHead, AuditEvent
from opennrm.audit.services import AuditEntry, audit_record, audit_record_many
from opennrm.audit.verify import VerifyResult, audit_verify
from opennrm.policy import Role


@pytest.mark.django_db(transaction=True)
def test_audit_record_outside_a_transaction_is_refused_and_writes_nothing():
    with pytest.raises(RuntimeError, match="inside the acting service's transaction"):
        audit_record(actor=None, action="test.outside")
    with pytest.raises(RuntimeError):
        audit_record_many(actor=None, entries=[AuditEntry("test.outside")])
    assert AuditEvent.objects.count() == 0
    assert AuditChainHead.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_transaction_that_rolls_back_takes_its_audit_event_with_it():
    class Refused(Exception):
        pass

    with pytest.raises(Refused), transaction.atomic():
        audit_record(actor=None, action="test.rolled_back")
        raise Refused
    assert AuditEvent.objects.count() == 0
    with transaction.atomic():
        event = audit_record(actor=None, action="test.kept")
    # The rolled-back entry left no gap: the chain starts at 1.
    assert (event.seq, event.prev_hash) == (1, GENESIS)
    assert audit_verify().ok


def test_events_chain_in_order_with_contiguous_positions(make_user):
    actor = make_user(Role.SCA_DECISION_MAKER)
    events = []
    for i in range(4):
        with transaction.atomic():
            events.append(
                audit_record(actor=actor, action="test.step", object_type="thing", object_id=str(i), details={"i": i})
            )
    with transaction.atomic():
        events += audit_record_many(
            actor=actor, entries=[AuditEntry("test.bulk", "thing", str(i)) for i in range(4, 7)]
        )

    stored = list(AuditEvent.objects.order_by("chain", "seq"))
    assert [e.pk for e in stored] == [e.pk for e in events]
    # One thread keeps to one chain.
    assert {e.chain for e in stored} == {events[0].chain}
    assert [e.seq for e in stored] == list(range(1, 8))
    assert stored[0].prev_hash == GENESIS
    for before, after in itertools.pairwise(stored):
        assert after.prev_hash == before.hash
    for e in stored:
        assert e.hash == entry_digest(chain=e.chain, seq=e.seq, prev_hash=e.prev_hash, fields=hashed_fields(e))
        assert (e.actor_id, e.actor_username, e.actor_role) == (actor.pk, actor.username, Role.SCA_DECISION_MAKER)
    head = AuditChainHead.objects.get(chain=events[0].chain)
    assert (head.seq, head.hash) == (7, stored[-1].hash)
    assert audit_verify() == VerifyResult(ok=True, checked=7)


def test_the_trail_only_verifies_with_the_key_it_was_written_with(make_user):
    with transaction.atomic():
        first = audit_record(actor=make_user(Role.AUDITOR), action="test.keyed")
    assert audit_verify().ok
    with override_settings(AUDIT_HMAC_KEY="a-different-key-entirely"):
        result = audit_verify()
    assert not result.ok
    assert f"audit event {first.pk} " in result.problem and "(edited)" in result.problem
