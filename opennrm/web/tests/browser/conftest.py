"""The real OpenNRM, served as in production (`opennrm serve`) over the synthetic demo, and Chromium to drive it.

One server per test run, on a free port, over its own database: a SQLite file in a temporary folder,
or, when the run's DATABASE_URL is PostgreSQL, a fresh database on that server, dropped at the end
(the audit table refuses DELETE and TRUNCATE, so nothing is ever flushed). Under pytest-xdist the
first worker to need it starts it and the others use it; the starter stops it once no other worker
still uses it.
"""

import contextlib
import fcntl
import itertools
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pytest

from .helpers import CHROMIUM, CHROMIUM_ARGS, DEMO_PASSWORD, is_csp_violation

OPENNRM = Path(sys.executable).parent / "opennrm"
STARTUP_SECONDS = 90


@dataclass
class ServedApp:
    url: str
    settings: dict  # the environment variables that point `opennrm` at this server's database and folder
    folder: str
    demo_output: str = field(repr=False)
    postgres_database: str | None = None

    @property
    def env(self) -> dict:
        return {**os.environ, **self.settings}

    def opennrm(self, *args: str, timeout: float = 120) -> str:
        """Runs an `opennrm` command against the served database and returns what it printed."""
        done = subprocess.run(
            [str(OPENNRM), *args], env=self.env, cwd=self.folder, capture_output=True, text=True, timeout=timeout
        )
        assert done.returncode == 0, (
            f"opennrm {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
        )
        return done.stdout


# --- The database -------------------------------------------------------------------------------------


def _is_postgres(url: str) -> bool:
    return url.startswith(("postgres://", "postgresql://", "pgsql://"))


def _postgres_admin_connection(url: str):
    import psycopg

    parts = urllib.parse.urlsplit(url)
    return psycopg.connect(
        host=parts.hostname or None,
        port=parts.port or None,
        user=urllib.parse.unquote(parts.username) if parts.username else None,
        password=urllib.parse.unquote(parts.password) if parts.password else None,
        dbname=parts.path.lstrip("/") or "postgres",
        autocommit=True,
    )


_servers_started = itertools.count()


