"""`opennrm audit verify`: exit 0 on an intact trail; exit 1 naming the first broken entry after a hand edit.

The hand edits lift the append-only triggers first, as a database administrator (or an intruder with
the table owner's rights) could.
"""

import hashlib
import io

import pytest
from django.core.management import call_command
from django.db import transaction

from opennrm.audit.models import AuditChainHead, AuditEvent
from opennrm.audit.services import audit_record
from opennrm.policy import Role

from .append_only import append_only_lifted

ENTRIES = 6


@pytest.fixture
def trail(make_user):
    """Six entries, each written by its own service-style transaction, in this thread's chain."""
    actor = make_user(Role.FIRST_RESPONDER)
    events = []
    for i in range(ENTRIES):
        with transaction.atomic():
            events.append(
                audit_record(
                    actor=actor,
                    action="referral.read",
                    object_type="referral",
                    object_id=f"obj-{i}",
                    details={"purpose": "view", "i": i},
                )
            )
    assert [e.seq for e in events] == list(range(1, ENTRIES + 1))
    return events


def verify() -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("audit", "verify", stdout=out, stderr=err)
    except SystemExit as exc:
        return exc.code, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def names(event) -> str:
    return f"audit event {event.pk} (chain {event.chain}, position {event.seq})"


def test_an_empty_trail_is_intact(db):
    assert verify() == (0, "Audit trail intact: 0 entries checked.\n", "")


def test_numbers_the_database_writes_its_own_way_still_verify(make_user):
    # jsonb (PostgreSQL) has no negative zero and writes 1e16 as 10000000000000000: a match score rounded to -0.0
    # once read as an edited entry.
    actor = make_user(Role.DATA_QUALITY_OFFICER)
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="linkage.candidate_found",
            details={"score": round(-0.001, 2), "scores": [-0.0, 1e16, 2.5], "n": 3},
        )
    assert verify()[0] == 0
    assert AuditEvent.objects.get().details == {"score": 0.0, "scores": [0.0, 10**16, 2.5], "n": 3}


def test_an_intact_trail_exits_0(trail):
    code, out, err = verify()
    assert (code, err) == (0, "")
    assert out == f"Audit trail intact: {ENTRIES} entries checked.\n"


@pytest.mark.parametrize(
    "field, value",
    [
        ("details", {"purpose": "export", "i": 2}),
        ("actor_username", "someone.else"),
        ("action", "referral.list"),
        ("object_id", "obj-99"),
        ("ip_address", "198.51.100.9"),
    ],
)
def test_a_changed_field_is_named_as_edited(trail, field, value):
    edited = trail[2]
    with append_only_lifted():
        AuditEvent.objects.filter(pk=edited.pk).update(**{field: value})
    code, out, err = verify()
    assert (code, out) == (1, "")
    assert f"after 2 good entries: {names(edited)}: its contents do not match its HMAC (edited)" in err


def test_only_the_first_of_several_broken_entries_is_named(trail):
    with append_only_lifted():
        AuditEvent.objects.filter(pk__in=[trail[1].pk, trail[4].pk]).update(details={"tampered": True})
    code, _, err = verify()
    assert code == 1
    assert names(trail[1]) in err
    assert f"audit event {trail[4].pk} " not in err


def test_an_edited_hash_breaks_the_link_to_the_next_entry(trail):
    # Re-hashing an entry without the key cannot hide an edit: the entry fails, and so would its successor's link.
    edited = trail[3]
    with append_only_lifted():
        AuditEvent.objects.filter(pk=edited.pk).update(
            details={"purpose": "export"}, hash=hashlib.sha256(b"forged").hexdigest()
        )
    code, _, err = verify()
    assert code == 1
    assert f"{names(edited)}: its contents do not match its HMAC (edited)" in err


def test_a_deleted_entry_in_the_middle_is_named_at_the_gap(trail):
    with append_only_lifted():
        AuditEvent.objects.filter(pk=trail[2].pk).delete()
    code, _, err = verify()
    assert code == 1
    assert f"{names(trail[3])}: entries 3–3 of chain {trail[3].chain} are missing (deleted)" in err


def test_deleted_last_entries_are_caught_by_the_head(trail):
    with append_only_lifted():
        AuditEvent.objects.filter(pk__in=[trail[-1].pk, trail[-2].pk]).delete()
    code, _, err = verify()
    assert code == 1
    assert (
        f"chain {trail[0].chain}: entries {ENTRIES - 1}–{ENTRIES} after audit event {trail[-3].pk} are missing (deleted)"
        in err
    )


