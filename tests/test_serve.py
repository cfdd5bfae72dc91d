"""`deskpilot serve`: the quick checks in-process, the real server (gunicorn and the job worker as
child processes) in the slow tests. The slow tests use SQLite in a temporary data directory: the
test database of pytest-django is not visible to another process."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import types
import urllib.request
from pathlib import Path

import pytest

from deskpilot import cli
from deskpilot.core.management.commands import serve

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


# --- in-process ----------------------------------------------------------------------------------


def test_banner_shows_where_and_the_demo_sign_ins():
    agents = [("agent", f"agent{n}@demo.test", "pw") for n in range(1, 13)]
    lines = serve.banner(
        "http://127.0.0.1:8123/",
        "running (SqliteHuey)",
        [
            ("admin", "admin@demo.test", "pw"),
            ("manager", "m1@demo.test", "pw"),
            ("manager", "m2@demo.test", "pw"),
            *agents,
        ],
    )
    assert lines == [
        "Deskpilot is ready at http://127.0.0.1:8123/",
        "  admin: http://127.0.0.1:8123/admin/   API documentation: http://127.0.0.1:8123/api/v1/docs",
        "  job worker: running (SqliteHuey)",
        "Demo sign-ins (password pw):",
        "  admin    admin@demo.test",
        "  manager  m1@demo.test, m2@demo.test",
        "  agent    agent1@demo.test … agent12@demo.test (12)",
        "Press Ctrl-C to stop.",
    ]


def test_banner_lists_each_password_when_they_differ():
    lines = serve.banner("http://h:1/", "x", [("admin", "a@demo.test", "one"), ("agent", "b@demo.test", "two")])
    assert "  admin  a@demo.test  one" in lines
    assert "  agent  b@demo.test  two" in lines


def test_banner_without_demo_accounts_has_no_sign_in_section():
    assert not any("Demo" in line for line in serve.banner("http://h:1/", "x", []))


def test_demo_sign_ins_come_from_the_demo_package(monkeypatch):
    rows = [("admin", "admin@demo.test", "pw")]
    monkeypatch.setitem(sys.modules, "deskpilot.demo", types.SimpleNamespace(signins=lambda: iter(rows)))
    assert serve.demo_signins() == rows


@pytest.mark.parametrize(
    "demo",
    [
        None,  # no demo package: importing it raises ImportError
        types.SimpleNamespace(),  # a demo package without signins() yet
    ],
)
def test_demo_sign_ins_are_optional(monkeypatch, demo):
    monkeypatch.setitem(sys.modules, "deskpilot.demo", demo)
    assert serve.demo_signins() == []


def run(capsys, *args: str) -> tuple[int, str]:
    status = cli.main(list(args))
    return status, capsys.readouterr().err


def test_serve_refuses_a_port_in_use(capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        status, err = run(capsys, "serve", "--port", str(port), "--no-worker")
    assert status == 2
    assert err.strip() == f"error: --port: {port} is already in use on 127.0.0.1"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--port", "70000"], "error: argument --port: 70000 is not between 1 and 65535"),
        (["--port", "http"], "error: argument --port: 'http' is not a port number"),
        (["--processes", "0"], "error: --processes: must be at least 1"),
        (["--host", "no-such-host.invalid"], "error: --host: cannot listen on 'no-such-host.invalid'"),
    ],
)
def test_serve_rejects_bad_arguments(capsys, args, expected):
    status, err = run(capsys, "serve", "--no-worker", *args)
    assert status == 2
    assert err.strip().startswith(expected), err
    assert len(err.strip().splitlines()) == 1


# --- real servers --------------------------------------------------------------------------------


def deskpilot_command() -> list[str]:
    """The installed console script when there is one (what people run), else the module."""
    script = Path(sys.executable).with_name("deskpilot")
    return [str(script)] if script.exists() else [sys.executable, "-m", "deskpilot.cli"]


def instance_env(data_dir: Path, **extra: str) -> dict[str, str]:
    # The subprocess gets its own SQLite database and job store, and runs jobs in a worker.
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("DESKPILOT_") and key not in ("DATABASE_URL", "PORT", "GUNICORN_CMD_ARGS")
    }
    env.update(
        DESKPILOT_DATA_DIR=str(data_dir), DJANGO_SETTINGS_MODULE="deskpilot.settings", PYTHONUNBUFFERED="1", **extra
    )
    return env


def migrate(*data_dirs: Path) -> None:
    runs = [
        subprocess.Popen(
            [*deskpilot_command(), "migrate", "--verbosity", "0"],
            cwd=ROOT,
            env=instance_env(data_dir),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for data_dir in data_dirs
    ]
    for process in runs:
        output, _ = process.communicate(timeout=300)
        assert process.returncode == 0, output


class Instance:
    """One `deskpilot serve` process, its output in a log file."""

    def __init__(self, data_dir: Path, port: int, args: list[str], env: dict[str, str] | None = None) -> None:
        self.port = port
        self.log = data_dir.parent / f"serve-{port}.log"
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [*deskpilot_command(), "serve", *args],
                cwd=ROOT,
                env=env or instance_env(data_dir),
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def output(self) -> str:
        return self.log.read_text()

    def wait_until_healthy(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"serve exited early:\n{self.output()}"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=5) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.5)
        pytest.fail(f"no answer on port {self.port}:\n{self.output()}")

    def wait_for_output(self, text: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output():
            assert time.monotonic() < deadline, f"{text!r} not printed:\n{self.output()}"
            time.sleep(0.2)

    def descendants(self) -> set[int]:
        """Every process below serve: gunicorn, its workers, the job worker."""
        parents: dict[int, int] = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rpartition(")")[2].split()
            except OSError:  # gone while we looked
                continue
            parents[int(stat.parent.name)] = int(fields[1])
        found: set[int] = set()
        frontier = {self.process.pid}
        while frontier:
            frontier = {pid for pid, parent in parents.items() if parent in frontier} - found
            found |= frontier
        return found

    def stop(self, signum: signal.Signals) -> int:
        self.process.send_signal(signum)
        try:
            return self.process.wait(timeout=60)
        finally:
            self.kill()

    def kill(self) -> None:
        if self.process.poll() is None:
            for pid in self.descendants():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            self.process.kill()
            self.process.wait()


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.slow
def test_serve_answers_and_stops_cleanly(tmp_path):
    data = tmp_path / "data"
    migrate(data)
    port = free_port()
    instance = Instance(data, port, ["--port", str(port), "--no-worker"])
    try:
        instance.wait_until_healthy()
        instance.wait_for_output(f"Deskpilot is ready at http://127.0.0.1:{port}/")
        assert "job worker: not started (--no-worker)" in instance.output()
        children = instance.descendants()
        assert children, "gunicorn is not a child of serve"
        status = instance.stop(signal.SIGTERM)
    finally:
        instance.kill()
    output = instance.output()
    assert status == 0, output
    assert "Traceback" not in output
    assert not [pid for pid in children if alive(pid)], output
    assert port_is_free(port)
    assert (data / "static" / "admin").is_dir()  # collectstatic ran into this instance's data dir


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc to find the child processes")
def test_two_instances_run_side_by_side_and_stop_their_workers(tmp_path):
    """PORT and DESKPILOT_DATA_DIR are all two instances need; Ctrl-C and SIGTERM each stop the
    web server and the job worker of their own instance."""
    first, second = tmp_path / "first", tmp_path / "second"
    migrate(first, second)
    first_port, second_port = free_port(), free_port()
    one = Instance(first, first_port, [], env=instance_env(first, PORT=str(first_port)))
    two = Instance(second, second_port, ["--port", str(second_port)])
    try:
        for instance in (one, two):
            instance.wait_until_healthy()
            instance.wait_for_output("job worker: running (SqliteHuey)")
            instance.wait_for_output("tickets.auto_close", timeout=180)  # the worker is up
        assert (first / "jobs.sqlite3").exists()
        assert (second / "jobs.sqlite3").exists()
        children = {one: one.descendants(), two: two.descendants()}
        assert not children[one] & children[two]

        status_one = one.stop(signal.SIGINT)  # Ctrl-C
        # The other instance is untouched.
        with urllib.request.urlopen(f"http://127.0.0.1:{second_port}/healthz", timeout=5) as response:
            assert response.status == 200
        status_two = two.stop(signal.SIGTERM)
    finally:
        one.kill()
        two.kill()
    for instance, status in ((one, status_one), (two, status_two)):
        output = instance.output()
        assert status == 0, output
        assert "Traceback" not in output
        assert "Consumer exiting" in output  # the worker stopped gracefully, not killed
        assert not [pid for pid in children[instance] if alive(pid)], output
        assert port_is_free(instance.port)
