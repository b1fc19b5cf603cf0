"""`make bench-statistics`: the official-statistics publication's information lost and its speed (issue 24, ADR 0030).

1. Information lost (in memory, no database): synthetic extracts the size of a UK quarter and year of NRM
   referrals (about 4,500 and 18,000, skewed like the published figures: a few nationalities and forces hold
   most referrals, a long tail holds the rest), published under the default disclosure policy, beside a
   k-anonymity release at k = 11 of the same records (CTDC's method: records whose combination of age group,
   sex, nationality, nation, police force, first responder type, competent authority and exploitation type is
   shared by fewer than 11 records are left out, then the same tables counted from what is left). Printed:
   the share of cells suppressed and the share of children in suppressed cells, beside the share of records
   and of children the k-anonymous release drops and the share of its cells that differ from the truth.
2. Speed (PostgreSQL, `--referrals 1000000`): a database `wt_stats_bench` seeded with that many referrals in
   one calendar year (INSERT ... SELECT from generate_series), then `publication_build` of that year timed
   (extract, tabulation, disclosure control, files), beside the bare aggregation queries (one GROUP BY per
   table, in SQL) as the floor.

The script is bench/official_statistics.py, not statistics.py: run as a script, that name would shadow the
standard library's `statistics` module, which Django imports.

Results are printed, and with --write go to BENCHMARKS.md between <!-- statistics:begin --> and <!-- statistics:end -->.
"""

import argparse
import datetime as dt
import os
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opennrm.settings")

BEGIN, END = "<!-- statistics:begin -->", "<!-- statistics:end -->"
QI = (
    "age_group",
    "sex",
    "nationality",
    "nation",
    "police_force",
    "first_responder_type",
    "competent_authority",
    "exploitation_type",
)
# CTDC's own k-anonymised Global Dataset's quasi-identifiers, the nearest of ours: age, gender, citizenship, exploitation.
QI_CTDC = ("age_group", "sex", "nationality", "exploitation_type")
K = 11


def synthetic_extract(n: int, seed: int):
    from opennrm.referrals.codes import countries
    from opennrm.statistics.tables import DecisionRow, ExtractRows, MissingRow, ReferralRow

    rnd = random.Random(seed)
    nats = [c for c in countries() if c not in ("GBR", "VNM", "ALB", "ERI", "SDN")][:95]
    top = ["GBR", "ALB", "VNM", "ERI", "SDN"]
    forces = [f"Force {i:02d}" for i in range(45)]

    def zipf(items, s=1.1):
        weights = [1 / (i + 1) ** s for i in range(len(items))]
        return rnd.choices(items, weights)[0]

    rows = ExtractRows()
    people = int(n * 0.93)  # about 7% of referrals are a child or adult referred again in the period
    for i in range(n):
        age = rnd.choices(["child", "adult", "unknown"], [0.44, 0.51, 0.05])[0]
        nationality = rnd.choice(top) if rnd.random() < 0.7 else zipf(nats)
        rows.referrals.append(
            ReferralRow(
                f"R{i}",
                f"p{rnd.randrange(people)}",
                age,
                rnd.choices(["male", "female", "other", "unknown"], [0.78, 0.2, 0.005, 0.015])[0],
                nationality if rnd.random() > 0.01 else "not_known",
                rnd.choices(["ENG", "SCT", "WLS", "NIR"], [0.85, 0.06, 0.05, 0.04])[0],
                zipf(forces, 0.9) if rnd.random() > 0.1 else "not_known",
                rnd.choices(
                    ["police", "local_authority", "ngo", "border_force", "immigration_enforcement"],
                    [0.3, 0.3, 0.15, 0.05, 0.2],
                )[0],
                rnd.choices(["SCA", "IECA", "LOCAL_PANEL"], [0.75, 0.2, 0.05])[0],
                rnd.choices(
                    [
                        "labour",
                        "sexual",
                        "criminal_county_lines",
                        "criminal_other",
                        "domestic_servitude",
                        "organ_removal",
                        "other",
                        "multiple",
                    ],
                    [0.25, 0.15, 0.15, 0.2, 0.05, 0.002, 0.05, 0.148],
                )[0],
            )
        )
        if rnd.random() < 0.8:
            stage = "reasonable_grounds" if rnd.random() < 0.75 else "conclusive_grounds"
            days = int(rnd.expovariate(1 / (7 if stage == "reasonable_grounds" else 500)))
            outcome = "positive" if rnd.random() < 0.85 else "negative"
            rows.decisions.append(DecisionRow(f"R{i}", stage, outcome, age, days))
        if age != "adult" and rnd.random() < 0.06:
            rows.missing.append(MissingRow(f"E{i}", rows.referrals[-1].person))
    return rows


