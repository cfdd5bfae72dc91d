"""Helpers shared by the page tests."""

from __future__ import annotations

import re
from typing import Any

from django.test import Client

from deskpilot.accounts.models import User


def client_for(user: User | None, **kwargs: Any) -> Client:
    """A test client signed in as ``user`` (anonymous for None)."""
    client = Client(**kwargs)
    if user is not None:
        client.force_login(user)
    return client


def row_numbers(body: str) -> list[int]:
    """Ticket numbers of a ticket table's rows, in order."""
    return [int(n) for n in re.findall(r'data-row-link="/tickets/(\d+)"', body)]
