"""Shared by the scheduled-report tests: a subscription in a few lines, and the renderers.

The renderers are the real ones (the executive PDF, the CSV of the daily table);
``pdf_requests`` only watches which filters each PDF was asked for.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from deskpilot.accounts.models import Role, User
from deskpilot.analytics.performance import Filters
from deskpilot.reports import actions, rendering
from deskpilot.reports.actions import EmailRecipient
from deskpilot.reports.models import ReportSubscription
from tests import factories


@pytest.fixture
def pdf_requests(monkeypatch: pytest.MonkeyPatch) -> list[Filters]:
    """The filters each PDF was asked for (the real renderer still draws it)."""
    asked: list[Filters] = []
    real = rendering._pdf

    def pdf(filters: Filters) -> bytes:
        asked.append(filters)
        return real(filters)

    monkeypatch.setattr(rendering, "_pdf", pdf)
    return asked


def manager(**kwargs: Any) -> User:
    return factories.user(Role.MANAGER, **kwargs)


def staff(time_zone: str, *, email: str | None = None, role: str = Role.MANAGER) -> User:
    user = factories.user(role, email=email)
    user.time_zone = time_zone
    user.save(update_fields=["time_zone"])
    return user


def subscription(
    *,
    users: list[User] | None = None,
    emails: list[tuple[str, str]] | None = None,
    now: datetime.datetime,
    owner: User | None = None,
    **values: Any,
) -> ReportSubscription:
    fields: dict[str, Any] = {
        "name": "Daily numbers",
        "report": "performance",
        "filters": {},
        "period": "previous_day",
        "frequency": "daily",
        "weekday": None,
        "day_of_month": None,
        "send_hour": 8,
        "active": True,
    }
    fields.update(values)
    return actions.save_subscription(
        None,
        owner=owner,
        values=fields,
        users=users or [],
        emails=[EmailRecipient(email, zone) for email, zone in emails or []],
        now=now,
    )
