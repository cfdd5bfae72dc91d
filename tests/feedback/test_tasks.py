"""The survey jobs (deskpilot.feedback.tasks): registered under their names, the sender every
minute, and each does its work when run."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules
from huey.api import PeriodicTask
from huey.contrib.djhuey import HUEY

from deskpilot.feedback import tasks
from deskpilot.feedback.models import Invitation, InvitationStatus
from tests.feedback.conftest import solved_ticket, survey
from tests.queues import runs_every_minute

pytestmark = pytest.mark.django_db


def test_the_jobs_are_named_registered_and_the_periodic_ones_scheduled() -> None:
    assert tasks.send_surveys.name == "feedback.send_surveys"
    assert tasks.schedule_surveys.name == "feedback.schedule_surveys"
    assert issubclass(tasks.send_surveys.task_class, PeriodicTask)
    autodiscover_modules("tasks")
    assert "feedback.send_surveys" in {t.name for t in HUEY._registry.periodic_tasks}
    assert runs_every_minute(tasks.send_surveys)
    assert runs_every_minute(tasks.analyze_texts)
    periodic = {t.name for t in HUEY._registry.periodic_tasks}
    assert {"feedback.analyze_texts", "feedback.recluster_themes"} <= periodic
    # The nightly clustering: once a day, at 02:30.
    moments = [datetime.datetime(2026, 12, 3, h, m) for h in range(24) for m in range(60)]
    assert [m for m in moments if tasks.recluster_themes.task_class().validate_datetime(m)] == [
        datetime.datetime(2026, 12, 3, 2, 30)
    ]


def test_the_jobs_schedule_then_send() -> None:
    survey(delay_minutes=30)
    ticket = solved_ticket()
    assert tasks.schedule_surveys.call_local(ticket.pk) == 1
    assert Invitation.objects.get().status == InvitationStatus.SCHEDULED
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=31)):
        assert tasks.send_surveys.call_local() == 1
    assert Invitation.objects.get().status == InvitationStatus.SENT


def test_a_desk_never_clustered_gets_its_first_themes_once_its_texts_are_analysed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from django.core.cache import cache

    from deskpilot.feedback import voice
    from deskpilot.feedback.models import ThemeRun
    from tests import factories

    assert tasks.find_first_themes.name == "feedback.find_first_themes"
    queued: list[int] = []
    monkeypatch.setattr(tasks, "find_first_themes", lambda: queued.append(1))
    cache.delete(tasks.FIRST_THEMES_LOCK)
    for n in range(voice.MIN_TEXTS - 1):
        factories.ticket(subject=f"Refund {n}", body_text=f"I want a refund for order {n}")
    assert tasks.analyze_texts.call_local() == voice.MIN_TEXTS - 1
    assert tasks.analyze_texts.call_local() == 0
    assert queued == []  # too few texts for themes
    factories.ticket(subject="Refund", body_text="Where is my refund?")
    assert tasks.analyze_texts.call_local() == 1  # still analysing: not yet
    assert queued == []
    assert tasks.analyze_texts.call_local() == 0
    assert queued == [1]  # the backlog is done: the first clustering is queued
    assert tasks.analyze_texts.call_local() == 0
    assert queued == [1]  # once
    # A desk already clustered waits for the night.
    cache.delete(tasks.FIRST_THEMES_LOCK)
    ThemeRun.objects.create(
        created_at=timezone.now(), backend="tfidf", texts=20, themes=1, unthemed=0, threshold=0.5, seconds=1.0
    )
    assert tasks.analyze_texts.call_local() == 0
    assert queued == [1]
