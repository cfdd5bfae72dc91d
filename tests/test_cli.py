"""The `deskpilot` command line, run in-process through deskpilot.cli.main."""

from __future__ import annotations

import getpass
import hashlib
from collections.abc import Iterator

import pytest
from django.core.management import call_command, get_commands
from django.core.management.base import CommandError

from deskpilot import cli
from deskpilot.accounts.models import ApiToken, Role, TokenScope, User
from tests import factories

PASSWORD = "correct-horse-battery"


def run(capsys, *args: str) -> tuple[int, str, str]:
    status = cli.main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def assert_usage_error(status: int, err: str, *expected: str) -> None:
    """Exit status 2 and one line on stderr, naming the argument; never a traceback."""
    assert status == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), err
    for text in expected:
        assert text in lines[0]


@pytest.fixture
def terminal(monkeypatch):
    """Pretend a person is at a terminal and answer the prompts in order."""

    def answer(*answers: str) -> None:
        replies: Iterator[str] = iter(answers)

        def reply(prompt: str = "") -> str:
            try:
                return next(replies)
            except StopIteration:
                raise EOFError from None

        monkeypatch.setattr(cli, "interactive", lambda: True)
        monkeypatch.setattr("builtins.input", reply)
        monkeypatch.setattr(getpass, "getpass", reply)

    return answer


# --- the entry point -------------------------------------------------------------------------------


def test_help_lists_every_command_with_one_line(capsys):
    status, out, _ = run(capsys, "--help")
    assert status == 0
    lines = out.splitlines()
    for name in ("serve", "worker", "migrate", "createadmin", "users", "tokens", "demo-data"):
        described = [line for line in lines if line.strip().startswith(name + " ")]
        assert len(described) == 1, name
        assert len(described[0].split(maxsplit=1)) == 2, f"{name} has no description"


def test_listed_commands_exist():
    # demo-data belongs to the demo-data command, written separately; the others are here.
    commands = get_commands()
    for name in set(cli.COMMANDS) - {"demo-data"}:
        assert cli.ALIASES.get(name, name) in commands, name


def test_no_command_shows_help_and_fails(capsys):
    status, out, err = run(capsys)
    assert status == 2
    assert "serve" in err
    assert out == ""


def test_unknown_command_suggests_a_near_one(capsys):
    status, _, err = run(capsys, "migrat")
    assert_usage_error(status, err, "unknown command 'migrat'", "did you mean 'migrate'")


def test_other_django_commands_pass_through(capsys):
    status, out, _ = run(capsys, "check")
    assert status == 0
    assert "no issues" in out


def test_bad_option_of_a_django_command_is_one_line(capsys):
    status, _, err = run(capsys, "check", "--no-such-option")
    assert_usage_error(status, err, "--no-such-option")


def test_command_help_exits_zero(capsys):
    status, out, _ = run(capsys, "users", "create", "--help")
    assert status == 0
    assert "--email" in out
    assert "admin, manager, agent, collaborator, customer" in out


def test_help_for_a_command(capsys):
    status, out, _ = run(capsys, "help", "tokens")
    assert status == 0
    assert "usage: deskpilot tokens" in out


def test_help_all_lists_django_commands(capsys):
    status, out, _ = run(capsys, "help", "--all")
    assert status == 0
    assert {"migrate", "shell", "serve", "users", "tokens", "createadmin"} <= set(out.split())


def test_version(capsys):
    status, out, _ = run(capsys, "--version")
    assert status == 0
    assert out.startswith("deskpilot ")


# --- users create ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_users_create(capsys):
    status, out, err = run(
        capsys, "users", "create", "--email", "Ann@Example.COM", "--name", "Ann Lee", "--role", "manager",
        "--password", PASSWORD, "--time-zone", "Europe/Berlin",
    )  # fmt: skip
    assert status == 0, err
    user = User.objects.get(email="ann@example.com")
    assert (user.name, user.role, user.time_zone) == ("Ann Lee", Role.MANAGER, "Europe/Berlin")
    assert user.check_password(PASSWORD)
    assert "ann@example.com" in out


@pytest.mark.django_db
def test_users_create_customer_links_the_customer_record(capsys):
    status, _, err = run(capsys, "users", "create", "--email", "c@example.com", "--name", "Cy", "--role", "customer")
    assert status == 0, err
    user = User.objects.get(email="c@example.com")
    assert user.customer.name == "Cy"


