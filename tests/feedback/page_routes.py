"""The customer's survey pages in the page permission matrix (tests/test_page_permissions.py):
whoever holds the e-mail's link may open them, signed in or not, whatever their role (the link is
the key); without it, nobody gets anything (tests/feedback/test_views.py tampers with links)."""

from __future__ import annotations

import datetime
from collections.abc import Callable

from django.urls import reverse
from django.utils import timezone

from deskpilot.feedback import links
from deskpilot.feedback.models import Invitation, InvitationStatus, SurveyKind, SurveyResponse
from tests.page_matrix import OK, REDIRECT, Route, World, everyone


def _invitation(world: World) -> Invitation:
    """A sent CSAT invitation about the matrix ticket (made on first use in a test)."""
    found = Invitation.objects.filter(ticket=world.ticket).first()
    if found is None:
        found = Invitation.objects.create(
            kind=SurveyKind.CSAT, customer=world.ticket.requester, ticket=world.ticket,
            status=InvitationStatus.SENT, due_at=timezone.now(), sent_at=timezone.now(),
            expires_at=timezone.now() + datetime.timedelta(days=30),
        )  # fmt: skip
    return found


def _url(name: str, *extra: int) -> Callable[[World], str]:
    def url(world: World) -> str:
        return reverse(f"feedback:{name}", args=[links.token(_invitation(world).pk), *extra])

    return url


PAGES: dict[str, Route] = {
    "feedback:survey": Route(_url("survey"), everyone(OK)),
    "feedback:answer": Route(_url("answer", 4), everyone(OK)),
    "feedback:unsubscribe": Route(_url("unsubscribe"), everyone(OK)),
}

FORMS: dict[str, Route] = {
    # An empty comment form before any answer: named error, nothing saved.
    "feedback:survey": Route(
        _url("survey"), everyone("422"), state=lambda: list(SurveyResponse.objects.values_list("pk", "comment"))
    ),
    "feedback:answer": Route(_url("answer", 4), everyone(REDIRECT)),
    "feedback:unsubscribe": Route(_url("unsubscribe"), everyone(OK)),
}