def information_lost(n: int, seed: int) -> dict:
    from opennrm.referrals.codes import countries
    from opennrm.statistics.disclosure import SUPPRESSED
    from opennrm.statistics.publication import PublicationPolicy, protect_publication
    from opennrm.statistics.tables import tabulate

    policy = PublicationPolicy()
    rows = synthetic_extract(n, seed)
    t0 = time.perf_counter()
    tab = tabulate(rows, countries=countries(), min_category=policy.min_category_count)
    pub = protect_publication(tab, policy)
    seconds = time.perf_counter() - t0
    referral_tables = [t for t in tab.tables if t.unit == "referrals"]

    cells = suppressed = 0
    child_referrals = child_in_suppressed = 0
    for t in referral_tables:
        for cell, fig in zip(t.cells, pub.figures[t.id]):
            dims = dict(cell.dims)
            leaf = all(c != "total" for c in dims.values()) and dims.get("exploitation_type") != "criminal"
            if not leaf:
                continue
            true = tab.counts[cell.key]
            cells += 1
            suppressed += fig.obs_status == SUPPRESSED
            if dims["age_group"] in ("child", "unknown"):
                child_referrals += true
                child_in_suppressed += true if fig.obs_status == SUPPRESSED else 0
    all_counts = list(tab.counts)
    all_suppressed = len(_suppressed_keys(tab, pub))

    out = {"referrals": n, "seconds": seconds, "cells": cells, "cells_suppressed": suppressed}
    out |= {"all_counts": len(all_counts), "all_suppressed": all_suppressed, "child_referrals": child_referrals}
    out |= {"child_in_suppressed": child_in_suppressed}
    for name, qi in (("k8", QI), ("k4", QI_CTDC)):
        out[name] = k_anonymous(rows, tab, pub, referral_tables, qi, policy)
    return out


def k_anonymous(rows, tab, pub, referral_tables, qi, policy) -> dict:
    """k-anonymity at k = 11 over the same records: combinations of `qi` shared by fewer than 11 records are left out."""
    from opennrm.referrals.codes import countries
    from opennrm.statistics.disclosure import SUPPRESSED
    from opennrm.statistics.tables import ExtractRows, tabulate

    combos = Counter(tuple(getattr(r, q) for q in qi) for r in rows.referrals)
    kept = [r for r in rows.referrals if combos[tuple(getattr(r, q) for q in qi)] >= K]
    k_rows = ExtractRows(referrals=kept, decisions=rows.decisions, missing=rows.missing)
    k_tab = tabulate(k_rows, countries=countries(), min_category=policy.min_category_count)
    children = [r for r in rows.referrals if r.age_group != "adult"]
    kept_children = [r for r in kept if r.age_group != "adult"]
    leaf_keys = [
        c.key
        for t in referral_tables
        for c in t.cells
        if all(v != "total" for _, v in c.dims) and dict(c.dims).get("exploitation_type") != "criminal"
    ]
    differ = sum(1 for k in leaf_keys if k_tab.counts.get(k, 0) != tab.counts[k])
    sdc_error = [
        abs((fig.value or 0) - tab.counts[c.key])
        for t in referral_tables
        for c, fig in zip(t.cells, pub.figures[t.id])
        if c.key in set(leaf_keys) and fig.obs_status != SUPPRESSED
    ]
    k_error = [abs(k_tab.counts.get(k, 0) - tab.counts[k]) for k in leaf_keys]
    return {
        "children": len(children),
        "sdc_mean_abs_error": sum(sdc_error) / max(len(sdc_error), 1),
        "k_records_dropped": len(rows.referrals) - len(kept),
        "k_children_dropped": len(children) - len(kept_children),
        "k_children_distinct_lost": len({r.person for r in children}) - len({r.person for r in kept_children}),
        "k_cells_differ": differ,
        "k_mean_abs_error": sum(k_error) / max(len(k_error), 1),
    }


def _suppressed_keys(tab, pub):
    from opennrm.statistics.disclosure import SUPPRESSED

    return {
        c.key
        for t in tab.tables
        for c, f in zip(t.cells, pub.figures[t.id])
        if c.key is not None and f.obs_status == SUPPRESSED
    }


