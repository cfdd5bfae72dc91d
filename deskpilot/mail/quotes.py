"""Quoted history and signature removal (placeholder being replaced)."""

from __future__ import annotations


def reply_text(text: str) -> str:
    return text.strip()


def reply_html(html: str) -> str:
    return html
