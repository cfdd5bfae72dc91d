"""Surveys after a solve (deskpilot.feedback.actions): scheduled the delay after the solve, sent
once as e-mail with signed answer links, held back for reopened, merged and spam tickets, for
customers who unsubscribed, bounce or were surveyed lately; answers recorded, replaced, and a CSAT
answer counted in the reports at once."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone

from deskpilot.accounts.models import Role
from deskpilot.analytics.models import DailyRollup, TicketMetrics
from deskpilot.core.errors import InvalidInput
from deskpilot.customers.models import CustomerEmail
from deskpilot.feedback import actions, links
from deskpilot.feedback.models import (
    FeedbackSettings,
    Invitation,
    InvitationStatus,
    SurveyKind,
    SurveyReason,
    SurveyResponse,
    Unsubscribe,
)
from deskpilot.mail.models import OutboundKind, OutboundMail
from deskpilot.tickets import actions as ticket_actions
from deskpilot.tickets.models import Status, Via
from tests import factories
from tests.feedback.conftest import DAY, solved_ticket, survey

pytestmark = pytest.mark.django_db


def later(days: float = 2) -> datetime.datetime:
    return timezone.now() + datetime.timedelta(days=days)


def test_a_solve_schedules_the_csat_survey_its_delay_later_and_sends_it_once() -> None:
    made = survey(delay_minutes=24 * 60)
    ticket = solved_ticket("ada@example.test")
    [invitation] = actions.schedule_after_solve(ticket.pk)
    assert invitation.status == InvitationStatus.SCHEDULED
    assert ticket.solved_at is not None
    assert invitation.due_at == ticket.solved_at + DAY
    assert (invitation.survey, invitation.team_id, invitation.agent_id) == (made, ticket.team_id, ticket.assignee_id)
    # Not before its time.
    assert actions.send_due(ticket.solved_at + DAY - datetime.timedelta(minutes=1)) == 0
    assert actions.send_due(later()) == 1
    assert actions.send_due(later()) == 0  # once
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.SENT
    assert invitation.address == "ada@example.test"
    mail = OutboundMail.objects.get(kind=OutboundKind.SURVEY)
    assert mail == invitation.outbound
    assert mail.to == ["ada@example.test"]
    assert mail.ticket_id == ticket.pk
    assert mail.auto_submitted == "auto-generated"
    # One link per answer of the 1-5 scale, and the unsubscribe link, in both bodies.
    for score in range(1, 6):
        assert links.answer_url(invitation.pk, score) in mail.body_text
        assert links.answer_url(invitation.pk, score).replace("&", "&amp;") in mail.body_html
    assert links.unsubscribe_url(invitation.pk) in mail.body_text
    # ...and in the List-Unsubscribe header, for the mail provider's own unsubscribe button.
    assert mail.list_unsubscribe == links.unsubscribe_url(invitation.pk)
    assert invitation.sent_at is not None
    assert invitation.expires_at == invitation.sent_at + datetime.timedelta(days=30)


def test_a_solve_whose_scheduling_was_lost_is_swept_up_once() -> None:
    """The job a solve queues can be lost (the queue down at that moment): the sweep finds
    solved tickets without their invitations, after a grace period, within its window, and only
    since the survey exists."""
    made = survey(delay_minutes=60)
    made.created_at = timezone.now() - 5 * DAY
    made.save(update_fields=["created_at"])
    lost = solved_ticket("ada@example.test")  # no job ran: nothing scheduled
    assert lost.solved_at is not None
    assert not Invitation.objects.exists()
    # The queued job's turn first.
    assert actions.schedule_missed(now=lost.solved_at + actions.MISSED_GRACE / 2) == 0
    after = lost.solved_at + actions.MISSED_GRACE + datetime.timedelta(seconds=1)
    assert actions.schedule_missed(now=after) == 1
    invitation = Invitation.objects.get()
    assert (invitation.ticket_id, invitation.status) == (lost.pk, InvitationStatus.SCHEDULED)
    assert invitation.due_at == lost.solved_at + datetime.timedelta(minutes=60)
    assert actions.schedule_missed(now=after) == 0  # once
    # Too old a solve is left alone.
    assert actions.schedule_missed(now=lost.solved_at + actions.MISSED_WINDOW + DAY) == 0


def test_the_sweep_leaves_solves_from_before_the_survey_existed_and_tickets_no_survey_applies_to() -> None:
    team, other_team = factories.team(), factories.team()
    before = solved_ticket("early@example.test", team=team)
    made = survey(delay_minutes=60, team=team)
    assert before.solved_at is not None
    assert made.created_at > before.solved_at
    others = [solved_ticket(f"c{n}@example.test", team=other_team) for n in range(3)]
    governed = solved_ticket("ada@example.test", team=team)
    later_on = timezone.now() + actions.MISSED_GRACE + datetime.timedelta(minutes=1)
    # Only the team's ticket solved since its survey: the other team's are not even looked at,
    # so however many there are they cannot crowd it out of the batch.
    assert actions.schedule_missed(now=later_on, limit=1) == 1
    assert list(Invitation.objects.values_list("ticket_id", flat=True)) == [governed.pk]
    assert all(not Invitation.objects.filter(ticket=t).exists() for t in [before, *others])


def test_the_teams_survey_in_the_customers_language_wins() -> None:
    team = factories.team()
    survey(name="Default")
    survey(name="Team", team=team)
    survey(name="Team in French", team=team, language="fr")
    survey(name="French", language="fr")
    ticket = solved_ticket(team=team)
    [invitation] = actions.schedule_after_solve(ticket.pk)
    assert invitation.survey is not None
    assert invitation.survey.name == "Team"
    ticket.requester.language = "fr"
    ticket.requester.save()
    other = solved_ticket(team=team)
    other.requester.language = "fr"
    other.requester.save()
    [invitation] = actions.schedule_after_solve(other.pk)
    assert invitation.survey is not None
    assert invitation.survey.name == "Team in French"
    elsewhere = solved_ticket()
    [invitation] = actions.schedule_after_solve(elsewhere.pk)
    assert invitation.survey is not None
    assert invitation.survey.name == "Default"


def test_no_active_survey_no_invitation_and_an_unsolved_ticket_none() -> None:
    survey(active=False)
    assert actions.schedule_after_solve(solved_ticket().pk) == []
    survey()
    assert actions.schedule_after_solve(factories.ticket().pk) == []


def test_csat_and_ces_are_both_scheduled_each_with_its_own_delay() -> None:
    survey(delay_minutes=60)
    survey(SurveyKind.CES, delay_minutes=0)
    ticket = solved_ticket()
    found = {i.kind: i for i in actions.schedule_after_solve(ticket.pk)}
    assert found.keys() == {SurveyKind.CSAT, SurveyKind.CES}
    assert found[SurveyKind.CES].due_at == ticket.solved_at
    assert found[SurveyKind.CES].values == tuple(range(1, 8))


def test_a_reopened_ticket_is_not_surveyed_until_it_is_solved_again() -> None:
    survey()
    ticket = solved_ticket()
    actions.schedule_after_solve(ticket.pk)
    ticket_actions.add_message(ticket, actor=ticket.requester, via=Via.EMAIL, body_text="Still broken")
    assert actions.send_due(later()) == 0
    invitation = Invitation.objects.get()
    assert (invitation.status, invitation.skip_reason) == (InvitationStatus.SKIPPED, actions.REOPENED)
    agent = factories.user(Role.AGENT)
    ticket.refresh_from_db()
    ticket_actions.add_message(ticket, actor=agent, via=Via.WEB, body_text="Fixed now", status=Status.SOLVED)
    [again] = actions.schedule_after_solve(ticket.pk)
    assert again.pk == invitation.pk
    assert again.status == InvitationStatus.SCHEDULED
    assert actions.send_due(later(3)) == 1
    # Once sent, a later solve does not survey the ticket again.
    ticket.refresh_from_db()
    ticket_actions.add_message(ticket, actor=ticket.requester, via=Via.EMAIL, body_text="Broken again")
    ticket.refresh_from_db()
    ticket_actions.add_message(ticket, actor=agent, via=Via.WEB, body_text="Done", status=Status.SOLVED)
    assert actions.schedule_after_solve(ticket.pk) == []
    assert Invitation.objects.count() == 1


def _skipped_reason(prepare: Any) -> str:
    survey()
    ticket = solved_ticket("lee@example.test")
    actions.schedule_after_solve(ticket.pk)
    prepare(ticket)
    assert actions.send_due(later()) == 0
    invitation = Invitation.objects.get(ticket=ticket)
    assert invitation.status == InvitationStatus.SKIPPED
    assert not OutboundMail.objects.filter(kind=OutboundKind.SURVEY).exists()
    return invitation.skip_reason


def test_spam_is_not_surveyed() -> None:
    agent = factories.user(Role.AGENT)

    def tag(ticket: Any) -> None:
        ticket_actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"tags": ["spam"]})

    assert _skipped_reason(tag) == "the ticket is spam"


def test_a_merged_ticket_is_not_surveyed() -> None:
    agent = factories.user(Role.AGENT)

    def merge(ticket: Any) -> None:
        target = factories.ticket(requester=ticket.requester)
        ticket.refresh_from_db()
        ticket_actions.merge_tickets(ticket, target, actor=agent, via=Via.WEB)

    assert _skipped_reason(merge) == "the ticket was merged into another"


def test_a_bouncing_address_is_not_surveyed() -> None:
    def bounce(ticket: Any) -> None:
        CustomerEmail.objects.filter(customer=ticket.requester).update(
            bouncing_since=timezone.now(), bounce_reason="550 no such user"
        )

    assert "bouncing since" in _skipped_reason(bounce)


def test_an_unsubscribed_customer_is_not_surveyed_anywhere() -> None:
    def leave(ticket: Any) -> None:
        Unsubscribe.objects.create(customer=ticket.requester)

    assert _skipped_reason(leave) == "the customer asked for no surveys"


def test_unsubscribing_drops_the_scheduled_invitations() -> None:
    survey()
    ticket = solved_ticket()
    actions.schedule_after_solve(ticket.pk)
    assert actions.unsubscribe(ticket.requester) is True
    assert actions.unsubscribe(ticket.requester) is False
    assert Invitation.objects.get().status == InvitationStatus.SKIPPED
    other = solved_ticket()
    other.requester = ticket.requester
    other.save()
    actions.schedule_after_solve(other.pk)
    actions.send_due(later())
    assert Invitation.objects.get(ticket=other).skip_reason == "the customer asked for no surveys"


def test_a_customer_is_surveyed_at_most_once_every_n_days() -> None:
    survey(delay_minutes=0)
    settings = FeedbackSettings.current()
    settings.throttle_days = 10
    settings.save()
    first = solved_ticket()
    actions.schedule_after_solve(first.pk)
    assert actions.send_due(later(0.01)) == 1
    second = factories.ticket(requester=first.requester)
    ticket_actions.add_message(second, actor=factories.user(Role.AGENT), via=Via.WEB, body_text="x", status="solved")
    actions.schedule_after_solve(second.pk)
    assert actions.send_due(later(5)) == 0
    assert "at most one survey every 10 days" in Invitation.objects.get(ticket=second).skip_reason
    third = factories.ticket(requester=first.requester)
    ticket_actions.add_message(third, actor=factories.user(Role.AGENT), via=Via.WEB, body_text="x", status="solved")
    actions.schedule_after_solve(third.pk)
    assert actions.send_due(later(11)) == 1


def _sent() -> Invitation:
    survey(delay_minutes=0)
    ticket = solved_ticket()
    actions.schedule_after_solve(ticket.pk)
    actions.send_due(later(0.01))
    return Invitation.objects.select_related("survey").get()


def test_answering_again_replaces_the_answer_and_the_reports_follow() -> None:
    invitation = _sent()
    assert invitation.ticket_id is not None
    first = actions.record_answer(invitation, 5)
    assert not first.changed
    assert TicketMetrics.objects.get(pk=invitation.ticket_id).csat_good is True

    def rolled(name: str) -> int:
        return sum(DailyRollup.objects.filter(dimension="all").values_list(name, flat=True))

    assert (rolled("csat_good"), rolled("csat_bad")) == (1, 0)
    again = actions.record_answer(invitation, 2)
    assert again.changed
    assert again.response.changes == 1
    assert SurveyResponse.objects.get().score == 2
    assert TicketMetrics.objects.get(pk=invitation.ticket_id).csat_good is False
    assert (rolled("csat_good"), rolled("csat_bad")) == (0, 1)
    # The same answer twice (a double click) changes nothing.
    assert not actions.record_answer(invitation, 2).changed


def test_an_answer_outside_the_scale_or_after_expiry_is_refused() -> None:
    invitation = _sent()
    with pytest.raises(InvalidInput) as error:
        actions.record_answer(invitation, 6)
    assert "score" in error.value.errors
    assert invitation.expires_at is not None
    with pytest.raises(actions.LinkExpired):
        actions.record_answer(invitation, 4, now=invitation.expires_at)
    assert not SurveyResponse.objects.exists()


def test_a_comment_and_a_reason_for_a_negative_answer_only() -> None:
    invitation = _sent()
    reason = SurveyReason.objects.create(kind=SurveyKind.CSAT, label="Too slow")
    other_kind = SurveyReason.objects.create(kind=SurveyKind.NPS, label="Price")
    with pytest.raises(InvalidInput, match="choose an answer first"):
        actions.add_comment(invitation, comment="hi", reason_id=None)
    actions.record_answer(invitation, 5)
    with pytest.raises(InvalidInput) as error:
        actions.add_comment(invitation, comment="Great", reason_id=reason.pk)
    assert "reason" in error.value.errors
    assert actions.add_comment(invitation, comment="  Great  ", reason_id=None).comment == "Great"
    actions.record_answer(invitation, 1)
    with pytest.raises(InvalidInput, match="not one of the reasons"):
        actions.add_comment(invitation, comment="", reason_id=other_kind.pk)
    response = actions.add_comment(invitation, comment="Waited a week", reason_id=reason.pk)
    assert (response.comment, response.reason) == ("Waited a week", reason)
    with pytest.raises(InvalidInput) as error:
        actions.add_comment(invitation, comment="x" * 5001, reason_id=None)
    assert "comment" in error.value.errors


def test_two_sweeps_of_the_same_moment_send_once() -> None:
    survey(delay_minutes=0)
    ticket = solved_ticket()
    [invitation] = actions.schedule_after_solve(ticket.pk)
    moment = later(0.01)
    assert actions.send(invitation.pk, now=moment) is not None
    assert actions.send(invitation.pk, now=moment) is None
    assert OutboundMail.objects.filter(kind=OutboundKind.SURVEY).count() == 1


def test_the_solve_schedules_through_the_worker(django_capture_on_commit_callbacks: Any) -> None:
    survey()
    agent = factories.user(Role.AGENT)
    ticket = factories.ticket()
    with django_capture_on_commit_callbacks(execute=True):
        ticket_actions.add_message(ticket, actor=agent, via=Via.WEB, body_text="Done", status=Status.SOLVED)
    assert Invitation.objects.filter(ticket=ticket, status=InvitationStatus.SCHEDULED).count() == 1
