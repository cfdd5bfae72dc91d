"""Pieces every API router uses: error bodies, cursor pagination, Idempotency-Key handling.

Errors have one shape everywhere: ``{"detail": "...", "errors": [{"field": ..., "message": ...}]}``.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import functools
import hashlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Model, Q, QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from ninja import Schema
from pydantic import ConfigDict

from deskpilot.accounts.models import User
from deskpilot.core.errors import InvalidInput
from deskpilot.core.models import IdempotentRequest

M = TypeVar("M", bound=Model)

DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100


class StrictIn(Schema):
    """Base of every input schema: a misspelt field is an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


def request_user(request: HttpRequest) -> User:
    """The authenticated caller (set by the API's authentication on every operation)."""
    return request.auth  # type: ignore[attr-defined]


class FieldError(Schema):
    field: str
    message: str


class ErrorOut(Schema):
    detail: str
    errors: list[FieldError] = []


def error_response(status: int, detail: str, errors: Mapping[str, str] | None = None) -> JsonResponse:
    body = {"detail": detail, "errors": [{"field": f, "message": m} for f, m in (errors or {}).items()]}
    return JsonResponse(body, status=status)


@contextmanager
def api_field_names(names: Mapping[str, str]) -> Iterator[None]:
    """Report an action's field names as the API spells them (assignee → assignee_id)."""
    try:
        yield
    except InvalidInput as error:
        renamed = {}
        for field, message in error.errors.items():
            head, dot, rest = field.partition(".")
            renamed[names.get(head, head) + dot + rest] = message
        raise InvalidInput(renamed) from None


# --- cursor pagination -------------------------------------------------------------------------


@dataclass(frozen=True)
class Ordering:
    """Keyset ordering on one column plus the primary key as a tie-breaker."""

    column: str
    descending: bool

    @property
    def order_by(self) -> list[str]:
        sign = "-" if self.descending else ""
        return [f"{sign}{self.column}"] if self.column == "id" else [f"{sign}{self.column}", f"{sign}id"]


def _encode_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime.datetime) else value


def encode_cursor(ordering: Ordering, row: Model) -> str:
    values = [_encode_value(getattr(row, ordering.column)), row.pk]
    raw = json.dumps([ordering.column, ordering.descending, values], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _is_db_int(value: Any) -> bool:
    # bool is an int subclass; ids beyond 64 bits overflow the database driver.
    return type(value) is int and -(2**63) <= value < 2**63


def decode_cursor(raw: str, ordering: Ordering) -> list[Any]:
    try:
        padded = raw + "=" * (-len(raw) % 4)
        column, descending, values = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if column != ordering.column or descending != ordering.descending or len(values) != 2:
            raise ValueError
        # Fix: a cursor is client input. Each value must have the column's type (an aware
        # datetime, or an int id); before, a tampered cursor such as [null, 1] or [123, 1]
        # reached the query and raised a 500 instead of a 422.
        value, last_id = values
        if column.endswith("_at"):
            if not isinstance(value, str):
                raise ValueError
            value = datetime.datetime.fromisoformat(value)
            if value.tzinfo is None:
                raise ValueError
        elif not _is_db_int(value):
            raise ValueError
        if not _is_db_int(last_id):
            raise ValueError
    except (ValueError, TypeError, binascii.Error, json.JSONDecodeError, UnicodeDecodeError):
        raise InvalidInput("cursor", "is not a cursor from this list (or the sort order changed)") from None
    return [value, last_id]


def check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidInput("limit", f"must be between 1 and {MAX_PAGE_SIZE}")


def after_cursor(queryset: QuerySet[M], *, ordering: Ordering, cursor: str | None) -> QuerySet[M]:
    """``queryset`` in ``ordering``, narrowed to the rows after ``cursor`` (all rows without one)."""
    qs = queryset.order_by(*ordering.order_by)
    if not cursor:
        return qs
    value, last_id = decode_cursor(cursor, ordering)
    op = "lt" if ordering.descending else "gt"
    if ordering.column == "id":
        return qs.filter(**{f"id__{op}": last_id})
    return qs.filter(Q(**{f"{ordering.column}__{op}": value}) | Q(**{ordering.column: value, f"id__{op}": last_id}))


def keyset_page(
    queryset: QuerySet[M], *, ordering: Ordering, cursor: str | None, limit: int
) -> tuple[list[M], str | None]:
    """One page of ``queryset`` after ``cursor``, and the cursor of the next page (None at the
    end). Keyset paging costs the same on page 1 and page 10,000, unlike OFFSET."""
    check_limit(limit)
    rows = list(after_cursor(queryset, ordering=ordering, cursor=cursor)[: limit + 1])
    next_cursor = encode_cursor(ordering, rows[limit - 1]) if len(rows) > limit else None
    return rows[:limit], next_cursor


# Lists of configuration-sized tables (customers, users, teams) page by id, oldest first.
BY_ID = Ordering(column="id", descending=False)


def parse_ordering(raw: str, allowed: Sequence[str]) -> Ordering:
    column = raw.lstrip("-")
    if column not in allowed:
        options = ", ".join(f"{c}, -{c}" for c in allowed)
        raise InvalidInput("sort", f"{raw!r} is not one of: {options}")
    return Ordering(column=column, descending=raw.startswith("-"))


# --- Idempotency-Key ---------------------------------------------------------------------------

IDEMPOTENCY_HEADER = "Idempotency-Key"
_IN_PROGRESS = 0


def idempotent(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """For creating POSTs: a retry with the same Idempotency-Key and the same request gets the
    first response again instead of creating a second object. The view must return an
    HttpResponse (its final body), which is what gets remembered."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if key is None:
            return view(request, *args, **kwargs)
        if not key.strip() or len(key) > 255:
            raise InvalidInput(IDEMPOTENCY_HEADER, "must be 1 to 255 characters")
        user = request.auth  # type: ignore[attr-defined]
        fingerprint = hashlib.sha256(b"\n".join([(request.method or "").encode(), request.path.encode(), request.body]))
        request_hash = fingerprint.hexdigest()
        expiry = timezone.now() - datetime.timedelta(hours=settings.IDEMPOTENCY_TTL_HOURS)
        IdempotentRequest.objects.filter(user=user, key=key, created_at__lt=expiry).delete()
        try:
            # Claim the key first, so two concurrent retries cannot both create.
            with transaction.atomic():
                claim = IdempotentRequest.objects.create(
                    user=user, key=key, request_hash=request_hash, status_code=_IN_PROGRESS, response_body=""
                )
        except IntegrityError:
            previous = IdempotentRequest.objects.filter(user=user, key=key).first()
            if previous is None:
                return error_response(409, "This Idempotency-Key was just released; retry the request.")
            if previous.request_hash != request_hash:
                raise InvalidInput(IDEMPOTENCY_HEADER, "was already used for a different request") from None
            if previous.status_code == _IN_PROGRESS:
                return error_response(409, "A request with this Idempotency-Key is still in progress; retry shortly.")
            replay = HttpResponse(previous.response_body, status=previous.status_code, content_type="application/json")
            replay["Idempotent-Replayed"] = "true"
            return replay
        try:
            response = view(request, *args, **kwargs)
        except BaseException:
            claim.delete()  # a failed request may be retried with the same key
            raise
        if response.status_code >= 500:
            claim.delete()
        else:
            claim.status_code = response.status_code
            claim.response_body = response.content.decode()
            claim.save(update_fields=["status_code", "response_body"])
        return response

    return wrapper
