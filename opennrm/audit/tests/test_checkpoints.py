"""Signed checkpoints (ADR 0027): the truncation that plain `opennrm audit verify` cannot see (the newest entries
deleted *and* the chain head rewound to match) fails `verify --against` the last checkpoint; a forged or edited
checkpoint is refused; the worker writes one every night.

The attacks are direct SQL with the append-only triggers lifted, as a database administrator (or an intruder with the
table owner's rights) could make them.
"""

import base64
import datetime as dt
import io
import json

import pytest
import time_machine
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import call_command
from django.db import connection, transaction
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from opennrm.audit import services
from opennrm.audit.keys import key_id
from opennrm.audit.models import AuditChainHead, AuditEvent
from opennrm.audit.services import audit_record
from opennrm.audit.tasks import AUDIT_CHECKPOINT, audit_checkpoint_schedule
from opennrm.decisions.models import WorkerSchedule
from opennrm.decisions.tasks import next_nightly_sweep
from opennrm.policy import Role
from opennrm.tests.mail import run_worker

from .append_only import append_only_lifted

ENTRIES = 6


def record(actor, i: int) -> AuditEvent:
    with transaction.atomic():
        return audit_record(
            actor=actor, action="referral.read", object_type="referral", object_id=f"obj-{i}", details={"i": i}
        )


@pytest.fixture
def actor(make_user):
    return make_user(Role.FIRST_RESPONDER)


@pytest.fixture
def trail(actor):
    """Six entries in this thread's chain."""
    return [record(actor, i) for i in range(ENTRIES)]


