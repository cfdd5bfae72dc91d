"""``deskpilot users create``: sign-in accounts from the command line, through the same action
the admin pages and the API use."""

from __future__ import annotations

import sys
from collections.abc import Collection
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from deskpilot import cli
from deskpilot.accounts.actions import create_user
from deskpilot.accounts.models import Role, User
from deskpilot.core.errors import InvalidInput

# What the terminal asks for each field that may be prompted.
_LABELS = {"email": "Email address", "name": "Name", "password": "Password"}


def create_account(
    *,
    email: str | None,
    name: str | None,
    role: str,
    password: str | None,
    time_zone: str = "UTC",
    language: str = "en",
    ask_for: Collection[str] = (),
    password_required: bool = False,
) -> User:
    """Create a user with ``create_user``. The fields in ``ask_for`` (email, name, password) are
    asked for on the terminal, and asked again when the action rejects what was typed, as
    Django's createsuperuser does. A rejected value that came from a flag is a usage error
    naming that flag: a script gets a clear failure, never a question."""
    values: dict[str, str | None] = {"email": email, "name": name, "password": password}
    pending = [field for field in _LABELS if field in ask_for]
    while True:
        for field in pending:
            values[field] = _ask(field, password_required=password_required)
        try:
            return create_user(
                actor=None,
                email=values["email"] or "",
                name=values["name"] or "",
                role=role,
                password=values["password"],
                time_zone=time_zone,
                language=language,
            )
        except InvalidInput as error:
            if not set(error.errors) <= set(ask_for):
                raise cli.invalid_input_error(error) from None
            for field, problem in error.errors.items():
                print(f"{_LABELS[field]}: {problem}", file=sys.stderr)
            pending = [field for field in _LABELS if field in error.errors]


def _ask(field: str, *, password_required: bool) -> str | None:
    if field != "password":
        return cli.ask(_LABELS[field])
    while True:
        password = cli.ask_new_password(_LABELS[field])
        if password or not password_required:
            # Nothing typed: the account gets no usable password (a one-time sign-in link works).
            return password or None
        print("This account needs a password.", file=sys.stderr)


def describe_created(user: User) -> list[str]:
    """What the commands print after creating ``user``."""
    lines = [f"Created {user.role} {user.name} <{user.email}> (id {user.pk})."]
    if not user.has_usable_password():
        lines.append(
            "No password was set: this account cannot sign in with a password until one is set; "
            "a one-time sign-in link works without one."
        )
    return lines


class Command(BaseCommand):
    help = "Manage user accounts: 'users create' creates one (see 'deskpilot users create --help')."

    def add_arguments(self, parser: CommandParser) -> None:
        roles = ", ".join(role.value for role in Role)
        actions = parser.add_subparsers(dest="action", title="actions", metavar="ACTION")
        create = actions.add_parser(
            "create",
            help="create a user account",
            description=(
                "Create a user account. Without --password, the password is asked for on a "
                "terminal; elsewhere (scripts, CI) the account is created without one."
            ),
        )
        create.add_argument("--email", required=True, help="the address they sign in with (unique)")
        create.add_argument("--name", required=True, help="their name as colleagues and customers see it")
        create.add_argument("--role", required=True, metavar="ROLE", help=f"one of: {roles}")
        create.add_argument(
            "--password",
            help=(
                "at least 10 characters. Visible in the shell history and process list: prefer the prompt on a terminal"
            ),
        )
        create.add_argument("--time-zone", default="UTC", help="IANA time zone, e.g. Europe/Berlin (default UTC)")
        create.add_argument("--language", default="en", help="language code, e.g. en, de, pt-BR (default en)")
        create.add_argument(
            "--no-input",
            "--noinput",
            dest="interactive",
            action="store_false",
            help="never ask for anything, even on a terminal",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options.get("action") != "create":
            raise cli.usage_error("missing action: use 'deskpilot users create --email E --name N --role R'")
        ask_for = ["password"] if options["password"] is None and options["interactive"] and cli.interactive() else []
        user = create_account(
            email=options["email"],
            name=options["name"],
            role=options["role"],
            password=options["password"],
            time_zone=options["time_zone"],
            language=options["language"],
            ask_for=ask_for,
        )
        for line in describe_created(user):
            self.stdout.write(line)
