"""`opennrm serve`: web server and background worker together, stopped together.

Runs the real command in a subprocess against a temporary SQLite database.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

START_TIMEOUT = 30


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def env_for(var_dir) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(
        DATABASE_URL=f"sqlite:///{var_dir / 'opennrm.sqlite3'}",
        OPENNRM_VAR_DIR=str(var_dir),
        DJANGO_SETTINGS_MODULE="opennrm.settings",
    )
    return env


@pytest.fixture(scope="module")
def migrated_database(tmp_path_factory):
    """A migrated SQLite file, made once and copied for each test."""
    var_dir = tmp_path_factory.mktemp("serve-template")
    subprocess.run(
        [sys.executable, "-m", "opennrm.cli", "migrate", "-v0"], env=env_for(var_dir), check=True, timeout=120
    )
    return var_dir / "opennrm.sqlite3"


@pytest.fixture
def var_dir(tmp_path, migrated_database):
    shutil.copy(migrated_database, tmp_path / "opennrm.sqlite3")
    return tmp_path


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, b""


def children_of(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return [int(p) for p in f.read().split()]


def gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"  # a zombie has exited
    except FileNotFoundError:
        return True


def niceness(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[16])


def wait_until(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def start_serve(var_dir) -> tuple[subprocess.Popen, int]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "opennrm.cli", "serve", "--port", str(port), "--workers", "1"],
        env=env_for(var_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )

    def answering() -> bool:
        assert proc.poll() is None, proc.stdout.read().decode()
        try:
            return get(f"http://127.0.0.1:{port}/sign-in")[0] == 200
        except OSError:
            return False

    assert wait_until(answering, START_TIMEOUT), "opennrm serve did not answer"
    return proc, port


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_serves_pages_and_static_files_and_stops_both_children_on_sigterm(var_dir):
    proc, port = start_serve(var_dir)
    try:
        status, body = get(f"http://127.0.0.1:{port}/static/govuk/govuk-frontend.min.css")
        assert status == 200 and b".govuk-" in body
        children = children_of(proc.pid)
        assert len(children) == 3  # gunicorn's master, the task worker and duplicate detection's worker
        # Only duplicate detection's worker runs at a lower priority (field 19 of /proc/PID/stat is the niceness).
        assert [niceness(pid) for pid in children] == [0, 0, 19]
        assert (var_dir / "static" / "govuk" / "govuk-frontend.min.css").exists()  # collectstatic ran
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=25) == 0
        assert wait_until(lambda: all(gone(pid) for pid in children), 5)
        output = proc.stdout.read().decode()
        assert f"serving http://127.0.0.1:{port}" in output and "OpenNRM has stopped." in output
    finally:
        if proc.poll() is None:
            proc.kill()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_when_one_child_dies_the_other_is_stopped_and_serve_fails(var_dir):
    proc, _port = start_serve(var_dir)
    try:
        web_server, worker, linkage_worker = children_of(proc.pid)
        os.kill(worker, signal.SIGKILL)
        assert proc.wait(timeout=25) == 1
        assert wait_until(lambda: gone(web_server) and gone(linkage_worker), 5)
        assert "The background worker stopped unexpectedly" in proc.stdout.read().decode()
    finally:
        if proc.poll() is None:
            proc.kill()


def test_refuses_an_unmigrated_database_and_a_port_in_use(tmp_path, var_dir):
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "opennrm.cli", "serve", "--port", str(free_port())],
        env=env_for(fresh),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1 and "run `opennrm migrate` first" in result.stderr
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = subprocess.run(
            [sys.executable, "-m", "opennrm.cli", "serve", "--port", str(taken.getsockname()[1])],
            env=env_for(var_dir),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1 and "Choose another port" in result.stderr


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_the_worker_it_starts_sweeps_deadlines_at_once_and_queues_the_nightly_sweep(var_dir):
    """A database never swept: the worker sweeps at start-up, then keeps the 02:00 sweep queued (ADR 0007); the same
    for the audit checkpoint."""
    import sqlite3

    def sweep_schedule():
        with sqlite3.connect(var_dir / "opennrm.sqlite3") as db:
            return db.execute(
                "SELECT last_finished_at, next_run_after FROM decisions_workerschedule WHERE name = 'deadline_sweep'"
            ).fetchone()

    proc, _port = start_serve(var_dir)
    try:
        assert wait_until(lambda: (sweep_schedule() or (None,))[0] is not None, 30), "the start-up sweep did not run"
        # The run records its end, then queues tonight's run: wait for the second step too.
        assert wait_until(lambda: (lambda row: row[1] > row[0])(sweep_schedule()), 30), (
            f"tonight's sweep was not queued: {sweep_schedule()}"
        )
        with sqlite3.connect(var_dir / "opennrm.sqlite3") as db:
            waiting = db.execute(
                "SELECT COUNT(*) FROM django_tasks_database_dbtaskresult WHERE task_path LIKE '%.sweep_deadlines' AND status = 'READY'"
            ).fetchone()[0]
        assert waiting == 1
        # And the audit trail's signed checkpoint (ADR 0027): never written, so one at once, in var/ by default.
        assert wait_until(lambda: list((var_dir / "audit-checkpoints").glob("audit-checkpoint-*.json")), 30), (
            "no audit checkpoint was written"
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=25)