def audit(*args) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("audit", *map(str, args), stdout=out, stderr=err)
    except SystemExit as exc:
        return exc.code, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def truncate(chain: int, *, keep: int) -> None:
    """The attack: delete the chain's entries after position `keep` and rewind its head to the last one kept."""
    with append_only_lifted(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE chain = %s AND seq > %s", [chain, keep])
        cursor.execute("SELECT hash FROM audit_auditevent WHERE chain = %s AND seq = %s", [chain, keep])
        (last_hash,) = cursor.fetchone()
        cursor.execute("UPDATE audit_auditchainhead SET seq = %s, hash = %s WHERE chain = %s", [keep, last_hash, chain])


def test_a_truncated_chain_with_its_head_rewound_fails_verify_against_the_last_checkpoint(trail, tmp_path):
    chain = trail[0].chain
    checkpoint = tmp_path / "checkpoint.json"
    code, out, err = audit("checkpoint", "--output", checkpoint)
    assert (code, err) == (0, "")
    assert out == f"Checkpoint written to {checkpoint}: 1 chains, {ENTRIES} entries.\n"
    assert audit("verify", "--against", checkpoint)[0] == 0

    truncate(chain, keep=4)

    # The known gap: the chain alone is consistent again, so plain verify cannot tell.
    assert audit("verify")[:2] == (0, "Audit trail intact: 4 entries checked.\n")
    code, out, err = audit("verify", "--against", checkpoint)
    assert (code, out) == (1, "")
    created = json.loads(checkpoint.read_text())["created_at"][:19]
    assert (
        f"Audit trail BROKEN after 0 good entries: chain {chain} has 4 entries, fewer than the {ENTRIES} of the checkpoint of {created}"
        in err
    )


def test_a_chain_rewritten_to_the_same_length_fails_against_the_checkpoint(trail, actor, tmp_path):
    # Even with the HMAC key (the new entries are genuinely made), the entry at the checkpoint's position is another.
    chain = trail[0].chain
    checkpoint = tmp_path / "checkpoint.json"
    audit("checkpoint", "--output", checkpoint)
    truncate(chain, keep=3)
    rewritten = [record(actor, 100 + i) for i in range(4)]  # positions 4 to 7: the checkpoint's entry 6 and its own
    assert audit("verify")[0] == 0
    code, _, err = audit("verify", "--against", checkpoint)
    assert code == 1
    assert (
        f"chain {chain}: audit event {rewritten[2].pk} at position {ENTRIES} is not the entry there in the checkpoint of"
        in err
    )
    assert "(the chain was rewritten)" in err


def test_every_chain_short_of_the_checkpoint_is_named(trail, tmp_path):
    other = (trail[0].chain + 1) % 16
    services._thread_chain.chain = other  # this thread writes to another chain for a while
    try:
        with transaction.atomic():
            for _ in range(3):
                audit_record(actor=None, action="test.other")
    finally:
        services._thread_chain.chain = trail[0].chain
    checkpoint = tmp_path / "checkpoint.json"
    audit("checkpoint", "--output", checkpoint)
    truncate(trail[0].chain, keep=5)
    truncate(other, keep=1)
    code, _, err = audit("verify", "--against", checkpoint)
    assert code == 1
    assert f"chain {trail[0].chain} has 5 entries, fewer than the {ENTRIES}" in err
    assert f"chain {other} has 1 entries, fewer than the 3" in err


def test_a_trail_that_grew_since_the_checkpoint_verifies(trail, actor, tmp_path):
    checkpoint = tmp_path / "checkpoint.json"
    audit("checkpoint", "--output", checkpoint)
    record(actor, 99)
    code, out, _ = audit("verify", "--against", checkpoint)
    assert code == 0
    assert (
        out
        == f"Audit trail intact: {ENTRIES + 2} entries checked. Every chain reaches checkpoint {checkpoint} ({ENTRIES} entries then).\n"
    )


def _resigned(document: dict, private_key: Ed25519PrivateKey, *, claimed_key_id: str | None = None) -> dict:
    body = {k: v for k, v in document.items() if k != "signature"}
    body["key_id"] = claimed_key_id or key_id(private_key.public_key())
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return {**body, "signature": base64.urlsafe_b64encode(private_key.sign(canonical)).decode()}


def _lower_counts(document: dict) -> dict:
    return {**document, "chains": [{**m, "seq": m["seq"] - 2} for m in document["chains"]]}


@pytest.mark.parametrize(
    "forge, says",
    [
        (lambda doc, ours: _lower_counts(doc), "does not match its signature: it was altered or forged"),
        (
            lambda doc, ours: {**doc, "signature": base64.urlsafe_b64encode(b"x" * 64).decode()},
            "does not match its signature",
        ),
        (lambda doc, ours: {**doc, "signature": "not base64 !"}, "does not match its signature"),
        (lambda doc, ours: _resigned(_lower_counts(doc), Ed25519PrivateKey.generate()), "was signed with another key"),
        (
            lambda doc, ours: _resigned(_lower_counts(doc), Ed25519PrivateKey.generate(), claimed_key_id=ours),
            "does not match its signature",
        ),
        (
            lambda doc, ours: {k: v for k, v in doc.items() if k != "format"},
            "is not a checkpoint: its format is not opennrm-audit-checkpoint/1",
        ),
    ],
    ids=[
        "edited-counts",
        "wrong-signature",
        "garbled-signature",
        "signed-by-another-key",
        "another-key-claiming-ours",
        "no-format",
    ],
)
def test_a_forged_or_edited_checkpoint_is_refused(trail, tmp_path, forge, says):
    # A forger lowers the counts to hide a truncation; the signature no longer holds, whoever signs it again.
    genuine = tmp_path / "checkpoint.json"
    audit("checkpoint", "--output", genuine)
    document = json.loads(genuine.read_text())
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(forge(document, document["key_id"])))
    truncate(trail[0].chain, keep=4)
    code, out, err = audit("verify", "--against", forged)
    assert (code, out) == (1, "")
    assert err.startswith("Audit trail NOT verified: ") and says in err


@pytest.mark.parametrize(
    "content, says",
    [(None, "cannot read the checkpoint"), ("{not json", "is not a checkpoint: not JSON")],
    ids=["missing", "not-json"],
)
def test_a_missing_or_unreadable_checkpoint_is_named(db, tmp_path, content, says):
    path = tmp_path / "checkpoint.json"
    if content is not None:
        path.write_text(content)
    code, _, err = audit("verify", "--against", path)
    assert code == 1 and f"{path}" in err and says in err


def test_a_checkpoint_is_audited_and_never_overwritten(trail, tmp_path):
    checkpoint = tmp_path / "checkpoint.json"
    audit("checkpoint", "--output", checkpoint)
    written = checkpoint.read_bytes()
    entry = AuditEvent.objects.get(action="audit.checkpoint")
    assert entry.details == {"file": str(checkpoint), "chains": 1, "entries": ENTRIES}
    code, _, err = audit("checkpoint", "--output", checkpoint)
    assert code == 1 and "already exists: a checkpoint is never overwritten" in err
    assert checkpoint.read_bytes() == written
    assert AuditEvent.objects.filter(action="audit.checkpoint").count() == 1