def _create_postgres_database(url: str) -> tuple[str, str]:
    # One process may start more than one server (one with shorter timeouts, say): each its own database.
    name = f"opennrm_e2e_{os.getpid()}_{next(_servers_started)}"
    with _postgres_admin_connection(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return name, urllib.parse.urlunsplit(urllib.parse.urlsplit(url)._replace(path=f"/{name}"))


def _drop_postgres_database(url: str, name: str) -> None:
    with _postgres_admin_connection(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- The server ---------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/sign-in", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM (`opennrm serve` then stops gunicorn and the worker itself), then SIGKILL if it lingers.

    A killed `serve` still takes its children with it: they are set to get SIGTERM when it dies.
    """
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def _serve(env: dict, folder: Path) -> tuple[subprocess.Popen, str]:
    """Starts `opennrm serve` on a free port and waits until its sign-in page answers."""
    log = folder / "serve.log"
    for _attempt in range(3):
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        with log.open("ab") as out:
            # Its own session, so a Ctrl-C at the terminal reaches pytest only, and the fixture stops the server.
            # Two web processes are plenty for the tests and start faster than the default of two a core.
            process = subprocess.Popen(
                [str(OPENNRM), "serve", "--port", str(port), "--workers", "2"],
                env=env,
                cwd=folder,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + STARTUP_SECONDS
        while process.poll() is None and time.monotonic() < deadline:
            if _answers(url):
                return process, url
            time.sleep(0.2)
        _stop(process)
        # Something else took the port between our probe and the server's bind: try another one.
        if "Cannot listen" not in log.read_text():
            break
    pytest.fail(
        f"opennrm serve did not answer on /sign-in within {STARTUP_SECONDS}s (exit status {process.returncode}):\n"
        f"{log.read_text()[-4000:]}"
    )


@contextlib.contextmanager
def _started_server(folder: Path, extra_settings: dict | None = None):
    """migrate, demo, serve: yields the served app, and stops it and drops its database afterwards.

    `extra_settings`: more environment variables for this server (shorter timeouts, say)."""
    run_database_url = os.environ.get("DATABASE_URL", "")
    postgres_name = None
    if _is_postgres(run_database_url):
        postgres_name, database_url = _create_postgres_database(run_database_url)
    else:
        database_url = f"sqlite:///{folder / 'e2e.sqlite3'}"
    settings = {
        "OPENNRM_VAR_DIR": str(folder),
        "DATABASE_URL": database_url,
        "OPENNRM_DEMO_PASSWORD": DEMO_PASSWORD,
        "DJANGO_SETTINGS_MODULE": "opennrm.settings",
        "PYTHONUNBUFFERED": "1",
        **(extra_settings or {}),
    }
    env = {**os.environ, **settings}
    process = None
    try:
        printed = {}
        for command in (["migrate", "--no-input"], ["demo"]):
            done = subprocess.run(
                [str(OPENNRM), *command], env=env, cwd=folder, capture_output=True, text=True, timeout=300
            )
            (folder / f"{command[0]}.log").write_text(done.stdout + done.stderr)
            assert done.returncode == 0, f"opennrm {' '.join(command)} failed:\n{done.stdout}\n{done.stderr}"
            printed[command[0]] = done.stdout
        process, url = _serve(env, folder)
        yield ServedApp(
            url=url, settings=settings, folder=str(folder), demo_output=printed["demo"], postgres_database=postgres_name
        )
    finally:
        if process is not None:
            _stop(process)
        if postgres_name:
            _drop_postgres_database(run_database_url, postgres_name)


# --- Sharing it between xdist workers -----------------------------------------------------------------


@contextlib.contextmanager
def _locked(path: Path):
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _running(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # an exited worker not yet reaped is gone too


@pytest.fixture(scope="session")
def opennrm_server(tmp_path_factory, worker_id):
    if not CHROMIUM.exists():
        pytest.skip(f"browser tests need Chromium at {CHROMIUM}")
    if worker_id == "master":  # not under xdist
        with _started_server(tmp_path_factory.mktemp("opennrm-e2e")) as served:
            yield served
        return

    shared = tmp_path_factory.getbasetemp().parent  # one folder for every worker of this run
    lock, state_file = shared / "opennrm-e2e.lock", shared / "opennrm-e2e.json"
    me = os.getpid()
    with contextlib.ExitStack() as server:
        with _locked(lock):
            state = json.loads(state_file.read_text()) if state_file.exists() else None
            started_here = state is None
            if started_here:
                served = server.enter_context(_started_server(tmp_path_factory.mktemp("opennrm-e2e")))
                state = {"app": asdict(served), "users": []}
            state["users"].append(me)
            state_file.write_text(json.dumps(state))
        yield ServedApp(**state["app"])

        # Leave. The worker that started the server waits until every other user has left, then stops it,
        # still holding the lock, so that no worker joins a server on its way down.
        while True:
            with _locked(lock):
                state = json.loads(state_file.read_text())
                state["users"] = [pid for pid in state["users"] if pid != me and _running(pid)]
                if started_here and not state["users"]:
                    state_file.unlink()
                    server.close()
                    break
                state_file.write_text(json.dumps(state))
                if not started_here:
                    break
            time.sleep(0.5)


@pytest.fixture(scope="session")
def demo_home_office_reference(opennrm_server) -> str:
    """A Home Office reference on one of the demo's referrals: the one the demo prints, else the first in the database."""
    printed = re.search(r"Home Office reference (\S+)", opennrm_server.demo_output)
    if printed:
        return printed[1]
    reference = opennrm_server.opennrm(
        "shell",
        "--verbosity",
        "0",
        "-c",
        (
            "from opennrm.referrals.models import Referral\n"
            "print(Referral.objects.exclude(home_office_reference='').order_by('id').values_list('home_office_reference', "
            "flat=True).first() or '')"
        ),
    ).strip()
    assert reference, "the demo holds no referral with a Home Office reference"
    return reference


# --- The browser --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    # Module scope, not session: the sync API keeps an asyncio loop running in the main thread while
    # it is open, and Django then refuses database access to the other tests on this xdist worker.
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser, opennrm_server):
    """Opens pages in fresh browser contexts (no cookies shared); fails the test on any CSP report."""
    contexts, csp_reports = [], []

    def open_page(*, java_script_enabled: bool = True):
        context = browser.new_context(base_url=opennrm_server.url, java_script_enabled=java_script_enabled)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.on(
            "console",
            lambda message: is_csp_violation(message.text) and csp_reports.append(f"{page.url}: {message.text}"),
        )
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert not csp_reports, "Content Security Policy violations in the browser console:\n" + "\n".join(csp_reports)


@pytest.fixture
def page(new_page):
    return new_page()
