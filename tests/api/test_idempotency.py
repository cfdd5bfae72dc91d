"""Idempotency-Key on POST /tickets and POST /tickets/{id}/messages: a retry replays the first
response and creates nothing."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from deskpilot.accounts.models import Role
from deskpilot.core.models import IdempotentRequest
from deskpilot.customers.models import Customer
from deskpilot.tickets.models import Message, Ticket, TicketEvent
from tests import factories
from tests.api.conftest import Api, caller, errors_of

pytestmark = pytest.mark.django_db

KEY = {"Idempotency-Key": "3f1c2a9e-retry-me"}


def counts() -> tuple[int, int, int, int]:
    return Ticket.objects.count(), Message.objects.count(), TicketEvent.objects.count(), Customer.objects.count()


@pytest.fixture
def endpoints() -> dict[str, tuple[str, dict[str, Any]]]:
    ticket = factories.ticket()
    return {
        "ticket": ("/tickets", {"subject": "Printer", "body": "broken", "requester": {"email": "p@example.test"}}),
        "message": (f"/tickets/{ticket.pk}/messages", {"body": "Hello again", "status": "pending"}),
    }


@pytest.mark.parametrize("endpoint", ["ticket", "message"])
def test_retry_replays_the_first_response_and_creates_nothing(
    agent_api: Api, endpoints: dict[str, tuple[str, dict[str, Any]]], endpoint: str
) -> None:
    path, body = endpoints[endpoint]
    first = agent_api.post(path, body, headers=KEY)
    assert first.status_code == 201, first.content
    assert "Idempotent-Replayed" not in first
    after_first = counts()
    for _ in range(2):
        retry = agent_api.post(path, body, headers=KEY)
        assert retry.status_code == 201
        assert retry["Idempotent-Replayed"] == "true"
        assert retry["Content-Type"] == "application/json"
        assert retry.content == first.content
        assert counts() == after_first


@pytest.mark.parametrize("endpoint", ["ticket", "message"])
def test_same_key_with_a_different_request_is_refused(
    agent_api: Api, endpoints: dict[str, tuple[str, dict[str, Any]]], endpoint: str
) -> None:
    path, body = endpoints[endpoint]
    assert agent_api.post(path, body, headers=KEY).status_code == 201
    before = counts()
    response = agent_api.post(path, {**body, "body": "something else"}, headers=KEY)
    assert response.status_code == 422
    assert set(errors_of(response)) == {"Idempotency-Key"}
    assert counts() == before


def test_same_key_on_another_path_is_refused(agent_api: Api, endpoints: dict[str, tuple[str, dict[str, Any]]]) -> None:
    path, body = endpoints["message"]
    other = factories.ticket()
    assert agent_api.post(path, body, headers=KEY).status_code == 201
    response = agent_api.post(f"/tickets/{other.pk}/messages", body, headers=KEY)
    assert response.status_code == 422
    assert set(errors_of(response)) == {"Idempotency-Key"}


@pytest.mark.parametrize("endpoint", ["ticket", "message"])
def test_a_key_whose_first_attempt_failed_can_be_reused(
    agent_api: Api, endpoints: dict[str, tuple[str, dict[str, Any]]], endpoint: str
) -> None:
    path, body = endpoints[endpoint]
    before = counts()
    # Refused by the action (the request itself parses): nothing is remembered.
    failed = agent_api.post(path, {**body, "body": "   "}, headers=KEY)
    assert failed.status_code == 422
    assert set(errors_of(failed)) == {"body"}
    assert counts() == before
    assert not IdempotentRequest.objects.exists()
    # Refused while parsing.
    assert agent_api.post(path, {**body, "bogus": 1}, headers=KEY).status_code == 422
    fixed = agent_api.post(path, body, headers=KEY)
    assert fixed.status_code == 201, fixed.content
    assert "Idempotent-Replayed" not in fixed


def test_a_key_whose_first_attempt_was_not_found_can_be_reused(agent_api: Api) -> None:
    response = agent_api.post("/tickets/999999/messages", {"body": "x"}, headers=KEY)
    assert response.status_code == 404
    ticket = factories.ticket()
    assert agent_api.post(f"/tickets/{ticket.pk}/messages", {"body": "x"}, headers=KEY).status_code == 201


def test_keys_belong_to_their_user(endpoints: dict[str, tuple[str, dict[str, Any]]]) -> None:
    path, body = endpoints["ticket"]
    one, two = caller(Role.AGENT), caller(Role.AGENT)
    assert one.post(path, body, headers=KEY).status_code == 201
    second = two.post(path, body, headers=KEY)
    assert second.status_code == 201
    assert "Idempotent-Replayed" not in second
    assert Ticket.objects.count() == 3  # the fixture's ticket and one each


def test_without_a_key_every_post_creates(agent_api: Api, endpoints: dict[str, tuple[str, dict[str, Any]]]) -> None:
    path, body = endpoints["ticket"]
    agent_api.post(path, body)
    agent_api.post(path, body)
    assert Ticket.objects.count() == 3


@pytest.mark.parametrize("key", ["", "   ", "k" * 256])
def test_key_must_be_1_to_255_characters(
    agent_api: Api, endpoints: dict[str, tuple[str, dict[str, Any]]], key: str
) -> None:
    path, body = endpoints["ticket"]
    before = counts()
    response = agent_api.post(path, body, headers={"Idempotency-Key": key})
    assert response.status_code == 422
    assert set(errors_of(response)) == {"Idempotency-Key"}
    assert counts() == before


def test_keys_are_forgotten_after_the_ttl(
    agent_api: Api, endpoints: dict[str, tuple[str, dict[str, Any]]], settings: Any
) -> None:
    settings.IDEMPOTENCY_TTL_HOURS = 24
    path, body = endpoints["ticket"]
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert agent_api.post(path, body, headers=KEY).status_code == 201
    with time_machine.travel(start + datetime.timedelta(hours=23), tick=False):
        assert agent_api.post(path, body, headers=KEY)["Idempotent-Replayed"] == "true"
    with time_machine.travel(start + datetime.timedelta(hours=25), tick=False):
        again = agent_api.post(path, {**body, "subject": "new request"}, headers=KEY)
        assert again.status_code == 201
        assert "Idempotent-Replayed" not in again
    assert Ticket.objects.count() == 3


def test_a_request_still_in_progress_is_409(agent_api: Api, endpoints: dict[str, tuple[str, dict[str, Any]]]) -> None:
    path, body = endpoints["ticket"]
    first = agent_api.post(path, body, headers=KEY)
    # As if the first attempt had not finished yet.
    IdempotentRequest.objects.update(status_code=0, response_body="")
    response = agent_api.post(path, body, headers=KEY)
    assert response.status_code == 409
    errors_of(response)
    assert Ticket.objects.count() == 2
    assert first.status_code == 201