def test_checkpoints_in_a_directory_are_kept_and_the_newest_is_verified_against(trail, actor, tmp_path):
    chain = trail[0].chain
    with time_machine.travel(timezone.now()):
        assert audit("checkpoint", "--output", tmp_path)[0] == 0
    with time_machine.travel(timezone.now() + dt.timedelta(days=1)):
        record(actor, 50)
        assert audit("checkpoint", "--output", tmp_path)[0] == 0
    files = sorted(tmp_path.glob("audit-checkpoint-*.json"))
    assert len(files) == 2
    newest = json.loads(files[-1].read_text())
    assert newest["chains"] == [
        {"chain": chain, "seq": ENTRIES + 2, "hash": AuditEvent.objects.get(chain=chain, seq=ENTRIES + 2).hash}
    ]
    truncate(chain, keep=ENTRIES + 1)  # cuts only what the newest checkpoint holds
    code, _, err = audit("verify", "--against", tmp_path)
    assert code == 1 and f"chain {chain} has {ENTRIES + 1} entries, fewer than the {ENTRIES + 2}" in err
    assert audit("verify", "--against", files[0])[0] == 0


def test_a_new_checkpoint_refuses_to_sign_a_trail_cut_since_the_last(trail, tmp_path):
    audit("checkpoint", "--output", tmp_path)
    truncate(trail[0].chain, keep=3)
    code, out, err = audit("checkpoint", "--output", tmp_path)
    assert (code, out) == (1, "")
    assert (
        f"Checkpoint NOT written: chain {trail[0].chain} has 3 entries, fewer "
        f"than the {ENTRIES} of the previous checkpoint audit-checkpoint-" in err
    )
    assert len(list(tmp_path.glob("audit-checkpoint-*.json"))) == 1
    assert AuditEvent.objects.filter(action="audit.checkpoint").count() == 0  # cut away with the rest; none added


def test_a_checkpoint_refuses_to_sign_a_head_that_does_not_match_its_entries(trail, tmp_path):
    AuditChainHead.objects.filter(chain=trail[0].chain).update(seq=ENTRIES + 3)
    code, _, err = audit("checkpoint", "--output", tmp_path / "checkpoint.json")
    assert code == 1
    assert f"chain {trail[0].chain} has {ENTRIES} entries, fewer than the {ENTRIES + 3} of its head row" in err
    assert not (tmp_path / "checkpoint.json").exists()


def test_a_checkpoint_into_a_missing_folder_says_so(db, tmp_path):
    code, _, err = audit("checkpoint", "--output", tmp_path / "nowhere" / "checkpoint.json")
    assert code == 1 and f"{tmp_path / 'nowhere'} is not a directory" in err


def _queued_checkpoints():
    return DBTaskResult.objects.filter(task_path__endswith=".write_audit_checkpoint", status=TaskResultStatus.READY)


@pytest.mark.django_db(transaction=True)
def test_the_worker_writes_a_checkpoint_at_start_and_every_night(settings, tmp_path, make_user):
    settings.AUDIT_CHECKPOINT_DIR = tmp_path / "checkpoints"
    actor = make_user(Role.FIRST_RESPONDER)
    for i in range(3):
        record(actor, i)
    audit_checkpoint_schedule()  # `opennrm serve` starts: never checkpointed, so one now
    audit_checkpoint_schedule()  # started again: still one queued
    assert _queued_checkpoints().count() == 1
    run_worker()
    [first] = sorted(settings.AUDIT_CHECKPOINT_DIR.glob("audit-checkpoint-*.json"))
    assert audit("verify", "--against", settings.AUDIT_CHECKPOINT_DIR)[0] == 0
    schedule = WorkerSchedule.objects.get(name=AUDIT_CHECKPOINT)
    assert schedule.last_summary == {"file": str(first), "chains": 1, "entries": 3}
    nightly = next_nightly_sweep(timezone.now())
    assert [t.run_after for t in _queued_checkpoints()] == [nightly]

    record(actor, 3)
    with time_machine.travel(nightly + dt.timedelta(minutes=1), tick=True):
        run_worker()
    files = sorted(settings.AUDIT_CHECKPOINT_DIR.glob("audit-checkpoint-*.json"))
    assert files[0] == first and len(files) == 2  # the earlier one kept
    assert (
        sum(m["seq"] for m in json.loads(files[1].read_text())["chains"]) == 5
    )  # 4 recorded, and the first checkpoint's own entry
    assert [t.run_after for t in _queued_checkpoints()] == [next_nightly_sweep(nightly + dt.timedelta(minutes=1))]
