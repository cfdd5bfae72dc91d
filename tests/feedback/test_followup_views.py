"""Follow-ups of negative answers (deskpilot.feedback.actions and followup_views): opened for the
team's lead when the survey asks for it, once per answer; closed with an outcome the manager can
show later; mistakes named."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from deskpilot.accounts.models import Role
from deskpilot.feedback import actions
from deskpilot.feedback.models import FollowUp, Invitation
from tests import factories
from tests.feedback.conftest import solved_ticket, survey

pytestmark = pytest.mark.django_db


def sent(follow_up: bool = True) -> Invitation:
    survey(delay_minutes=0, follow_up_negative=follow_up)
    lead = factories.user(Role.AGENT, name="Lena Lead")
    team = factories.team(lead=lead, members=[lead])
    ticket = solved_ticket(team=team)
    actions.schedule_after_solve(ticket.pk)
    actions.send_due(timezone.now() + datetime.timedelta(minutes=1))
    return Invitation.objects.select_related("survey").get()


def test_a_negative_answer_opens_one_follow_up_for_the_teams_lead() -> None:
    invitation = sent()
    actions.record_answer(invitation, 4)
    assert not FollowUp.objects.exists()
    actions.record_answer(invitation, 2)
    actions.record_answer(invitation, 1)
    actions.record_answer(invitation, 5)
    actions.record_answer(invitation, 1)
    follow_up = FollowUp.objects.get()
    assert follow_up.owner is not None
    assert follow_up.owner.name == "Lena Lead"
    assert follow_up.team_id == invitation.team_id


def test_no_follow_up_unless_the_survey_asks() -> None:
    invitation = sent(follow_up=False)
    actions.record_answer(invitation, 1)
    assert not FollowUp.objects.exists()


def test_the_queue_closes_with_an_outcome_and_keeps_the_record() -> None:
    invitation = sent()
    actions.record_answer(invitation, 1)
    actions.add_comment(invitation, comment="Nobody listened", reason_id=None)
    follow_up = FollowUp.objects.get()
    manager = factories.user(Role.MANAGER, name="Mia Manager")
    client = Client()
    client.force_login(manager)
    page = client.get(reverse("feedback_follow_ups:list")).content.decode()
    assert f'data-follow-up="{follow_up.pk}"' in page
    assert "Nobody listened" in page
    assert "1 of 5" in page
    bad = client.post(reverse("feedback_follow_ups:close", args=[follow_up.pk]), {"outcome": "", "notes": "Tried"})
    assert bad.status_code == 422
    assert 'data-error="outcome"' in bad.content.decode()
    assert "Tried" in bad.content.decode()
    follow_up.refresh_from_db()
    assert follow_up.closed_at is None
    done = client.post(
        reverse("feedback_follow_ups:close", args=[follow_up.pk]), {"outcome": "resolved", "notes": "Refunded"}
    )
    assert done.status_code == 302
    follow_up.refresh_from_db()
    assert (follow_up.outcome, follow_up.notes, follow_up.closed_by) == ("resolved", "Refunded", manager)
    assert f'data-follow-up="{follow_up.pk}"' not in client.get(reverse("feedback_follow_ups:list")).content.decode()
    closed = client.get(reverse("feedback_follow_ups:list") + "?show=closed").content.decode()
    assert "Reached: put right" in closed
    assert "Refunded" in closed
    assert "Mia Manager" in closed
    client.post(reverse("feedback_follow_ups:reopen", args=[follow_up.pk]))
    follow_up.refresh_from_db()
    assert (follow_up.closed_at, follow_up.outcome) == (None, "")


def test_a_team_lead_sees_and_closes_their_teams_follow_ups_only() -> None:
    invitation = sent()
    actions.record_answer(invitation, 1)
    follow_up = FollowUp.objects.get()
    assert follow_up.owner is not None
    lead = Client()
    lead.force_login(follow_up.owner)
    page = lead.get(reverse("feedback_follow_ups:list")).content.decode()
    assert f'data-follow-up="{follow_up.pk}"' in page
    assert "(you)" in page
    # Another team's lead sees the page, but not this follow-up, and cannot close it.
    other_lead = factories.user(Role.AGENT)
    factories.team(lead=other_lead, members=[other_lead])
    other = Client()
    other.force_login(other_lead)
    assert f'data-follow-up="{follow_up.pk}"' not in other.get(reverse("feedback_follow_ups:list")).content.decode()
    refused = other.post(reverse("feedback_follow_ups:close", args=[follow_up.pk]), {"outcome": "resolved"})
    assert refused.status_code == 404
    # An agent who leads nothing gets no page at all.
    agent = Client()
    agent.force_login(factories.user(Role.AGENT))
    assert agent.get(reverse("feedback_follow_ups:list")).status_code == 404
    done = lead.post(reverse("feedback_follow_ups:close", args=[follow_up.pk]), {"outcome": "reached", "notes": ""})
    assert done.status_code == 302
    follow_up.refresh_from_db()
    assert (follow_up.outcome, follow_up.closed_by) == ("reached", follow_up.owner)