def forged(*, chain: int, seq: int, prev_hash: str, like: AuditEvent) -> AuditEvent:
    """An entry written straight into the table by someone without the HMAC key."""
    fake = AuditEvent(
        chain=chain,
        seq=seq,
        occurred_at=like.occurred_at,
        actor_id=like.actor_id,
        actor_username=like.actor_username,
        actor_role=like.actor_role,
        action="referral.read",
        object_type="referral",
        object_id="obj-forged",
        ip_address=like.ip_address,
        user_agent=like.user_agent,
        details={"purpose": "view"},
        prev_hash=prev_hash,
    )
    fake.hash = hashlib.sha256(f"{chain}:{seq}:{prev_hash}".encode()).hexdigest()
    fake.save()
    return fake


def test_a_forged_entry_inserted_in_the_middle_is_named(trail):
    chain = trail[0].chain
    with append_only_lifted():
        # Make room after the third entry, last first so (chain, seq) stays unique.
        for event in reversed(trail[3:]):
            AuditEvent.objects.filter(pk=event.pk).update(seq=event.seq + 1)
        fake = forged(chain=chain, seq=4, prev_hash=trail[2].hash, like=trail[2])
        AuditChainHead.objects.filter(chain=chain).update(seq=ENTRIES + 1)
    code, _, err = verify()
    assert code == 1
    assert f"after 3 good entries: {names(fake)}: its contents do not match its HMAC (edited)" in err


def test_a_forged_entry_appended_with_the_head_moved_on_is_named(trail):
    chain = trail[0].chain
    fake = forged(chain=chain, seq=ENTRIES + 1, prev_hash=trail[-1].hash, like=trail[-1])
    AuditChainHead.objects.filter(chain=chain).update(seq=ENTRIES + 1, hash=fake.hash)
    code, _, err = verify()
    assert code == 1
    assert f"after {ENTRIES} good entries: {names(fake)}: its contents do not match its HMAC (edited)" in err


def test_a_genuine_entry_replayed_at_the_end_is_named(trail):
    chain = trail[0].chain
    original = AuditEvent.objects.get(pk=trail[1].pk)
    original.pk, original.seq, original.prev_hash = None, ENTRIES + 1, trail[-1].hash
    original.save()  # keeps the copied entry's own (now wrong) HMAC
    AuditChainHead.objects.filter(chain=chain).update(seq=ENTRIES + 1, hash=original.hash)
    code, _, err = verify()
    assert code == 1
    assert names(original) in err


def test_a_forged_entry_with_only_a_wrong_link_is_named_as_inserted(trail):
    chain = trail[0].chain
    fake = forged(chain=chain, seq=ENTRIES + 1, prev_hash=trail[2].hash, like=trail[-1])
    AuditChainHead.objects.filter(chain=chain).update(seq=ENTRIES + 1, hash=fake.hash)
    code, _, err = verify()
    assert code == 1
    assert f"{names(fake)}: does not link to the entry before it (inserted, or the one before was edited)" in err


@pytest.mark.parametrize(
    "change",
    [
        {"hash": "f" * 64},
        {"seq": ENTRIES - 1},
    ],
)
def test_an_edited_head_row_is_named(trail, change):
    AuditChainHead.objects.filter(chain=trail[0].chain).update(**change)
    code, _, err = verify()
    assert code == 1
    assert (
        f"chain {trail[0].chain}: the head does not match its last entry (audit event {trail[-1].pk}, position {ENTRIES})"
        in err
    )


def test_a_head_moved_past_the_last_entry_says_entries_are_missing(trail):
    AuditChainHead.objects.filter(chain=trail[0].chain).update(seq=ENTRIES + 2)
    code, _, err = verify()
    assert code == 1
    assert (
        f"chain {trail[0].chain}: entries {ENTRIES + 1}–{ENTRIES + 2} after audit event {trail[-1].pk} are missing (deleted)"
        in err
    )


def test_a_deleted_head_row_is_named(trail):
    AuditChainHead.objects.filter(chain=trail[0].chain).delete()
    code, _, err = verify()
    assert code == 1
    assert f"chain {trail[0].chain} has entries but no head record (head deleted)" in err


def test_the_trail_verifies_again_once_the_edit_is_undone(trail):
    edited = trail[2]
    with append_only_lifted():
        AuditEvent.objects.filter(pk=edited.pk).update(actor_username="someone.else")
    assert verify()[0] == 1
    with append_only_lifted():
        AuditEvent.objects.filter(pk=edited.pk).update(actor_username=edited.actor_username)
    assert verify()[0] == 0
