"""Sign-in by email and password, rate-limited per email address and per client address."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import time_machine
from django.contrib.auth import authenticate
from django.http import HttpRequest
from django.test import Client, RequestFactory
from django.utils import timezone

from deskpilot.accounts.models import Role, User
from tests import factories

pytestmark = pytest.mark.django_db

PASSWORD = factories.PASSWORD


@pytest.fixture(autouse=True)
def _limits(settings: Any) -> None:
    settings.SIGNIN_MAX_FAILURES = 3
    settings.SIGNIN_WINDOW_SECONDS = 600


def from_address(address: str) -> HttpRequest:
    return RequestFactory().post("/admin/login/", REMOTE_ADDR=address)


def sign_in(email: str, password: str, address: str = "198.51.100.1") -> User | None:
    user = authenticate(from_address(address), username=email, password=password)
    assert user is None or isinstance(user, User)
    return user


def fail(email: str, times: int, address: str = "198.51.100.1") -> None:
    for _ in range(times):
        assert sign_in(email, "wrong password", address) is None


def test_right_password_signs_in() -> None:
    user = factories.user(Role.AGENT, email="ann@example.test")
    assert sign_in("ann@example.test", PASSWORD) == user
    assert sign_in("  ANN@Example.test ", PASSWORD) == user
    assert sign_in("ann@example.test", "wrong") is None
    assert sign_in("nobody@example.test", PASSWORD) is None
    assert sign_in("", PASSWORD) is None


def test_after_max_failures_even_the_right_password_is_refused_until_the_window_passes() -> None:
    user = factories.user(Role.AGENT, email="ann@example.test")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        fail("ann@example.test", 3)
        assert sign_in("ann@example.test", PASSWORD) is None
        # From any address, and in any spelling of the address.
        assert sign_in("ANN@example.test", PASSWORD, address="203.0.113.9") is None
    with time_machine.travel(start + datetime.timedelta(seconds=590), tick=False):
        assert sign_in("ann@example.test", PASSWORD) is None
    with time_machine.travel(start + datetime.timedelta(seconds=610), tick=False):
        assert sign_in("ann@example.test", PASSWORD) == user


def test_fewer_failures_than_the_limit_do_not_block() -> None:
    user = factories.user(Role.AGENT, email="ann@example.test")
    fail("ann@example.test", 2)
    assert sign_in("ann@example.test", PASSWORD) == user
    # A successful sign-in starts the count again.
    fail("ann@example.test", 2)
    assert sign_in("ann@example.test", PASSWORD) == user


def test_another_email_is_unaffected() -> None:
    factories.user(Role.AGENT, email="ann@example.test")
    bob = factories.user(Role.AGENT, email="bob@example.test")
    fail("ann@example.test", 3)
    assert sign_in("bob@example.test", PASSWORD, address="203.0.113.9") == bob
    assert sign_in("bob@example.test", PASSWORD) == bob


def test_unknown_addresses_count_too() -> None:
    fail("ghost@example.test", 3)
    # The account is created later, inside the window: still blocked.
    factories.user(Role.AGENT, email="ghost@example.test")
    assert sign_in("ghost@example.test", PASSWORD) is None


def test_many_failures_from_one_address_block_that_address() -> None:
    victim = factories.user(Role.AGENT, email="victim@example.test")
    # Spraying passwords over many accounts: four times the limit per client address.
    for i in range(12):
        assert sign_in(f"user{i}@example.test", "guess", address="192.0.2.66") is None
    assert sign_in("victim@example.test", PASSWORD, address="192.0.2.66") is None
    assert sign_in("victim@example.test", PASSWORD, address="192.0.2.67") == victim


def test_inactive_users_cannot_sign_in() -> None:
    user = factories.user(Role.AGENT, email="gone@example.test")
    user.is_active = False
    user.save()
    assert sign_in("gone@example.test", PASSWORD) is None


def test_the_admin_sign_in_page_refuses_while_blocked() -> None:
    factories.user(Role.ADMIN, email="boss@example.test")
    client = Client(REMOTE_ADDR="198.51.100.1")
    wrong = {"username": "boss@example.test", "password": "nope", "next": "/admin/"}
    for _ in range(3):
        assert client.post("/admin/login/", wrong).status_code == 200
    right = {**wrong, "password": PASSWORD}
    refused = client.post("/admin/login/", right)
    assert refused.status_code == 200  # the form again, not a redirect
    assert "_auth_user_id" not in client.session
    # Another admin from another address signs in fine.
    factories.user(Role.ADMIN, email="other@example.test")
    other = Client(REMOTE_ADDR="203.0.113.9")
    accepted = other.post("/admin/login/", {**right, "username": "other@example.test"})
    assert accepted.status_code == 302
    assert "_auth_user_id" in other.session