def render_information(results: list[dict]) -> str:
    out = [
        "Inner cells of the seven referral tables (age group × each breakdown), synthetic extracts of a quarter's and a "
        "year's size (bench/official_statistics.py). SDC: the default policy (suppress 1–4, round to 5, secondary "
        "suppression across tables). k = 11: records whose combination of quasi-identifiers is shared by fewer than 11 "
        "records left out, then the same tables counted from the rest; 8 QIs = every published breakdown, 4 QIs = "
        "CTDC-like (age group, sex, nationality, exploitation type). Child referrals are counted once a table.",
        "",
        "| Referrals | Cells | SDC: cells suppressed | SDC: child referrals in suppressed cells | SDC: mean abs. error "
        "of shown cells | k=11 (8 QIs): records dropped | child referrals dropped | cells wrong | k=11 (4 QIs): records "
        "dropped | child referrals dropped | cells wrong | mean abs. error | SDC time |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        k8, k4 = r["k8"], r["k4"]
        n, cells = r["referrals"], r["cells"]
        out.append(
            f"| {n:,} | {cells:,} | {r['cells_suppressed']:,} ({r['cells_suppressed'] / cells:.1%}) "
            f"| {r['child_in_suppressed'] / r['child_referrals']:.2%} | {k8['sdc_mean_abs_error']:.2f} "
            f"| {k8['k_records_dropped'] / n:.1%} | {k8['k_children_dropped'] / k8['children']:.1%} "
            f"| {k8['k_cells_differ'] / cells:.1%} "
            f"| {k4['k_records_dropped'] / n:.1%} | {k4['k_children_dropped'] / k4['children']:.1%} "
            f"| {k4['k_cells_differ'] / cells:.1%} | {k4['k_mean_abs_error']:.2f} | {r['seconds']:.1f} s |"
        )
    return "\n".join(out)


# --- Speed at scale ----------------------------------------------------------------------------------------

SEED_SQL = """
INSERT INTO referrals_referral (uuid, reference, organisation_id, created_by_id, external_id, created_at, updated_at,
    nation, status, competent_authority, received_at, reasonable_grounds_due, recovery_period_ends_on, age_group,
    local_authority, home_office_reference, home_office_reference_key, first_responder_reference, potential_victim,
    local_authority_contact, consent, exploitation, indicators, police, current_address, phone)
SELECT gen_random_uuid(), 'NRM-B' || lpad(i::text, 8, '0'), (%(orgs)s::int[])[1 + (i %% array_length(%(orgs)s::int[], 1))],
    %(user)s, NULL, t, t,
    (ARRAY['ENG','ENG','ENG','ENG','ENG','ENG','SCT','WLS','NIR'])[1 + (i * 7 %% 9)], 'awaiting_reasonable_grounds',
    (ARRAY['SCA','SCA','SCA','IECA','LOCAL_PANEL'])[1 + (i * 3 %% 5)], t, t::date + 7, NULL,
    (ARRAY['child','adult','adult','child','unknown','adult','child','adult','child','adult'])[1 + (i * 13 %% 10)],
    'E09000008', '', '', '',
    jsonb_build_object('given_names', 'Synthetic', 'family_name', 'Person ' || i,
        'sex', (ARRAY['male','male','male','female','male','female','male','unknown'])[1 + (i * 11 %% 8)],
        'nationalities', jsonb_build_array((%(nats)s::text[])[1 + floor(power(random(), 2.5) * %(n_nats)s)::int])),
    NULL, NULL,
    jsonb_build_array(jsonb_build_object(
        'types', (ARRAY['["labour"]','["sexual"]','["criminal"]','["criminal"]','["domestic_servitude"]','["other"]',
                        '["labour","criminal"]'])[1 + (i * 5 %% 7)]::jsonb,
        'criminal_subtypes', CASE WHEN i %% 3 = 0 THEN '["county_lines"]'::jsonb ELSE '[]'::jsonb END)),
    '[]'::jsonb,
    CASE WHEN i %% 10 = 0 THEN NULL ELSE jsonb_build_object('force', 'Force ' || floor(power(random(), 2) * 45)::int) END,
    '', ''
FROM (SELECT i, %(start)s::timestamptz + (random() * 364.9) * interval '1 day' AS t
      FROM generate_series(%(a)s::int, %(b)s::int) AS i) s
"""

DECISIONS_SQL = """
INSERT INTO decisions_decision (uuid, referral_id, stage, outcome, state, reasons, competent_authority, decided_by_id,
    decided_at, reviewed_by_id, reviewed_at, review_comment, policy_version, guidance_version)
SELECT gen_random_uuid(), r.id, 'reasonable_grounds', CASE WHEN r.id %% 8 = 0 THEN 'negative' ELSE 'positive' END,
    'issued', 'Synthetic', r.competent_authority, %(user)s, r.received_at + (1 + floor(-ln(1 - random()) * 7)) * interval '1 day',
    NULL, CASE WHEN r.id %% 8 = 0 THEN r.received_at + (2 + floor(-ln(1 - random()) * 7)) * interval '1 day' END, '', 'b', 'b'
FROM referrals_referral r WHERE r.reference LIKE 'NRM-B%%' AND r.id BETWEEN %(lo)s AND %(hi)s AND r.id %% 10 <> 7
"""


def seed_database(db: str, referrals: int, year: int) -> float:
    import psycopg

    from opennrm.referrals.codes import countries

    conninfo = dict(host="127.0.0.1", port=5432, user="postgres")
    with psycopg.connect(dbname="postgres", autocommit=True, **conninfo) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db}"')
        conn.execute(f'CREATE DATABASE "{db}"')
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("demo", verbosity=0)
    from opennrm.accounts.models import Organisation, User

    orgs = list(
        Organisation.objects.filter(kind__in=["police", "local_authority", "ngo", "border_force"]).values_list(
            "id", flat=True
        )
    )
    user = User.objects.get(username="fr.police").pk
    decider = User.objects.get(username="sca.one").pk
    nats = [
        "ALB",
        "VNM",
        "GBR",
        "ERI",
        "SDN",
        *[c for c in countries() if c not in ("ALB", "VNM", "GBR", "ERI", "SDN")][:90],
    ]
    t0 = time.perf_counter()
    start = dt.datetime(year, 1, 1, tzinfo=dt.UTC)
    with psycopg.connect(dbname=db, **conninfo) as conn:
        batch = 100_000
        for a in range(1, referrals + 1, batch):
            b = min(referrals, a + batch - 1)
            with conn.transaction():
                conn.execute(
                    SEED_SQL,
                    {"orgs": orgs, "user": user, "nats": nats, "n_nats": len(nats), "start": start, "a": a, "b": b},
                )
            print(f"  seeded {b:,} referrals ({time.perf_counter() - t0:.0f} s)", flush=True)
        lo, hi = conn.execute(
            "SELECT min(id), max(id) FROM referrals_referral WHERE reference LIKE 'NRM-B%%'"
        ).fetchone()
        for x in range(lo, hi + 1, 200_000):
            with conn.transaction():
                conn.execute(DECISIONS_SQL, {"user": decider, "lo": x, "hi": x + 199_999})
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
    return time.perf_counter() - t0


