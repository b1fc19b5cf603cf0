"""`make bench-scale` (and the second half of `make bench`): OpenNRM with 1,000,000 referrals in PostgreSQL.

1. The database `opennrm_bench_1m` (postgres@127.0.0.1:5432): `opennrm migrate`, `opennrm demo`, then
   1,000,000 synthetic referrals and their decisions, inserted by INSERT ... SELECT from
   generate_series in batches (progress shown). A marker table records the seed and the generator's
   version: a database already seeded the same way is reused, so a rerun starts measuring at once.
2. `opennrm serve` (bench/run.py's Server) and a few concurrent clients, each signed in through the
   sign-in form as the SCA decision maker `sca.one` (and with a bearer token for the API):
   the work queue page `GET /queue` and `GET /api/v1/queue` (when the API has it), the managers'
   dashboard page `GET /dashboard` and `GET /api/v1/dashboard`, p50/p95 of each.
3. The nightly deadline sweep `opennrm sweep-deadlines` over every open case, timed (when the
   command exists; otherwise the table says "not available").

Targets (issue 3): queue page and API p95 ≤ 150 ms; dashboard ≤ 1 s; sweep ≤ 60 s. The section
between <!-- scale:begin --> and <!-- scale:end --> in BENCHMARKS.md is rewritten with the figures.

Seeding ONLY approximates the Reasonable Grounds deadline as received + 7 calendar days (the 5th
working day without bank holidays; a panel's as received + 45 days): generating a million dates
through the working-day calendar would take longer than the benchmark itself. The service's own
deadlines are always computed by opennrm/workdays.
"""

import argparse
import datetime as dt
import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as bench

ROOT, BENCH_DIR, OPENNRM, PG = bench.ROOT, bench.BENCH, bench.OPENNRM, bench.PG
DB = "opennrm_bench_1m"
SEED = 20261128
GENERATOR_VERSION = "3"  # bump when the generated data changes: the database is then seeded afresh
DECISION_MAKER = "sca.one"
BEGIN = "<!-- scale:begin -->"
END = "<!-- scale:end -->"
TARGETS_MS = {
    "queue": 150.0,
    "queue_api": 150.0,
    "dashboard": 1000.0,
    "dashboard_api": 1000.0,
    "dashboard_alone": 1000.0,
    "dashboard_fresh": 1000.0,
}
SWEEP_TARGET_S = 60.0
say = bench.say


# --- Seeding ------------------------------------------------------------------------------------------

