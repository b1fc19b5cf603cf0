"""`opennrm serve`: the production web server and the background worker, together (contract section 6).

Both run as child processes of this one, each in its own process group, so that Ctrl-C reaches only
this process, which then stops both in order. If either child dies, the other is stopped too and
this command exits non-zero, so a supervisor (systemd, a container runtime) sees the failure.

Before starting them it queues the worker's own recurring work (the nightly deadline sweep,
decisions/tasks.py; duplicate detection's sweep, linkage/tasks.py; the audit trail's signed checkpoint,
audit/tasks.py; the pruning of the API's Idempotency-Key records, api/tasks.py), so `opennrm serve` (and
`make run`) needs nothing else to send reminders.
"""

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor
from django.utils.module_loading import import_string

LINKAGE_WORKER_NICENESS = 19  # the lowest: it runs when the server, PostgreSQL and the other worker leave the CPU idle
STOP_GRACE_SECONDS = 20  # gunicorn's graceful timeout below, plus time to exit
POLL_SECONDS = 0.2
PR_SET_PDEATHSIG = 1


def default_web_workers() -> int:
    """gunicorn's rule of thumb, two processes a core and one more (ADR 0011)."""
    return max(2, min(17, 2 * (os.cpu_count() or 1) + 1))


def _die_with_parent() -> None:
    # Linux: if `opennrm serve` is killed outright (SIGKILL), its children get SIGTERM rather than living on.
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


class Command(BaseCommand):
    help = (
        "Run OpenNRM: the web server (gunicorn) and the background worker together, after collecting "
        "the static files. Ctrl-C or SIGTERM stops both; if either stops on its own, the other is stopped and the exit status is 1."
    )
    requires_migrations_checks = False  # checked below, as a refusal rather than a warning

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000, help="Port to listen on (default %(default)s).")
        parser.add_argument(
            "--host",
            default="127.0.0.1",
            help="Address to listen on (default %(default)s); put a TLS-terminating proxy in front for anything but loopback.",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=default_web_workers(),
            help="Web server processes, each serving one request at a time (default %(default)s: two a core and one more).",
        )

    def handle(self, *args, port: int, host: str, workers: int, **options):
        if not 1 <= port <= 65535:
            raise CommandError("--port must be between 1 and 65535")
        if workers < 1:
            raise CommandError("--workers must be at least 1")
        self._check_port(host, port)
        self._check_database()
        # The worker's own work (settings.RECURRING_WORK): tonight's deadline sweep (or one now, if the last is over a
        # day old); a sweep now for referrals a crash left with no duplicate check queued, then one every night;
        # tonight's signed checkpoint of the audit trail; the API's Idempotency-Key records past their retention.
        for schedule in settings.RECURRING_WORK:
            import_string(schedule)()
        call_command("collectstatic", interactive=False, verbosity=0)
        connections.close_all()  # the children open their own

        bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        url_host = f"[{host}]" if ":" in host else host
        web_cmd = [
            sys.executable,
            "-m",
            "gunicorn",
            "opennrm.wsgi:application",
            "--bind",
            bind,
            "--workers",
            str(workers),
            # One request at a time per process: connections wait in the kernel's queue and are taken in
            # turn, which keeps latency even (threads sharing a process made the slowest 5% three times the
            # median, BENCHMARKS.md). Put a buffering proxy in front, as for any synchronous server.
            "--worker-class",
            "sync",
            "--graceful-timeout",
            "10",
            "--timeout",
            "60",
            "--access-logfile",
            "-",
        ]
        worker_cmd = [sys.executable, "-m", "opennrm.cli", "db_worker"]
        # Duplicate detection's checks in a worker of their own: it holds every referral's identity in memory,
        # and building that index (minutes at a million referrals) must not hold up notifications (ADR 0014).
        linkage_worker_cmd = [sys.executable, "-m", "opennrm.cli", "db_worker", "--queue-name", settings.LINKAGE_QUEUE]

        stop_signal: list[int] = []

        def request_stop(signum, frame):
            stop_signal.append(signum)

        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, request_stop)

        children = {}
        try:
            children["web server"] = self._start(web_cmd)
            children["background worker"] = self._start(worker_cmd)
            # At a lower priority: a possible match can wait a moment for the review queue, while a person at a page,
            # or a missing child's alert, cannot (the checks of a burst of new referrals otherwise took CPU from them).
            children["duplicate-detection worker"] = self._start(linkage_worker_cmd, niceness=LINKAGE_WORKER_NICENESS)
            self.stdout.write(
                f"OpenNRM is serving http://{url_host}:{port} ({workers} web processes) "
                "and running the background workers. Press Ctrl-C to stop."
            )
            self.stdout.flush()
            failed = self._watch(children, stop_signal)
        finally:
            self._stop_all(children)
        if failed:
            name, code = failed
            self.stderr.write(f"The {name} stopped unexpectedly (exit status {code}), so OpenNRM has stopped.")
            sys.exit(1)
        self.stdout.write("OpenNRM has stopped.")

    @staticmethod
    def _check_port(host: str, port: int) -> None:
        """Refuse at once, with a clear message, rather than let gunicorn retry for several seconds."""
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise CommandError(f"Cannot listen on {host}: {exc.strerror}")
        family, kind, proto, _, address = infos[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(address)
            except OSError as exc:
                raise CommandError(
                    f"Cannot listen on {host} port {port}: {exc.strerror}. Choose another port with --port."
                )

    def _check_database(self) -> None:
        try:
            connection = connections["default"]
            executor = MigrationExecutor(connection)
            plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        except DatabaseError as exc:
            raise CommandError(f"Cannot use the database ({exc}). Check DATABASE_URL.")
        if plan:
            raise CommandError(
                f"The database has {len(plan)} migration(s) not yet applied: run `opennrm migrate` first."
            )

    @staticmethod
    def _start(cmd: list[str], *, niceness: int = 0) -> subprocess.Popen:
        def prepare() -> None:
            if sys.platform == "linux":
                _die_with_parent()
            if niceness:
                os.nice(niceness)
                # Linux shares the CPU between sessions ("autogroups") before it looks at nice, so a niced process in
                # our session still took half the CPU from PostgreSQL's and the clients' sessions. In its own session
                # (start_new_session below) with the session's nice set too, it yields to all of them.
                with contextlib.suppress(OSError):
                    Path("/proc/self/autogroup").write_text(str(niceness))

        # A session of its own is a process group of its own too, as process_group=0 gives the others.
        group = {"start_new_session": True} if niceness else {"process_group": 0}
        return subprocess.Popen(cmd, preexec_fn=prepare, **group)

    @staticmethod
    def _watch(children: dict[str, subprocess.Popen], stop_signal: list[int]) -> tuple[str, int] | None:
        """Wait for a stop request (None) or for a child to exit on its own (its name and status)."""
        while not stop_signal:
            for name, child in children.items():
                code = child.poll()
                if code is not None:
                    return name, code
            time.sleep(POLL_SECONDS)
        return None

    @staticmethod
    def _stop_all(children: dict[str, subprocess.Popen]) -> None:
        running = [c for c in children.values() if c.poll() is None]
        for child in running:
            child.send_signal(signal.SIGTERM)  # both stop gracefully on SIGTERM, finishing what they are doing
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for child in running:
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
