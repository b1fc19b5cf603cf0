"""Many writers at once: every entry lands, no two share a position, and the trail still verifies."""

import threading
import time
from collections import defaultdict

import pytest
from django.db import connection, connections, transaction

from opennrm.audit.models import AuditChainHead, AuditEvent
from opennrm.audit.services import audit_record
from opennrm.audit.verify import audit_verify

THREADS = 8
EVENTS_PER_THREAD = 25


def write_concurrently(threads: int, events_per_thread: int) -> list[BaseException]:
    start = threading.Barrier(threads)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            start.wait()
            for i in range(events_per_thread):
                # Each event in its own transaction, as each request's service would write it.
                with transaction.atomic():
                    audit_record(actor=None, action="test.concurrent", object_type="writer", object_id=f"{n}-{i}")
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=writer, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    assert not any(w.is_alive() for w in workers), "a writer is stuck (deadlock?)"
    return errors


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("chains", [16, 2, 1], ids=["16-chains", "2-chains", "1-chain"])
def test_concurrent_writers_never_collide_and_the_trail_verifies(settings, chains):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one writer at a time; concurrency is a PostgreSQL property")
    settings.AUDIT_CHAINS = chains  # fewer chains, more writers queueing on one head lock
    started = time.perf_counter()
    errors = write_concurrently(THREADS, EVENTS_PER_THREAD)
    elapsed = time.perf_counter() - started
    assert errors == []

    total = THREADS * EVENTS_PER_THREAD
    rows = list(AuditEvent.objects.values_list("chain", "seq", "object_id"))
    assert len(rows) == total
    assert len({(chain, seq) for chain, seq, _ in rows}) == total
    assert {object_id for _, _, object_id in rows} == {
        f"{n}-{i}" for n in range(THREADS) for i in range(EVENTS_PER_THREAD)
    }
    positions = defaultdict(list)
    for chain, seq, _ in rows:
        positions[chain].append(seq)
    assert set(positions) <= set(range(chains))
    for chain, seqs in positions.items():
        assert sorted(seqs) == list(range(1, len(seqs) + 1)), f"chain {chain} has gaps"
        assert AuditChainHead.objects.get(chain=chain).seq == len(seqs)
    result = audit_verify()
    assert (result.ok, result.checked, result.problem) == (True, total, "")
    print(f"{total} events from {THREADS} threads over {chains} chain(s) in {elapsed:.2f}s")
