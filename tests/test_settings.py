"""Settings come from environment variables; a bad value stops start-up naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHOW = (
    "from django.conf import settings; print(settings.EMAIL_BACKEND, settings.EMAIL_PORT, settings.SIGNIN_LINK_MINUTES)"
)


def _load(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("DESKPILOT_", "DATABASE_URL"))}
    environment.update(DJANGO_SETTINGS_MODULE="deskpilot.settings", DESKPILOT_DATA_DIR=str(tmp_path), **env)
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {SHOW}"],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_defaults_log_mail_instead_of_sending(tmp_path: Path) -> None:
    result = _load(tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.core.mail.backends.console.EmailBackend", "25", "30"]


def test_an_smtp_host_sends_mail(tmp_path: Path) -> None:
    result = _load(tmp_path, DESKPILOT_SMTP_HOST="mail.example.test", DESKPILOT_SMTP_PORT="587")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[:2] == ["django.core.mail.backends.smtp.EmailBackend", "587"]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DESKPILOT_SIGNIN_LINK_MINUTES": "half an hour"}, "DESKPILOT_SIGNIN_LINK_MINUTES: expected a whole number"),
        ({"DESKPILOT_SMTP_STARTTLS": "maybe"}, "DESKPILOT_SMTP_STARTTLS: expected true or false"),
        (
            {"DESKPILOT_SMTP_STARTTLS": "1", "DESKPILOT_SMTP_SSL": "1"},
            "DESKPILOT_SMTP_STARTTLS and DESKPILOT_SMTP_SSL: choose one",
        ),
    ],
)
def test_bad_values_name_the_variable(tmp_path: Path, env: dict[str, str], message: str) -> None:
    result = _load(tmp_path, **env)
    assert result.returncode != 0
    assert message in result.stderr
