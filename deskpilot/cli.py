"""The ``deskpilot`` command: a thin front door to Django's management commands.

``deskpilot serve``, ``deskpilot users create ...`` and every other Django command (``deskpilot
shell``, ``deskpilot check``) run the management command of the same name; ``demo-data`` is
``demo_data``. What this module adds is the house rule for the command line (ARCHITECTURE.md):
bad input gets one line on stderr naming the argument, and exit status 2, never a stack trace.

The helpers below (``usage_error``, ``interactive``, ``ask``) are shared by Deskpilot's own
management commands, so ``django-admin users create`` behaves like ``deskpilot users create``.
"""

from __future__ import annotations

import difflib
import getpass
import os
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.core.management.base import BaseCommand, CommandError
    from rich.progress import Progress

    from deskpilot.core.errors import InvalidInput

PROG = "deskpilot"

# The commands `deskpilot --help` lists, one line each. Kept here rather than read from each
# command's help so that `--help` works without loading Django (or a broken configuration).
COMMANDS: dict[str, str] = {
    "serve": "serve the web app and the job worker on http://127.0.0.1:$PORT (default 8000)",
    "worker": "run a job worker only (background jobs and timers); start more for more throughput",
    "migrate": "create or upgrade the database",
    "createadmin": "create an admin account (asks for what is missing when run on a terminal)",
    "users": "user accounts: users create --email E --name N --role R [--password P]",
    "tokens": "API tokens: tokens create --user EMAIL [--scope read|read_write] [--name N]",
    "demo-data": "load a demo operation: demo-data --tickets N --days D --seed S",
    "search-reindex": "rebuild the full-text search index from tickets and messages (with progress)",
    "sla-recompute": "recompute every ticket's SLA clocks from its events (with progress; --from-id N, --workers N)",
    "metrics-rebuild": "rebuild every ticket's metrics record from its events (progress; --from-id N, --workers N)",
    "mail": "email intake: mail ingest < msg.eml | import PATH | smtpd --port N | retry --all | poll",
    "insights": "customer feedback themes: insights analyze | recluster | evaluate --csv FILE --text-column C ...",
}

# Names on the command line that differ from the management command's module name.
ALIASES: dict[str, str] = {
    "demo-data": "demo_data",
    "search-reindex": "search_reindex",
    "sla-recompute": "sla_recompute",
    "metrics-rebuild": "metrics_rebuild",
}

USAGE_ERROR = 2  # the conventional exit status for bad arguments (argparse, BSD sysexits)
INTERRUPTED = 130  # 128 + SIGINT, what a shell reports for a command stopped by Ctrl-C


def _help_text() -> str:
    width = max(len(name) for name in COMMANDS)
    lines = [
        f"usage: {PROG} <command> [options]",
        "",
        "Deskpilot, the customer service help desk. Commands:",
        "",
        *(f"  {name.ljust(width)}  {summary}" for name, summary in COMMANDS.items()),
        "",
        f"Every other Django management command works too ({PROG} shell, {PROG} check, ...);",
        f"'{PROG} help --all' lists them. '{PROG} <command> --help' describes a command.",
        "",
        "Configuration comes from environment variables (docs/configuration.md), e.g. PORT,",
        "DESKPILOT_DATA_DIR, DATABASE_URL, DESKPILOT_REDIS_URL.",
    ]
    return "\n".join(lines)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("deskpilot")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown"


# --- helpers for Deskpilot's management commands -------------------------------------------------


def usage_error(message: str) -> CommandError:
    """A CommandError that the command line reports as one line with exit status 2."""
    from django.core.management.base import CommandError

    return CommandError(message, returncode=USAGE_ERROR)


def flag_name(field: str, flags: Mapping[str, str] | None = None) -> str:
    """The command-line flag for an action's field name: ``time_zone`` is ``--time-zone``."""
    if flags and field in flags:
        return flags[field]
    return "--" + field.replace("_", "-").replace(".", "-")


def invalid_input_error(error: InvalidInput, flags: Mapping[str, str] | None = None) -> CommandError:
    """Translate an action's InvalidInput into a usage error naming the flag, e.g.
    ``--email: 'nope' is not a valid email address``."""
    return usage_error("; ".join(f"{flag_name(field, flags)}: {problem}" for field, problem in error.errors.items()))


def whole_number(name: str, value: Any, *, minimum: int = 1) -> int:
    """A whole-number command argument, or the usage error that names it."""
    try:
        number = int(str(value))
    except ValueError:
        raise usage_error(f"{name}: expected a whole number, got {value!r}") from None
    if number < minimum:
        raise usage_error(f"{name}: must be at least {minimum}, got {number}")
    return number


