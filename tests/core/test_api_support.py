"""Cursor pagination, orderings, error bodies and field renaming (core.api_support)."""

from __future__ import annotations

import base64
import datetime
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deskpilot.core.api_support import (
    MAX_PAGE_SIZE,
    Ordering,
    api_field_names,
    decode_cursor,
    encode_cursor,
    error_response,
    keyset_page,
    parse_ordering,
)
from deskpilot.core.errors import InvalidInput
from deskpilot.tickets.models import Ticket
from tests import factories


def _raw_cursor(payload: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


class _Row:
    """Stands in for a model instance: encode_cursor reads the column and pk."""

    def __init__(self, pk: int, **values: Any) -> None:
        self.pk = pk
        self.id = pk
        for name, value in values.items():
            setattr(self, name, value)


BY_ID = Ordering("id", descending=False)
NEWEST = Ordering("created_at", descending=True)


@pytest.mark.parametrize(
    "moment",
    [
        datetime.datetime(2026, 3, 29, 1, 30, 15, 123456, tzinfo=datetime.UTC),
        datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),  # no microseconds: isoformat drops them
        datetime.datetime(2026, 10, 25, 2, 30, tzinfo=datetime.timezone(datetime.timedelta(hours=2))),
    ],
)
@pytest.mark.parametrize("descending", [True, False])
def test_datetime_cursor_round_trips(moment: datetime.datetime, descending: bool) -> None:
    ordering = Ordering("updated_at", descending)
    cursor = encode_cursor(ordering, _Row(41, updated_at=moment))  # type: ignore[arg-type]
    value, last_id = decode_cursor(cursor, ordering)
    assert (value, last_id) == (moment, 41)
    assert value.tzinfo is not None
    # URL-safe: no padding, no characters that need escaping in a query string.
    assert "=" not in cursor
    assert "+" not in cursor
    assert "/" not in cursor


@given(st.integers(min_value=1, max_value=2**62))
def test_id_cursor_round_trips(pk: int) -> None:
    cursor = encode_cursor(BY_ID, _Row(pk))  # type: ignore[arg-type]
    assert decode_cursor(cursor, BY_ID) == [pk, pk]


def test_cursor_from_another_sort_order_is_refused() -> None:
    cursor = encode_cursor(NEWEST, _Row(3, created_at=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)))  # type: ignore[arg-type]
    for other in (Ordering("created_at", False), Ordering("updated_at", True), BY_ID):
        with pytest.raises(InvalidInput) as error:
            decode_cursor(cursor, other)
        assert set(error.value.errors) == {"cursor"}


TAMPERED = [
    "garbage!!",
    "a",
    base64.urlsafe_b64encode(b"\xff\xfe\xfd").decode(),
    _raw_cursor("just a string"),
    _raw_cursor({"column": "id"}),
    _raw_cursor(["id", False]),
    _raw_cursor(["id", False, [1]]),
    _raw_cursor(["id", False, [1, 2, 3]]),
    _raw_cursor(["id", False, "ab"]),
    _raw_cursor(["id", False, [None, 1]]),
    _raw_cursor(["id", False, ["1", "1"]]),
    _raw_cursor(["id", False, [1, "x"]]),
    _raw_cursor(["id", False, [1, 1.5]]),
    _raw_cursor(["id", False, [True, True]]),
    _raw_cursor(["id", False, [10**30, 10**30]]),
    _raw_cursor(["id", "yes", [1, 1]]),
    _raw_cursor(["created_at", True, [None, 1]]),
    _raw_cursor(["created_at", True, [123, 1]]),
    _raw_cursor(["created_at", True, ["not a date", 1]]),
    _raw_cursor(["created_at", True, ["2026-01-01T00:00:00", 1]]),  # naive
    _raw_cursor(["created_at", True, [["2026-01-01T00:00:00+00:00"], 1]]),
    _raw_cursor(["created_at", True, ["2026-01-01T00:00:00+00:00", None]]),
]


@pytest.mark.parametrize("cursor", TAMPERED)
@pytest.mark.parametrize("ordering", [BY_ID, NEWEST])
def test_tampered_cursor_is_a_field_error(cursor: str, ordering: Ordering) -> None:
    with pytest.raises(InvalidInput) as error:
        decode_cursor(cursor, ordering)
    assert set(error.value.errors) == {"cursor"}


@pytest.mark.django_db
@pytest.mark.parametrize("cursor", TAMPERED)
@pytest.mark.parametrize("ordering", [BY_ID, NEWEST, Ordering("updated_at", False)])
def test_tampered_cursor_never_reaches_the_query(cursor: str, ordering: Ordering) -> None:
    with pytest.raises(InvalidInput) as error:
        keyset_page(Ticket.objects.all(), ordering=ordering, cursor=cursor, limit=5)
    assert set(error.value.errors) == {"cursor"}


