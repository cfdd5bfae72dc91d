"""SLA on the pages: the ticket's targets and countdown, escalation from the ticket page, and the
inbox sorted by the next breach."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from deskpilot.accounts.models import Role
from deskpilot.core.templatetags.deskpilot import countdown, countdown_text
from deskpilot.policies import sla
from deskpilot.policies.models import SlaPolicy, SlaTarget
from deskpilot.tickets.models import Ticket, TicketEvent
from tests import factories
from tests.pages import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def standard() -> SlaPolicy:
    policy = SlaPolicy.objects.create(name="Standard SLA")
    for priority, minutes in (("normal", 240), ("urgent", 30)):
        SlaTarget.objects.create(policy=policy, metric="first_reply", priority=priority, minutes=minutes,
                                 business_hours=False)  # fmt: skip
    sla.clear_cache()
    return policy


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0 m"), (30, "<1 m"), (-30, "-<1 m"), (59 * 60, "59 m"), (3 * 3600 + 5 * 60, "3 h 05 m"),
     (-(26 * 3600), "-1 d 2 h")],
)  # fmt: skip
def test_countdown_text(seconds: int, text: str) -> None:
    assert countdown_text(seconds) == text


def test_countdown_is_red_once_breached() -> None:
    assert "countdown--breached" in countdown(timezone.now() - datetime.timedelta(minutes=5))
    assert "countdown--ok" in countdown(timezone.now() + datetime.timedelta(hours=3))
    assert countdown(None) == ""


def test_the_ticket_page_shows_the_targets(standard: SlaPolicy) -> None:
    ticket = factories.ticket()
    page = client_for(factories.user(Role.AGENT)).get(f"/tickets/{ticket.pk}").content.decode()
    assert "Standard SLA" in page
    assert "First reply" in page
    assert "data-countdown" in page
    assert "SLA policy Standard SLA applies" in page  # the history sentence


def test_customers_never_see_sla_internals(standard: SlaPolicy) -> None:
    account = factories.customer_user()
    ticket = factories.ticket(requester=account.customer)
    response = client_for(account).get(f"/portal/tickets/{ticket.pk}")
    assert response.status_code == 200
    assert "Standard SLA" not in response.content.decode()
    assert "data-countdown" not in response.content.decode()


def test_escalating_from_the_ticket_page(standard: SlaPolicy) -> None:
    agent = factories.user(Role.AGENT)
    ticket = factories.ticket()
    client = client_for(agent)
    refused = client.post(f"/tickets/{ticket.pk}/escalate", {"escalation-level": "tier2", "escalation-reason": ""})
    assert refused.status_code == 422
    assert "Say why" in refused.content.decode()
    done = client.post(
        f"/tickets/{ticket.pk}/escalate", {"escalation-level": "tier2", "escalation-reason": "Needs a specialist"}
    )
    assert done.status_code == 302
    assert Ticket.objects.get(pk=ticket.pk).escalation == "tier2"
    page = client.get(f"/tickets/{ticket.pk}").content.decode()
    assert "escalated the ticket from tier 1 to tier 2" in page
    assert "Needs a specialist" in page
    assert "Escalated: Tier 2</span>" in page  # the ladder's words, not the stored value
    assert TicketEvent.objects.filter(ticket=ticket, field="escalation").count() == 1


def test_a_breached_running_target_counts_down_below_zero(standard: SlaPolicy) -> None:
    ticket = factories.ticket(priority="urgent", at=timezone.now() - datetime.timedelta(minutes=95))
    page = client_for(factories.user(Role.AGENT)).get(f"/tickets/{ticket.pk}").content.decode()
    row = page.split('class="sla-state--breached-active"')[1].split("</tr>")[0]
    assert "countdown--breached" in row
    assert ">-1 h 05 m</time>" in row  # due 30 minutes after creation, 95 minutes ago


def test_the_inbox_sorts_by_next_breach_most_urgent_first(standard: SlaPolicy) -> None:
    agent = factories.user(Role.AGENT)
    later = factories.ticket(subject="Later one")
    sooner = factories.ticket(subject="Sooner one", priority="urgent")
    SlaPolicy.objects.all().delete()
    sla.clear_cache()
    without = factories.ticket(subject="No clock")
    page = client_for(agent).get("/inbox/all-open?sort=sla_next_breach_at").content.decode()
    assert page.index("Sooner one") < page.index("Later one")
    assert "No clock" not in page
    assert Ticket.objects.get(pk=without.pk).sla_next_breach_at is None
    assert Ticket.objects.get(pk=later.pk).sla_next_breach_at is not None
    assert sooner.pk != later.pk
