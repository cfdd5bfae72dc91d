"""Signed ticket tokens: found in subjects and reply addresses, never forgeable by editing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deskpilot.mail import tokens


def test_subject_tag_round_trip() -> None:
    subject = f"Re: Printer on fire {tokens.subject_tag(1234)}"
    assert tokens.tickets_in_subject(subject) == [1234]
    assert tokens.strip_subject_tags(subject) == "Re: Printer on fire"


def test_reply_address_round_trip() -> None:
    address = tokens.reply_address("support@example.com", 77)
    assert address.startswith("support+t77-")
    assert address.endswith("@example.com")
    assert tokens.tickets_in_addresses(["someone@else.test", address.upper()]) == [77]


def test_editing_the_number_breaks_the_token() -> None:
    signature = tokens.token(1234).split("-")[1]
    assert tokens.tickets_in_subject(f"[#1235-{signature}]") == []
    assert tokens.tickets_in_addresses([f"support+t1235-{signature}@example.com"]) == []


def test_a_bare_number_is_not_trusted() -> None:
    assert tokens.tickets_in_subject("Re: [#1234] still broken") == []


def test_tokens_depend_on_the_secret_key(settings: pytest.FixtureRequest) -> None:
    before = tokens.token(5)
    settings.SECRET_KEY = "another-installation-entirely"  # type: ignore[attr-defined]
    assert tokens.token(5) != before


@given(st.integers(min_value=1, max_value=10**12 - 1))
def test_every_ticket_number_round_trips(ticket_id: int) -> None:
    assert tokens.tickets_in_subject("x " + tokens.subject_tag(ticket_id) + " y") == [ticket_id]
    assert tokens.tickets_in_addresses([tokens.reply_address("help@desk.test", ticket_id)]) == [ticket_id]
