"""``deskpilot tokens create``: an API token for a user, printed once."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from deskpilot import cli
from deskpilot.accounts.actions import issue_token
from deskpilot.accounts.models import ApiToken, TokenScope, User
from deskpilot.core.errors import InvalidInput

# The action calls the owner "user"; on the command line it is the --user flag holding an email.
_FLAGS = {"user": "--user", "scope": "--scope", "name": "--name"}


class Command(BaseCommand):
    help = "Manage API tokens: 'tokens create' issues one (see 'deskpilot tokens create --help')."

    def add_arguments(self, parser: CommandParser) -> None:
        scopes = "|".join(scope.value for scope in TokenScope)
        actions = parser.add_subparsers(dest="action", title="actions", metavar="ACTION")
        create = actions.add_parser(
            "create",
            help="issue a new API token for a user",
            description=(
                "Issue a new API token acting as the given user. The token is printed once, on "
                "standard output by itself (so TOKEN=$(deskpilot tokens create ...) works); only "
                "its hash is stored, so it cannot be shown again."
            ),
        )
        create.add_argument("--user", required=True, metavar="EMAIL", help="email address of the token's owner")
        create.add_argument(
            "--scope",
            default=TokenScope.READ_WRITE.value,
            metavar=scopes,
            help=f"what the token may do (default {TokenScope.READ_WRITE.value})",
        )
        create.add_argument("--name", default="", help="a label to tell tokens apart, e.g. 'billing sync'")

    def handle(self, *args: Any, **options: Any) -> None:
        if options.get("action") != "create":
            raise cli.usage_error("missing action: use 'deskpilot tokens create --user EMAIL'")
        email = options["user"].strip()
        owner = User.objects.filter(email__iexact=email).first()
        if owner is None:
            raise cli.usage_error(f"--user: no user with email {email!r}")
        # issue_token does not check the label's length, and PostgreSQL would refuse it with a
        # DataError; the column's own limit keeps the two databases alike.
        limit = ApiToken._meta.get_field("name").max_length or 0
        if len(options["name"]) > limit:
            raise cli.usage_error(f"--name: must be at most {limit} characters")
        try:
            token, secret = issue_token(owner, name=options["name"], scope=options["scope"])
        except InvalidInput as error:
            raise cli.invalid_input_error(error, _FLAGS) from None
        # The secret alone on stdout, the explanation on stderr: a person sees both, a script
        # capturing stdout gets just the token.
        self.stdout.write(secret)
        self.stderr.write(
            f"Token {token.key_prefix}… ({token.scope}) for {owner.email}. Copy it now: it will not be shown again.",
            style_func=lambda text: text,
        )
