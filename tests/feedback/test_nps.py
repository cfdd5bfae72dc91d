"""NPS, the relationship survey (deskpilot.feedback.actions): sent on its schedule to a segment of
customers (organization, tier, tag, active lately), without a ticket, throttled like every survey;
the manager sets it up on the survey form."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from deskpilot.accounts.models import Role
from deskpilot.feedback import actions, links
from deskpilot.feedback.models import FeedbackSettings, Invitation, InvitationStatus, Survey, SurveyKind, Unsubscribe
from deskpilot.mail.models import OutboundKind, OutboundMail
from deskpilot.tickets import actions as ticket_actions
from deskpilot.tickets.models import Via
from tests import factories
from tests.feedback.conftest import survey

pytestmark = pytest.mark.django_db


def nps(**fields: Any) -> Survey:
    return survey(SurveyKind.NPS, frequency="quarterly", **fields)


def test_a_quarterly_nps_goes_to_the_segment_once_a_quarter_without_a_ticket() -> None:
    acme = factories.organization(name="Acme", tier="enterprise")
    inside = [factories.customer(organization=acme) for _ in range(3)]
    outside = factories.customer()
    made = nps(segment_organization=acme)
    now = timezone.now()
    assert actions.send_due(now) == 3
    invitations = list(Invitation.objects.filter(kind=SurveyKind.NPS))
    assert {i.customer_id for i in invitations} == {c.pk for c in inside}
    assert outside.pk not in {i.customer_id for i in invitations}
    assert all(i.ticket_id is None and i.status == InvitationStatus.SENT for i in invitations)
    mail = OutboundMail.objects.filter(kind=OutboundKind.SURVEY).first()
    assert mail is not None
    assert mail.ticket_id is None
    assert mail.in_reply_to == ""
    assert "@" in mail.reply_to
    assert "+t" not in mail.reply_to
    assert links.answer_url(invitations[0].pk, 10) in " ".join(m.body_text for m in OutboundMail.objects.all())
    made.refresh_from_db()
    assert made.next_run_at == now + datetime.timedelta(days=91)
    # Not again before the next run; then again (throttled customers are skipped when sent).
    assert actions.plan_relationship_surveys(now + datetime.timedelta(days=30)) == 0
    assert actions.plan_relationship_surveys(now + datetime.timedelta(days=92)) == 3


def test_the_segment_by_tier_tag_and_activity() -> None:
    gold = factories.organization(tier="enterprise")
    by_org_tier = factories.customer(organization=gold)
    own_tier = factories.customer()
    own_tier.tier = "enterprise"
    own_tier.save()
    factories.customer()  # standard tier
    nps(segment_tier="enterprise")
    now = timezone.now()
    assert set(actions.segment(Survey.objects.get(), now).values_list("pk", flat=True)) == {by_org_tier.pk, own_tier.pk}
    tagged = factories.ticket(requester=factories.customer())
    ticket_actions.update_ticket(tagged, actor=factories.user(Role.AGENT), via=Via.WEB, changes={"tags": ["beta"]})
    idle = factories.customer()
    survey_ = Survey.objects.get()
    survey_.segment_tier, survey_.segment_tag = "", "beta"
    assert list(actions.segment(survey_, now).values_list("pk", flat=True)) == [tagged.requester_id]
    survey_.segment_tag, survey_.segment_active_days = "", 30
    active = set(actions.segment(survey_, now).values_list("pk", flat=True))
    assert tagged.requester_id in active
    assert idle.pk not in active


def test_unsubscribed_and_recently_surveyed_customers_are_left_out() -> None:
    customers = [factories.customer() for _ in range(3)]
    Unsubscribe.objects.create(customer=customers[0])
    FeedbackSettings.objects.create(pk=1, throttle_days=30)
    recent = Invitation.objects.create(
        kind=SurveyKind.CSAT, customer=customers[1], status=InvitationStatus.SENT,
        due_at=timezone.now(), sent_at=timezone.now() - datetime.timedelta(days=3),
    )  # fmt: skip
    nps()
    assert actions.send_due(timezone.now()) == 1
    sent = Invitation.objects.filter(kind=SurveyKind.NPS, status=InvitationStatus.SENT)
    assert [i.customer_id for i in sent] == [customers[2].pk]
    skipped = Invitation.objects.get(kind=SurveyKind.NPS, customer=customers[1])
    assert "at most one survey every 30 days" in skipped.skip_reason
    assert recent.pk != skipped.pk
    assert not Invitation.objects.filter(kind=SurveyKind.NPS, customer=customers[0]).exists()


def test_a_detractor_answer_and_the_manager_form() -> None:
    customer = factories.customer()
    nps()
    actions.send_due(timezone.now())
    invitation = Invitation.objects.get(customer=customer)
    actions.record_answer(invitation, 3)
    assert invitation.response.score == 3
    client = Client()
    client.force_login(factories.user(Role.MANAGER))
    page = client.get(reverse("feedback_manage:new") + "?kind=nps").content.decode()
    assert "data-nps-schedule" in page
    assert "How likely are you to recommend us" in page
    org = factories.organization()
    response = client.post(
        reverse("feedback_manage:new"),
        {
            "kind": "nps", "name": "Enterprise NPS", "language": "fr", "scale": "five", "delay_minutes": "0",
            "subject": "Une question", "intro": "Bonjour", "question": "Nous recommanderiez-vous ?",
            "comment_prompt": "Pourquoi ?", "thanks": "Merci", "frequency": "monthly",
            "segment_organization": org.pk, "segment_tier": "enterprise", "segment_tag": " beta ",
            "segment_active_days": "90", "active": "on",
        },
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:500]
    made = Survey.objects.get(name="Enterprise NPS")
    assert (made.frequency, made.segment_organization, made.segment_tier, made.segment_tag) == (
        "monthly", org, "enterprise", "beta",
    )  # fmt: skip
    assert made.segment_active_days == 90
