"""Ticket jobs (deskpilot.tickets.tasks), and the job queue they run on.

Ordinary tests run jobs inline (tests/settings.py sets DESKPILOT_JOBS_IMMEDIATE); the slow tests
below start real consumers: one on a Huey instance of their own (SQLite file, and Redis when
DESKPILOT_TEST_REDIS_URL is set), and the `deskpilot worker` command itself.
"""

from __future__ import annotations

import datetime
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from pathlib import Path

import pytest
import time_machine
from django.utils import timezone
from huey.api import PeriodicTask

from deskpilot.accounts.models import Role
from deskpilot.core.management.commands.worker import READY_LINE
from deskpilot.tickets import actions
from deskpilot.tickets.models import Status, TicketEvent, Via
from deskpilot.tickets.tasks import auto_close
from tests import factories

ROOT = Path(__file__).resolve().parents[2]


def solved_ticket(at: datetime.datetime):
    agent = factories.user(Role.AGENT)
    ticket = factories.ticket()
    actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"status": Status.SOLVED}, at=at)
    return ticket


@pytest.mark.django_db
def test_auto_close_closes_tickets_solved_more_than_auto_close_days_ago(settings):
    settings.AUTO_CLOSE_DAYS = 4
    start = timezone.now() - datetime.timedelta(days=30)
    old, recent = solved_ticket(start), solved_ticket(start + datetime.timedelta(days=2))
    with time_machine.travel(start + datetime.timedelta(days=5), tick=False):
        auto_close()  # through the queue, which runs it inline in tests
    old.refresh_from_db()
    recent.refresh_from_db()
    assert (old.status, recent.status) == (Status.CLOSED, Status.SOLVED)
    with time_machine.travel(start + datetime.timedelta(days=6, hours=1), tick=False):
        auto_close()
    recent.refresh_from_db()
    assert recent.status == Status.CLOSED
    closing = TicketEvent.objects.filter(ticket=old, field="status").last()
    assert closing is not None
    assert (closing.new, closing.via, closing.actor_user_id) == (Status.CLOSED, Via.SYSTEM, None)


@pytest.mark.django_db
def test_auto_close_is_idempotent(settings):
    settings.AUTO_CLOSE_DAYS = 4
    ticket = solved_ticket(timezone.now() - datetime.timedelta(days=5))
    assert auto_close.call_local() == 1
    events = TicketEvent.objects.filter(ticket=ticket).count()
    assert auto_close.call_local() == 0
    assert TicketEvent.objects.filter(ticket=ticket).count() == events


@pytest.mark.django_db
def test_auto_close_follows_the_setting(settings):
    settings.AUTO_CLOSE_DAYS = 10
    ticket = solved_ticket(timezone.now() - datetime.timedelta(days=5))
    assert auto_close.call_local() == 0
    ticket.refresh_from_db()
    assert ticket.status == Status.SOLVED


def test_auto_close_is_a_periodic_task_every_quarter_hour():
    assert auto_close.name == "tickets.auto_close"
    assert issubclass(auto_close.task_class, PeriodicTask)
    task = auto_close.s()
    runs = [minute for minute in range(60) if task.validate_datetime(datetime.datetime(2026, 3, 1, 9, minute))]
    assert runs == [0, 15, 30, 45]


# --- real consumers ------------------------------------------------------------------------------

# A queue of its own: the tests' settings run jobs inline, so this module builds a Huey instance
# from environment variables, in the test and in the consumer process alike.
PROBE = textwrap.dedent(
    """
    import os
    from pathlib import Path

    from huey import RedisHuey, SqliteHuey


    def make():
        name = os.environ["PROBE_QUEUE"]
        if os.environ.get("PROBE_REDIS_URL"):
            huey = RedisHuey(name, url=os.environ["PROBE_REDIS_URL"])
        else:
            huey = SqliteHuey(name, filename=os.environ["PROBE_SQLITE_FILE"])

        @huey.task(name="probe.write")
        def write(path, text):
            Path(path).write_text(text)
            return text.upper()

        return huey, write


    def consume():
        huey, _ = make()
        huey.create_consumer(workers=2, worker_type="thread", periodic=False, max_delay=0.2).run()
    """
)

