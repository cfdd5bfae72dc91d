"""Account jobs."""

from __future__ import annotations

from huey.contrib.djhuey import db_task

from deskpilot.accounts import actions


@db_task(name="accounts.send_signin_link")
def send_signin_link(address: str) -> bool:
    """Email a one-time sign-in link (see actions.send_signin_link). A job, so that the page
    answers in the same time whether or not the address has an account: timing must not tell."""
    return actions.send_signin_link(address)
