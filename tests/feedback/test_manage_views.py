"""The manager's survey pages (deskpilot.feedback.manage_views): create, edit, turn off, delete,
the desk's settings and the reasons list; mistakes named next to their field (422) and nothing
already saved lost."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from deskpilot.accounts.models import Role
from deskpilot.feedback.models import FeedbackSettings, Invitation, InvitationStatus, Survey, SurveyReason
from tests import factories
from tests.feedback.conftest import survey

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager() -> Client:
    client = Client()
    client.force_login(factories.user(Role.MANAGER))
    return client


def form_data(**changes: Any) -> dict[str, Any]:
    data = {
        "kind": "csat",
        "name": "After a solve",
        "active": "on",
        "team": "",
        "language": "",
        "scale": "three",
        "delay_minutes": "60",
        "subject": "How did we do on {{ ticket.subject }}?",
        "intro": "Hello {{ customer.name }},",
        "question": "How satisfied are you?",
        "comment_prompt": "Anything else?",
        "thanks": "Thanks!",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_a_new_survey_starts_from_the_built_in_texts_and_is_saved(manager: Client) -> None:
    page = manager.get(reverse("feedback_manage:new") + "?kind=ces").content.decode()
    assert "It was easy to get my issue handled." in page
    response = manager.post(reverse("feedback_manage:new"), form_data(language="FR"))
    assert response.status_code == 302
    made = Survey.objects.get()
    assert (made.kind, made.scale, made.delay_minutes, made.language, made.active) == ("csat", "three", 60, "fr", True)
    listed = manager.get(reverse("feedback_manage:list")).content.decode()
    assert "After a solve" in listed
    assert 'data-table="surveys"' in listed


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": ""}, "name"),
        ({"subject": "{% if %}"}, "subject"),
        ({"intro": "{{ customer.name|nosuchfilter }}"}, "intro"),
        ({"delay_minutes": "-5"}, "delay_minutes"),
        ({"language": "en us"}, "language"),
        ({"scale": "ten"}, "scale"),
    ],
)
def test_mistakes_are_named_and_nothing_is_saved(manager: Client, changes: dict[str, str], field: str) -> None:
    response = manager.post(reverse("feedback_manage:new"), form_data(**changes))
    assert response.status_code == 422
    assert f'id="id_{field}_error"' in response.content.decode()
    assert not Survey.objects.exists()


def test_two_active_surveys_for_the_same_team_and_language_are_refused(manager: Client) -> None:
    survey(name="First")
    response = manager.post(reverse("feedback_manage:new"), form_data())
    assert response.status_code == 422
    assert "turn it off first" in response.content.decode()
    # Off, it may be kept beside the active one; another team may have its own.
    assert manager.post(reverse("feedback_manage:new"), form_data(active=None)).status_code == 302
    team = factories.team()
    assert manager.post(reverse("feedback_manage:new"), form_data(team=team.pk)).status_code == 302
    assert Survey.objects.count() == 3


def test_an_edit_keeps_the_kind_and_a_delete_stops_what_is_scheduled(manager: Client) -> None:
    made = survey()
    response = manager.post(reverse("feedback_manage:edit", args=[made.pk]), form_data(kind="nps", name="Renamed"))
    assert response.status_code == 302
    made.refresh_from_db()
    assert (made.name, made.kind) == ("Renamed", "csat")
    ticket = factories.ticket()
    Invitation.objects.create(
        kind="csat", survey=made, customer=ticket.requester, ticket=ticket, due_at=ticket.created_at
    )
    page = manager.get(reverse("feedback_manage:delete", args=[made.pk])).content.decode()
    assert "1 invitation waiting to go out will not be sent" in page
    assert manager.post(reverse("feedback_manage:delete", args=[made.pk])).status_code == 302
    assert not Survey.objects.exists()
    invitation = Invitation.objects.get()
    assert (invitation.status, invitation.skip_reason) == (InvitationStatus.SKIPPED, "the survey was deleted")


def test_settings_are_checked_and_saved(manager: Client) -> None:
    bad = manager.post(reverse("feedback_manage:settings"), {"throttle_days": "400", "link_days": "0"})
    assert bad.status_code == 422
    body = bad.content.decode()
    assert 'id="id_throttle_days_error"' in body
    assert 'id="id_link_days_error"' in body
    assert FeedbackSettings.current().throttle_days == 30
    assert (
        manager.post(reverse("feedback_manage:settings"), {"throttle_days": "7", "link_days": "10"}).status_code == 302
    )
    settings = FeedbackSettings.current()
    assert (settings.throttle_days, settings.link_days) == (7, 10)


def test_reasons_are_a_list_in_order_and_a_removed_one_is_retired(manager: Client) -> None:
    url = reverse("feedback_manage:reasons")
    assert (
        manager.post(url, {"kind": "csat", "reasons": "Too slow\n\n  Rude  \ntoo slow\nNot solved"}).status_code == 302
    )
    assert list(SurveyReason.objects.filter(active=True).values_list("label", flat=True)) == [
        "Too slow",
        "Rude",
        "Not solved",
    ]
    kept = SurveyReason.objects.get(label="Too slow")
    manager.post(url, {"kind": "csat", "reasons": "Not solved\nToo slow"})
    assert list(SurveyReason.objects.filter(active=True).values_list("label", flat=True)) == ["Not solved", "Too slow"]
    assert SurveyReason.objects.get(label="Too slow").pk == kept.pk
    assert not SurveyReason.objects.get(label="Rude").active
    too_long = manager.post(url, {"kind": "csat", "reasons": "x" * 201})
    assert too_long.status_code == 422
    assert 'id="id_reasons_error"' in too_long.content.decode()