BACKENDS = [
    "sqlite",
    pytest.param(
        "redis",
        marks=pytest.mark.skipif(
            not os.environ.get("DESKPILOT_TEST_REDIS_URL"), reason="DESKPILOT_TEST_REDIS_URL is not set"
        ),
    ),
]


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_a_real_consumer_runs_queued_tasks(backend, tmp_path, monkeypatch):
    module = f"jobs_probe_{uuid.uuid4().hex}"
    (tmp_path / f"{module}.py").write_text(PROBE)
    env = {
        "PROBE_QUEUE": f"deskpilot-test-{uuid.uuid4().hex}",  # one queue per test: runs may share Redis
        "PROBE_SQLITE_FILE": str(tmp_path / "jobs.sqlite3"),
        "PROBE_REDIS_URL": os.environ.get("DESKPILOT_TEST_REDIS_URL", "") if backend == "redis" else "",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.syspath_prepend(str(tmp_path))
    probe = __import__(module)
    huey, write = probe.make()
    assert type(huey).__name__ == {"sqlite": "SqliteHuey", "redis": "RedisHuey"}[backend]

    # Queued before the consumer starts, to show the job waits in the store rather than in memory.
    target = tmp_path / "written.txt"
    result = write(str(target), "hello")
    assert not target.exists()

    # Imported by name, not run as __main__: a task is known by its module and name, and both
    # processes must agree on them.
    consumer = subprocess.Popen(
        [sys.executable, "-c", f"import {module}; {module}.consume()"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
    )
    try:
        assert result.get(blocking=True, timeout=60) == "HELLO"
        assert target.read_text() == "hello"
        # And one queued while it runs.
        assert write(str(tmp_path / "second.txt"), "again").get(blocking=True, timeout=60) == "AGAIN"
    finally:
        consumer.send_signal(signal.SIGINT)  # Huey's graceful stop
        try:
            status = consumer.wait(timeout=30)
        finally:
            if consumer.poll() is None:
                consumer.kill()
            huey.storage.flush_all()
    assert status == 0


def read_lines(process: subprocess.Popen[str]) -> list[str]:
    """Collect a child's output in the background, so waiting on it can time out."""
    lines: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        lines.extend(iter(process.stdout.readline, ""))

    threading.Thread(target=read, daemon=True).start()
    return lines


@pytest.mark.slow
def test_the_worker_command_serves_the_ticket_tasks(tmp_path):
    """`deskpilot worker` finds every app's tasks module (tickets.auto_close among them), and
    Ctrl-C stops it cleanly."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DESKPILOT_", "DATABASE_URL"))}
    env.update(DESKPILOT_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="deskpilot.settings", PYTHONUNBUFFERED="1")
    # A migrated database, as in `make run`: periodic jobs (some run every minute) may fire while
    # the worker is up, and must find their tables.
    subprocess.run([sys.executable, "-m", "deskpilot.cli", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    worker = subprocess.Popen(
        [sys.executable, "-m", "deskpilot.cli", "worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines = read_lines(worker)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and worker.poll() is None:
            # Ctrl-C is graceful only once the consumer has installed its handler, which it
            # announces with READY_LINE (after listing the tasks).
            if any(READY_LINE in line for line in lines):
                break
            time.sleep(0.2)
        assert any("+ deskpilot.tickets.tasks.tickets.auto_close" in line for line in lines), "".join(lines)
        assert any(READY_LINE in line for line in lines), "".join(lines)
    finally:
        worker.send_signal(signal.SIGINT)
        try:
            worker.wait(timeout=30)
        finally:
            if worker.poll() is None:
                worker.kill()
    time.sleep(0.2)  # the reader thread takes the last lines
    output = "".join(lines)
    assert worker.returncode == 0, output
    assert "Consumer exiting" in output
    assert "Traceback" not in output
    assert (tmp_path / "jobs.sqlite3").exists()
