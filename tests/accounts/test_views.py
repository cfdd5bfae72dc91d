"""The sign-in pages, one-time sign-in links and the front door."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.utils import timezone

from deskpilot.accounts.models import Role, SignInLink, User
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _limits(settings: Any) -> None:
    settings.SIGNIN_MAX_FAILURES = 3
    settings.SIGNIN_LINK_MINUTES = 30


def _link_from_mail() -> str:
    assert len(mail.outbox) == 1, [m.subject for m in mail.outbox]
    found = re.search(r"https?://\S+/signin/link/(\S+)", str(mail.outbox[0].body))
    assert found, mail.outbox[0].body
    return found.group(1)


def test_sign_in_page_renders_both_ways_in() -> None:
    response = Client().get("/signin")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="password"' in body
    assert "Email me a link" in body
    assert 'for="id_email"' in body  # labelled fields
    assert 'for="link_email"' in body
    ids = re.findall(r'\sid="([^"]+)"', body)
    assert len(ids) == len(set(ids)), "duplicate element ids"


@pytest.mark.parametrize(
    ("role", "home"),
    [
        (Role.AGENT, "/inbox"),
        (Role.MANAGER, "/inbox"),
        (Role.CUSTOMER, "/portal/tickets"),
        (Role.COLLABORATOR, "/inbox"),
    ],
)
def test_password_sign_in_lands_each_role_at_home(role: str, home: str) -> None:
    user = factories.user(role)
    client = Client()
    response = client.post("/signin", {"email": user.email.upper(), "password": factories.PASSWORD})
    assert (response.status_code, response["Location"]) == (302, home)
    assert client.get("/")["Location"] == home


def test_wrong_password_shows_an_error_and_keeps_the_email() -> None:
    user = factories.user(Role.AGENT)
    response = Client().post("/signin", {"email": user.email, "password": "not-the-password"})
    assert response.status_code == 401
    body = response.content.decode()
    assert "do not match an account" in body
    assert f'value="{user.email}"' in body


def test_missing_fields_are_named_next_to_the_field() -> None:
    response = Client().post("/signin", {"email": "not-an-email", "password": ""})
    assert response.status_code == 422
    body = response.content.decode()
    assert 'id="id_email_error"' in body
    assert 'id="id_password_error"' in body
    assert 'aria-invalid="true"' in body


def test_sign_in_is_rate_limited() -> None:
    user = factories.user(Role.AGENT)
    client = Client()
    for _ in range(3):
        client.post("/signin", {"email": user.email, "password": "wrong-password!"})
    response = client.post("/signin", {"email": user.email, "password": factories.PASSWORD})
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.content.decode()


def test_next_is_followed_only_within_the_site() -> None:
    user = factories.user(Role.AGENT)
    inside = Client().post(
        "/signin?next=/search", {"email": user.email, "password": factories.PASSWORD, "next": "/search"}
    )
    assert inside["Location"] == "/search"
    outside = Client().post(
        "/signin", {"email": user.email, "password": factories.PASSWORD, "next": "https://evil.example/"}
    )
    assert outside["Location"] == "/inbox"


def test_customer_is_never_sent_to_a_staff_page_after_sign_in() -> None:
    user = factories.customer_user()
    response = Client().post("/signin", {"email": user.email, "password": factories.PASSWORD, "next": "/inbox"})
    assert response["Location"] == "/portal/tickets"


def test_sign_out_needs_post_and_ends_the_session() -> None:
    user = factories.user(Role.AGENT)
    client = Client()
    client.force_login(user)
    assert client.get("/signout").status_code == 405
    assert client.post("/signout")["Location"] == "/signin"
    assert client.get("/")["Location"] == "/signin"


def test_sign_in_link_signs_in_once() -> None:
    user = factories.user(Role.AGENT)
    client = Client()
    response = client.post("/signin/link", {"email": user.email})
    assert response.status_code == 200
    assert "Check your email" in response.content.decode()
    key = _link_from_mail()
    assert key not in str(list(SignInLink.objects.values_list("key_hash", flat=True)))  # only a hash is stored
    # Opening the link (as a mail scanner would) does not use it up.
    assert client.get(f"/signin/link/{key}").status_code == 200
    assert client.get(f"/signin/link/{key}").status_code == 200
    response = client.post(f"/signin/link/{key}")
    assert (response.status_code, response["Location"]) == (302, "/inbox")
    assert client.get("/")["Location"] == "/inbox"
    # A second use fails, in another browser too.
    other = Client()
    assert other.post(f"/signin/link/{key}").status_code == 410
    assert other.get("/")["Location"] == "/signin"


def test_sign_in_link_expires() -> None:
    user = factories.user(Role.AGENT)
    Client().post("/signin/link", {"email": user.email})
    key = _link_from_mail()
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=31)):
        assert Client().post(f"/signin/link/{key}").status_code == 410


def test_a_new_link_replaces_the_earlier_one() -> None:
    user = factories.user(Role.AGENT)
    Client().post("/signin/link", {"email": user.email})
    first = _link_from_mail()
    mail.outbox.clear()
    Client().post("/signin/link", {"email": user.email})
    second = _link_from_mail()
    assert Client().post(f"/signin/link/{first}").status_code == 410
    assert Client().post(f"/signin/link/{second}").status_code == 302


def test_the_link_uses_the_configured_address_not_the_request_host(settings: Any) -> None:
    settings.BASE_URL = "https://desk.example.com"
    settings.ALLOWED_HOSTS = ["*"]
    user = factories.user(Role.AGENT)
    Client().post("/signin/link", {"email": user.email}, HTTP_HOST="evil.example")
    key = _link_from_mail()
    assert f"https://desk.example.com/signin/link/{key}" in str(mail.outbox[0].body)
    assert "evil.example" not in str(mail.outbox[0].body)


def test_unknown_address_gets_the_same_answer_and_no_mail() -> None:
    response = Client().post("/signin/link", {"email": "nobody@example.test"})
    assert response.status_code == 200
    assert "Check your email" in response.content.decode()
    assert mail.outbox == []


def test_deactivated_account_gets_no_link() -> None:
    user = factories.user(Role.AGENT)
    user.is_active = False
    user.save()
    Client().post("/signin/link", {"email": user.email})
    assert mail.outbox == []


def test_customer_without_account_gets_one_from_the_link() -> None:
    customer = factories.customer(email="walk-in@example.test", name="Walk In")
    Client().post("/signin/link", {"email": "Walk-In@Example.test"})
    key = _link_from_mail()
    client = Client()
    assert "walk-in@example.test" in client.get(f"/signin/link/{key}").content.decode()
    assert not User.objects.filter(email="walk-in@example.test").exists()
    response = client.post(f"/signin/link/{key}")
    assert response["Location"] == "/portal/tickets"
    account = User.objects.get(email="walk-in@example.test")
    assert account.role == Role.CUSTOMER
    customer.refresh_from_db()
    assert customer.user_id == account.pk


def test_link_requests_are_rate_limited_per_address() -> None:
    user = factories.user(Role.AGENT)
    for _ in range(8):
        Client().post("/signin/link", {"email": user.email})
    assert len(mail.outbox) == 5


def test_link_request_with_a_bad_address_names_the_field() -> None:
    response = Client().post("/signin/link", {"email": "nope"})
    assert response.status_code == 422
    assert 'id="link_email_error"' in response.content.decode()


def test_unknown_link_is_gone() -> None:
    assert Client().get("/signin/link/not-a-real-key").status_code == 410