# One batch: the synthetic cases of numbers %(a)s..%(b)s, into a temporary table, then referrals and decisions
# from it. A referral's story: received some time in the last ~3 years; a Reasonable Grounds decision
# after an exponential wait (positive 88%); a positive starts a 30-day recovery period; a Conclusive
# Grounds decision a long exponential wait later (a median near 17 months, as in the published figures);
# 1% are stuck awaiting RG; some adults withdraw. Negative decisions take effect when confirmed, 2 hours on.
STAGE_SQL = """
CREATE TEMP TABLE seed_batch ON COMMIT DROP AS
WITH base AS (
    SELECT i, %(now)s::timestamptz - (random() * 1095) * interval '1 day' AS received_at,
           random() AS r_auth, random() AS r_nation, random() AS r_age, random() AS r_stuck, random() AS r_rg,
           random() AS r_rg_out, random() AS r_cg, random() AS r_cg_out, random() AS r_wd, random() AS r_sex
    FROM generate_series(%(a)s::integer, %(b)s::integer) AS i
), typed AS (
    SELECT *, CASE WHEN r_age < 0.45 THEN 'child' WHEN r_age < 0.95 THEN 'adult' ELSE 'unknown' END AS age_group,
              CASE WHEN r_nation < 0.85 THEN 'ENG' WHEN r_nation < 0.91 THEN 'SCT' WHEN r_nation < 0.96 THEN 'WLS' ELSE 'NIR' END AS nation
    FROM base
), routed AS (
    SELECT *, CASE WHEN age_group <> 'adult' AND nation = 'ENG' AND r_auth < 0.12 THEN 'LOCAL_PANEL'
                   WHEN r_auth > 0.88 THEN 'IECA' ELSE 'SCA' END AS authority
    FROM typed
), timed AS (
    SELECT *,
           received_at + ((CASE WHEN authority = 'LOCAL_PANEL' THEN 10 ELSE 1 END)
                          + floor(-ln(1 - r_rg) * (CASE WHEN authority = 'LOCAL_PANEL' THEN 25 ELSE 7 END))) * interval '1 day'
                       + interval '3 hours' AS rg_at,
           (received_at AT TIME ZONE 'Europe/London')::date
               + CASE WHEN authority = 'LOCAL_PANEL' THEN 45 ELSE 7 END AS rg_due
    FROM routed
), decided AS (
    SELECT *, r_stuck >= 0.01 AND rg_at <= %(now)s AS rg_decided, r_rg_out >= 0.12 AS rg_positive,
           rg_at + (30 + floor(-ln(1 - r_cg) * 700)) * interval '1 day' AS cg_at,
           (rg_at AT TIME ZONE 'Europe/London')::date + 30 AS cg_due
    FROM timed
)
SELECT i, received_at, age_group, nation, authority, rg_due, rg_decided, rg_positive, r_sex,
       rg_at, CASE WHEN rg_positive THEN rg_at ELSE LEAST(rg_at + interval '2 hours', %(now)s) END AS rg_effective,
       CASE WHEN rg_decided AND rg_positive THEN cg_due END AS cg_due,
       rg_decided AND rg_positive AND cg_at <= %(now)s AS cg_decided, r_cg_out >= 0.1 AS cg_positive,
       cg_at, CASE WHEN r_cg_out >= 0.1 THEN cg_at ELSE LEAST(cg_at + interval '2 hours', %(now)s) END AS cg_effective,
       CASE
           WHEN age_group = 'adult' AND r_wd < 0.03 AND NOT (rg_decided AND rg_positive AND cg_at <= %(now)s) THEN 'withdrawn'
           WHEN NOT rg_decided THEN 'awaiting_reasonable_grounds'
           WHEN NOT rg_positive THEN CASE WHEN r_wd > 0.97 THEN 'reconsideration' ELSE 'reasonable_grounds_negative' END
           WHEN cg_at <= %(now)s THEN CASE WHEN r_cg_out >= 0.1 THEN 'conclusive_grounds_positive' ELSE 'conclusive_grounds_negative' END
           WHEN (%(now)s AT TIME ZONE 'Europe/London')::date < cg_due THEN 'recovery_period'
           ELSE 'awaiting_conclusive_grounds'
       END AS status
FROM decided
"""

REFERRALS_SQL = """
INSERT INTO referrals_referral (uuid, reference, organisation_id, created_by_id, external_id, created_at, updated_at, nation, status,
    competent_authority, received_at, reasonable_grounds_due, recovery_period_ends_on, age_group, local_authority, home_office_reference,
    first_responder_reference, potential_victim, local_authority_contact, consent, exploitation, indicators, police, current_address, phone)
SELECT gen_random_uuid(), 'NRM-S' || lpad(i::text, 8, '0'), %(org)s, %(user)s, NULL, received_at, received_at, nation, status,
    authority, received_at, rg_due, cg_due, age_group,
    CASE WHEN authority = 'LOCAL_PANEL' THEN 'E09000019' WHEN nation = 'SCT' THEN 'S12000036' WHEN nation = 'WLS' THEN 'W06000015'
         WHEN nation = 'NIR' THEN 'N09000003' ELSE 'E09000008' END,
    '', 'SCALE-' || i,
    jsonb_build_object('given_names', 'Synthetic', 'family_name', 'Person ' || i, 'aliases', jsonb_build_array(), 'age_group', age_group,
                       'sex', CASE WHEN r_sex < 0.5 THEN 'female' ELSE 'male' END,
                       'nationalities', jsonb_build_array('VNM'), 'languages', jsonb_build_array('vi')),
    CASE WHEN age_group <> 'adult' THEN jsonb_build_object(
        'local_authority', 'E09000008', 'name', 'Duty social worker', 'contacted_at', received_at) END,
    CASE WHEN age_group = 'adult' THEN jsonb_build_object('given', true, 'recorded_at', received_at) END,
    jsonb_build_array(jsonb_build_object('types', jsonb_build_array('criminal'), 'location', 'uk')), '[]'::jsonb, NULL, '', ''
FROM seed_batch
"""

