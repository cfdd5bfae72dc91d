"""``deskpilot serve``: the product on one machine. gunicorn serves the web app and a job worker
runs beside it, both as child processes of this command, which starts them, reports where the
product is, and stops both when it is asked to (Ctrl-C, SIGTERM) or when either one dies.

Each instance keeps everything under its own DESKPILOT_DATA_DIR and listens on its own port, so
two instances with different PORT and DESKPILOT_DATA_DIR run side by side.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import errno
import importlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor

from deskpilot import cli

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
# Two processes with a few threads each: enough for a team on one machine, and a request that
# blocks (a large export, a slow SQLite write) does not stall the others.
DEFAULT_WEB_PROCESSES = 2
DEFAULT_THREADS = 4
# gunicorn lets requests in flight finish for this long after SIGTERM.
GRACEFUL_SECONDS = 10
# After this long, children still running are killed: a job that is cut off runs again later.
STOP_TIMEOUT_SECONDS = 30
POLL_SECONDS = 0.2
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not between 1 and 65535")
    return port


def _bind_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _local_address(host: str) -> str:
    """Where this machine reaches a server listening on ``host`` (the wildcard means loopback)."""
    return {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(host, host)  # noqa: S104


def _check_can_listen(host: str, port: int) -> None:
    """Fail early, with the flag named, when the address is taken or not ours to use; otherwise
    gunicorn would retry for several seconds and then stop with a less helpful message."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        raise cli.usage_error(f"--host: cannot listen on {host!r} ({error.strerror})") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        # As gunicorn does, so a port whose last connections are in TIME_WAIT counts as free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise cli.usage_error(f"--port: {port} is already in use on {host}") from None
            if error.errno == errno.EACCES:
                raise cli.usage_error(f"--port: not permitted to listen on port {port}") from None
            raise cli.usage_error(f"--host: cannot listen on {host} ({error.strerror})") from None


def _accepts_connections(host: str, port: int) -> bool:
    try:
        with socket.create_connection((_local_address(host), port), timeout=POLL_SECONDS):
            return True
    except OSError:
        return False


def demo_signins() -> list[tuple[str, str, str]]:
    """(role, email, password) of the demo accounts, or nothing when there are none. The demo
    package is optional (and may not be installed in a production build), so it is looked up
    at run time."""
    try:
        demo = importlib.import_module("deskpilot.demo")
    except ImportError:
        return []
    signins: Callable[[], Iterable[tuple[str, str, str]]] | None = getattr(demo, "signins", None)
    if signins is None:
        return []
    try:
        return list(signins())
    except DatabaseError:  # an empty database, not migrated yet: there are no demo accounts
        return []


def unapplied_migrations() -> int:
    try:
        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        return len(executor.migration_plan(executor.loader.graph.leaf_nodes()))
    except DatabaseError:
        return -1  # the database cannot even be read; the web pages will say so


def banner(url: str, worker: str, signins: Iterable[tuple[str, str, str]]) -> list[str]:
    """What serve prints once the web server accepts connections."""
    lines = [
        f"Deskpilot is ready at {url}",
        f"  admin: {url}admin/   API documentation: {url}api/v1/docs",
        f"  job worker: {worker}",
    ]
    lines += _signin_lines(list(signins))
    lines.append("Press Ctrl-C to stop.")
    return lines


def _signin_lines(rows: list[tuple[str, str, str]]) -> list[str]:
    """The demo accounts, one line per role; a demo has a dozen agents, so a long run of one
    role is shortened to its first and last address."""
    if not rows:
        return []
    passwords = {password for _, _, password in rows}
    if len(passwords) > 1:  # no shared password: every account with its own
        width = max(len(role) for role, _, _ in rows)
        return ["Demo sign-ins:", *(f"  {role.ljust(width)}  {email}  {pw}" for role, email, pw in rows)]
    by_role: dict[str, list[str]] = {}
    for role, email, _ in rows:
        by_role.setdefault(role, []).append(email)
    width = max(len(role) for role in by_role)
    lines = [f"Demo sign-ins (password {passwords.pop()}):"]
    for role, emails in by_role.items():
        shown = ", ".join(emails) if len(emails) <= 3 else f"{emails[0]} … {emails[-1]} ({len(emails)})"
        lines.append(f"  {role.ljust(width)}  {shown}")
    return lines


def _control_socket() -> list[str]:
    """gunicorn's control socket (for gunicornc) lives in the data directory: its default, one
    path per user, would make two instances on one machine fight over it."""
    path = settings.DATA_DIR / "gunicorn.ctl"
    # A Unix socket path is limited to 108 bytes; a deep data directory goes without one.
    if len(os.fsencode(path)) >= 100:
        return ["--no-control-socket"]
    return ["--control-socket", str(path)]


def _die_with_parent() -> Callable[[], None] | None:
    """On Linux, ask the kernel to send a child SIGTERM when serve itself dies without cleaning
    up (SIGKILL, out of memory), so no orphaned server keeps the port and the data directory."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def in_child() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the parent died before the request took effect
            os.kill(os.getpid(), signal.SIGTERM)

    return in_child


@dataclass
class _Child:
    name: str
    process: subprocess.Popen[bytes]
    # The signal that asks this program to finish what it is doing and exit.
    stop_signal: signal.Signals

    def kill(self) -> None:
        # Each child leads its own process group (gunicorn's workers are in it too).
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)


class _StopRequests:
    """SIGINT, SIGTERM and SIGHUP ask serve to stop; while stopping, another one means "now"."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    # Signals this close together are one request: some supervisors (timeout(1), a terminal's
    # process group) deliver the same stop twice, and that must not turn into a kill.
    SAME_REQUEST_SECONDS = 1.0

    def __init__(self) -> None:
        self.event = threading.Event()
        self.count = 0
        self._last = -self.SAME_REQUEST_SECONDS
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> _StopRequests:
        for signum in self.SIGNALS:
            self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        now = time.monotonic()
        if now - self._last >= self.SAME_REQUEST_SECONDS:
            self.count += 1
        self._last = now
        self.event.set()


