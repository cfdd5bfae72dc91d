"""A customer answers a satisfaction survey from its e-mail in a real browser: the one-click link
records the answer (the page submits itself), the follow-up asks why and takes a comment, and the
answer reaches the reports; a forged link shows a friendly page. Takes the README's screenshot."""

from __future__ import annotations

import datetime
import re
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.utils import timezone

from deskpilot.analytics.models import TicketMetrics
from deskpilot.feedback import actions
from deskpilot.feedback.models import Invitation, SurveyKind, SurveyReason, SurveyResponse
from deskpilot.mail.models import OutboundKind, OutboundMail
from tests.browser.conftest import screenshot
from tests.feedback.conftest import solved_ticket, survey

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, available_apps=settings.INSTALLED_APPS),
]


def test_a_customer_answers_from_the_email_link(page) -> None:
    survey(delay_minutes=0, name="Satisfaction")
    SurveyReason.objects.create(kind=SurveyKind.CSAT, label="It took too long", position=0)
    SurveyReason.objects.create(kind=SurveyKind.CSAT, label="The answer did not help", position=1)
    ticket = solved_ticket("grace@example.test", subject="Printer prints blank pages")
    actions.schedule_after_solve(ticket.pk)
    actions.send_due(timezone.now() + datetime.timedelta(minutes=1))
    mail = OutboundMail.objects.get(kind=OutboundKind.SURVEY)
    # The link for "2 of 5", as the customer's mail client shows it.
    [link] = re.findall(r"2 of 5: (\S+)", mail.body_text)
    page.goto(urlsplit(link).path)
    page.wait_for_url(re.compile(r"/feedback/[^/]+/$"))
    assert page.locator("[data-answer]").get_attribute("data-answer") == "2"
    assert SurveyResponse.objects.get().score == 2
    page.select_option("#survey-reason", label="It took too long")
    page.fill("#survey-comment", "Three days for a reply.")
    screenshot(page, "survey-answer")
    page.get_by_role("button", name="Send").click()
    page.get_by_role("status").wait_for()
    saved = SurveyResponse.objects.select_related("reason").get()
    assert (saved.comment, saved.reason.label if saved.reason else None) == (
        "Three days for a reply.",
        "It took too long",
    )
    assert TicketMetrics.objects.get(pk=ticket.pk).csat_good is False
    # Changing one's mind on the same page replaces the answer.
    page.locator('button[data-score="4"]').click()
    page.wait_for_url(re.compile(r"/feedback/[^/]+/$"))
    assert page.locator("[data-answer]").get_attribute("data-answer") == "4"
    assert SurveyResponse.objects.get().score == 4
    assert Invitation.objects.count() == 1
    # A forged link: a friendly page, no answer.
    response = page.goto("/feedback/MQ:forged/answer/5")
    assert response is not None
    assert response.status == 404
    assert page.get_by_role("heading", name="Survey not found").is_visible()
    assert SurveyResponse.objects.get().score == 4