@given(st.text(max_size=200))
def test_arbitrary_text_is_a_cursor_or_a_field_error(raw: str) -> None:
    for ordering in (BY_ID, NEWEST):
        try:
            value, last_id = decode_cursor(raw, ordering)
        except InvalidInput as error:
            problems = error.errors
        else:  # pragma: no cover - only when hypothesis happens to write a real cursor
            problems = {"cursor": "decoded"}
            assert type(last_id) is int
            assert isinstance(value, datetime.datetime if ordering is NEWEST else int)
        assert set(problems) == {"cursor"}


@given(st.lists(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30), max_size=3))
def test_arbitrary_cursor_values_are_typed_or_refused(values: list[Any]) -> None:
    for ordering in (BY_ID, NEWEST):
        raw = _raw_cursor([ordering.column, ordering.descending, values])
        try:
            value, last_id = decode_cursor(raw, ordering)
        except InvalidInput:
            continue
        assert type(last_id) is int
        if ordering is NEWEST:
            assert isinstance(value, datetime.datetime)
            assert value.tzinfo is not None
        else:
            assert type(value) is int


@pytest.mark.django_db
@pytest.mark.parametrize("limit", [0, -1, MAX_PAGE_SIZE + 1])
def test_limit_out_of_range(limit: int) -> None:
    with pytest.raises(InvalidInput) as error:
        keyset_page(Ticket.objects.all(), ordering=BY_ID, cursor=None, limit=limit)
    assert set(error.value.errors) == {"limit"}


@pytest.mark.django_db
@pytest.mark.parametrize("ordering", [BY_ID, Ordering("id", True), NEWEST, Ordering("updated_at", False)])
def test_keyset_pages_cover_everything_once(ordering: Ordering) -> None:
    at = datetime.datetime(2026, 2, 1, 9, tzinfo=datetime.UTC)
    # Equal timestamps in pairs, so the id tie-breaker matters.
    ids = [factories.ticket(at=at + datetime.timedelta(seconds=i // 2)).pk for i in range(7)]
    seen: list[int] = []
    cursor = None
    for _ in range(10):
        rows, cursor = keyset_page(Ticket.objects.all(), ordering=ordering, cursor=cursor, limit=2)
        seen.extend(r.pk for r in rows)
        if cursor is None:
            break
    assert sorted(seen) == sorted(ids)
    assert len(seen) == len(set(seen))
    expected = list(Ticket.objects.order_by(*ordering.order_by).values_list("pk", flat=True))
    assert seen == expected


@pytest.mark.django_db
def test_last_full_page_has_no_next_cursor() -> None:
    for _ in range(4):
        factories.ticket()
    rows, cursor = keyset_page(Ticket.objects.all(), ordering=BY_ID, cursor=None, limit=4)
    assert len(rows) == 4
    assert cursor is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("id", Ordering("id", False)), ("-id", Ordering("id", True)), ("-updated_at", Ordering("updated_at", True))],
)
def test_parse_ordering(raw: str, expected: Ordering) -> None:
    assert parse_ordering(raw, ("id", "updated_at")) == expected


@pytest.mark.parametrize("raw", ["subject", "", "-", "ID", "id;drop"])
def test_parse_ordering_refuses_other_columns(raw: str) -> None:
    with pytest.raises(InvalidInput) as error:
        parse_ordering(raw, ("id", "updated_at"))
    assert set(error.value.errors) == {"sort"}


def test_order_by_always_ends_with_the_id_tie_breaker() -> None:
    assert Ordering("id", True).order_by == ["-id"]
    assert Ordering("created_at", False).order_by == ["created_at", "id"]
    assert Ordering("updated_at", True).order_by == ["-updated_at", "-id"]


def test_error_response_shape() -> None:
    response = error_response(422, "Bad.", {"a.b": "is wrong", "c[0]": "is missing"})
    assert response.status_code == 422
    assert json.loads(response.content) == {
        "detail": "Bad.",
        "errors": [{"field": "a.b", "message": "is wrong"}, {"field": "c[0]", "message": "is missing"}],
    }
    assert json.loads(error_response(404, "Gone.").content) == {"detail": "Gone.", "errors": []}


def test_api_field_names_renames_the_head_of_each_field() -> None:
    with pytest.raises(InvalidInput) as error, api_field_names({"assignee": "assignee_id", "requester": "cc[2]"}):
        raise InvalidInput({"assignee": "is bad", "requester.email": "is bad too", "status": "unchanged"})
    assert error.value.errors == {"assignee_id": "is bad", "cc[2].email": "is bad too", "status": "unchanged"}
