"""``deskpilot createadmin``: the first admin account, like Django's createsuperuser but through
``create_user``, so the account is validated exactly as one made in the admin pages."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from deskpilot import cli
from deskpilot.accounts.management.commands.users import create_account, describe_created
from deskpilot.accounts.models import Role

_FLAGS = {"email": "--email", "name": "--name", "password": "--password"}


class Command(BaseCommand):
    help = (
        "Create an admin account. Values missing from the flags are asked for when run on a "
        "terminal; elsewhere (scripts, CI) every flag is required."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", help="the address the admin signs in with")
        parser.add_argument("--name", help="the admin's name")
        parser.add_argument(
            "--password",
            help=(
                "at least 10 characters. Visible in the shell history and process list: prefer the prompt on a terminal"
            ),
        )
        parser.add_argument(
            "--no-input",
            "--noinput",
            dest="interactive",
            action="store_false",
            help="never ask for anything, even on a terminal",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        missing = [field for field in _FLAGS if options[field] is None]
        if missing and not (options["interactive"] and cli.interactive()):
            flags = ", ".join(_FLAGS[field] for field in missing)
            raise cli.usage_error(f"{flags}: required when not run on a terminal")
        user = create_account(
            email=options["email"],
            name=options["name"],
            role=Role.ADMIN,
            password=options["password"],
            ask_for=missing,
            # An admin without a password could only get in through a sign-in link an admin sends.
            password_required=True,
        )
        for line in describe_created(user):
            self.stdout.write(line)
