"""Shared by the scheduled-report tests: a subscription in a few lines, and the renderers.

Until ``reports.executive.render_pdf`` is in the tree, the call of ``reports.rendering`` that
reaches it (``_pdf``) is replaced by ``fake_renderers``; everything else (the report's figures, the
CSV, the e-mail, the SMTP conversation) is real.
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

FAKE_PDF = b"%PDF-1.7\n% a stand-in for the executive PDF\n%%EOF\n"


@pytest.fixture
def fake_renderers(monkeypatch: pytest.MonkeyPatch) -> list[Filters]:
    """The PDF renderer replaced; returns the filters each PDF was asked for."""
    asked: list[Filters] = []

    def pdf(filters: Filters) -> bytes:
        asked.append(filters)
        return FAKE_PDF

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
