"""The managers' policy pages: SLA policies (with the target matrix), escalation policies,
calendars and calendar assignments. Refused input re-renders with 422 and the error next to its
field; list pages cost the same number of queries however many rows they show."""

from __future__ import annotations

import datetime
import re
from typing import Any
from unittest import mock

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from deskpilot.accounts.models import Role
from deskpilot.policies import sla_actions
from deskpilot.policies.models import (
    BusinessCalendar,
    CustomHoliday,
    DefaultCalendar,
    EscalationPolicy,
    OrganizationCalendar,
    SlaPolicy,
    SlaTarget,
    TeamCalendar,
)
from tests import factories
from tests.pages import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def recompute_job() -> Any:
    """The recompute job itself is tested in test_sla_actions; here it only has to be asked for."""
    with mock.patch("deskpilot.policies.tasks.recompute_unsolved") as job:
        yield job


@pytest.fixture
def manager() -> Client:
    return client_for(factories.user(Role.MANAGER))


def _policy_form(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"name": "Premium", "active": "on", "warning_percent": "75"}
    data.update(overrides)
    return data


def test_create_a_policy_through_the_page(
    manager: Client, recompute_job: Any, django_capture_on_commit_callbacks: Any
) -> None:
    team = factories.team(name="Billing")
    org = factories.organization(name="Acme")
    calendar = sla_actions.create_calendar(name="Office")
    with django_capture_on_commit_callbacks(execute=True):
        response = manager.post(
            reverse("policies:sla_new"),
            _policy_form(
                priorities=["urgent", "high"],
                teams=[str(team.pk)],
                organizations=[str(org.pk)],
                tiers=["premium"],
                channels=["email"],
                types=["incident"],
                tags="VIP, key account",
                calendar=str(calendar.pk),
                targets_urgent_first_reply="30",
                targets_high_first_reply="60",
                targets_high_first_reply_business="on",
                targets_urgent_total_resolution="480",
                **{f"group_ownership_{team.pk}": "240", f"group_ownership_{team.pk}_business": "on"},
            ),
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    policy = SlaPolicy.objects.get(name="Premium")
    assert response["Location"] == reverse("policies:sla_list") + f"#policy-{policy.pk}"
    assert policy.priorities == ["urgent", "high"]
    assert policy.teams == [team.pk]
    assert policy.organizations == [org.pk]
    assert policy.tags == ["key-account", "vip"]
    assert policy.calendar_id == calendar.pk
    assert set(policy.targets.values_list("metric", "priority", "team_id", "minutes", "business_hours")) == {
        ("first_reply", "urgent", None, 30, False),
        ("first_reply", "high", None, 60, True),
        ("total_resolution", "urgent", None, 480, False),
        ("group_ownership", "", team.pk, 240, True),
    }
    assert recompute_job.called

    listing = manager.get(reverse("policies:sla_list")).content.decode()
    assert "Premium" in listing
    assert "Priority: Urgent, High" in listing
    assert "Organization: Acme" in listing
    assert "First reply: Urgent 30 m, High 1 h (business)" in listing
    assert "Group ownership: Billing 4 h (business)" in listing


def test_a_mistake_is_shown_next_to_its_cell_with_422(manager: Client) -> None:
    response = manager.post(reverse("policies:sla_new"), _policy_form(targets_urgent_first_reply="0"))
    assert response.status_code == 422
    body = response.content.decode()
    assert 'id="id_targets_urgent_first_reply_error"' in body
    assert "must be a whole number of minutes above 0" in body
    assert 'aria-invalid="true"' in body
    assert not SlaPolicy.objects.exists()

    # A value no checkbox offers gets the action's explanation, next to the conditions' field.
    response = manager.post(reverse("policies:sla_new"), _policy_form(priorities=["urgentt"]))
    assert response.status_code == 422
    body = response.content.decode()
    assert "&#x27;urgentt&#x27; is not a priority (low, normal, high, urgent)" in body
    assert 'id="id_priorities_error"' in body

    response = manager.post(reverse("policies:sla_new"), _policy_form(warning_percent="150"))
    assert response.status_code == 422
    assert "must be a whole number from 1 to 99" in response.content.decode()
    assert not SlaPolicy.objects.exists()


def test_edit_a_policy(manager: Client) -> None:
    policy = sla_actions.create_sla_policy(
        name="Standard",
        priorities=["normal"],
        targets={"normal": {"first_reply": {"minutes": 60, "business_hours": False}}},
    )
    page = manager.get(reverse("policies:sla_edit", args=[policy.pk])).content.decode()
    assert 'name="targets_normal_first_reply" value="60"' in page
    assert re.search(r'name="priorities" value="normal"[^>]* checked', page)
    assert not re.search(r'name="targets_normal_first_reply_business"[^>]* checked', page)

    response = manager.post(
        reverse("policies:sla_edit", args=[policy.pk]),
        _policy_form(name="Standard v2", targets_normal_next_reply="120", targets_normal_next_reply_business="on"),
    )
    assert response.status_code == 302
    policy.refresh_from_db()
    assert policy.name == "Standard v2"
    assert policy.priorities == []
    # The whole matrix is what the form showed: first reply was emptied, next reply added.
    assert list(policy.targets.values_list("metric", "priority", "minutes", "business_hours")) == [
        ("next_reply", "normal", 120, True)
    ]

    other = sla_actions.create_sla_policy(name="Other")
    response = manager.post(reverse("policies:sla_edit", args=[other.pk]), _policy_form(name="standard V2"))
    assert response.status_code == 422
    assert "an SLA policy called &#x27;standard V2&#x27; already exists" in response.content.decode()


def test_delete_a_policy_after_confirming(manager: Client) -> None:
    policy = sla_actions.create_sla_policy(name="Old", targets={"low": {"agent_work": 600}})
    page = manager.get(reverse("policies:sla_delete", args=[policy.pk]))
    assert page.status_code == 200
    assert "Delete the SLA policy “Old”?" in page.content.decode()
    assert SlaPolicy.objects.filter(pk=policy.pk).exists()
    response = manager.post(reverse("policies:sla_delete", args=[policy.pk]))
    assert response.status_code == 302
    assert not SlaPolicy.objects.filter(pk=policy.pk).exists()
    assert not SlaTarget.objects.exists()
    assert manager.get(reverse("policies:sla_edit", args=[policy.pk])).status_code == 404


def test_move_and_toggle(manager: Client) -> None:
    a, b, c = (sla_actions.create_sla_policy(name=n) for n in "ABC")
    manager.post(reverse("policies:sla_move", args=[c.pk]), {"direction": "up"})
    assert list(SlaPolicy.objects.values_list("name", flat=True)) == ["A", "C", "B"]
    manager.post(reverse("policies:sla_move", args=[b.pk]), {"position": "1"})
    assert list(SlaPolicy.objects.values_list("name", flat=True)) == ["B", "A", "C"]
    response = manager.post(reverse("policies:sla_move", args=[a.pk]), {"position": "x"}, follow=True)
    assert "choose up, down, or a position from 1" in response.content.decode()
    assert list(SlaPolicy.objects.values_list("name", flat=True)) == ["B", "A", "C"]

    manager.post(reverse("policies:sla_toggle", args=[a.pk]), {})
    a.refresh_from_db()
    assert not a.active
    manager.post(reverse("policies:sla_toggle", args=[a.pk]), {"active": "on"})
    a.refresh_from_db()
    assert a.active


def _many_policies(count: int) -> None:
    teams = [factories.team() for _ in range(3)]
    orgs = [factories.organization() for _ in range(3)]
    calendar = sla_actions.create_calendar(name=f"Cal {SlaPolicy.objects.count()}")
    escalation = sla_actions.create_escalation_policy(name=f"Esc {SlaPolicy.objects.count()}")
    start = SlaPolicy.objects.count()
    for i in range(start, start + count):
        sla_actions.create_sla_policy(
            name=f"Policy {i}",
            priorities=["urgent"],
            teams=[t.pk for t in teams],
            organizations=[o.pk for o in orgs],
            tags=["vip"],
            calendar=calendar.pk,
            escalation=escalation.pk,
            targets={"urgent": {"first_reply": 30, "next_reply": 60}, "low": {"total_resolution": 600}},
            group_ownership={teams[0].pk: 120},
        )


def test_the_policy_list_costs_the_same_queries_for_2_or_12_policies(
    manager: Client, django_assert_max_num_queries: Any
) -> None:
    # Session, user, policies (calendar and escalation joined), targets (teams joined), the
    # conditions' team and organization names, the header's unread notifications.
    _many_policies(2)
    manager.get(reverse("policies:sla_list"))  # warm the session
    with django_assert_max_num_queries(7):
        response = manager.get(reverse("policies:sla_list"))
    assert response.content.decode().count('<tr id="policy-') == 2
    _many_policies(10)
    with django_assert_max_num_queries(7):
        response = manager.get(reverse("policies:sla_list"))
    assert response.content.decode().count('<tr id="policy-') == 12


def test_the_calendar_and_escalation_lists_cost_the_same_queries_at_any_size(
    manager: Client, django_assert_max_num_queries: Any
) -> None:
    def add(count: int) -> None:
        for _ in range(count):
            n = BusinessCalendar.objects.count()
            calendar = sla_actions.create_calendar(
                name=f"Cal {n}",
                intervals=[{"weekday": d, "start": "09:00", "end": "17:00"} for d in range(5)],
                holidays=[{"date": "2026-12-24"}],
            )
            sla_actions.assign_calendars(teams={factories.team(name=f"T{n}").pk: calendar.pk})
            sla_actions.create_escalation_policy(name=f"Esc {n}", move_to_team=factories.team(name=f"M{n}").pk)

    add(2)
    manager.get(reverse("policies:calendar_list"))
    # Session, user, default calendar, policies per calendar, calendars (counts annotated), intervals,
    # the header's unread notifications.
    with django_assert_max_num_queries(7):
        assert manager.get(reverse("policies:calendar_list")).status_code == 200
    # Session, user, escalation policies (team joined, use counted), unread notifications.
    with django_assert_max_num_queries(4):
        assert manager.get(reverse("policies:escalation_list")).status_code == 200
    add(8)
    with django_assert_max_num_queries(7):
        body = manager.get(reverse("policies:calendar_list")).content.decode()
    assert body.count('<tr id="calendar-') == 10
    assert "Mon 09:00-17:00" in body
    with django_assert_max_num_queries(4):
        body = manager.get(reverse("policies:escalation_list")).content.decode()
    assert body.count('<tr id="escalation-') == 10


def test_escalation_policy_pages(manager: Client) -> None:
    team = factories.team(name="Tier 2")
    response = manager.post(
        reverse("policies:escalation_new"),
        {
            "name": "Breach",
            "on_breach": "on",
            "metrics": ["first_reply"],
            "notify_emails": "ops@example.com\nnot-an-address",
            "move_to_team": str(team.pk),
        },
    )
    assert response.status_code == 422
    assert "&#x27;not-an-address&#x27; is not an email address" in response.content.decode()
    assert not EscalationPolicy.objects.exists()

    response = manager.post(
        reverse("policies:escalation_new"),
        {"name": "Breach", "on_breach": "on", "notify_emails": "ops@example.com", "move_to_team": str(team.pk)},
    )
    assert response.status_code == 302
    policy = EscalationPolicy.objects.get()
    assert policy.notify_emails == ["ops@example.com"]
    assert policy.move_to_team_id == team.pk
    assert not policy.notify_assignee  # an unticked box is off

    response = manager.post(reverse("policies:escalation_edit", args=[policy.pk]), {"name": "Breach"})
    assert response.status_code == 422
    assert "choose when it acts" in response.content.decode()

    page = manager.get(reverse("policies:escalation_list")).content.decode()
    assert "move to Tier 2" in page
    manager.post(reverse("policies:escalation_delete", args=[policy.pk]))
    assert not EscalationPolicy.objects.exists()


def test_calendar_pages(manager: Client) -> None:
    data = {
        "name": "Support hours",
        "time_zone": "Europe/Berlin",
        "hours_monday": "9:00-12:00, 13:00-17:30",
        "hours_friday": "22:00-06:00",
        "holiday_country": "de",
        "holiday_subdivision": "by",
        "holidays": "2026-12-24 Christmas Eve\n\n2026-12-31",
    }
    response = manager.post(reverse("policies:calendar_new"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    calendar = BusinessCalendar.objects.get()
    assert (calendar.time_zone, calendar.holiday_country, calendar.holiday_subdivision) == ("Europe/Berlin", "DE", "BY")
    assert [str(i) for i in calendar.intervals.all()] == [
        "Monday 09:00-12:00",
        "Monday 13:00-17:30",
        "Friday 22:00-06:00",
    ]
    assert list(CustomHoliday.objects.values_list("name", flat=True)) == ["Christmas Eve", ""]

    with time_machine.travel(datetime.datetime(2026, 12, 20, 12, tzinfo=datetime.UTC), tick=False):
        later = client_for(factories.user(Role.MANAGER))  # signed in then, so the session is fresh
        page = later.get(reverse("policies:calendar_edit", args=[calendar.pk])).content.decode()
    assert 'value="09:00-12:00, 13:00-17:30"' in page
    # The next closed days: the custom ones and Bavaria's public holidays, in date order.
    upcoming = re.findall(r'<time datetime="(\d{4}-\d\d-\d\d)">', page)
    assert upcoming[:4] == ["2026-12-24", "2026-12-25", "2026-12-26", "2026-12-31"]
    assert "2027-01-06" in upcoming  # Epiphany: a holiday in Bavaria, not in all of Germany
    assert "Christmas Eve" in page

    before = calendar.updated_at
    overlapping = {**data, "hours_monday": "09:00-12:00, 11:00-13:00"}
    response = manager.post(reverse("policies:calendar_edit", args=[calendar.pk]), overlapping)
    assert response.status_code == 422
    body = response.content.decode()
    assert 'id="id_hours_monday_error"' in body
    assert "11:00-13:00:" in body
    assert "overlaps" in body
    calendar.refresh_from_db()
    assert calendar.updated_at == before

    for field, value, words in (
        ("hours_tuesday", "9 to 5", "&#x27;9 to 5&#x27; is not a range like 09:00-17:00"),
        ("holidays", "2026-12-24\n2026-13-01 Nope", "line 2: &#x27;2026-13-01&#x27; is not a date (YYYY-MM-DD)"),
        ("time_zone", "Mars/Olympus", "is not a known time zone"),
        ("holiday_country", "XX", "XX"),
    ):
        response = manager.post(reverse("policies:calendar_edit", args=[calendar.pk]), {**data, field: value})
        assert response.status_code == 422, field
        body = response.content.decode()
        assert f'id="id_{field}_error"' in body, field
        assert words in body, field
    calendar.refresh_from_db()
    assert calendar.updated_at == before

    assert manager.post(reverse("policies:calendar_delete", args=[calendar.pk])).status_code == 302
    assert not BusinessCalendar.objects.exists()


def test_assign_calendars(manager: Client, recompute_job: Any, django_capture_on_commit_callbacks: Any) -> None:
    office = sla_actions.create_calendar(name="Office")
    night = sla_actions.create_calendar(name="Night")
    team = factories.team(name="Support")
    org = factories.organization(name="Acme")
    page = manager.get(reverse("policies:assignments")).content.decode()
    assert "Support" in page
    assert "Acme" in page

    with django_capture_on_commit_callbacks(execute=True):
        response = manager.post(
            reverse("policies:assignments"),
            {
                "default": str(office.pk),
                f"team_{team.pk}": str(night.pk),
                "add_organization": str(org.pk),
                "add_organization_calendar": str(office.pk),
            },
        )
    assert response.status_code == 302
    assert DefaultCalendar.objects.get().calendar_id == office.pk
    assert TeamCalendar.objects.get(team=team).calendar_id == night.pk
    assert OrganizationCalendar.objects.get(organization=org).calendar_id == office.pk
    assert recompute_job.called

    # The organization now has its own row; choosing none removes it.
    response = manager.post(
        reverse("policies:assignments"),
        {"default": str(office.pk), f"team_{team.pk}": str(night.pk), f"organization_{org.pk}": ""},
    )
    assert response.status_code == 302
    assert not OrganizationCalendar.objects.exists()

    response = manager.post(reverse("policies:assignments"), {"default": "999999", f"team_{team.pk}": "999998"})
    assert response.status_code == 422
    assert "there is no calendar with id 999999" in response.content.decode()
    assert DefaultCalendar.objects.get().calendar_id == office.pk

    response = manager.post(reverse("policies:assignments"), {"add_organization": str(org.pk)})
    assert response.status_code == 422
    assert "choose the calendar for the organization" in response.content.decode()


def test_agents_do_not_see_the_pages() -> None:
    agent = client_for(factories.user(Role.AGENT))
    assert agent.get(reverse("policies:sla_list")).status_code == 404
    assert agent.post(reverse("policies:sla_new"), _policy_form()).status_code == 404
    assert not SlaPolicy.objects.exists()
