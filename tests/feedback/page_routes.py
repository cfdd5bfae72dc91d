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
from tests.page_matrix import OK, REDIRECT, Route, World, everyone, manager_page


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

# A mail provider's one-click unsubscribe (RFC 8058) POSTs without a session; the signed token in
# the URL is the authority.
CSRF_EXEMPT = {"feedback:unsubscribe"}


def _survey() -> int:
    from deskpilot.feedback.models import Survey

    found = Survey.objects.order_by("id").first() or Survey.objects.create(
        kind=SurveyKind.CSAT, name="Matrix survey", subject="s", intro="i", question="q"
    )
    return found.pk


def _manage_state() -> object:
    from deskpilot.feedback.models import FeedbackSettings, Survey, SurveyReason

    return (
        sorted(Survey.objects.values_list("pk", "name", "active", "updated_at")),
        sorted(SurveyReason.objects.values_list("pk", "label", "active")),
        list(FeedbackSettings.objects.values_list("throttle_days", "link_days")),
    )


PAGES.update(
    {
        "feedback_manage:list": Route(lambda w: reverse("feedback_manage:list"), manager_page()),
        "feedback_manage:new": Route(lambda w: reverse("feedback_manage:new"), manager_page()),
        "feedback_manage:edit": Route(lambda w: reverse("feedback_manage:edit", args=[_survey()]), manager_page()),
        "feedback_manage:delete": Route(lambda w: reverse("feedback_manage:delete", args=[_survey()]), manager_page()),
    }
)
FORMS.update(
    {
        name: Route(url, manager_page(), state=_manage_state)
        for name, url in {
            "feedback_manage:new": lambda w: reverse("feedback_manage:new"),
            "feedback_manage:edit": lambda w: reverse("feedback_manage:edit", args=[_survey()]),
            "feedback_manage:delete": lambda w: reverse("feedback_manage:delete", args=[_survey()]),
            "feedback_manage:settings": lambda w: reverse("feedback_manage:settings"),
            "feedback_manage:reasons": lambda w: reverse("feedback_manage:reasons"),
        }.items()
    }
)


def _follow_up() -> int:
    from deskpilot.feedback.models import FollowUp, SurveyResponse

    found = FollowUp.objects.order_by("id").first()
    if found is None:
        invitation = Invitation.objects.order_by("id").first()
        if invitation is None:
            from deskpilot.customers.models import Customer

            invitation = Invitation.objects.create(
                kind=SurveyKind.CSAT, customer=Customer.objects.order_by("id")[0],
                status=InvitationStatus.SENT, due_at=timezone.now(), sent_at=timezone.now(),
            )  # fmt: skip
        response = SurveyResponse.objects.create(invitation=invitation, score=1)
        found = FollowUp.objects.create(response=response)
    return found.pk


def _follow_up_state() -> object:
    from deskpilot.feedback.models import FollowUp

    return sorted(FollowUp.objects.values_list("pk", "outcome", "notes", "closed_at"))


PAGES["feedback_follow_ups:list"] = Route(lambda w: reverse("feedback_follow_ups:list"), manager_page())
FORMS["feedback_follow_ups:close"] = Route(
    lambda w: reverse("feedback_follow_ups:close", args=[_follow_up()]), manager_page(), state=_follow_up_state
)
FORMS["feedback_follow_ups:reopen"] = Route(
    lambda w: reverse("feedback_follow_ups:reopen", args=[_follow_up()]), manager_page(), state=_follow_up_state
)

PAGES["feedback_scores:scores"] = Route(lambda w: reverse("feedback_scores:scores"), manager_page())
PAGES["feedback_scores:answers"] = Route(lambda w: reverse("feedback_scores:answers") + "?kind=csat", manager_page())


def _theme() -> int:
    from deskpilot.feedback.models import Theme

    found = Theme.objects.order_by("id").first() or Theme.objects.create(
        number=1, label="refund · order", keywords=["refund"], examples=["a refund"], centroid=b"", space="tfidf"
    )
    return found.pk


PAGES["insights:page"] = Route(lambda w: reverse("insights:page"), manager_page())
PAGES["insights:theme"] = Route(lambda w: reverse("insights:theme", args=[_theme()]), manager_page())