@pytest.mark.django_db
def test_users_create_without_password_off_a_terminal_says_so(capsys, monkeypatch):
    monkeypatch.setattr(cli, "interactive", lambda: False)
    status, out, _ = run(capsys, "users", "create", "--email", "bo@example.com", "--name", "Bo", "--role", "agent")
    assert status == 0
    assert not User.objects.get(email="bo@example.com").has_usable_password()
    assert "No password was set" in out


@pytest.mark.django_db
def test_users_create_asks_for_the_password_on_a_terminal(capsys, terminal):
    # A too-short password is refused and asked again; then two that differ; then a good one.
    terminal("short", "short", PASSWORD, "different-one", PASSWORD, PASSWORD)
    status, _, err = run(capsys, "users", "create", "--email", "cy@example.com", "--name", "Cy", "--role", "agent")
    assert status == 0, err
    assert User.objects.get(email="cy@example.com").check_password(PASSWORD)
    assert "too short" in err
    assert "differ" in err


@pytest.mark.django_db
def test_users_create_no_input_never_asks(capsys, terminal):
    terminal()  # any question would get EOF and fail the command
    status, _, err = run(
        capsys, "users", "create", "--email", "d@example.com", "--name", "D", "--role", "agent", "--no-input"
    )
    assert status == 0, err
    assert not User.objects.get(email="d@example.com").has_usable_password()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--email", "nope", "--name", "X", "--role", "agent"], ["--email: 'nope' is not a valid email address"]),
        (["--email", "x@example.com", "--name", "X", "--role", "boss"], ["--role: 'boss' is not one of"]),
        (["--email", "x@example.com", "--name", " ", "--role", "agent"], ["--name: must not be empty"]),
        (
            ["--email", "x@example.com", "--name", "X", "--role", "agent", "--password", "short"],
            ["--password:", "too short"],
        ),
        (
            ["--email", "x@example.com", "--name", "X", "--role", "agent", "--time-zone", "Mars/Base"],
            ["--time-zone: 'Mars/Base' is not a known time zone"],
        ),
        (["--name", "X", "--role", "agent"], ["required", "--email"]),
        (["--email", "x@example.com", "--name", "X", "--role", "agent", "--colour", "red"], ["--colour"]),
    ],
)
def test_users_create_rejects_bad_input(capsys, args, expected):
    status, _, err = run(capsys, "users", "create", *args)
    assert_usage_error(status, err, *expected)
    assert not User.objects.exists()


@pytest.mark.django_db
def test_users_create_rejects_an_existing_email(capsys):
    factories.user(email="taken@example.com")
    status, _, err = run(capsys, "users", "create", "--email", "TAKEN@example.com", "--name", "X", "--role", "agent")
    assert_usage_error(status, err, "--email: a user with taken@example.com already exists")
    assert User.objects.count() == 1


@pytest.mark.django_db
def test_users_without_an_action(capsys):
    status, _, err = run(capsys, "users")
    assert_usage_error(status, err, "missing action", "users create")


@pytest.mark.django_db
def test_usage_errors_through_call_command_have_status_2():
    """django-admin and call_command get the same translation as the deskpilot command."""
    with pytest.raises(CommandError) as raised:
        call_command("users", "create", "--email=nope", "--name=X", "--role=agent")
    assert raised.value.returncode == 2
    assert str(raised.value) == "--email: 'nope' is not a valid email address"


# --- createadmin -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_createadmin_with_flags(capsys):
    status, out, err = run(
        capsys, "createadmin", "--email", "root@example.com", "--name", "Root", "--password", PASSWORD
    )
    assert status == 0, err
    admin = User.objects.get(email="root@example.com")
    assert admin.role == Role.ADMIN
    assert admin.is_superuser
    assert admin.check_password(PASSWORD)
    assert "root@example.com" in out


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "missing", "given"),
    [
        ([], ["--email", "--name", "--password"], []),
        (["--email", "root@example.com", "--name", "Root"], ["--password"], ["--email", "--name"]),
        (["--name", "Root", "--password", PASSWORD], ["--email"], ["--name", "--password"]),
    ],
)
def test_createadmin_off_a_terminal_names_the_missing_flags(capsys, monkeypatch, args, missing, given):
    monkeypatch.setattr(cli, "interactive", lambda: False)
    status, _, err = run(capsys, "createadmin", *args)
    assert_usage_error(status, err, *missing, "required when not run on a terminal")
    for flag in given:
        assert flag not in err
    assert not User.objects.exists()


