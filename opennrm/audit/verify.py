"""Checking the audit trail end to end: every chain, every link, every HMAC, and the chain heads."""

from collections.abc import Callable
from dataclasses import dataclass

from .chain import GENESIS, entry_digest, hashed_fields
from .models import AuditChainHead, AuditEvent


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    problem: str = ""


def audit_verify(*, progress: Callable[[int], None] | None = None, batch_size: int = 5000) -> VerifyResult:
    """Walk every chain in order; stop at the first entry that does not hold and say why."""
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
                    return VerifyResult(False, checked, f"{where}: entries {expected_seq}–{event.seq - 1} of chain {chain} are missing (deleted)")
                if event.prev_hash != prev_hash:
                    return VerifyResult(False, checked, f"{where}: does not link to the entry before it (inserted, or the one before was edited)")
                if entry_digest(chain=chain, seq=event.seq, prev_hash=event.prev_hash, fields=hashed_fields(event)) != event.hash:
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
                return VerifyResult(False, checked, f"chain {chain}: entries {last_seq + 1}–{head.seq} after audit event {last_id} are missing (deleted)")
            return VerifyResult(False, checked, f"chain {chain}: the head does not match its last entry (audit event {last_id}, position {last_seq})")
    return VerifyResult(True, checked)
