"""Linkage benchmark: OpenNRM's engine and the Splink 5 baseline on the same synthetic referrals.

    .venv/bin/python bench/linkage.py --size 20000 [--seed 1] [--no-baseline] [--keep DIR]

Writes a synthetic set (seed 1 by default; the model was trained on seed 1001, so the thresholds were
fixed before this data existed), runs the batch path end to end (CSV in → clusters → CSV out, as
`opennrm linkage` does), scores it against the truth, runs the baseline, and prints the quality table
side by side with timings and peak memory. Needs no database.
"""

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from opennrm.linkage import csvio, engine, evaluate, synthetic  # noqa: E402

TARGETS = {
    "pairwise precision (auto links)": "≥ 0.995",
    "recall, auto or review": "≥ 0.97",
    "B-cubed F1": "≥ 0.97",
    "cross-script recall": "≥ 0.90",
    "age-disputed recall": "≥ 0.85",
    "F1 on the hard subsets": "baseline + 0.05",
    "sibling false merges": "≤ 0.5%",
    "twin false merges": "≤ 0.5%",
    "review queue (share of referrals)": "≤ 3%",
}


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-baseline", action="store_true", help="skip Splink (for the 1M run: it needs more memory)")
    parser.add_argument("--keep", type=Path, help="write the input, truth and output CSVs here")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="opennrm-linkage-"))
    folder.mkdir(parents=True, exist_ok=True)
    input_path, truth_path, output_path = folder / "referrals.csv", folder / "referrals.truth.csv", folder / "clusters.csv"

    mark = time.perf_counter()
    synthetic.write(args.size, input_path, truth_path, args.seed)
    generated = time.perf_counter() - mark
    print(f"generated {args.size} records (seed {args.seed}) in {generated:.1f} s", file=sys.stderr)

    mark = time.perf_counter()
    rows, errors = csvio.read_input(input_path)
    if errors:
        print("\n".join(map(str, errors[:10])), file=sys.stderr)
        return 1
    read = time.perf_counter() - mark
    result = engine.link(rows, progress=lambda m: print(m, file=sys.stderr))
    mark = time.perf_counter()
    csvio.write_output(output_path, result.record_ids, result.cluster, result.needs_review)
    written = time.perf_counter() - mark
    end_to_end = read + result.timings["total"] + written
    opennrm_rss = peak_rss_mb()
    truth = evaluate.Truth.read(truth_path)
    ours = evaluate.evaluate(truth, result.cluster, result.needs_review, result.review_pairs)

    # One new referral against the rest: the last 200 records queried against an index of the others.
    held_out = min(200, len(rows) // 10)
    mark = time.perf_counter()
    index = engine.Index(rows[:-held_out])
    index_build = time.perf_counter() - mark
    latencies = []
    for row in rows[-held_out:]:
        mark = time.perf_counter()
        index.query(row)
        latencies.append((time.perf_counter() - mark) * 1000)
    latencies.sort()
    p50, p95 = latencies[len(latencies) // 2], latencies[int(len(latencies) * 0.95)]

    baseline = None
    if not args.no_baseline:
        print("running the Splink 5 baseline", file=sys.stderr)
        labels, review, baseline_times = evaluate.splink_baseline(rows, seed=args.seed)
        flagged = evaluate.np.zeros(len(rows), dtype=bool)
        flagged[review.ravel()] = True
        baseline = evaluate.evaluate(truth, labels, flagged, review)

    print(f"\nLinkage quality, {args.size} synthetic referrals (seed {args.seed}); {ours.true_pairs} true pairs\n")
    header = f"| {'measure':45s} | {'OpenNRM':>9s} | {'Splink 5':>9s} | {'target':>15s} |"
    print(header)
    print("|" + "-" * 47 + "|" + "-" * 11 + "|" + "-" * 11 + "|" + "-" * 17 + "|")
    baseline_rows = dict(baseline.rows()) if baseline else {}
    for name, value in ours.rows():
        target = next((t for key, t in TARGETS.items() if name.startswith(key)), "")
        print(f"| {name:45s} | {value:>9s} | {baseline_rows.get(name, '—'):>9s} | {target:>15s} |")
    if baseline:
        print(f"\nhard-subset F1 margin over the baseline: {100 * (ours.hard_subset_f1 - baseline.hard_subset_f1):+.1f} points (target ≥ +5)")
    print("\nTimings (one process, this machine)")
    print(f"  OpenNRM end to end (read CSV, link, write CSV): {end_to_end:.1f} s "
          + ", ".join(f"{k} {v:.1f} s" for k, v in result.timings.items() if k != "total")
          + f"; {len(result.pairs)} candidate pairs ({len(result.pairs) / max(len(rows), 1):.0f} per record)")
    print(f"  OpenNRM peak memory (process, before the baseline): {opennrm_rss:.0f} MB")
    print(f"  One new referral against {len(rows) - held_out} existing: p50 {p50:.1f} ms, p95 {p95:.1f} ms ({held_out} queries; index built in {index_build:.1f} s)")
    if baseline:
        print(f"  Splink 5 baseline: training {baseline_times['training']:.1f} s, predict + cluster {baseline_times['predict_and_cluster']:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
