"""Voice of the customer in the database (deskpilot.feedback.voice): new customer texts get their
sentiment and theme by the job, the nightly clustering keeps the numbers of themes that did not
change, and the Insights page shows trends and drivers that open their tickets. The TF-IDF
fallback is used here (fast, and always installed); the embedding model is tested in
tests/feedback/insights/."""

from __future__ import annotations

import datetime
import random

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from deskpilot.accounts.models import Role
from deskpilot.analytics import ticket_metrics
from deskpilot.feedback import voice
from deskpilot.feedback.models import InsightCursor, TextInsight, Theme, ThemeRun
from deskpilot.tickets import actions as ticket_actions
from deskpilot.tickets.models import Ticket, Via
from tests import factories

pytestmark = pytest.mark.django_db

TOPICS = {
    "refund": [
        "I want a refund for order {n}, the blender arrived broken",
        "Please refund my money, the product {n} was damaged",
        "Still waiting for my refund of order {n}, this is unacceptable",
        "How long does a refund take? Order {n} was returned last week",
    ],
    "password": [
        "I cannot reset my password, the reset link {n} does not work",
        "Password reset email never arrives for account {n}",
        "Locked out of my account {n} after the password change",
        "The password reset page shows an error {n}",
    ],
    "delivery": [
        "My parcel {n} is late, the delivery was promised on Monday",
        "Where is my delivery {n}? Tracking has not moved in days",
        "The courier lost parcel {n}, delivery never happened",
        "Delivery of order {n} is two weeks late",
    ],
}


def write(topic: str, n: int) -> str:
    return random.Random(n).choice(TOPICS[topic]).format(n=10_000 + n)


def customer_messages(per_topic: int = 30) -> dict[str, list[int]]:
    tickets: dict[str, list[int]] = {topic: [] for topic in TOPICS}
    n = 0
    for topic in TOPICS:
        for _ in range(per_topic):
            n += 1
            tickets[topic].append(factories.ticket(subject=f"{topic} {n}", body_text=write(topic, n)).pk)
    return tickets


def test_new_customer_texts_get_their_sentiment_and_the_cursor_moves() -> None:
    agent = factories.user(Role.AGENT)
    angry = factories.ticket(body_text="This is the worst service ever. I am furious, nothing works!")
    happy = factories.ticket(body_text="Thank you so much, you were wonderful and fixed it quickly!")
    ticket_actions.add_message(angry, actor=agent, via=Via.WEB, body_text="Sorry to hear that, terrible indeed")
    assert voice.analyze_new() == 2  # the agent's reply is not a customer's text
    found = {i.ticket_id: i for i in TextInsight.objects.all()}
    assert found[angry.pk].sentiment == "negative"
    assert found[angry.pk].sentiment_score <= -0.5
    assert found[happy.pk].sentiment == "positive"
    assert found[angry.pk].theme_id is None  # no clustering yet
    assert voice.analyze_new() == 0
    assert InsightCursor.objects.get().last_message_id == max(i.message_id or 0 for i in found.values())
    later = factories.ticket(body_text="Another question")
    assert voice.analyze_new() == 1
    assert TextInsight.objects.filter(ticket=later).exists()


def _topic_of(tickets: dict[str, list[int]]) -> dict[int, str]:
    return {pk: topic for topic, ids in tickets.items() for pk in ids}


def test_the_clustering_finds_the_topics_and_keeps_their_numbers() -> None:
    tickets = customer_messages()
    topic_of = _topic_of(tickets)
    voice.analyze_new(limit=1_000)
    result = voice.recluster(backend="tfidf")
    assert result.run is not None
    assert result.run.backend == "tfidf"
    assert result.run.embedder
    assert result.texts == 90
    # The texts are written in four phrasings per topic: a theme per topic or per phrasing, but
    # never one that mixes topics.
    assert 3 <= result.run.themes <= 15
    placed = dict(TextInsight.objects.filter(theme__isnull=False).values_list("ticket_id", "theme__number"))
    assert len(placed) >= 0.9 * 90
    for number in set(placed.values()):
        topics = {topic_of[pk] for pk, n in placed.items() if n == number}
        assert len(topics) == 1, (number, topics)
    refund_themes = {n for pk, n in placed.items() if topic_of[pk] == "refund"}
    assert any("refund" in Theme.objects.get(number=n).keywords for n in refund_themes)
    # A new message joins a refund theme by the job, with the stored model.
    new = factories.ticket(body_text="I want a refund for order 55555, the blender arrived broken")
    voice.analyze_new()
    assert TextInsight.objects.get(ticket=new).theme.number in refund_themes  # type: ignore[union-attr]
    # Clustered again on the same content: the same numbers.
    again = voice.recluster(backend="tfidf")
    assert again.run is not None
    assert again.new_themes == 0
    assert again.kept_themes == result.run.themes
    now_placed = dict(TextInsight.objects.filter(theme__isnull=False).values_list("ticket_id", "theme__number"))
    same = sum(1 for pk, n in placed.items() if now_placed.get(pk) == n)
    assert same >= 0.95 * len(placed)
    assert ThemeRun.objects.count() == 2