DECISIONS_SQL = """
INSERT INTO decisions_decision (uuid, referral_id, stage, outcome, state, reasons, competent_authority, decided_by_id, decided_at,
    reviewed_by_id, reviewed_at, review_comment, policy_version, guidance_version)
SELECT gen_random_uuid(), r.id, d.stage, d.outcome, 'issued', 'Synthetic reasons for a benchmark decision.',
    s.authority, %(decider)s, d.decided_at,
    CASE WHEN d.outcome = 'negative' THEN %(reviewer)s END, CASE WHEN d.outcome = 'negative' THEN d.effective_at END, '',
    'naba-2022-30-day', 'rg-all-evidence-2023-07'
FROM seed_batch s JOIN referrals_referral r ON r.reference = 'NRM-S' || lpad(s.i::text, 8, '0')
CROSS JOIN LATERAL (VALUES
    ('reasonable_grounds', CASE WHEN s.rg_positive THEN 'positive' ELSE 'negative' END, s.rg_at, s.rg_effective, s.rg_decided),
    ('conclusive_grounds', CASE WHEN s.cg_positive THEN 'positive' ELSE 'negative' END, s.cg_at, s.cg_effective, s.cg_decided)
) AS d(stage, outcome, decided_at, effective_at, happened)
WHERE d.happened
"""


def seeded_marker(db: str) -> dict | None:
    try:
        rows = bench.query(db, "SELECT seed, version, referrals, seeded_at FROM bench_scale_marker")
    except Exception:
        return None
    return (
        {"seed": rows[0][0], "version": rows[0][1], "referrals": rows[0][2], "seeded_at": rows[0][3]} if rows else None
    )


def seed(db: str, referrals: int, env: dict, log: Path, batch: int) -> dict:
    """The seeded database, made afresh unless one of the same seed, version and size is there already."""
    marker = seeded_marker(db)
    if marker and (marker["seed"], marker["version"], marker["referrals"]) == (SEED, GENERATOR_VERSION, referrals):
        say(
            f"reusing {db}: seeded {marker['seeded_at']:%Y-%m-%d %H:%M} UTC with seed {SEED}, generator version {GENERATOR_VERSION}"
        )
        # A previous run's sweep may have moved cases on; migrations may be newer than the seed.
        bench.run([OPENNRM, "migrate", "--no-input"], env, log)
        say("opennrm dashboard-refresh (what changed since the last refresh; timed)")
        _, refresh = bench.run([OPENNRM, "dashboard-refresh"], env, log)
        return {**marker, "reused": True, "seconds": 0.0, "refresh": {"full": False, "seconds": refresh}}
    t0 = time.perf_counter()
    say(f"creating database {db}")
    bench.recreate_database(db)
    say("opennrm migrate")
    bench.run([OPENNRM, "migrate", "--no-input"], env, log)
    say("opennrm demo (users, organisations, routing rules)")
    bench.run([OPENNRM, "demo"], env, log)
    users = dict(
        bench.query(db, "SELECT username, id FROM accounts_user WHERE username IN ('fr.police', 'sca.one', 'sca.two')")
    )
    org = bench.query(db, "SELECT organisation_id FROM accounts_user WHERE username = 'fr.police'")[0][0]
    now = dt.datetime.now(dt.UTC)
    import psycopg

    with psycopg.connect(dbname=db, **PG) as conn:
        conn.execute("SELECT setseed(%s)", (SEED % 1000 / 1000,))
        conn.commit()
        done = 0
        while done < referrals:
            a, b = done + 1, min(referrals, done + batch)
            with conn.transaction():
                conn.execute(STAGE_SQL, {"now": now, "a": a, "b": b})
                conn.execute(REFERRALS_SQL, {"org": org, "user": users["fr.police"]})
                conn.execute(DECISIONS_SQL, {"decider": users["sca.one"], "reviewer": users["sca.two"]})
            done = b
            rate = done / (time.perf_counter() - t0)
            say(
                f"seeded {done:,} / {referrals:,} referrals ({rate:,.0f}/s, about {(referrals - done) / rate:,.0f} s left)"
            )
    say("VACUUM ANALYZE")
    with bench.pg_connect(db) as conn:
        conn.execute("VACUUM ANALYZE referrals_referral")
        conn.execute("VACUUM ANALYZE decisions_decision")
    # The seed writes past the services, so the dashboard's summary is derived afresh from every referral.
    say("opennrm dashboard-refresh --full (timed)")
    _, refresh = bench.run([OPENNRM, "dashboard-refresh", "--full"], env, log, timeout=3600)
    with bench.pg_connect(db) as conn:
        conn.execute(
            "CREATE TABLE bench_scale_marker (seed bigint, version text, referrals integer, seeded_at timestamptz)"
        )
        conn.execute("INSERT INTO bench_scale_marker VALUES (%s, %s, %s, now())", (SEED, GENERATOR_VERSION, referrals))
    seconds = time.perf_counter() - t0
    say(f"seeded in {seconds:,.0f} s")
    return {
        "seed": SEED,
        "version": GENERATOR_VERSION,
        "referrals": referrals,
        "seeded_at": now,
        "reused": False,
        "seconds": seconds,
        "refresh": {"full": True, "seconds": refresh},
    }


