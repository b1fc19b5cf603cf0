"""Checking the audit trail end to end: every chain, every link, every HMAC, and the chain heads; and, given a
checkpoint kept outside the database, that no chain is shorter than it was then (ADR 0027)."""

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Q

from .chain import GENESIS, entry_digest, hashed_fields
from .checkpoint import Checkpoint
from .models import AuditChainHead, AuditEvent


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    problem: str = ""


def checkpoint_shortfalls(checkpoint: Checkpoint, *, since: str = "") -> list[str]:
    """Each chain that no longer reaches its mark in the checkpoint: shorter (its newest entries deleted, whatever its
    head row now says), or holding another entry at the mark's position (rewritten). Empty when every chain reaches it.
    `since` names the marks in the messages (by default, the checkpoint and its time)."""
    since = since or f"the checkpoint of {checkpoint.created_at.isoformat(timespec='seconds')}"
    marks = [mark for mark in checkpoint.chains if mark.seq > 0]
    if not marks:
        return []
    at_marks = Q()
    for mark in marks:
        at_marks |= Q(chain=mark.chain, seq=mark.seq)
    found = {
        (chain, seq): (pk, hash_)
        for pk, chain, seq, hash_ in AuditEvent.objects.filter(at_marks).values_list("pk", "chain", "seq", "hash")
    }
    problems = []
    for mark in marks:
        entry = found.get((mark.chain, mark.seq))
        if entry is None:
            now = AuditEvent.objects.filter(chain=mark.chain).count()
            problems.append(
                f"chain {mark.chain} has {now} entries, fewer than the {mark.seq} of {since} (entries deleted)"
            )
        elif entry[1] != mark.hash:
            problems.append(
                f"chain {mark.chain}: audit event {entry[0]} at position {mark.seq} "
                f"is not the entry there in {since} (the chain was rewritten)"
            )
    return problems


def audit_verify(
    *, against: Checkpoint | None = None, progress: Callable[[int], None] | None = None, batch_size: int = 5000
) -> VerifyResult:
    """Walk every chain in order; stop at the first entry that does not hold and say why. Given a checkpoint, first
    refuse any chain that does not reach its mark there."""
    if against is not None and (shortfalls := checkpoint_shortfalls(against)):
        return VerifyResult(False, 0, "; ".join(shortfalls))
    heads = {h.chain: h for h in AuditChainHead.objects.all()}
    chains = sorted(set(heads) | set(AuditEvent.objects.values_list("chain", flat=True).distinct()))
    checked = 0
    for chain in chains:
        expected_seq = 1
        prev_hash = GENESIS
        last_id = None
        last_seq = 0
        while True:
            batch = list(AuditEvent.objects.filter(chain=chain, seq__gte=expected_seq).order_by("seq")[:batch_size])
            if not batch:
                break
            for event in batch:
                where = f"audit event {event.pk} (chain {chain}, position {event.seq})"
                if event.seq != expected_seq:
                    return VerifyResult(
                        False,
                        checked,
                        f"{where}: entries {expected_seq}–{event.seq - 1} of chain {chain} are missing (deleted)",
                    )
                if event.prev_hash != prev_hash:
                    return VerifyResult(
                        False,
                        checked,
                        f"{where}: does not link to the entry before it (inserted, or the one before was edited)",
                    )
                if (
                    entry_digest(chain=chain, seq=event.seq, prev_hash=event.prev_hash, fields=hashed_fields(event))
                    != event.hash
                ):
                    return VerifyResult(False, checked, f"{where}: its contents do not match its HMAC (edited)")
                prev_hash = event.hash
                last_id, last_seq = event.pk, event.seq
                expected_seq += 1
                checked += 1
            if progress:
                progress(checked)
        head = heads.get(chain)
        if head is None:
            return VerifyResult(False, checked, f"chain {chain} has entries but no head record (head deleted)")
        if head.seq != last_seq or (head.hash or GENESIS) != prev_hash:
            if head.seq > last_seq:
                return VerifyResult(
                    False,
                    checked,
                    f"chain {chain}: entries {last_seq + 1}–{head.seq} after audit event {last_id} are missing (deleted)",
                )
            return VerifyResult(
                False,
                checked,
                f"chain {chain}: the head does not match its last entry (audit event {last_id}, position {last_seq})",
            )
    return VerifyResult(True, checked)