IN_YEAR = "WHERE received_at >= %(a)s AND received_at < %(b)s"
FLOOR_QUERIES = [
    f"SELECT age_group, exploitation, count(*) FROM referrals_referral {IN_YEAR} GROUP BY 1, 2",
    f"SELECT age_group, potential_victim->'nationalities'->>0, count(*) FROM referrals_referral {IN_YEAR} GROUP BY 1, 2",
    f"SELECT age_group, potential_victim->>'sex', count(*) FROM referrals_referral {IN_YEAR} GROUP BY 1, 2",
    f"SELECT age_group, nation, count(*) FROM referrals_referral {IN_YEAR} GROUP BY 1, 2",
    f"SELECT age_group, police->>'force', count(*) FROM referrals_referral {IN_YEAR} GROUP BY 1, 2",
    "SELECT r.age_group, o.kind, count(*) FROM referrals_referral r JOIN accounts_organisation o "
    f"ON o.id = r.organisation_id {IN_YEAR} GROUP BY 1, 2",
    f"SELECT age_group, competent_authority, count(*) FROM referrals_referral {IN_YEAR} GROUP BY 1, 2",
    f"SELECT nation, count(*) FROM referrals_dutytonotify {IN_YEAR} GROUP BY 1",
    "SELECT d.stage, d.outcome, r.age_group, count(*), "
    "percentile_cont(0.5) WITHIN GROUP (ORDER BY d.decided_at - r.received_at), "
    "percentile_cont(0.9) WITHIN GROUP (ORDER BY d.decided_at - r.received_at) "
    "FROM decisions_decision d JOIN referrals_referral r ON r.id = d.referral_id "
    "WHERE d.state = 'issued' AND d.decided_at >= %(a)s AND d.decided_at < %(b)s GROUP BY 1, 2, 3",
    "SELECT count(DISTINCT coalesce('p' || l.person_id, 'r' || r.id)) FROM referrals_referral r "
    "LEFT JOIN linkage_personlink l ON l.referral_id = r.id AND l.undone_at IS NULL "
    "WHERE r.age_group <> 'adult' AND received_at >= %(a)s AND received_at < %(b)s",
]