def data_profile(db: str) -> dict:
    total = bench.query(db, "SELECT count(*) FROM referrals_referral")[0][0]
    by_status = dict(bench.query(db, "SELECT status, count(*) FROM referrals_referral GROUP BY status"))
    by_authority = dict(
        bench.query(db, "SELECT competent_authority, count(*) FROM referrals_referral GROUP BY competent_authority")
    )
    decisions = bench.query(db, "SELECT count(*) FROM decisions_decision")[0][0]
    span = bench.query(db, "SELECT min(received_at), max(received_at) FROM referrals_referral")[0]
    return {
        "referrals": total,
        "by_status": by_status,
        "by_authority": by_authority,
        "decisions": decisions,
        "first_received": span[0],
        "last_received": span[1],
    }


# --- Measuring ----------------------------------------------------------------------------------------


class Session:
    """One client's keep-alive connection, signed in through the sign-in form (a session cookie) and with a bearer token."""

    def __init__(self, port: int, username: str, password: str):
        self.port, self.cookies = port, {}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.token = None
        status, body = self.request("GET", "/sign-in")
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body)
        if status != 200 or not csrf:
            raise bench.BenchBroke(f"GET /sign-in answered {status} without a CSRF token")
        form = urllib.parse.urlencode(
            {"csrfmiddlewaretoken": csrf.group(1), "username": username, "password": password, "next": ""}
        )
        status, _ = self.request(
            "POST",
            "/sign-in",
            form,
            {"Content-Type": "application/x-www-form-urlencoded", "Referer": f"http://127.0.0.1:{port}/sign-in"},
        )
        if status != 302 or "sessionid" not in self.cookies:
            raise bench.BenchBroke(f"signing in as {username} through the form answered {status}")
        status, body = self.request(
            "POST",
            "/api/v1/auth/token",
            json.dumps({"username": username, "password": password}),
            {"Content-Type": "application/json"},
        )
        if status != 200:
            raise bench.BenchBroke(f"POST /api/v1/auth/token answered {status}")
        self.token = json.loads(body)["token"]

    def request(
        self, method: str, path: str, body: str | None = None, headers: dict | None = None, *, api: bool = False
    ) -> tuple[int, str]:
        headers = dict(headers or {})
        if api and self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        elif self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                text = response.read().decode(errors="replace")
                break
            except (http.client.HTTPException, OSError):
                if attempt == 2:
                    raise
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, text


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def measure(sessions: list[Session], path, *, api: bool, seconds: float, expect: str) -> dict:
    """Every session requests `path` (or `path()`, a new one each time) in a closed loop for `seconds`, after one
    warm-up request each; latencies of the good answers."""
    latencies: list[float] = []
    errors: dict[str, int] = {}
    lock = threading.Lock()
    next_path = path if callable(path) else (lambda: path)
    for s in sessions:
        s.request("GET", next_path(), api=api)
    stop = time.perf_counter() + seconds

    def client(s: Session):
        while time.perf_counter() < stop:
            url = next_path()
            t = time.perf_counter()
            status, body = s.request("GET", url, api=api)
            elapsed = time.perf_counter() - t
            with lock:
                if status == 200 and expect in body:
                    latencies.append(elapsed)
                else:
                    key = f"{status}" if status != 200 else f"200 without {expect!r}"
                    errors[key] = errors.get(key, 0) + 1

    threads = [threading.Thread(target=client, args=(s,)) for s in sessions]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ms = [x * 1000 for x in latencies]
    return {
        "path": path if isinstance(path, str) else "varied",
        "requests": len(ms),
        "errors": errors,
        "p50_ms": percentile(ms, 50),
        "p95_ms": percentile(ms, 95),
        "max_ms": max(ms) if ms else float("nan"),
        "mean_ms": statistics.fmean(ms) if ms else float("nan"),
        "seconds": seconds,
    }


