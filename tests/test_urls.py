"""The front door and the health check."""

from __future__ import annotations

from django.test import Client


def test_front_door_leads_to_sign_in() -> None:
    response = Client().get("/")
    assert response.status_code == 302
    assert response["Location"] == "/signin"


def test_health_check_needs_no_database_or_sign_in() -> None:
    response = Client().get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})
