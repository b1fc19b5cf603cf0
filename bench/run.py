"""`make bench`: OpenNRM's benchmarks against PostgreSQL, written to BENCHMARKS.md and printed.

1. A fresh database (`opennrm_bench` on postgres@127.0.0.1:5432), `opennrm migrate`, `opennrm demo`.
2. `opennrm import` of a synthetic 20,000-line file (opennrm.demo.synthetic), timed; these referrals
   are also the ones read below.
3. `opennrm serve` twice on free loopback ports, with the default audit chains and with
   OPENNRM_AUDIT_CHAINS=1; bench/loadgen.py (its own process, 16 clients) measures FLOOR
   (GET /api/v1/ping), READ (GET /api/v1/referrals/{id}) and CREATE (POST /api/v1/referrals) on the
   first and CREATE on the second, in interleaved slices.
4. bench/audit_chains.py with 1 and 16 chains: audit appends straight against the database.
5. `opennrm audit verify` over the whole trail, timed.

Exit status: 0 when the run completed (a missed target says MISSED in the table, not in the exit
status); 1 when the run itself broke, or when any request failed (the table says so).
Options: --quick for a short smoke run that does not touch BENCHMARKS.md; --help for the rest.
"""

import argparse
import datetime as dt
import glob
import json
import os
import platform
import re
import resource
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
BIN = Path(sys.executable).parent
OPENNRM = str(BIN / "opennrm")
PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
FIRST_RESPONDER = "fr.police"
PASSWORD = "bench-synthetic-password-2026"
TARGETS = {
    "read": {"ratio": 0.35, "p95_ms": 50.0},
    "create": {"ratio": 0.15, "p95_ms": 150.0},
}
IMPORT_TARGET = 1000.0
BEGIN = "<!-- bench:begin -->"
END = "<!-- bench:end -->"
STARTED = time.monotonic()


class BenchBroke(Exception):
    pass


def say(message: str) -> None:
    elapsed = time.monotonic() - STARTED
    print(f"[bench {int(elapsed) // 60:02d}:{int(elapsed) % 60:02d}] {message}", flush=True)


def run(cmd: list[str], env: dict, log: Path, *, check: bool = True, timeout: float = 900) -> tuple[int, float]:
    """Run a command with its output in `log`; return (exit status, seconds)."""
    t0 = time.perf_counter()
    with open(log, "ab") as out:
        out.write(f"\n$ {' '.join(cmd)}\n".encode())
        out.flush()
        proc = subprocess.run(cmd, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, timeout=timeout)
    seconds = time.perf_counter() - t0
    if check and proc.returncode != 0:
        raise BenchBroke(f"`{' '.join(cmd)}` exited {proc.returncode}; see {log}:\n{tail(log)}")
    return proc.returncode, seconds


def tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


# --- PostgreSQL -----------------------------------------------------------------------------------------


def pg_connect(dbname: str = "postgres"):
    import psycopg

    return psycopg.connect(dbname=dbname, autocommit=True, connect_timeout=5, **PG)


def ensure_postgres() -> None:
    try:
        pg_connect().close()
        return
    except Exception:
        pass
    versions = sorted(os.listdir("/etc/postgresql")) if os.path.isdir("/etc/postgresql") else []
    if not versions:
        raise BenchBroke("PostgreSQL is not running on 127.0.0.1:5432 and no cluster was found under /etc/postgresql")
    say(f"starting PostgreSQL {versions[-1]}")
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "start"], check=False)
    for _ in range(30):
        try:
            pg_connect().close()
            return
        except Exception:
            time.sleep(1)
    raise BenchBroke("PostgreSQL did not start")


def recreate_database(name: str) -> str:
    with pg_connect() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
        return conn.execute("SHOW server_version").fetchone()[0]


def query(dbname: str, sql: str, params: tuple = ()) -> list[tuple]:
    with pg_connect(dbname) as conn:
        return conn.execute(sql, params).fetchall()