class Command(BaseCommand):
    help = (
        "Serve Deskpilot: the web app with gunicorn on http://127.0.0.1:$PORT (default 8000) "
        "and a job worker beside it. Ctrl-C or SIGTERM stops both. Extra gunicorn flags can be "
        "given in GUNICORN_CMD_ARGS (e.g. --access-logfile -)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--host",
            default=DEFAULT_HOST,
            help=(
                f"address to listen on (default {DEFAULT_HOST}); 0.0.0.0 listens on all, and then "
                "DESKPILOT_ALLOWED_HOSTS must name the addresses people use"
            ),
        )
        parser.add_argument(
            "--port", type=_port, default=None, help=f"port to listen on (default $PORT, else {DEFAULT_PORT})"
        )
        parser.add_argument(
            "--no-worker",
            dest="worker",
            action="store_false",
            help="do not start a job worker (when workers run elsewhere, e.g. 'deskpilot worker')",
        )
        parser.add_argument(
            "--processes",
            type=int,
            default=DEFAULT_WEB_PROCESSES,
            help=f"web server processes (default {DEFAULT_WEB_PROCESSES})",
        )
        parser.add_argument(
            "--threads", type=int, default=DEFAULT_THREADS, help=f"threads per web process (default {DEFAULT_THREADS})"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        host: str = options["host"]
        port: int = options["port"] or settings.PORT
        for flag in ("processes", "threads"):
            if options[flag] < 1:
                raise cli.usage_error(f"--{flag}: must be at least 1")
        _check_can_listen(host, port)

        call_command("collectstatic", interactive=False, verbosity=0)
        missing = unapplied_migrations()
        if missing:
            self.stderr.write(
                "warning: the database is not up to date"
                + (f" ({missing} unapplied migrations)" if missing > 0 else "")
                + "; run 'deskpilot migrate'"
            )
        signins = demo_signins()
        # This process only supervises from here on; it should not hold a database connection.
        connections.close_all()

        if not options["worker"]:
            worker_state = "not started (--no-worker)"
        elif settings.HUEY_IMMEDIATE:
            worker_state = "not needed (DESKPILOT_JOBS_IMMEDIATE: jobs run inline)"
        else:
            worker_state = f"running ({str(settings.HUEY['huey_class']).rsplit('.', 1)[-1]})"
        url = f"http://{_bind_address(_local_address(host), port)}/"

        # Children read PORT too: settings derive BASE_URL (links in emails) from it.
        env = {**os.environ, "PORT": str(port)}
        with _StopRequests() as stop:
            children: list[_Child] = []
            try:
                children.append(
                    self._start(
                        "web server",
                        [
                            *(sys.executable, "-m", "gunicorn", "deskpilot.wsgi:application"),
                            *("--bind", _bind_address(host, port)),
                            *("--workers", str(options["processes"]), "--threads", str(options["threads"])),
                            *("--graceful-timeout", str(GRACEFUL_SECONDS)),
                            *_control_socket(),
                        ],
                        env,
                        signal.SIGTERM,  # gunicorn: finish requests in flight, then exit
                    )
                )
                if options["worker"] and not settings.HUEY_IMMEDIATE:
                    # SIGINT is Huey's graceful stop: running jobs finish first (SIGTERM cuts them off).
                    worker = [sys.executable, "-m", "deskpilot.cli", "worker"]
                    children.append(self._start("job worker", worker, env, signal.SIGINT))
                failure = self._supervise(children, stop, host, port, banner(url, worker_state, signins))
            finally:
                self._stop(children, stop)
        if failure:
            raise CommandError(failure)

    def _start(self, name: str, argv: list[str], env: dict[str, str], stop_signal: signal.Signals) -> _Child:
        # A process group of its own: Ctrl-C on the terminal reaches serve alone, which then stops
        # each child once, with the signal that lets that program finish cleanly.
        process = subprocess.Popen(argv, env=env, process_group=0, preexec_fn=_die_with_parent())  # noqa: S603
        return _Child(name, process, stop_signal)

    def _supervise(
        self, children: list[_Child], stop: _StopRequests, host: str, port: int, ready_lines: list[str]
    ) -> str | None:
        """Wait until asked to stop or until a child exits; return why, if it was a failure."""
        announced = False
        while not stop.count:
            for child in children:
                status = child.process.poll()
                if status is not None:
                    return f"the {child.name} stopped unexpectedly (exit status {status})"
            if not announced and _accepts_connections(host, port):
                for line in ready_lines:
                    self.stdout.write(line)
                self.stdout.flush()
                announced = True
            stop.event.wait(POLL_SECONDS)
        return None

    def _stop(self, children: list[_Child], stop: _StopRequests) -> None:
        running = [child for child in children if child.process.poll() is None]
        if not running:
            return
        self.stderr.write("Stopping (press Ctrl-C again to stop at once)...", style_func=lambda text: text)
        requests_before = stop.count
        for child in running:
            with contextlib.suppress(ProcessLookupError):
                child.process.send_signal(child.stop_signal)
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        while any(child.process.poll() is None for child in running):
            if stop.count > requests_before or time.monotonic() > deadline:
                for child in running:
                    if child.process.poll() is None:
                        self.stderr.write(f"Killing the {child.name}.")
                        child.kill()
                for child in running:
                    child.process.wait()
                break
            time.sleep(POLL_SECONDS / 2)
