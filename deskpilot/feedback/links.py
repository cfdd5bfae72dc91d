"""The links in a survey e-mail: signed with the installation's secret key, so nobody can answer
another customer's survey by editing a number, and checked against the invitation's expiry on the
server (a change of the link lifetime applies to links already sent).

A token names the invitation only; the score is a separate part of the URL, so one token serves
every answer button, the follow-up page and the unsubscribe link.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse

_SALT = "deskpilot.feedback.invitation"


def _signer() -> signing.Signer:
    return signing.Signer(salt=_SALT)


def token(invitation_id: int) -> str:
    """The same token every time for an invitation (expiry is the invitation's, on the server)."""
    return _signer().sign_object(invitation_id)


def invitation_id(value: str) -> int | None:
    """The invitation a token names, or None when it was not made by us (edited, truncated)."""
    try:
        found = _signer().unsign_object(value)
    except (signing.BadSignature, ValueError):
        return None
    return found if isinstance(found, int) and not isinstance(found, bool) else None


def _absolute(path: str) -> str:
    return settings.BASE_URL.rstrip("/") + path


def survey_url(invitation_id: int) -> str:
    return _absolute(reverse("feedback:survey", args=[token(invitation_id)]))


def answer_url(invitation_id: int, score: int) -> str:
    return _absolute(reverse("feedback:answer", args=[token(invitation_id), score]))


def unsubscribe_url(invitation_id: int) -> str:
    return _absolute(reverse("feedback:unsubscribe", args=[token(invitation_id)]))
