"""Shared fixtures."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _attachments_in_tmp(settings, tmp_path):
    """Each test stores attachment files in its own directory."""
    settings.ATTACHMENT_DIR = tmp_path / "attachments"
