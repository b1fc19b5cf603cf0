"""Audit-chain contention microbenchmark: T threads, each running N transactions that append one
audit event (the smallest audited write), against the configured database.

Run by bench/run.py twice, with OPENNRM_AUDIT_CHAINS=1 and with the default, so the table shows
whether one chain head serialises writers. Usage: python bench/audit_chains.py --threads 16 --per-thread 150 --out F.json
"""

import argparse
import json
import os
import sys
import threading
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opennrm.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from opennrm.audit.services import audit_record  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--per-thread", type=int, default=150)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        print("audit_chains: needs DATABASE_URL to point at PostgreSQL", file=sys.stderr)
        return 2

    start = threading.Barrier(args.threads + 1)
    latencies: list[list[float]] = [[] for _ in range(args.threads)]
    failures: list[str] = []

    def work(i: int) -> None:
        from django.db import connection as conn

        try:
            conn.ensure_connection()
            start.wait()
            for n in range(args.per_thread):
                t0 = time.perf_counter()
                with transaction.atomic():
                    audit_record(actor=None, action="bench.audit_chain", object_type="bench", object_id=f"{i}-{n}")
                latencies[i].append(time.perf_counter() - t0)
        except Exception as exc:
            failures.append(f"{type(exc).__name__}: {exc}")
            if start.n_waiting:
                start.abort()
        finally:
            conn.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(args.threads)]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    all_lat = sorted(x for lst in latencies for x in lst)
    n = len(all_lat)

    def pct(q: float) -> float:
        return all_lat[max(0, min(n - 1, int(-(-q * n // 100)) - 1))] * 1000 if n else float("nan")

    result = {
        "chains": settings.AUDIT_CHAINS,
        "threads": args.threads,
        "transactions": n,
        "seconds": elapsed,
        "tps": n / elapsed if elapsed else 0.0,
        "p50_ms": pct(50),
        "p95_ms": pct(95),
        "failures": failures,
    }
    with open(args.out, "w") as f:
        json.dump(result, f, indent=2)
    print(
        f"  [audit] chains={result['chains']}: {n} transactions in {elapsed:.1f} s = {result['tps']:.0f}/s, "
        f"p50 {result['p50_ms']:.1f} ms, p95 {result['p95_ms']:.1f} ms"
        + (f", {len(failures)} failures" if failures else ""),
        file=sys.stderr,
        flush=True,
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