def fresh_periods():
    """A new period on every call (12 months back from today, starting a day earlier each time): never in the figures' cache."""
    today, counter = dt.date.today(), iter(range(1, 1_000_000))

    def next_path() -> str:
        start = today - dt.timedelta(days=365 + next(counter))
        return f"/api/v1/dashboard?from={start.isoformat()}&to={today.isoformat()}"

    return next_path


def api_has(session: Session, path: str) -> bool:
    status, body = session.request("GET", "/api/v1/openapi.json", api=True)
    return (status == 200 and f'"/api/v1{path}"' in body) or f'"{path}"' in body


def command_exists(name: str, env: dict) -> bool:
    done = subprocess.run([OPENNRM, "help", name], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    return done.returncode == 0


def open_cases(db: str) -> int:
    return bench.query(
        db,
        "SELECT count(*) FROM referrals_referral WHERE status IN "
        "('awaiting_reasonable_grounds', 'recovery_period', 'awaiting_conclusive_grounds', 'reconsideration')",
    )[0][0]


def sweep(env: dict, log: Path, db: str) -> dict:
    if not command_exists("sweep-deadlines", env):
        return {"available": False}
    cases = open_cases(db)
    say(f"opennrm sweep-deadlines over {cases:,} open cases (timed)")
    rc, seconds = bench.run([OPENNRM, "sweep-deadlines"], env, log, check=False, timeout=1800)
    return {"available": True, "exit": rc, "seconds": seconds, "open_cases": cases}


# --- Report -------------------------------------------------------------------------------------------


def render(r: dict) -> str:
    m, d = r["machine"], r["data"]
    fmt = bench.fmt
    seeding = (
        f"reused (seeded {r['seed']['seeded_at']:%Y-%m-%d %H:%M} UTC)"
        if r["seed"]["reused"]
        else f"seeded in {r['seed']['seconds']:,.0f} s by INSERT … SELECT from generate_series"
    )
    statuses = ", ".join(f"{k} {v:,}" for k, v in sorted(d["by_status"].items(), key=lambda kv: -kv[1]))
    authorities = ", ".join(f"{k} {v:,}" for k, v in sorted(d["by_authority"].items(), key=lambda kv: -kv[1]))
    out = [
        f"Run: {r['date']} · `{r['command']}` (bench/scale.py). Machine: {m['nproc']} CPUs ({m['cpu']}), {m['memory_gib']:.1f} GiB memory, "
        f"{m['os']}; PostgreSQL {m['postgresql']} (default configuration, same machine); Python {m['python']}, Django {m['django']}; "
        f"commit {m['commit'] or 'unknown'}.",
        "",
        f"Data: PostgreSQL `{DB}`, {d['referrals']:,} referrals ({authorities}) and {d['decisions']:,} decisions, received "
        f"{d['first_received']:%Y-%m-%d} to {d['last_received']:%Y-%m-%d}; {seeding} (seed {SEED}, generator version {GENERATOR_VERSION}; "
        f"Reasonable Grounds deadlines approximated as received + 7 calendar days for seeding only). By status: {statuses}.",
        "",
        f"Server: `{r['server']}` (OPENNRM_DEBUG unset). Clients: {r['clients']} concurrent, closed loop, keep-alive, signed in as "
        f"`{DECISION_MAKER}` (SCA decision maker) through the sign-in form (pages) and POST /api/v1/auth/token (API); each measured "
        f"for {r['seconds']:g} s after one warm-up request per client (the last row: one client alone).",
        "",
        "| Measure | Requests | p50 ms | p95 ms | Max ms | Errors | Target | Result |",
        "|---|---:|---:|---:|---:|---:|---|---|",
    ]
    names = {
        "queue": "Work queue page `GET /queue`",
        "queue_api": "Work queue API `GET /api/v1/queue`",
        "dashboard": "Dashboard page `GET /dashboard` (last 12 months)",
        "dashboard_api": "Dashboard API `GET /api/v1/dashboard`",
        "dashboard_alone": "Dashboard page `GET /dashboard`, one client alone",
        "dashboard_fresh": "Dashboard API, one client, a period never asked before (computed afresh, not from the cache)",
    }
    for key, name in names.items():
        s = r["http"].get(key)
        target = f"p95 ≤ {TARGETS_MS[key]:g} ms"
        if s is None:
            out.append(f"| {name} | — | — | — | — | — | {target} | NOT AVAILABLE (no such route yet) |")
            continue
        errors = sum(s["errors"].values())
        result = "MET" if s["requests"] and s["p95_ms"] <= TARGETS_MS[key] else "MISSED"
        if errors:
            result += " · ERRORS (" + ", ".join(f"{k}: {v}" for k, v in s["errors"].items()) + ")"
        out.append(
            f"| {name} | {s['requests']:,} | {fmt(s['p50_ms'])} | {fmt(s['p95_ms'])} "
            f"| {fmt(s['max_ms'])} | {errors} | {target} | {result} |"
        )
    sw = r["sweep"]
    if sw["available"]:
        result = (
            ("MET" if sw["seconds"] <= SWEEP_TARGET_S else "MISSED")
            if sw["exit"] == 0
            else f"FAILED (exit {sw['exit']})"
        )
        out.append(
            f"| Nightly sweep `opennrm sweep-deadlines` over {sw['open_cases']:,} "
            f"open cases | 1 run | — | — | {fmt(sw['seconds'] * 1000, 0)} | "
            f"{0 if sw['exit'] == 0 else 1} | ≤ {SWEEP_TARGET_S:g} s | {result} |"
        )
    else:
        out.append(
            "| Nightly sweep `opennrm sweep-deadlines` | — | — | — | — | — "
            f"| ≤ {SWEEP_TARGET_S:g} s | NOT AVAILABLE (no such command yet) "
            "|"
        )
    refresh = r["seed"]["refresh"]
    out += [
        "",
        f"The dashboard reads a summary of each referral's deadlines and first decisions (ADR 0008): "
        f"`opennrm dashboard-refresh{' --full' if refresh['full'] else ''}` took {fmt(refresh['seconds'])} s "
        f"({'every referral, after seeding' if refresh['full'] else 'the referrals changed since the last refresh'}).",
    ]
    if r.get("dashboard_query_ms") is not None:
        out += [
            "",
            f"The dashboard's figures alone (the selector in the server, without the page around them), as the API "
            f"reported them for one more request: {fmt(r['dashboard_query_ms'], 0)} ms.",
        ]
    busy = r.get("machine_busy_before_percent")
    if busy is not None and busy > 25:
        out += [
            "",
            f"**The machine was {busy:.0f}% busy with other work when the measurements started**, so the latencies are "
            "longer than the same code gives on a quiet machine.",
        ]
    out += ["", f"Total run time: {fmt(r['total_seconds'] / 60, 1)} minutes."]
    return "\n".join(out)


def write_benchmarks(section: str) -> None:
    path = ROOT / "BENCHMARKS.md"
    generated = (
        f"{BEGIN}\n<!-- Generated by `make bench-scale` (bench/scale.py): "
        f"everything between these markers is overwritten by each run. -->\n\n{section}\n{END}"
    )
    text = path.read_text()
    if BEGIN in text and END in text:
        text = re.sub(re.escape(BEGIN) + r".*?" + re.escape(END), lambda _m: generated, text, flags=re.S)
    else:
        text = text.rstrip() + "\n\n## Latest run at 1,000,000 referrals\n\n" + generated + "\n"
    path.write_text(text)


def main() -> int:
    parser = argparse.ArgumentParser(description="OpenNRM at 1,000,000 referrals (PostgreSQL)")
    parser.add_argument("--referrals", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=100_000, help="referrals inserted per transaction while seeding")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=15.0, help="measured seconds per page or API call")
    parser.add_argument("--db", default=DB)
    parser.add_argument("--seed-only", action="store_true", help="seed (or check) the database and stop")
    parser.add_argument("--no-sweep", action="store_true", help="do not run the nightly sweep")
    parser.add_argument("--no-write", action="store_true", help="do not update BENCHMARKS.md")
    args = parser.parse_args()
    write = not args.no_write and args.referrals == 1_000_000 and args.db == DB

    out_dir = BENCH_DIR / "out"
    out_dir.mkdir(parents=True, exist_ok=True)
    log = out_dir / f"scale-{dt.datetime.now():%Y%m%d-%H%M%S}.log"
    var_dir = out_dir / "var-scale"
    var_dir.mkdir(exist_ok=True)
    say(f"logs in {log.relative_to(ROOT)}")
    env = {k: v for k, v in os.environ.items() if k not in ("OPENNRM_DEBUG", "OPENNRM_AUDIT_CHAINS")}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "opennrm.settings",
            "DATABASE_URL": f"postgres://{PG['user']}@{PG['host']}:{PG['port']}/{args.db}",
            "OPENNRM_VAR_DIR": str(var_dir),
            "OPENNRM_DEMO_PASSWORD": bench.PASSWORD,
            "PYTHONUNBUFFERED": "1",
        }
    )
    bench.ensure_postgres()
    report = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "clients": args.clients,
        "seconds": args.seconds,
        "command": "make bench-scale" if os.environ.get("MAKELEVEL") else "python bench/scale.py",
    }
    report["seed"] = seed(args.db, args.referrals, env, log, args.batch)
    if args.seed_only:
        return 0
    report["machine"] = bench.machine(bench.query(args.db, "SHOW server_version")[0][0])
    report["data"] = data_profile(args.db)
    with bench.Server(env, log, "1,000,000 referrals") as server:
        report["server"] = server.how
        sessions = [Session(server.port, DECISION_MAKER, bench.PASSWORD) for _ in range(args.clients)]
        report["machine_busy_before_percent"] = bench.wait_for_quiet()
        report["http"] = {}
        # (key, path, API?, text a good answer holds, clients): a manager opening the dashboard alone as well as several at once.
        plan = [
            ("queue", "/queue", False, "Work queue", args.clients),
            ("queue_api", "/api/v1/queue", True, "{", args.clients),
            ("dashboard", "/dashboard", False, "Open cases by stage", args.clients),
            ("dashboard_api", "/api/v1/dashboard", True, "open_by_stage", args.clients),
            ("dashboard_alone", "/dashboard", False, "Open cases by stage", 1),
            ("dashboard_fresh", fresh_periods(), True, "open_by_stage", 1),
        ]
        for key, path, api, expect, clients in plan:
            if api and isinstance(path, str) and not api_has(sessions[0], path.removeprefix("/api/v1")):
                say(f"{path}: not in the API yet; not measured")
                continue
            say(f"measuring {key} with {clients} client(s) for {args.seconds:g} s")
            result = measure(sessions[:clients], path, api=api, seconds=args.seconds, expect=expect)
            say(
                f"{key}: {result['requests']} requests, p50 {result['p50_ms']:.0f} "
                f"ms, p95 {result['p95_ms']:.0f} ms, errors {result['errors']}"
            )
            report["http"][key] = result
        status, body = sessions[0].request("GET", "/api/v1/dashboard", api=True)
        if status == 200:
            report["dashboard_query_ms"] = json.loads(body).get("computed_in_ms")
    report["sweep"] = {"available": False} if args.no_sweep else sweep(env, log, args.db)
    report["total_seconds"] = time.monotonic() - bench.STARTED
    (out_dir / "scale-report.json").write_text(json.dumps(report, indent=2, default=str))
    section = render(report)
    print()
    print(section)
    print()
    if write:
        write_benchmarks(section)
        say("BENCHMARKS.md updated (scale section)")
    errors = sum(sum(s["errors"].values()) for s in report["http"].values())
    return 1 if errors or (report["sweep"].get("available") and report["sweep"]["exit"] != 0) else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except bench.BenchBroke as exc:
        say(f"BROKEN: {exc}")
        sys.exit(1)
    except KeyboardInterrupt:
        say("interrupted")
        sys.exit(1)