def test_the_first_run_starts_at_the_last_90_days_and_a_run_catches_up_a_backlog() -> None:
    old = factories.ticket(body_text="An old question")
    old_message = old.messages.get()
    old_message.created_at = timezone.now() - datetime.timedelta(days=200)
    old_message.save()
    recent = [factories.ticket(body_text=f"Recent question {n}") for n in range(7)]
    assert voice.analyze_for(30, now=timezone.now()) == 7
    assert not TextInsight.objects.filter(ticket=old).exists()
    assert TextInsight.objects.filter(ticket__in=recent).count() == 7
    assert voice.analyze_for(30) == 0


def test_too_few_texts_are_not_clustered() -> None:
    factories.ticket(body_text="Hello")
    voice.analyze_new()
    assert voice.recluster(backend="tfidf").run is None


def test_trends_drivers_and_the_insights_page() -> None:
    tickets = customer_messages(per_topic=25)
    voice.analyze_new(limit=1_000)
    voice.recluster(backend="tfidf")
    now = timezone.now()
    theme = TextInsight.objects.get(ticket_id=tickets["refund"][0]).theme
    assert theme is not None
    members = list(TextInsight.objects.filter(theme=theme).values_list("ticket_id", flat=True))
    assert len(members) >= 4
    # Two of the theme's texts were written ten days ago: this week is a rise on last week.
    TextInsight.objects.filter(ticket_id__in=members[:2]).update(at=now - datetime.timedelta(days=10))
    # Every ticket solved; the refund ones rated bad, the others good (as a survey answer would,
    # moving the record and the rollups).
    agent = factories.user(Role.AGENT)
    with transaction.atomic():
        for topic, ids in tickets.items():
            for pk in ids:
                ticket_actions.add_message(
                    Ticket.objects.get(pk=pk), actor=agent, via=Via.WEB, body_text="Done", status="solved"
                )
                ticket_metrics.set_csat(pk, topic != "refund")
    trend = {t.theme.pk: t for t in voice.trends(now)}[theme.pk]
    assert trend.weekly[-2:] == [2, len(members) - 2]
    assert trend.new
    assert trend.change == len(members) - 4
    top = voice.drivers(now)[0]
    refund_themes = set(TextInsight.objects.filter(ticket_id__in=tickets["refund"]).values_list("theme", flat=True))
    assert top.theme.pk in refund_themes
    assert top.csat == 0.0
    assert top.csat_gap is not None
    assert top.csat_gap > 50
    client = Client()
    client.force_login(factories.user(Role.MANAGER))
    page = client.get(reverse("insights:page"))
    assert page.status_code == 200
    body = page.content.decode()
    assert 'data-table="themes"' in body
    assert 'data-table="drivers"' in body
    assert f'href="{reverse("insights:theme", args=[theme.pk])}"' in body
    theme_page = client.get(reverse("insights:theme", args=[theme.pk])).content.decode()
    assert theme_page.count("data-text=") == len(members)
    assert "refund" in theme_page.lower()
    assert client.get(reverse("insights:theme", args=[999_999])).status_code == 404
    api = client.get("/api/v1/feedback/themes").json()["items"]
    item = next(i for i in api if i["number"] == theme.number)
    assert item["weekly"][-2:] == [2, len(members) - 2]
    assert item["new"] is True
    assert next(i for i in api if i["number"] == top.theme.number)["csat_90d"] == 0.0


def test_a_changed_survey_comment_is_analysed_again() -> None:
    from deskpilot.feedback import actions
    from tests.feedback.test_views import sent

    invitation = sent()
    actions.record_answer(invitation, 1)
    actions.add_comment(invitation, comment="Terrible, nobody helped me", reason_id=None)
    voice.analyze_new()
    first = TextInsight.objects.get(response__isnull=False)
    assert first.sentiment == "negative"
    actions.add_comment(invitation, comment="Actually it was great, thanks a lot!", reason_id=None)
    voice.analyze_new()
    assert TextInsight.objects.get(response__isnull=False).sentiment == "positive"


def test_the_insights_command_analyses_and_reclusters(capsys: pytest.CaptureFixture[str]) -> None:
    from deskpilot import cli

    customer_messages(per_topic=10)
    assert cli.main(["insights", "analyze"]) == 0
    assert "Analysed 30 texts." in capsys.readouterr().out
    assert cli.main(["insights", "recluster", "--backend", "tfidf"]) == 0
    out = capsys.readouterr().out
    assert "themes from 30 texts (tfidf" in out
    assert ThemeRun.objects.count() == 1
    assert cli.main(["insights", "recluster", "--backend", "magic"]) == 2
    assert "--backend" in capsys.readouterr().err
