"""Fixtures for the mail tests: the third-party email corpus from $DESKPILOT_TESTDATA.

The corpus is never copied into the repository. CI and the Makefile always set the variable, so a
missing or wrong one is an error (a clear failure, not a skip that would hide untested parsing).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def shared_testdata() -> Path:
    """$DESKPILOT_TESTDATA as a Path; fails the run with a clear message when unset or wrong."""
    value = os.environ.get("DESKPILOT_TESTDATA", "")
    if not value:
        pytest.fail(
            "DESKPILOT_TESTDATA is not set: point it at the shared test data "
            "(export DESKPILOT_TESTDATA=/work/shared/testdata; make and CI set it)",
            pytrace=False,
        )
    path = Path(value)
    if not (path / "email").is_dir() or not (path / "email_reply_bodies").is_dir():
        pytest.fail(f"DESKPILOT_TESTDATA={value} has no email/ and email_reply_bodies/ folders", pytrace=False)
    return path


MESSAGE_SUFFIXES = (".eml", ".box", ".txt")


def corpus_messages() -> list[Path]:
    """Every raw message under $DESKPILOT_TESTDATA/email (all folders), sorted."""
    root = shared_testdata() / "email"
    return sorted(
        path
        for path in root.rglob("*")
        if path.is_file() and path.suffix.lower() in MESSAGE_SUFFIXES and not path.name.upper().startswith("LICENSE")
    )


@pytest.fixture
def testdata() -> Path:
    return shared_testdata()
