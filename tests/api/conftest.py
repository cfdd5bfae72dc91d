"""A small JSON client for /api/v1 and the people who call it."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client

from deskpilot.accounts.models import Role, TokenScope, User
from tests import factories

PREFIX = "/api/v1"
_shared: list[Client] = []


def shared_client() -> Client:
    """One test client for all bearer-token callers: a new Client builds the middleware chain
    again, and WhiteNoise then rescans every static file (about a quarter of a second)."""
    if not _shared:
        _shared.append(Client())
    return _shared[0]


@pytest.fixture(autouse=True)
def _fresh_cookies() -> Iterator[None]:
    yield
    if _shared:
        _shared[0].cookies.clear()


class Api:
    """Calls the API as one caller: a bearer token, or nobody (``token=None``)."""

    def __init__(self, token: str | None, *, user: User | None = None, client: Client | None = None) -> None:
        self.token = token
        self.user = user
        self.client = client or shared_client()

    def _headers(self, headers: dict[str, str] | None) -> dict[str, str]:
        result = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        result.update(headers or {})
        return result

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
    ) -> Any:
        url = path if path.startswith(PREFIX) else PREFIX + path
        data: Any = raw if raw is not None else (json.dumps(body) if body is not None else "")
        return self.client.generic(
            method, url, data=data, content_type="application/json", headers=self._headers(headers)
        )

    def get(self, path: str, params: dict[str, Any] | None = None, *, headers: dict[str, str] | None = None) -> Any:
        url = path if path.startswith(PREFIX) else PREFIX + path
        return self.client.get(url, data=params or {}, headers=self._headers(headers))

    def post(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        return self.request("POST", path, {} if body is None else body, **kwargs)

    def patch(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        return self.request("PATCH", path, {} if body is None else body, **kwargs)


def errors_of(response: Any) -> dict[str, str]:
    """The error body as {field: message}, after checking its shape."""
    body = response.json()
    assert set(body) == {"detail", "errors"}, body
    assert isinstance(body["detail"], str)
    assert body["detail"]
    return {e["field"]: e["message"] for e in body["errors"]}


def b64(content: bytes) -> str:
    return base64.b64encode(content).decode()


def caller(role: str, *, scope: str = TokenScope.READ_WRITE, **kwargs: Any) -> Api:
    person = factories.customer_user(**kwargs) if role == Role.CUSTOMER else factories.user(role, **kwargs)
    return Api(factories.token(person, scope), user=person)


@pytest.fixture
def as_role() -> Callable[..., Api]:
    """``as_role("agent")``: an Api for a new user with that role."""
    return caller


@pytest.fixture
def agent_api() -> Api:
    return caller(Role.AGENT)


@pytest.fixture
def admin_api() -> Api:
    return caller(Role.ADMIN)


@pytest.fixture
def anonymous_api() -> Api:
    return Api(None)
