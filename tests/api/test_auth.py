"""API authentication: bearer tokens (hashed at rest, scoped, revocable) and the browser session."""

from __future__ import annotations

import datetime
import hashlib
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from deskpilot.accounts import actions as account_actions
from deskpilot.accounts.models import ApiToken, Role, TokenScope
from deskpilot.tickets.models import Ticket
from tests import factories
from tests.api.conftest import Api, errors_of

pytestmark = pytest.mark.django_db


def strict_client() -> Client:
    """A client that enforces CSRF like a browser's server would (Django's test client does not)."""
    return Client(enforce_csrf_checks=True)


def assert_401(response: Any) -> None:
    assert response.status_code == 401, response.content
    assert response["WWW-Authenticate"] == 'Bearer realm="deskpilot"'
    errors_of(response)


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "Bearer ", "Bearer dp_not-a-token", "Basic dXNlcjpwYXNz", "Token abc", "bearer"],
)
def test_missing_or_unknown_credentials_are_401(header: str | None) -> None:
    factories.ticket()
    client = strict_client()
    headers = {} if header is None else {"Authorization": header}
    assert_401(client.get("/api/v1/tickets", headers=headers))
    assert_401(
        client.post("/api/v1/tickets", data="{}", content_type="application/json", headers=headers),
    )


def test_a_revoked_token_is_401_on_reads_and_writes() -> None:
    agent = factories.user(Role.AGENT)
    token, raw = account_actions.issue_token(agent)
    api = Api(raw, client=strict_client())
    ticket = factories.ticket()
    assert api.get("/me").status_code == 200
    account_actions.revoke_token(token)
    assert_401(api.get("/me"))
    assert_401(api.get(f"/tickets/{ticket.pk}"))
    # Not a CSRF 403: a bad bearer token must not fall through to the cookie check.
    assert_401(api.post(f"/tickets/{ticket.pk}/messages", {"body": "x"}))
    assert_401(api.patch(f"/tickets/{ticket.pk}", {"priority": "high"}))
    assert Ticket.objects.get(pk=ticket.pk).priority == "normal"


def test_a_deactivated_users_token_is_401() -> None:
    admin = factories.user(Role.ADMIN)
    agent = factories.user(Role.AGENT)
    api = Api(factories.token(agent), client=strict_client())
    assert api.get("/me").status_code == 200
    account_actions.update_user(agent, actor=admin, is_active=False)
    assert_401(api.get("/me"))
    assert_401(api.post("/tickets", {"subject": "s", "body": "b", "requester": {"email": "a@b.test"}}))
    account_actions.update_user(agent, actor=admin, is_active=True)
    assert api.get("/me").status_code == 200


def test_tokens_are_stored_only_as_their_sha256() -> None:
    agent = factories.user(Role.AGENT)
    token, raw = account_actions.issue_token(agent, name="ci")
    assert raw.startswith("dp_")
    assert len(raw) > 40
    stored = ApiToken.objects.filter(pk=token.pk).values().get()
    assert stored["key_hash"] == hashlib.sha256(raw.encode()).hexdigest()
    # Nothing stored contains the secret part of the token.
    secret = raw[len("dp_") :]
    for column, value in stored.items():
        assert secret[8:] not in str(value), column
    assert stored["key_prefix"] == raw[:10]
    # Two tokens never share a secret.
    assert account_actions.issue_token(agent)[1] != raw


def test_token_lookup_is_by_hash() -> None:
    agent = factories.user(Role.AGENT)
    token, raw = account_actions.issue_token(agent)
    # The stored hash is not itself a token.
    assert_401(Api(token.key_hash).get("/me"))
    assert_401(Api(raw.upper()).get("/me"))
    assert Api(raw).get("/me").json()["id"] == agent.pk


def test_last_used_is_recorded_at_most_every_few_minutes() -> None:
    agent = factories.user(Role.AGENT)
    token, raw = account_actions.issue_token(agent)
    api = Api(raw)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        api.get("/me")
    token.refresh_from_db()
    assert token.last_used_at == start
    with time_machine.travel(start + datetime.timedelta(minutes=1), tick=False):
        api.get("/me")
    token.refresh_from_db()
    assert token.last_used_at == start
    later = start + datetime.timedelta(minutes=6)
    with time_machine.travel(later, tick=False):
        api.get("/me")
    token.refresh_from_db()
    assert token.last_used_at == later


def test_read_only_token_reads_but_never_writes() -> None:
    admin = factories.user(Role.ADMIN)
    api = Api(factories.token(admin, TokenScope.READ), client=strict_client())
    ticket = factories.ticket()
    assert api.get(f"/tickets/{ticket.pk}").status_code == 200
    for response in (
        api.post("/tickets", {"subject": "s", "body": "b", "requester": {"email": "a@b.test"}}),
        api.patch(f"/tickets/{ticket.pk}", {"priority": "high"}),
        api.post(f"/tickets/{ticket.pk}/messages", {"body": "x"}),
        # Even a request that is invalid or names nothing is refused for the scope first.
        api.post("/tickets", {}),
        api.patch("/tickets/999999", {}),
    ):
        assert response.status_code == 403, response.content
        assert "read-only" in errors_of(response) or "read-only" in response.json()["detail"]
    assert Ticket.objects.get(pk=ticket.pk).priority == "normal"
    assert Ticket.objects.count() == 1


def test_unknown_scope_and_deactivated_user_get_no_token() -> None:
    agent = factories.user(Role.AGENT)
    with pytest.raises(account_actions.InvalidInput):
        account_actions.issue_token(agent, scope="admin")
    agent.is_active = False
    agent.save()
    with pytest.raises(account_actions.InvalidInput):
        account_actions.issue_token(agent)


# --- the browser session -----------------------------------------------------------------------


def test_session_reads_and_writes_with_the_csrf_token() -> None:
    agent = factories.user(Role.AGENT)
    ticket = factories.ticket()
    client = strict_client()
    client.force_login(agent)
    assert client.get("/api/v1/me").json()["id"] == agent.pk
    url = f"/api/v1/tickets/{ticket.pk}/messages"
    # Without the CSRF token another site could post with the visitor's cookie: refused.
    refused = client.post(url, data={"body": "x"}, content_type="application/json")
    assert refused.status_code == 403
    assert ticket.messages.count() == 1
    client.get("/admin/login/")  # sets the CSRF cookie
    csrf = client.cookies["csrftoken"].value
    accepted = client.post(url, data={"body": "x"}, content_type="application/json", headers={"X-CSRFToken": csrf})
    assert accepted.status_code == 201, accepted.content
    assert accepted.json()["author"]["id"] == agent.pk


def test_session_of_a_deactivated_user_is_401() -> None:
    agent = factories.user(Role.AGENT)
    client = Client()
    client.force_login(agent)
    assert client.get("/api/v1/me").status_code == 200
    agent.is_active = False
    agent.save()
    assert_401(client.get("/api/v1/me"))


def test_bearer_token_wins_over_a_session_cookie() -> None:
    agent = factories.user(Role.AGENT)
    other = factories.user(Role.MANAGER)
    client = Client()
    client.force_login(agent)
    assert Api(factories.token(other), client=client).get("/me").json()["id"] == other.pk