@pytest.mark.django_db
def test_createadmin_no_input_on_a_terminal_does_not_ask(capsys, terminal):
    terminal("root@example.com")
    status, _, err = run(capsys, "createadmin", "--no-input", "--name", "Root", "--password", PASSWORD)
    assert_usage_error(status, err, "--email")


@pytest.mark.django_db
def test_createadmin_asks_for_what_is_missing(capsys, terminal):
    # An empty password is refused for an admin at once; the email, which the action rejects,
    # is asked again afterwards (the other answers are kept).
    terminal("not-an-email", "Root Admin", "", PASSWORD, PASSWORD, "root@example.com")
    status, _, err = run(capsys, "createadmin")
    assert status == 0, err
    admin = User.objects.get(email="root@example.com")
    assert (admin.name, admin.role) == ("Root Admin", Role.ADMIN)
    assert admin.check_password(PASSWORD)
    assert "not a valid email address" in err
    assert "needs a password" in err


@pytest.mark.django_db
def test_createadmin_keeps_flags_and_asks_only_for_the_rest(capsys, terminal):
    terminal(PASSWORD, PASSWORD)
    status, _, err = run(capsys, "createadmin", "--email", "root@example.com", "--name", "Root")
    assert status == 0, err
    assert User.objects.get(email="root@example.com").check_password(PASSWORD)


@pytest.mark.django_db
def test_createadmin_a_bad_flag_is_not_asked_again(capsys, terminal):
    terminal(PASSWORD, PASSWORD)
    status, _, err = run(capsys, "createadmin", "--email", "nope", "--name", "Root")
    assert_usage_error(status, err, "--email: 'nope' is not a valid email address")


@pytest.mark.django_db
def test_createadmin_end_of_input_cancels(capsys, terminal):
    terminal("root@example.com")  # then Ctrl-D at the name prompt
    status, _, err = run(capsys, "createadmin")
    assert_usage_error(status, err, "cancelled")
    assert not User.objects.exists()


# --- tokens create ---------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("scope", [TokenScope.READ, TokenScope.READ_WRITE])
def test_tokens_create_prints_a_working_token_once(capsys, client, scope):
    owner = factories.user(Role.AGENT, email="agent@example.com")
    status, out, err = run(
        capsys, "tokens", "create", "--user", "Agent@Example.com", "--scope", scope, "--name", "sync"
    )
    assert status == 0, err
    secret = out.strip()
    assert len(out.splitlines()) == 1  # the token alone on stdout, for TOKEN=$(deskpilot tokens create ...)
    assert "will not be shown again" in err
    assert secret not in err
    token = ApiToken.objects.get(key_hash=hashlib.sha256(secret.encode()).hexdigest())
    assert (token.user, token.scope, token.name) == (owner, scope, "sync")
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200
    assert response.json()["email"] == "agent@example.com"


@pytest.mark.django_db
def test_tokens_create_defaults_to_read_write(capsys):
    factories.user(email="agent@example.com")
    status, out, _ = run(capsys, "tokens", "create", "--user", "agent@example.com")
    assert status == 0
    assert ApiToken.objects.get(key_hash=hashlib.sha256(out.strip().encode()).hexdigest()).can_write


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--user", "nobody@example.com"], ["--user: no user with email 'nobody@example.com'"]),
        (["--user", "agent@example.com", "--scope", "admin"], ["--scope: 'admin' is not one of: read, read_write"]),
        (["--user", "agent@example.com", "--name", "x" * 101], ["--name: must be at most 100 characters"]),
        (["--scope", "read"], ["required", "--user"]),
    ],
)
def test_tokens_create_rejects_bad_input(capsys, args, expected):
    factories.user(email="agent@example.com")
    status, _, err = run(capsys, "tokens", "create", *args)
    assert_usage_error(status, err, *expected)
    assert not ApiToken.objects.exists()


@pytest.mark.django_db
def test_tokens_create_refuses_a_deactivated_user(capsys):
    user = factories.user(email="gone@example.com")
    User.objects.filter(pk=user.pk).update(is_active=False)
    status, _, err = run(capsys, "tokens", "create", "--user", "gone@example.com")
    assert_usage_error(status, err, "--user: gone@example.com is deactivated")
    assert not ApiToken.objects.exists()


@pytest.mark.django_db
def test_tokens_without_an_action(capsys):
    status, _, err = run(capsys, "tokens")
    assert_usage_error(status, err, "missing action", "tokens create")