def progress_bar(command: BaseCommand, label: str) -> Progress:
    """The progress bar of a long command: label, bar, done/total, elapsed and time left, on the
    command's own stdout, shown only on a terminal (piped output stays clean)."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    # rich writes control sequences in pieces; Django's OutputWrapper would add newlines.
    console = Console(file=getattr(command.stdout, "_out", sys.stdout))
    return Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
        console=console,
        disable=not console.is_terminal,
    )


def interactive() -> bool:
    """Whether we may ask questions: only when a person is at a terminal. CI, cron, pipes and
    containers have no terminal on stdin, and a prompt there would hang forever."""
    stdin = sys.stdin
    try:
        return stdin is not None and stdin.isatty()
    except (AttributeError, ValueError):  # a closed or replaced stdin
        return False


def ask(label: str, *, secret: bool = False) -> str:
    """Ask one question on the terminal. Ctrl-D cancels the command instead of raising EOFError."""
    try:
        answer = getpass.getpass(f"{label}: ") if secret else input(f"{label}: ")
    except EOFError:
        raise usage_error(f"cancelled: no answer for {label.lower()}") from None
    return answer.strip() if not secret else answer


def ask_new_password(label: str = "Password") -> str:
    """A password typed twice; asks again until both agree. Empty means "no password"."""
    while True:
        first = ask(label, secret=True)
        if not first:
            return ""
        if ask(f"{label} (again)", secret=True) == first:
            return first
        print("The two passwords differ; try again.", file=sys.stderr)


# --- the entry point -----------------------------------------------------------------------------


def _fail(message: str, status: int = USAGE_ERROR) -> int:
    print(f"error: {message}", file=sys.stderr)
    return status


def _setup_django(argv: Sequence[str]) -> None:
    """Configure Django, honouring --settings and --pythonpath the way django-admin does: they
    must take effect before settings are read, so they are picked out before anything else."""
    from django.core.management.base import CommandParser

    early = CommandParser(add_help=False, allow_abbrev=False)
    early.add_argument("--settings")
    early.add_argument("--pythonpath")
    options, _ = early.parse_known_args(list(argv))
    if options.settings:
        os.environ["DJANGO_SETTINGS_MODULE"] = options.settings
    if options.pythonpath:
        sys.path.insert(0, options.pythonpath)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "deskpilot.settings")

    import django
    from django.apps import apps

    if not apps.ready:
        django.setup()


def _resolve(name: str, commands: Mapping[str, str]) -> str | None:
    name = ALIASES.get(name, name)
    if name in commands:
        return name
    # Command-line spelling uses hyphens where module names have underscores (`run-huey`).
    underscored = name.replace("-", "_")
    return underscored if underscored in commands else None


def _run(command: BaseCommand, name: str, argv: list[str]) -> int:
    """Run ``command`` like Django's run_from_argv, but report errors the Deskpilot way."""
    from django.core.management.base import CommandError, SystemCheckError, handle_default_options
    from django.db import connections

    from deskpilot.core.errors import InvalidInput

    # Not marking the command as "called from the command line" makes its argument parser raise
    # CommandError instead of printing the usage text and exiting; we print one line instead.
    parser = command.create_parser(PROG, name)
    try:
        options = parser.parse_args(argv)
    except CommandError as error:
        return _fail(str(error).removeprefix("Error: "))
    cmd_options = vars(options)
    args = cmd_options.pop("args", ())
    handle_default_options(options)
    try:
        command.execute(*args, **cmd_options)
    except SystemCheckError as error:
        # System-check failures format themselves over several lines, listing each problem.
        print(error, file=sys.stderr)
        return error.returncode
    except CommandError as error:
        if cmd_options.get("traceback"):
            raise
        return _fail(str(error), error.returncode)
    except InvalidInput as error:
        # A command that did not translate its action's error itself still gets the one-liner.
        if cmd_options.get("traceback"):
            raise
        return _fail(str(error))
    finally:
        # As run_from_argv does, but never a connection inside a transaction someone else
        # opened (a caller of main() in the same process, such as a test).
        for connection in connections.all(initialized_only=True):
            if not connection.in_atomic_block:
                connection.close()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``deskpilot <command> [options]`` and return the exit status."""
    try:
        return _main(list(sys.argv[1:] if argv is None else argv))
    except KeyboardInterrupt:
        # Ctrl-C (or serve stopping a worker that is still starting up): no traceback.
        print(file=sys.stderr)
        return _fail("interrupted", INTERRUPTED)


def _main(args: list[str]) -> int:
    if not args:
        print(_help_text(), file=sys.stderr)
        return USAGE_ERROR
    if args[0] in ("-h", "--help"):
        print(_help_text())
        return 0
    if args[0] in ("-V", "--version"):
        print(f"{PROG} {_version()}")
        return 0
    if args[0] == "help" and len(args) > 1 and args[1] != "--all":
        # `deskpilot help users` is `deskpilot users --help`.
        args = [args[1], "--help"]

    from django.core.exceptions import ImproperlyConfigured

    try:
        _setup_django(args)
    except ImproperlyConfigured as error:
        # A bad environment variable (deskpilot.env names it) is bad input, not a crash.
        return _fail(str(error))

    from django.core.management import get_commands, load_command_class
    from django.core.management.base import BaseCommand

    commands = get_commands()
    if args[0] == "help":
        if len(args) == 1:
            print(_help_text())
        else:
            print("\n".join(sorted(commands)))
        return 0

    name = _resolve(args[0], commands)
    if name is None:
        known = [*COMMANDS, *commands]
        close = difflib.get_close_matches(args[0], known, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else f"; '{PROG} --help' lists the commands"
        return _fail(f"unknown command '{args[0]}'{hint}")

    command = load_command_class(commands[name], name)
    try:
        if type(command).run_from_argv is not BaseCommand.run_from_argv:
            # A few commands (Django's `test`) parse their own arguments first; let them.
            command.run_from_argv([PROG, name, *args[1:]])
            return 0
        return _run(command, name, args[1:])
    except SystemExit as exit_:
        # --help and --version exit through argparse; so may a command that calls sys.exit().
        code = exit_.code
        return code if isinstance(code, int) else (0 if code is None else _fail(str(code), 1))


if __name__ == "__main__":  # `python -m deskpilot.cli`, which `serve` uses to start its worker
    sys.exit(main())