# --- Server ---------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`opennrm serve` in a session of its own, so that its web server and worker can be told from the rest."""

    def __init__(self, env: dict, log: Path, label: str):
        self.env, self.log, self.label = env, log, label
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.how = ""

    def __enter__(self) -> "Server":
        cmd = [OPENNRM, "serve", "--port", str(self.port)]
        self.how = " ".join(Path(cmd[0]).name if i == 0 else c for i, c in enumerate(cmd))
        say(f"serving ({self.label}): {self.how}")
        out = open(self.log, "ab")
        out.write(f"\n$ {' '.join(cmd)}\n".encode())
        out.flush()
        self.proc = subprocess.Popen(
            cmd, env=self.env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        out.close()
        try:
            self._wait_ready()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _wait_ready(self, timeout: float = 90) -> None:
        import http.client

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchBroke(
                    f"the server exited {self.proc.returncode} while starting; see {self.log}:\n{tail(self.log)}"
                )
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/api/v1/ping")
                status = conn.getresponse().status
                conn.close()
                if status == 401:
                    return
            except OSError:
                pass
            time.sleep(0.5)
        raise BenchBroke(f"the server did not answer on port {self.port} within {timeout:.0f} s; see {self.log}")

    def processes(self) -> list[str]:
        """Command lines of the processes in the server's session (gunicorn master, workers, task worker)."""
        found = []
        for pid in sorted(self._session_pids()):
            try:
                cmdline = (
                    open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\0", b" ").decode(errors="replace").strip()
                )
            except OSError:
                continue
            found.append(cmdline.replace(str(ROOT) + "/", ""))
        return found

    def _session_pids(self) -> list[int]:
        pids = []
        for stat in glob.glob("/proc/[0-9]*/stat"):
            try:
                if int(open(stat).read().rsplit(")", 1)[1].split()[3]) == self.proc.pid:
                    pids.append(int(stat.split("/")[2]))
            except (OSError, IndexError, ValueError):
                continue
        return pids

    def __exit__(self, *exc) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                # `opennrm serve` stops its web server and worker itself on SIGTERM.
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
            except ProcessLookupError:
                pass
        # Anything it started that outlived it (same session, so ours): stop it too.
        deadline = time.monotonic() + 10
        while self._session_pids() and time.monotonic() < deadline:
            time.sleep(0.2)
        for pid in self._session_pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def machine_busy(seconds: float) -> float:
    """Per cent of all CPUs busy over the next `seconds`."""

    def sample() -> tuple[int, int]:
        with open("/proc/stat") as f:
            values = [int(v) for v in f.readline().split()[1:9]]
        return sum(values) - values[3] - values[4], sum(values)

    busy0, total0 = sample()
    time.sleep(seconds)
    busy1, total1 = sample()
    return 100 * (busy1 - busy0) / max(1, total1 - total0)


def wait_for_quiet(limit_s: float = 30, threshold: float = 25) -> float:
    """Other work on the machine (tests, browsers) takes CPU from the server: wait a while for it to stop.
    Returns the machine's busy per cent when the load starts."""
    deadline = time.monotonic() + limit_s
    busy = machine_busy(2)
    if busy > threshold:
        say(
            f"the machine is {busy:.0f}% busy before the load starts; waiting up to {limit_s:.0f} s for other work to finish"
        )
        while busy > threshold and time.monotonic() < deadline:
            busy = machine_busy(3)
        say(f"starting the load at {busy:.0f}% busy")
    return busy


def load(targets: dict[str, tuple[str, "Server"]], args, files: dict, out: Path) -> dict:
    """One load generator run over every target (name → (scenario, server)), interleaved."""
    busy_before = wait_for_quiet()
    cmd = [sys.executable, str(BENCH / "loadgen.py")]
    for name, (scenario, server) in targets.items():
        cmd += ["--target", f"{name}={scenario}@{server.port}"]
    for server in {id(s): s for _, s in targets.values()}.values():
        cmd += ["--server-sid", str(server.proc.pid)]
    cmd += [
        "--credentials",
        str(files["credentials"]),
        "--ids",
        str(files["ids"]),
        "--tokens",
        str(files["tokens"]),
        "--clients",
        str(args.clients),
        "--warmup",
        str(args.warmup),
        "--duration",
        str(args.duration),
        "--slices",
        str(args.slices),
        "--db-name",
        args.db,
        "--out",
        str(out),
    ]
    # The load generator's progress goes to the terminal; it is its own process (its own CPU time).
    proc = subprocess.run(cmd, cwd=ROOT, timeout=900 + 2 * len(targets) * (args.warmup + args.duration))
    if proc.returncode != 0:
        raise BenchBroke(f"the load generator exited {proc.returncode}")
    result = json.loads(out.read_text())
    result["machine_busy_before_percent"] = busy_before
    return result


# --- Set-up steps ---------------------------------------------------------------------------------------


def make_import_file(path: Path, lines: int, env: dict, log: Path) -> None:
    """The synthetic import file, from the project's own generator (the demo's)."""
    code = (
        "import django\n"
        "django.setup()\n"
        "from django.utils import timezone\n"
        "from opennrm.demo.synthetic import write_import_file\n"
        f"write_import_file({str(path)!r}, {lines}, now=timezone.now(), external_id_prefix='BENCH')\n"
    )
    run([sys.executable, "-c", code], env, log)


def import_referrals(path: Path, env: dict, log: Path) -> tuple[int, float, float, str]:
    """Run the import; (exit status, wall seconds, CPU seconds of the command itself, the command)."""
    cmd = [OPENNRM, "import", str(path), "--as", FIRST_RESPONDER]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    rc, seconds = run(cmd, env, log, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return rc, seconds, cpu, f"opennrm import {path.relative_to(ROOT)} --as {FIRST_RESPONDER}"


# --- Report ---------------------------------------------------------------------------------------------


def machine(pg_version: str) -> dict:
    mem_kb = 0
    cpu_model = platform.processor() or "unknown"
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import django

    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = bool(
            subprocess.run(
                ["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True
            ).stdout.strip()
        )
    except OSError:
        commit, dirty = "", False
    return {
        "nproc": os.cpu_count(),
        "memory_gib": mem_kb / 1024 / 1024,
        "cpu": cpu_model,
        "postgresql": pg_version,
        "python": platform.python_version(),
        "django": django.get_version(),
        "os": f"{platform.system()} {platform.release()}",
        "commit": commit + (" (with uncommitted changes)" if dirty else ""),
    }


def fmt(x: float, digits: int = 1) -> str:
    return "n/a" if x != x else f"{x:,.{digits}f}"


def render(r: dict) -> str:
    m = r["machine"]
    load = r["load"]
    L = load["scenarios"]
    floor = L["ping"]["rps"]
    slices = load.get("slices", 1)
    out = [
        f"Run: {r['date']} · `make bench` (bench/run.py). {r['clients']} concurrent clients on 127.0.0.1, closed loop, keep-alive, "
        f"each with its own token from POST /api/v1/auth/token; each scenario measured for {r['duration']:g} s in {slices} slices "
        f"interleaved with the other scenarios (A B C D A B C D …), after a {r['warmup']:g} s warm-up.",
        "",
        f"Machine: {m['nproc']} CPUs ({m['cpu']}), {m['memory_gib']:.1f} GiB memory, {m['os']}; PostgreSQL {m['postgresql']} "
        f"(default configuration, same machine); Python {m['python']}, Django {m['django']}; commit {m['commit'] or 'unknown'}.",
        "",
        f"Server: `{r['server']}` (DATABASE_URL → PostgreSQL `{r['db']}`, OPENNRM_DEBUG unset); its processes: "
        + "; ".join(f"{n} × `{p}`" for p, n in Counter(r["server_processes"]).items())
        + ".",
        "",
        f"Data: `opennrm migrate`, `opennrm demo`; the {r['referrals_readable']:,} referrals of {FIRST_RESPONDER}'s organisation "
        f"(the demo's and the import's below) are the ones read. The load generator (bench/loadgen.py, its own process) used "
        f"{fmt(load['loadgen_cpu_s_total'])} CPU-seconds in {fmt(load.get('wall_s', float('nan')), 0)} s.",
        "",
        "### HTTP API",
        "",
        "| Scenario | Requests/s | p50 ms | p95 ms | p99 ms | Requests | Errors | Ratio to floor | Target | Result |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    names = {
        "ping": "FLOOR `GET /api/v1/ping`",
        "read": "READ `GET /api/v1/referrals/{id}` (read audited)",
        "create": "CREATE `POST /api/v1/referrals` (child referral, Idempotency-Key, audited)",
    }
    for key in ("ping", "read", "create"):
        s = L[key]
        ratio = s["rps"] / floor if floor else float("nan")
        if key == "ping":
            target, result = "(the floor)", "—"
        else:
            t = TARGETS[key]
            target = f"≥ {t['ratio']:.2f} × floor, p95 ≤ {t['p95_ms']:g} ms"
            missed = [
                what for what, bad in (("ratio", ratio < t["ratio"]), ("p95", not s["p95_ms"] <= t["p95_ms"])) if bad
            ]
            result = "PASS" if not missed else f"MISSED ({' and '.join(missed)})"
        if s["errors"]:
            result += f" · ERRORS ({', '.join(f'{k}: {v}' for k, v in s['errors_by_kind'].items())})"
        out.append(
            f"| {names[key]} | {fmt(s['rps'], 0)} | {fmt(s['p50_ms'])} | {fmt(s['p95_ms'])} "
            f"| {fmt(s['p99_ms'])} | {s['requests']:,} | {s['errors']} | "
            f"{fmt(ratio, 2)} | {target} | {result} |"
        )
    out += [
        "",
        f"Where the machine's CPU went during each scenario's measured windows (per cent of all {m['nproc']} CPUs; "
        '"other" is every other process on the machine, including other databases\' PostgreSQL backends), and CPU time per request:',
        "",
        "| Scenario | Machine busy | Server (gunicorn + worker) | PostgreSQL "
        "(bench database) | Load generator | Other | Server CPU ms/request "
        "| PostgreSQL CPU ms/request |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    labels = {"ping": "FLOOR", "read": "READ", "create": "CREATE", "create_one_chain": "CREATE, 1 audit chain"}
    for key, label in labels.items():
        s = L[key]
        c = s["cpu_percent"]
        out.append(
            f"| {label} | {fmt(c['busy'], 0)}% | {fmt(c['server'], 0)}% | {fmt(c['postgres'], 0)}% "
            f"| {fmt(c['loadgen'], 0)}% | {fmt(c['other'], 0)}% | "
            f"{fmt(s['server_cpu_ms_per_request'], 2)} | {fmt(s['postgres_cpu_ms_per_request'], 2)} |"
        )
    other = max(s["cpu_percent"]["other"] for s in L.values())
    if other > 10:
        out += [
            "",
            f"**Other processes on the machine used up to {other:.0f}% of its CPUs during the measured windows**, so the absolute "
            "figures (requests/s, latencies) are lower than the same code gives on a quiet machine. The interleaved slices spread "
            "that load over all scenarios alike, so the ratios to the floor and the CPU time per request are the steadier figures.",
        ]
    imp = r["import"]
    rate = imp["lines"] / imp["seconds"] if imp["seconds"] else float("nan")
    imp_ok = imp["exit"] == 0 and imp["stored"] == imp["lines"]
    out += [
        "",
        "### Import",
        "",
        "| Command | Lines | Stored | Exit | Seconds (start to exit) | Seconds "
        "(its own count, without start-up) | CPU seconds of the command | "
        "Referrals/s (start to exit) | Target | Result |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|---|",
        f"| `{imp['command']}` | {imp['lines']:,} | {imp['stored']:,} | {imp['exit']} "
        f"| {fmt(imp['seconds'], 2)} | {fmt(imp['own_seconds'], 2)} | {fmt(imp['cpu_seconds'], 2)} "
        f"| {fmt(rate, 0)} | ≥ {IMPORT_TARGET:,.0f}/s | "
        f"{('PASS' if rate >= IMPORT_TARGET else 'MISSED') if imp_ok else 'ERRORS (not every line stored)'} |",
        "",
        f"The machine was {fmt(imp['machine_busy_before_percent'], 0)}% busy "
        "just before the import started (the bench's own server was not "
        "running yet). "
        f"The file: {imp['lines']:,} synthetic referrals (children and adults, "
        "every nation) from `opennrm.demo.synthetic.write_import_file`.",
        "",
        "### Audit chain contention",
        "",
        "CREATE through HTTP as above, against two servers running side by side, one with the default and one with "
        "`OPENNRM_AUDIT_CHAINS=1`, taken in turn:",
        "",
        "| Audit chains | Requests/s | p50 ms | p95 ms | p99 ms | Errors | Relative to 1 chain |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    one = L["create_one_chain"]
    for label, s in ((r["default_chains"], L["create"]), (1, one)):
        rel = s["rps"] / one["rps"] if one["rps"] else float("nan")
        out.append(
            f"| {label} | {fmt(s['rps'], 0)} | {fmt(s['p50_ms'])} | {fmt(s['p95_ms'])} "
            f"| {fmt(s['p99_ms'])} | {s['errors']} | {fmt(rel, 2)}× |"
        )
    out += [
        "",
        f"Direct (bench/audit_chains.py): {r['micro'][0]['threads']} threads in one process, each running "
        f"{r['micro'][0]['transactions'] // max(1, r['micro'][0]['threads'])} transactions that append one audit event:",
        "",
        "| Audit chains | Transactions/s | p50 ms | p95 ms | Failures |",
        "|---:|---:|---:|---:|---:|",
    ]
    for mres in r["micro"]:
        out.append(
            f"| {mres['chains']} | {fmt(mres['tps'], 0)} | {fmt(mres['p50_ms'])} | {fmt(mres['p95_ms'])} | {len(mres['failures'])} |"
        )
    v = r["verify"]
    out += [
        "",
        "### Audit verify",
        "",
        "| Command | Entries checked | Seconds | Entries/s | Exit |",
        "|---|---:|---:|---:|---:|",
        f"| `opennrm audit verify` | {v['entries']:,} | {fmt(v['seconds'], 2)} "
        f"| {fmt(v['entries'] / v['seconds'] if v['seconds'] else float('nan'), 0)} "
        f"| {v['exit']} |",
        "",
        f"Total run time: {fmt(r['total_seconds'] / 60, 1)} minutes.",
    ]
    if r["errors_total"]:
        out += ["", f"**This run had {r['errors_total']} failed requests: see the Errors columns.**"]
    return "\n".join(out)


def write_benchmarks(section: str) -> None:
    path = ROOT / "BENCHMARKS.md"
    generated = (
        f"{BEGIN}\n<!-- Generated by `make bench` (bench/run.py): "
        f"everything between these markers is overwritten by each run. -->\n\n{section}\n{END}"
    )
    text = path.read_text() if path.exists() else ""
    if BEGIN in text and END in text:
        text = re.sub(re.escape(BEGIN) + r".*?" + re.escape(END), lambda _m: generated, text, flags=re.S)
    else:
        text = (text.rstrip() + "\n\n" if text else "# Benchmarks\n\n") + "## Latest run\n\n" + generated + "\n"
    path.write_text(text)


# --- Main -----------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description="OpenNRM benchmarks against PostgreSQL")
    parser.add_argument("--duration", type=float, default=20.0, help="measured seconds per scenario")
    parser.add_argument("--warmup", type=float, default=3.0, help="warm-up seconds per scenario")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument(
        "--slices",
        type=int,
        default=5,
        help="each scenario's measured time is cut into this many slices, interleaved with the others'",
    )
    parser.add_argument("--import-lines", type=int, default=20_000)
    parser.add_argument("--db", default=os.environ.get("BENCH_DB", "opennrm_bench"))
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a short smoke run (4 s per scenario, 2,000 lines); does not write BENCHMARKS.md",
    )
    parser.add_argument("--no-write", action="store_true", help="do not update BENCHMARKS.md")
    args = parser.parse_args()
    if args.quick:
        args.duration, args.warmup, args.import_lines, args.slices = 4.0, 1.0, 2000, 2
    write = not (args.quick or args.no_write)

    out_dir = BENCH / "out"
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    log = out_dir / f"run-{stamp}.log"
    var_dir = out_dir / "var"
    var_dir.mkdir(exist_ok=True)
    say(f"logs in {log.relative_to(ROOT)}")

    env = {k: v for k, v in os.environ.items() if k not in ("OPENNRM_DEBUG", "OPENNRM_AUDIT_CHAINS")}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "opennrm.settings",
            "DATABASE_URL": f"postgres://{PG['user']}@{PG['host']}:{PG['port']}/{args.db}",
            "OPENNRM_VAR_DIR": str(var_dir),
            "OPENNRM_DEMO_PASSWORD": PASSWORD,
            "PYTHONUNBUFFERED": "1",
        }
    )
    report: dict = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "duration": args.duration,
        "warmup": args.warmup,
        "clients": args.clients,
        "db": args.db,
    }

    ensure_postgres()
    say(f"creating database {args.db}")
    pg_version = recreate_database(args.db)
    report["machine"] = machine(pg_version)
    say("opennrm migrate")
    run([OPENNRM, "migrate", "--no-input"], env, log)
    say("opennrm demo")
    run([OPENNRM, "demo"], env, log)
    rows = query(args.db, "SELECT u.organisation_id FROM accounts_user u WHERE u.username = %s", (FIRST_RESPONDER,))
    if not rows or rows[0][0] is None:
        raise BenchBroke(f"no user {FIRST_RESPONDER} with an organisation after set-up")
    org_id = rows[0][0]

    import_file = out_dir / f"import-{args.import_lines}.jsonl"
    say(f"writing {args.import_lines:,} synthetic import lines")
    make_import_file(import_file, args.import_lines, env, log)
    lines = sum(1 for _ in open(import_file, encoding="utf-8"))
    before = query(args.db, "SELECT count(*) FROM referrals_referral WHERE organisation_id = %s", (org_id,))[0][0]
    say(f"importing {lines:,} lines (timed)")
    import_log = out_dir / "import.log"
    import_log.unlink(missing_ok=True)
    busy = machine_busy(2)
    rc, seconds, cpu, how = import_referrals(import_file, env, import_log)
    own = re.search(r"lines in ([\d.]+) s", import_log.read_text(errors="replace"))
    after = query(args.db, "SELECT count(*) FROM referrals_referral WHERE organisation_id = %s", (org_id,))[0][0]
    report["import"] = {
        "command": how,
        "lines": lines,
        "stored": after - before,
        "exit": rc,
        "seconds": seconds,
        "cpu_seconds": cpu,
        "machine_busy_before_percent": busy,
        "own_seconds": float(own.group(1)) if own else float("nan"),
    }
    say(f"import: exit {rc}, {after - before:,} stored in {seconds:.1f} s = {lines / seconds:,.0f}/s")

    ids = [
        str(u) for (u,) in query(args.db, "SELECT uuid FROM referrals_referral WHERE organisation_id = %s", (org_id,))
    ]
    if not ids:
        raise BenchBroke("no referrals to read")
    report["referrals_readable"] = len(ids)
    files = {"ids": out_dir / "ids.txt", "credentials": out_dir / "credentials.json", "tokens": out_dir / "tokens.json"}
    files["tokens"].unlink(missing_ok=True)  # tokens of an earlier run's database are no good
    files["ids"].write_text("\n".join(ids) + "\n")
    files["credentials"].write_text(json.dumps([{"username": FIRST_RESPONDER, "password": PASSWORD}]))

    # Both servers run side by side (an idle one costs nothing), so that the load generator can take
    # CREATE on each in turn, under the same background load, without a restart in between.
    with (
        Server(env, log, "default audit chains") as server,
        Server({**env, "OPENNRM_AUDIT_CHAINS": "1"}, log, "1 audit chain") as one_chain,
    ):
        report["server"] = server.how
        report["server_processes"] = server.processes()
        targets = {
            "ping": ("ping", server),
            "read": ("read", server),
            "create": ("create", server),
            "create_one_chain": ("create", one_chain),
        }
        report["load"] = load(targets, args, files, out_dir / "load.json")

    report["micro"] = []
    per_thread = 30 if args.quick else 150
    for chains in ("1", "default"):
        say(f"audit chain microbenchmark, {chains} chain(s)")
        out = out_dir / f"audit-chains-{chains}.json"
        out.unlink(missing_ok=True)
        run(
            [
                sys.executable,
                str(BENCH / "audit_chains.py"),
                "--threads",
                str(args.clients),
                "--per-thread",
                str(per_thread),
                "--out",
                str(out),
            ],
            {**env, "OPENNRM_AUDIT_CHAINS": chains} if chains != "default" else env,
            log,
            check=False,
        )
        if not out.exists():
            raise BenchBroke(f"the audit chain microbenchmark wrote no result; see {log}")
        report["micro"].append(json.loads(out.read_text()))
    # The service's default, as its settings give it (the microbenchmark reports what it ran with).
    report["default_chains"] = report["micro"][1]["chains"]

    say("opennrm audit verify (timed)")
    verify_log = out_dir / "verify.log"
    verify_log.unlink(missing_ok=True)
    rc, seconds = run([OPENNRM, "audit", "verify"], env, verify_log, check=False, timeout=1800)
    text = verify_log.read_text(errors="replace")
    found = re.search(r"([\d,]+) (?:good )?entries", text)
    entries = (
        int(found.group(1).replace(",", "")) if found else query(args.db, "SELECT count(*) FROM audit_auditevent")[0][0]
    )
    report["verify"] = {"entries": entries, "seconds": seconds, "exit": rc}
    if rc != 0:
        raise BenchBroke(f"`opennrm audit verify` exited {rc}:\n{tail(verify_log)}")

    # Duplicate detection needs no database: its own script, its tables appended as printed (issue 5): quality
    # with the Splink 5 baseline side by side at 20,000 records and at 50,000 (about the UK's own density of
    # child referrals), then timings and quality at 1,000,000 at the UK's density (decades of referrals) and at 22
    # times it (ADR 0026; the baseline is not run there: see bench/linkage.py).
    linkage_sections = []
    linkage_runs = (
        ((2000, []),)
        if args.quick
        else (
            (20_000, []),
            (50_000, []),
            (1_000_000, ["--eras", "uk", "--no-baseline"]),
            (1_000_000, ["--no-baseline"]),
        )
    )
    for linkage_size, extra in linkage_runs:
        say(
            f"linkage: OpenNRM{' and the Splink 5 baseline' if not extra else ''} on {linkage_size:,} synthetic referrals {' '.join(extra)}"
        )
        linkage_out = out_dir / f"linkage-{linkage_size}{'-uk' if 'uk' in extra else ''}.txt"
        linkage_out.unlink(missing_ok=True)
        rc, _ = run(
            [sys.executable, str(BENCH / "linkage.py"), "--size", str(linkage_size), *extra],
            env,
            linkage_out,
            check=False,
            timeout=3600,
        )
        linkage_text = linkage_out.read_text(errors="replace")
        if rc != 0:
            raise BenchBroke(f"bench/linkage.py --size {linkage_size} exited {rc}:\n{tail(linkage_out)}")
        linkage_sections.append(linkage_text[linkage_text.find("Linkage quality") :].strip())
    linkage_section = "## Duplicate detection (bench/linkage.py)\n\n" + "\n\n".join(linkage_sections)

    errors = sum(s["errors"] for s in report["load"]["scenarios"].values())
    report["errors_total"] = errors
    report["total_seconds"] = time.monotonic() - STARTED
    (out_dir / "report.json").write_text(json.dumps(report, indent=2, default=str))
    section = render(report) + "\n\n" + linkage_section + "\n"
    print()
    print(section)
    print()
    if write:
        write_benchmarks(section)
        say("BENCHMARKS.md updated")
    else:
        say("BENCHMARKS.md not touched (--quick / --no-write)")
    if errors:
        say(f"FAILED REQUESTS: {errors} (see the Errors columns)")
        return 1
    if report["import"]["exit"] != 0 or report["import"]["stored"] != lines:
        say("the import did not store every line")
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchBroke as exc:
        say(f"BROKEN: {exc}")
        sys.exit(1)
    except KeyboardInterrupt:
        say("interrupted")
        sys.exit(1)
