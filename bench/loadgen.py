"""Closed-loop HTTP load generator for `make bench`: N client threads on loopback, keep-alive sockets.

Run by bench/run.py as its own process, so that its CPU time is not the server's. Each client signs
in with POST /api/v1/auth/token first (or reuses the tokens of an earlier run), then sends its next
request as soon as the last is answered. Each target (a scenario against one server) is measured
for --duration seconds in total, cut into --slices slices taken in turn with the other targets, so a
change in the machine's background load falls on all of them alike; only requests that start and
finish inside a slice's measured window count. Every response's status (and a fragment of its body)
is checked; anything else, or a broken connection, is an error.

The client is a minimal HTTP/1.1 client on raw sockets (Content-Length and chunked bodies,
`Connection: close` honoured), because http.client's per-request cost would take a noticeable share
of a 2-core machine away from the server being measured.

Output: one JSON document (--out) with, per target, requests/s, latency percentiles, errors and
where the machine's CPU went during its windows.
"""

import argparse
import datetime as dt
import json
import os
import random
import resource
import socket
import sys
import threading
import time
import uuid

SCENARIOS = ("ping", "read", "create")
EXPECTED = {"ping": 200, "read": 200, "create": 201}


class HttpError(Exception):
    pass


class Connection:
    """One keep-alive HTTP/1.1 connection to 127.0.0.1:port; reconnects when the server closed it."""

    def __init__(self, host: str, port: int, timeout: float = 30.0):
        self.host, self.port, self.timeout = host, port, timeout
        self.sock: socket.socket | None = None
        self.buf = b""
        self.connects = 0

    def _connect(self) -> None:
        self.sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.connects += 1

    def close(self) -> None:
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
        self.sock = None
        self.buf = b""

    def _recv(self) -> bytes:
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionResetError("server closed the connection")
        return data

    def request(self, raw: bytes) -> tuple[int, bytes]:
        """Send a complete request; return (status, body). Retries once on a stale keep-alive socket."""
        for attempt in (0, 1):
            fresh = self.sock is None
            if fresh:
                self._connect()
            try:
                self.sock.sendall(raw)
                return self._read_response()
            except (ConnectionResetError, BrokenPipeError, ConnectionAbortedError) as exc:
                self.close()
                # A reused socket the server had already closed: try once on a new one.
                if fresh or attempt == 1 or getattr(exc, "partial", False):
                    raise
        raise AssertionError("unreachable")

    def _read_response(self) -> tuple[int, bytes]:
        buf = self.buf
        while True:
            end = buf.find(b"\r\n\r\n")
            if end >= 0:
                break
            try:
                buf += self._recv()
            except ConnectionResetError as exc:
                exc.partial = bool(buf)  # type: ignore[attr-defined]
                raise
        head = buf[:end].decode("latin-1").split("\r\n")
        buf = buf[end + 4 :]
        parts = head[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
            raise HttpError(f"bad status line {head[0]!r}")
        status = int(parts[1])
        length = None
        chunked = False
        close = parts[0] == "HTTP/1.0"
        for line in head[1:]:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            value = value.strip()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding" and "chunked" in value.lower():
                chunked = True
            elif name == "connection":
                close = value.lower() == "close" or (close and value.lower() != "keep-alive")
        if chunked:
            body, buf = self._read_chunked(buf)
        elif length is not None:
            while len(buf) < length:
                buf += self._recv()
            body, buf = buf[:length], buf[length:]
        else:
            # No length: the body runs to the end of the connection.
            close = True
            try:
                while True:
                    buf += self._recv()
            except ConnectionResetError:
                pass
            body, buf = buf, b""
        self.buf = buf
        if close:
            self.close()
        return status, body

    def _read_chunked(self, buf: bytes) -> tuple[bytes, bytes]:
        body = bytearray()
        while True:
            while b"\r\n" not in buf:
                buf += self._recv()
            line, buf = buf.split(b"\r\n", 1)
            size = int(line.split(b";")[0], 16)
            if size == 0:
                while b"\r\n" not in buf:
                    buf += self._recv()
                # Skip (empty) trailers up to the blank line.
                while not buf.startswith(b"\r\n"):
                    while buf.count(b"\r\n") < 2:
                        buf += self._recv()
                    buf = buf.split(b"\r\n", 1)[1]
                return bytes(body), buf[2:]
            while len(buf) < size + 2:
                buf += self._recv()
            body += buf[:size]
            buf = buf[size + 2 :]


def build_request(method: str, path: str, host: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", "User-Agent: opennrm-bench/1"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


# --- Synthetic request bodies ---------------------------------------------------------------------------

GIVEN = [
    "Thi Anh",
    "Minh",
    "Arben",
    "Elira",
    "Dawit",
    "Selam",
    "Kwame",
    "Ama",
    "Mihai",
    "Ioana",
    "Hoa",
    "Besnik",
    "Tsion",
    "Linh",
]
FAMILY = [
    "Nguyen",
    "Tran",
    "Hoxha",
    "Krasniqi",
    "Tesfaye",
    "Mensah",
    "Popescu",
    "Le",
    "Berhe",
    "Shehu",
    "Pham",
    "Asante",
]
NATIONALITIES = ["VNM", "ALB", "ERI", "GHA", "ROU", "GBR", "SDN", "AFG"]
LANGUAGES = ["vi", "sq", "ti", "en", "ro", "ar", "ps"]
LOCAL_AUTHORITIES = ["E09000008", "E08000025", "E09000019", "W06000015", "S12000036", "N09000003"]
NATION_OF = {"E": "ENG", "W": "WLS", "S": "SCT", "N": "NIR"}
TYPES = ["labour", "sexual", "criminal", "domestic_servitude"]
SUBTYPES = ["county_lines", "cannabis_cultivation", "forced_begging", "theft"]


def child_referral(rng: random.Random, client: int, n: int) -> dict:
    """A valid child referral (contract section 2), varied a little from call to call."""
    today = dt.date.today()
    la = rng.choice(LOCAL_AUTHORITIES)
    kind = rng.choice(TYPES)
    exploitation = {
        "types": [kind],
        "location": rng.choice(["uk", "uk_and_overseas"]),
        "ongoing": True,
        "started_on": (today - dt.timedelta(days=rng.randint(30, 700))).isoformat(),
        "account": f"Synthetic benchmark account {client}-{n}: found working without pay; no real person.",
    }
    if kind == "criminal":
        exploitation["criminal_subtypes"] = [rng.choice(SUBTYPES)]
    if exploitation["location"] == "uk_and_overseas":
        exploitation["countries"] = [rng.choice(NATIONALITIES)]
    exploitation["uk_towns"] = [rng.choice(["Croydon", "Birmingham", "Cardiff", "Belfast", "Edinburgh"])]
    dob = today - dt.timedelta(days=rng.randint(10 * 365, 17 * 365))
    contacted = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=rng.randint(10, 600))
    return {
        "nation": NATION_OF[la[0]],
        "first_responder_reference": f"BENCH-{client:02d}-{n:07d}",
        "potential_victim": {
            "given_names": rng.choice(GIVEN),
            "family_name": rng.choice(FAMILY),
            "aliases": [rng.choice(GIVEN)],
            "date_of_birth": dob.isoformat(),
            "date_of_birth_precision": rng.choice(["day", "year", "estimated"]),
            "age_group": rng.choice(["child", "child", "unknown"]),
            "age_disputed": rng.random() < 0.2,
            "sex": rng.choice(["female", "male", "unknown"]),
            "nationalities": [rng.choice(NATIONALITIES)],
            "languages": [rng.choice(LANGUAGES)],
            "interpreter_needed": rng.random() < 0.6,
            "current_address": "1 Synthetic Street, Nowhere",
            "phone": "+44 7700 900" + f"{rng.randint(0, 999):03d}",
        },
        "local_authority_contact": {
            "local_authority": la,
            "name": "Duty social worker",
            "contacted_at": contacted.isoformat().replace("+00:00", "Z"),
        },
        "consent": None,
        "exploitation": [exploitation],
        "indicators": ["Synthetic indicator: no identity documents"],
        "police": {"force": "Synthetic Police", "crime_reference": f"{rng.randint(1000000, 9999999)}/26"},
    }


# --- CPU accounting ------------------------------------------------------------------------------------

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _postgres_kind(pid: str, db_name: str | None) -> str:
    """'postgres' for the bench database's backends and the cluster's own processes; 'other' for backends of other databases."""
    try:
        title = open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "postgres"
    # A backend's title is "postgres: [CLUSTER: ]USER DATABASE HOST(PORT) STATE" (Debian adds "15/main:"); the
    # cluster's own processes are "postgres: [CLUSTER: ]walwriter" and the like.
    parts = title.split()
    for i, part in enumerate(parts):
        if i >= 2 and (part == "[local]" or (part.endswith(")") and "(" in part)):
            return "postgres" if not db_name or parts[i - 1] == db_name else "other"
    return "postgres"


def cpu_snapshot(server_sids: set[int], db_name: str | None) -> dict:
    """CPU seconds so far of the whole machine and of each process, with each process's kind."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:9]]
    idle = values[3] + values[4]
    snap = {"busy": (sum(values) - idle) / CLK_TCK, "total": sum(values) / CLK_TCK, "procs": {}}
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                raw = f.read()
        except OSError:
            continue
        comm = raw[raw.find("(") + 1 : raw.rfind(")")]
        fields = raw[raw.rfind(")") + 2 :].split()
        used = (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime
        if int(entry) == me:
            kind = "loadgen"
        elif int(fields[3]) in server_sids:
            kind = "server"
        elif comm == "postgres":
            kind = _postgres_kind(entry, db_name)
        else:
            kind = "other"
        snap["procs"][entry] = (kind, used, fields[19])  # starttime tells a reused pid apart
    return snap


class CpuTally:
    """CPU seconds by kind, summed over several windows (per-process deltas: processes come and go)."""

    KINDS = ("server", "postgres", "loadgen")

    def __init__(self):
        self.busy = self.total = 0.0
        self.by_kind = dict.fromkeys(self.KINDS, 0.0)

    def add(self, a: dict, b: dict) -> None:
        self.busy += b["busy"] - a["busy"]
        self.total += b["total"] - a["total"]
        for pid, (kind, used, started) in b["procs"].items():
            if kind not in self.by_kind:
                continue
            before = a["procs"].get(pid)
            self.by_kind[kind] += used - (before[1] if before and before[2] == started else 0.0)

    def shares(self) -> dict[str, float]:
        """Per cent of the machine's whole capacity (all CPUs)."""
        capacity = max(1e-9, self.total)
        shares = {k: 100 * v / capacity for k, v in self.by_kind.items()}
        shares["busy"] = 100 * self.busy / capacity
        shares["other"] = max(0.0, shares["busy"] - sum(shares[k] for k in self.KINDS))
        return shares


# --- Clients ---------------------------------------------------------------------------------------------


class Target:
    """A named measurement: a scenario against one server (e.g. create_one_chain = create on the 1-chain server)."""

    def __init__(self, spec: str):
        name, _, rest = spec.partition("=")
        scenario, _, port = rest.partition("@")
        if scenario not in SCENARIOS or not port.isdigit():
            raise ValueError(f"bad --target {spec!r}: use NAME=SCENARIO@PORT, SCENARIO one of {', '.join(SCENARIOS)}")
        self.name, self.scenario, self.port = name, scenario, int(port)


class Phase:
    def __init__(self, target: Target, warmup: float, measure: float):
        self.target, self.warmup, self.measure = target, warmup, measure
        self.warm_end = self.end = 0.0


class Plan:
    def __init__(self, clients: int, phases: list[Phase]):
        self.phases = phases
        self.signed_in = threading.Barrier(clients + 1)
        self.start = threading.Barrier(clients + 1)
        self.finish = threading.Barrier(clients + 1)
        self.current: Phase | None = None


class Client(threading.Thread):
    def __init__(self, index: int, credentials: dict, ids: list[str], plan: Plan, sign_in_port: int):
        super().__init__(name=f"client-{index}", daemon=True)
        self.index, self.credentials, self.ids, self.plan, self.sign_in_port = (
            index,
            credentials,
            ids,
            plan,
            sign_in_port,
        )
        self.conns: dict[int, Connection] = {}
        self.rng = random.Random(index * 7919 + 17)
        self.token = ""
        self.n = 0
        self.done = 0  # completed requests in the current phase (progress only)
        self.latencies: dict[str, list[float]] = {}
        self.errors: dict[str, dict[str, int]] = {}
        self.failure: str | None = None

    def conn(self, port: int) -> Connection:
        if port not in self.conns:
            self.conns[port] = Connection("127.0.0.1", port)
        return self.conns[port]

    def connects(self) -> int:
        return sum(c.connects for c in self.conns.values())

    def sign_in(self) -> None:
        body = json.dumps(self.credentials).encode()
        # Password hashing is slow by design, and 16 at once on a small machine queue behind each other.
        conn = Connection("127.0.0.1", self.sign_in_port, timeout=300)
        try:
            status, answer = conn.request(
                build_request(
                    "POST",
                    "/api/v1/auth/token",
                    f"127.0.0.1:{self.sign_in_port}",
                    {"Content-Type": "application/json"},
                    body,
                )
            )
        finally:
            conn.close()
        if status != 200:
            raise HttpError(
                f"POST /api/v1/auth/token for {self.credentials['username']} answered {status}: {answer[:200]!r}"
            )
        self.token = json.loads(answer)["token"]

    def next_request(self, scenario: str, host: str) -> tuple[bytes, bytes | None]:
        """The request to send, and a byte string the response body must contain (or None)."""
        auth = {"Authorization": f"Bearer {self.token}"}
        if scenario == "ping":
            return build_request("GET", "/api/v1/ping", host, auth), None
        if scenario == "read":
            rid = self.rng.choice(self.ids)
            return build_request("GET", f"/api/v1/referrals/{rid}", host, auth), rid.encode()
        self.n += 1
        body = json.dumps(child_referral(self.rng, self.index, self.n)).encode()
        headers = {**auth, "Content-Type": "application/json", "Idempotency-Key": str(uuid.uuid4())}
        return build_request("POST", "/api/v1/referrals", host, headers, body), b'"reference"'

    def run(self) -> None:
        try:
            if not self.token:
                self.sign_in()
        except Exception as exc:
            self.failure = f"{type(exc).__name__}: {exc}"
        self.plan.signed_in.wait()
        for _ in self.plan.phases:
            self.plan.start.wait()
            if not self.failure:
                self.run_phase(self.plan.current)
            self.plan.finish.wait()
        for c in self.conns.values():
            c.close()

    def run_phase(self, phase: Phase) -> None:
        target = phase.target
        expected = EXPECTED[target.scenario]
        conn = self.conn(target.port)
        host = f"127.0.0.1:{target.port}"
        latencies = self.latencies.setdefault(target.name, [])
        errors = self.errors.setdefault(target.name, {})
        self.done = 0
        clock = time.perf_counter
        while True:
            raw, must_contain = self.next_request(target.scenario, host)
            t0 = clock()
            if t0 >= phase.end:
                break
            try:
                status, body = conn.request(raw)
                problem = None
                if status != expected:
                    problem = str(status)
                elif must_contain is not None and must_contain not in body:
                    problem = f"{status} unexpected body"
            except (OSError, HttpError, ValueError) as exc:
                conn.close()
                problem = type(exc).__name__
            t1 = clock()
            self.done += 1
            if t0 < phase.warm_end:
                continue
            if t1 > phase.end:
                break
            latencies.append(t1 - t0)
            if problem:
                errors[problem] = errors.get(problem, 0) + 1


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    # Nearest-rank percentile.
    k = max(0, min(len(sorted_values) - 1, int(-(-q * len(sorted_values) // 100)) - 1))
    return sorted_values[k]


def log(message: str) -> None:
    print(f"  [load] {message}", file=sys.stderr, flush=True)


def build_phases(targets: list[Target], warmup: float, duration: float, slices: int) -> list[Phase]:
    """Each target's measured time cut into `slices` slices, taken in turn (A B C A B C …), so that a change in
    the machine's background load falls on every target alike. A target's first slice starts with the full
    warm-up; its later ones with a short settling time, as the server is warm by then."""
    phases = []
    settle = min(warmup, 0.5)
    for i in range(slices):
        for t in targets:
            phases.append(Phase(t, warmup if i == 0 else settle, duration / slices))
    return phases


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--target",
        action="append",
        required=True,
        metavar="NAME=SCENARIO@PORT",
        help=f"a measurement: scenario ({', '.join(SCENARIOS)}) against the server on 127.0.0.1:PORT; repeatable",
    )
    parser.add_argument(
        "--credentials",
        required=True,
        help="JSON file: a list of {username, password}, used round-robin by the clients",
    )
    parser.add_argument(
        "--ids", help="file of referral ids (one a line) readable by those users, for the read scenario"
    )
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--duration", type=float, default=20.0, help="measured seconds per target")
    parser.add_argument("--slices", type=int, default=5, help="interleave the targets in this many slices each")
    parser.add_argument(
        "--tokens", help="JSON file of bearer tokens: reused when it exists, else written after signing in"
    )
    parser.add_argument(
        "--server-sid",
        type=int,
        action="append",
        default=[],
        help="session id of a server's processes, for the CPU accounting",
    )
    parser.add_argument("--db-name", help="the bench database, to tell its PostgreSQL backends from other databases'")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    try:
        targets = [Target(spec) for spec in args.target]
    except ValueError as exc:
        parser.error(str(exc))
    credentials = json.load(open(args.credentials))
    ids = [line.strip() for line in open(args.ids)] if args.ids else []
    ids = [i for i in ids if i]
    if any(t.scenario == "read" for t in targets) and not ids:
        parser.error("the read scenario needs --ids")

    phases = build_phases(targets, args.warmup, args.duration, max(1, args.slices))
    plan = Plan(args.clients, phases)
    clients = [Client(i, credentials[i % len(credentials)], ids, plan, targets[0].port) for i in range(args.clients)]
    reused = False
    if args.tokens and os.path.exists(args.tokens):
        tokens = json.load(open(args.tokens))
        if len(tokens) >= len(clients):
            for c, token in zip(clients, tokens):
                c.token = token
            reused = True
    log(
        f"{args.clients} clients "
        + ("reusing the tokens they signed in for before" if reused else "signing in (POST /api/v1/auth/token)")
    )
    t = time.perf_counter()
    for c in clients:
        c.start()
    plan.signed_in.wait(timeout=600)
    failures = [c.failure for c in clients if c.failure]
    log(f"ready in {time.perf_counter() - t:.1f} s" + (f"; {len(failures)} failed: {failures[0]}" if failures else ""))
    if args.tokens and not reused and not failures:
        with open(args.tokens, "w") as f:
            json.dump([c.token for c in clients], f)

    sids = set(args.server_sid)
    tallies = {t.name: CpuTally() for t in targets}
    loadgen_cpu = dict.fromkeys((t.name for t in targets), 0.0)
    connects = dict.fromkeys((t.name for t in targets), 0)
    usage0 = resource.getrusage(resource.RUSAGE_SELF)
    total_time = sum(p.warmup + p.measure for p in phases)
    log(
        f"{len(targets)} targets × {len(phases) // len(targets)} interleaved slices of {args.duration / max(1, args.slices):g} s "
        f"(+ warm-up): about {total_time:.0f} s"
    )
    started = time.perf_counter()
    for number, phase in enumerate(phases, 1):
        name = phase.target.name
        r0 = resource.getrusage(resource.RUSAGE_SELF)
        c0 = sum(c.connects() for c in clients)
        now = time.perf_counter()
        phase.warm_end = now + phase.warmup
        phase.end = phase.warm_end + phase.measure
        plan.current = phase
        plan.start.wait(timeout=60)
        cpu_a = None
        while True:
            t = time.perf_counter()
            if cpu_a is None and t >= phase.warm_end:
                cpu_a = cpu_snapshot(sids, args.db_name)
            if t >= phase.end:
                cpu_b = cpu_snapshot(sids, args.db_name)
                break
            time.sleep(max(0.0, min(0.25, (phase.warm_end if cpu_a is None else phase.end) - t)))
        plan.finish.wait(timeout=120)
        tallies[name].add(cpu_a, cpu_b)
        r1 = resource.getrusage(resource.RUSAGE_SELF)
        loadgen_cpu[name] += (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)
        connects[name] += sum(c.connects() for c in clients) - c0
        done = sum(c.done for c in clients)
        log(
            f"[{time.perf_counter() - started:4.0f} s / ~{total_time:.0f} s] slice {number}/{len(phases)} {name}: {done:,} requests "
            f"({done / (phase.warmup + phase.measure):,.0f}/s)"
        )

    out = {
        "clients": args.clients,
        "warmup_s": args.warmup,
        "duration_s": args.duration,
        "slices": args.slices,
        "sign_in_failures": failures,
        "scenarios": {},
    }
    for target in targets:
        name = target.name
        latencies = sorted(x for c in clients for x in c.latencies.get(name, []))
        errors: dict[str, int] = {}
        for c in clients:
            for k, v in c.errors.get(name, {}).items():
                errors[k] = errors.get(k, 0) + v
        if failures:
            errors["client could not sign in"] = len(failures)
        n = len(latencies)
        tally = tallies[name]
        result = {
            "scenario": target.scenario,
            "requests": n,
            "rps": n / args.duration,
            "p50_ms": percentile(latencies, 50) * 1000,
            "p95_ms": percentile(latencies, 95) * 1000,
            "p99_ms": percentile(latencies, 99) * 1000,
            "max_ms": (latencies[-1] * 1000) if latencies else float("nan"),
            "mean_ms": (sum(latencies) / n * 1000) if n else float("nan"),
            "errors": sum(errors.values()),
            "errors_by_kind": errors,
            "loadgen_cpu_s": loadgen_cpu[name],
            "connections_opened": connects[name],
            "cpu_percent": tally.shares(),
            # CPU per request, over the measured windows (so it also counts requests in flight at their ends).
            "server_cpu_ms_per_request": 1000 * tally.by_kind["server"] / n if n else float("nan"),
            "postgres_cpu_ms_per_request": 1000 * tally.by_kind["postgres"] / n if n else float("nan"),
        }
        out["scenarios"][name] = result
        c = result["cpu_percent"]
        log(
            f"{name}: {result['rps']:.0f} req/s, p50 {result['p50_ms']:.1f} ms, p95 {result['p95_ms']:.1f} ms, errors {result['errors']}; "
            f"CPU: machine {c['busy']:.0f}% busy (server {c['server']:.0f}%, PostgreSQL {c['postgres']:.0f}%, "
            f"load generator {c['loadgen']:.0f}%, other {c['other']:.0f}%)"
        )
    usage1 = resource.getrusage(resource.RUSAGE_SELF)
    out["loadgen_cpu_s_total"] = (usage1.ru_utime + usage1.ru_stime) - (usage0.ru_utime + usage0.ru_stime)
    out["wall_s"] = time.perf_counter() - started
    with open(args.out, "w") as f:
        json.dump(out, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
