"""Admin-defined custom fields: validation of each kind, required fields, removal with None."""

from __future__ import annotations

from typing import Any

import pytest

from deskpilot.accounts.models import Role
from deskpilot.core.errors import InvalidInput
from deskpilot.tickets import actions
from deskpilot.tickets.custom_fields import TEXT_MAX_CHARS, clean_custom_fields
from deskpilot.tickets.models import CustomField, FieldKind, TicketEvent, Via
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def fields() -> None:
    CustomField.objects.create(key="note", label="Note", kind=FieldKind.TEXT)
    CustomField.objects.create(key="seats", label="Seats", kind=FieldKind.NUMBER)
    CustomField.objects.create(key="renewal", label="Renewal", kind=FieldKind.DATE)
    CustomField.objects.create(key="plan", label="Plan", kind=FieldKind.DROPDOWN, choices=["free", "pro", 3])
    CustomField.objects.create(key="vip", label="VIP", kind=FieldKind.CHECKBOX)
    CustomField.objects.create(key="retired", label="Retired", kind=FieldKind.TEXT, active=False)


@pytest.mark.parametrize(
    ("key", "value", "stored"),
    [
        ("note", "free text", "free text"),
        ("note", "x" * TEXT_MAX_CHARS, "x" * TEXT_MAX_CHARS),
        ("seats", 12, 12),
        ("seats", "12", 12),
        ("seats", -3, -3),
        ("seats", 2.5, 2.5),
        ("seats", "2.5", 2.5),
        ("seats", 2.0, 2.0),
        ("seats", 0, 0),
        ("renewal", "2026-02-28", "2026-02-28"),
        ("plan", "pro", "pro"),
        ("plan", 3, 3),
        ("vip", True, True),
        ("vip", False, False),
    ],
)
def test_valid_values(fields: None, key: str, value: Any, stored: Any) -> None:
    assert clean_custom_fields({key: value}) == {key: stored}


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("note", 5),
        ("note", ["a"]),
        ("note", "x" * (TEXT_MAX_CHARS + 1)),
        ("seats", "twelve"),
        ("seats", True),
        ("seats", [1]),
        ("seats", {"n": 1}),
        ("seats", "nan"),
        ("seats", "inf"),
        ("seats", float("-inf")),
        ("renewal", "2026-02-30"),
        ("renewal", "28.02.2026"),
        ("renewal", 20260228),
        ("plan", "Pro"),
        ("plan", "enterprise"),
        ("plan", "3"),
        ("vip", "true"),
        ("vip", 1),
        ("retired", "anything"),
        ("unknown", "anything"),
    ],
)
def test_invalid_values_name_the_field(fields: None, key: str, value: Any) -> None:
    with pytest.raises(InvalidInput) as error:
        clean_custom_fields({key: value})
    assert set(error.value.errors) == {f"custom_fields.{key}"}


def test_every_problem_is_reported_at_once(fields: None) -> None:
    with pytest.raises(InvalidInput) as error:
        clean_custom_fields({"seats": "x", "plan": "y", "vip": "z", "note": "fine"})
    assert set(error.value.errors) == {"custom_fields.seats", "custom_fields.plan", "custom_fields.vip"}
    assert "free, pro, 3" in error.value.errors["custom_fields.plan"]


def test_none_or_empty_removes_a_value_and_others_are_kept(fields: None) -> None:
    current = {"note": "a", "seats": 3, "vip": True, "retired": "kept"}
    assert clean_custom_fields({"note": None, "seats": ""}, current=current) == {"vip": True, "retired": "kept"}
    # False and 0 are values, not removals.
    assert clean_custom_fields({"vip": False, "seats": 0}, current=current)["vip"] is False


def test_required_fields_on_create_and_on_removal(fields: None) -> None:
    CustomField.objects.create(key="product", label="Product", kind=FieldKind.TEXT, required=True)
    with pytest.raises(InvalidInput) as error:
        clean_custom_fields({}, creating=True)
    assert error.value.errors == {"custom_fields.product": "is required"}
    assert clean_custom_fields({"product": "Deskpilot"}, creating=True) == {"product": "Deskpilot"}
    # Old tickets without the field can still be changed; removing it is refused.
    assert clean_custom_fields({"note": "x"}, current={}) == {"note": "x"}
    with pytest.raises(InvalidInput) as error:
        clean_custom_fields({"product": None}, current={"product": "Deskpilot"})
    assert set(error.value.errors) == {"custom_fields.product"}


def test_inactive_required_field_is_not_required(fields: None) -> None:
    CustomField.objects.create(key="legacy", label="Legacy", kind=FieldKind.TEXT, required=True, active=False)
    assert clean_custom_fields({}, creating=True) == {}


# --- through the actions -----------------------------------------------------------------------


def test_ticket_create_validates_and_stores_custom_fields(fields: None) -> None:
    CustomField.objects.create(
        key="product", label="Product", kind=FieldKind.DROPDOWN, choices=["a", "b"], required=True
    )
    with pytest.raises(InvalidInput) as error:
        factories.ticket(custom_fields={"seats": "many"})
    assert set(error.value.errors) == {"custom_fields.seats", "custom_fields.product"}
    ticket = factories.ticket(custom_fields={"product": "b", "seats": "4"})
    assert ticket.custom_fields == {"product": "b", "seats": 4}
    created = TicketEvent.objects.get(ticket=ticket, field="created").new
    assert created is not None
    assert created["custom_fields"] == {"product": "b", "seats": 4}


def test_ticket_update_merges_custom_fields_and_records_the_change(fields: None) -> None:
    agent = factories.user(Role.AGENT)
    ticket = factories.ticket(custom_fields={"note": "n", "seats": 1})
    actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"custom_fields": {"seats": 2, "note": None}})
    ticket.refresh_from_db()
    assert ticket.custom_fields == {"seats": 2}
    event = TicketEvent.objects.filter(ticket=ticket, field="custom_fields").get()
    assert (event.old, event.new) == ({"note": "n", "seats": 1}, {"seats": 2})
    version = ticket.version
    actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"custom_fields": {"seats": 2}})
    assert ticket.version == version  # no change, no event


def test_invalid_custom_field_on_update_writes_nothing(fields: None) -> None:
    agent = factories.user(Role.AGENT)
    ticket = factories.ticket(custom_fields={"seats": 1})
    with pytest.raises(InvalidInput):
        actions.update_ticket(
            ticket, actor=agent, via=Via.WEB, changes={"priority": "high", "custom_fields": {"plan": "gold"}}
        )
    ticket.refresh_from_db()
    assert (ticket.priority, ticket.custom_fields) == ("normal", {"seats": 1})
    with pytest.raises(InvalidInput) as error:
        actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"custom_fields": ["not", "a", "dict"]})
    assert set(error.value.errors) == {"custom_fields"}


def test_dropdown_compares_types_so_true_is_not_the_choice_1() -> None:
    CustomField.objects.create(key="seats", label="Seats", kind="dropdown", choices=[1, 5, 10])
    with pytest.raises(InvalidInput) as error:
        factories.ticket(custom_fields={"seats": True})
    assert set(error.value.errors) == {"custom_fields.seats"}
    assert factories.ticket(custom_fields={"seats": 5}).custom_fields == {"seats": 5}
