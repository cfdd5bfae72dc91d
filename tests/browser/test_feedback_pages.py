"""The managers' feedback pages in a real browser: Customer feedback (scores by team, a figure
clicked through to its answers) and Insights (themes, a theme opened to its texts). Takes the
README's `feedback` and `insights` screenshots. The themes are found with the TF-IDF fallback
here (fast); the embedding model is tested in tests/feedback/insights/."""

from __future__ import annotations

import datetime
import random

import pytest
from django.conf import settings
from django.utils import timezone

from deskpilot.accounts.models import Role
from deskpilot.feedback import actions, voice
from deskpilot.feedback.models import Invitation, SurveyKind, SurveyReason
from tests import factories
from tests.browser.conftest import screenshot
from tests.browser.test_manager_pages import heading, sign_in
from tests.feedback.conftest import solved_ticket, survey

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, available_apps=settings.INSTALLED_APPS),
]

TOPICS = {
    "refund": "I want a refund for order {n}, the {thing} arrived broken and nobody answers",
    "password": "I cannot reset my password, the reset link for account {n} does not work",
    "delivery": "My parcel {n} is late, the delivery of the {thing} was promised last week",
    "invoice": "The invoice {n} shows the wrong company name and VAT number",
}
THINGS = ["blender", "kettle", "lamp", "chair", "printer"]
COMMENTS = {
    "refund": "Waited two weeks for my money",
    "password": "Quick and friendly, thanks",
    "delivery": "Nobody could tell me where my parcel was",
    "invoice": "Fixed the same day",
}


def desk() -> None:
    rand = random.Random(7)
    survey(delay_minutes=0, name="Satisfaction")
    SurveyReason.objects.create(kind=SurveyKind.CSAT, label="It took too long", position=0)
    teams = {name: factories.team(name=name) for name in ("Billing", "Technical")}
    for n in range(48):
        topic = list(TOPICS)[n % 4]
        team = teams["Billing"] if topic in ("refund", "invoice") else teams["Technical"]
        text = TOPICS[topic].format(n=40_000 + n, thing=rand.choice(THINGS))
        ticket = solved_ticket(f"c{n}@example.test", subject=text[:40], body_text=text, team=team)
        actions.schedule_after_solve(ticket.pk)
    actions.send_due(timezone.now() + datetime.timedelta(minutes=1))
    for n, invitation in enumerate(Invitation.objects.select_related("ticket").order_by("id")):
        topic = list(TOPICS)[n % 4]
        if n % 6 == 5:
            continue  # not everyone answers
        bad = topic in ("refund", "delivery")
        actions.record_answer(invitation, rand.choice([1, 2]) if bad else rand.choice([4, 5]))
        actions.add_comment(invitation, comment=COMMENTS[topic], reason_id=None)
    voice.analyze_new(limit=1_000)
    voice.recluster(backend="tfidf")


def test_a_manager_reads_the_scores_and_the_themes(page) -> None:
    desk()
    factories.user(Role.MANAGER, email="mia@deskpilot.test", name="Mia Manager")
    sign_in(page, "mia@deskpilot.test", "/analytics/feedback/")
    assert heading(page) == "Customer feedback"
    rows = page.locator("[data-table=feedback] tbody tr")
    assert sorted(t.strip() for t in rows.locator("th").all_text_contents()) == ["Billing", "Technical"]
    screenshot(page, "feedback")
    # Billing's CSAT opens exactly its answers.
    billing = page.locator("[data-table=feedback] tbody tr", has_text="Billing")
    billing.locator("td >> nth=0").locator("a").click()
    page.wait_for_url("**/analytics/feedback/answers?**")
    answers = page.locator("[data-answer]")
    assert answers.count() == 20  # 24 Billing surveys, one in six unanswered
    assert page.get_by_text("Waited two weeks for my money").first.is_visible()

    page.goto("/analytics/insights/")
    assert heading(page) == "Insights"
    themes = page.locator("[data-table=themes] tbody tr")
    assert themes.count() >= 3
    assert page.locator("[data-table=drivers] tbody tr").count() >= 3
    screenshot(page, "insights")
    # The theme costing the most CSAT is about refunds or deliveries, and opens its texts.
    top = page.locator("[data-table=drivers] tbody tr >> nth=0 >> th a")
    label = top.text_content() or ""
    assert any(word in label for word in ("refund", "parcel", "delivery", "order", "money", "late")), label
    top.click()
    page.wait_for_url("**/analytics/insights/themes/**")
    assert page.locator("[data-text]").count() >= 5
    assert page.outside_requests == []