def speed(referrals: int, year: int, reseed: bool) -> dict:
    import psycopg

    db = "wt_stats_bench"
    result = {"referrals": referrals, "year": year}
    conninfo = dict(host="127.0.0.1", port=5432, user="postgres")
    marker = None
    try:
        with psycopg.connect(dbname=db, **conninfo) as conn:
            marker = conn.execute("SELECT count(*) FROM referrals_referral WHERE reference LIKE 'NRM-B%%'").fetchone()[
                0
            ]
    except Exception:
        marker = None
    if reseed or marker != referrals:
        print(f"Seeding {db} with {referrals:,} referrals in {year}", flush=True)
        result["seed_seconds"] = seed_database(db, referrals, year)
    a, b = dt.datetime(year, 1, 1, tzinfo=dt.UTC), dt.datetime(year + 1, 1, 1, tzinfo=dt.UTC)
    with psycopg.connect(dbname=db, **conninfo) as conn:
        t0 = time.perf_counter()
        for q in FLOOR_QUERIES:
            conn.execute(q, {"a": a, "b": b}).fetchall()
        result["floor_seconds"] = time.perf_counter() - t0

    from opennrm.statistics.extract import content_hash, period_bounds, read_extract
    from opennrm.statistics.models import Extract, Release
    from opennrm.statistics.services import publication_build

    Release.objects.all().delete()
    Extract.objects.all().delete()
    start, end = period_bounds(year, 0)
    t0 = time.perf_counter()
    rows = read_extract(start, end)
    result["extract_seconds"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    content_hash(rows)
    result["hash_seconds"] = time.perf_counter() - t0
    del rows
    from opennrm.accounts.models import User

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        build = publication_build(
            actor=User.objects.get(username="stats.one"),
            year=year,
            output=Path(tmp) / "out",
            internal_output=Path(tmp) / "internal",
        )
        result["build_seconds"] = time.perf_counter() - t0
    result["counted"] = build.rows.counts()
    result["load"] = os.getloadavg()[0]
    result["suppressed"] = len(build.protected.ledger)
    return result


def render_speed(r: dict) -> str:
    return "\n".join(
        [
            f"PostgreSQL `wt_stats_bench`, {r['referrals']:,} referrals received in {r['year']} "
            f"({r['counted']['decisions']:,} decisions in the year), on this 2-core machine shared with other work:",
            "",
            "| Step | Seconds |",
            "|---|---:|",
            f"| Bare aggregation queries, one GROUP BY per table in SQL (the floor) | {r['floor_seconds']:.1f} |",
            f"| The extract alone (every counted row read into memory) | {r['extract_seconds']:.1f} |",
            f"| Its content hash | {r['hash_seconds']:.1f} |",
            f"| `publication_build` of the year, end to end (extract, tables, disclosure control, files) | "
            f"{r['build_seconds']:.1f} |",
            "",
            f"Target ≤ 60 s: {'met' if r['build_seconds'] <= 60 else 'NOT met'}. Counts suppressed: {r['suppressed']}. "
            f"Load average while measuring (1 min): {r['load']:.1f} on 2 cores.",
        ]
    )


def write_benchmarks(section: str) -> None:
    path = ROOT / "BENCHMARKS.md"
    text = path.read_text()
    block = f"{BEGIN}\n{section}\n{END}"
    if BEGIN in text:
        text = text[: text.index(BEGIN)] + block + text[text.index(END) + len(END) :]
    else:
        text += f"\n## Official statistics publication (bench/official_statistics.py, issue 24)\n\n{block}\n"
    path.write_text(text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--referrals", type=int, default=0, help="also time a year's build from this many (PostgreSQL)")
    parser.add_argument("--year", type=int, default=2025)
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument("--write", action="store_true", help="write the figures into BENCHMARKS.md")
    args = parser.parse_args()
    import django

    if args.referrals:
        os.environ["DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/wt_stats_bench"
    django.setup()
    sections = []
    results = [information_lost(n, seed) for n, seed in ((4_500, 1), (18_000, 2))]
    info = render_information(results)
    print(info, flush=True)
    sections.append("### Information lost, beside k-anonymity at k = 11\n\n" + info)
    if args.referrals:
        r = speed(args.referrals, args.year, args.reseed)
        text = render_speed(r)
        print("\n" + text)
        sections.append(f"### A year's publication from {args.referrals:,} referrals\n\n" + text)
    if args.write:
        write_benchmarks("\n\n".join(sections))
    return 0


if __name__ == "__main__":
    sys.exit(main())
