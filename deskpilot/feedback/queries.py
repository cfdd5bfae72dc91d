"""Read paths of the feedback app used by other apps' pages."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone

from deskpilot.feedback import links, surveys
from deskpilot.feedback.models import Invitation, InvitationStatus, SurveyResponse


@dataclass(frozen=True)
class OpenSurvey:
    """A survey the customer can still answer on the portal."""

    invitation: Invitation
    token: str
    question: str
    options: list[tuple[int, str]]
    answer: SurveyResponse | None


def open_surveys(ticket_id: int, customer_id: int | None) -> list[OpenSurvey]:
    """The sent, unexpired surveys about this ticket asked of this customer (one query)."""
    if customer_id is None:
        return []
    now = timezone.now()
    found = (
        Invitation.objects.select_related("survey", "response")
        .filter(ticket_id=ticket_id, customer_id=customer_id, status=InvitationStatus.SENT)
        .exclude(expires_at__lte=now)
        .order_by("kind")
    )
    result = []
    for invitation in found:
        if invitation.survey is None:
            continue
        answer = getattr(invitation, "response", None)
        result.append(
            OpenSurvey(
                invitation=invitation,
                token=links.token(invitation.pk),
                question=invitation.survey.question,
                options=[(v, surveys.answer_label(invitation.kind, invitation.scale, v)) for v in invitation.values],
                answer=answer,
            )
        )
    return result
