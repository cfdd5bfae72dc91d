"""The core pages in the page permission matrix: the managers' overview and staff notifications."""

from __future__ import annotations

from django.urls import reverse

from deskpilot.core.models import Notification
from tests.page_matrix import AGENT_FORM, HIDDEN, OK, Route, World, manager_page, staff_page


def _agents_notice(world: World) -> str:
    """A notification of the matrix's agent: only the agent may open it."""
    agent = world.users["agent"]
    assert agent is not None
    notice = Notification.objects.create(user=agent, subject="SLA breached", ticket=world.ticket)
    return reverse("core:notification_open", args=[notice.pk])


def _state() -> object:
    return list(Notification.objects.order_by("pk").values_list("pk", "read_at"))


PAGES: dict[str, Route] = {
    "core:manage": Route(lambda w: reverse("core:manage"), manager_page()),
    "core:notifications": Route(lambda w: reverse("core:notifications"), staff_page()),
}

FORMS: dict[str, Route] = {
    "core:notifications_read_all": Route(
        lambda w: reverse("core:notifications_read_all"),
        {**AGENT_FORM, "follower": OK, "collaborator": OK},
        state=_state,
    ),
    "core:notification_open": Route(
        _agents_notice,
        {**AGENT_FORM, "follower": HIDDEN, "manager": HIDDEN, "admin": HIDDEN},
        state=_state,
    ),
}
