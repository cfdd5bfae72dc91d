"""Managing SLA policies, escalation policies and calendar assignments (policies.sla_actions):
validation names the field and explains, nothing is half-written, and open tickets' clocks are
recomputed once the change commits."""

from __future__ import annotations

import datetime
from typing import Any
from unittest import mock

import pytest

from deskpilot.core.errors import InvalidInput, NotFound
from deskpilot.policies import sla_actions
from deskpilot.policies.models import (
    BusinessCalendar,
    DefaultCalendar,
    EscalationPolicy,
    OrganizationCalendar,
    SlaPolicy,
    SlaTarget,
    TeamCalendar,
)
from tests import factories

pytestmark = pytest.mark.django_db


def _error(call: Any, *args: Any, **kwargs: Any) -> dict[str, str]:
    with pytest.raises(InvalidInput) as raised:
        call(*args, **kwargs)
    return raised.value.errors


def _state() -> tuple[object, ...]:
    return (
        list(SlaPolicy.objects.values_list("pk", "name", "position", "active", "updated_at", "priorities")),
        list(SlaTarget.objects.values_list("pk", "metric", "priority", "team_id", "minutes", "business_hours")),
    )


@pytest.fixture
def calendar() -> BusinessCalendar:
    return sla_actions.create_calendar(name="Office", intervals=[{"weekday": 0, "start": "09:00", "end": "17:00"}])


def test_full_round_trip(calendar: BusinessCalendar) -> None:
    team = factories.team(name="Billing")
    org = factories.organization(name="Acme")
    escalation = sla_actions.create_escalation_policy(name="Page the lead", notify_emails="Ops@Example.com")
    policy = sla_actions.create_sla_policy(
        name="  Premium   support ",
        description="For paying customers",
        priorities=["urgent", "HIGH"],
        teams=[str(team.pk)],
        organizations=[org.pk],
        tiers=["premium"],
        channels="email, chat",
        types=["incident"],
        tags=["VIP customer", "vip-customer"],
        calendar=calendar.pk,
        warning_percent="80",
        escalation=escalation.pk,
        targets={
            "urgent": {"first_reply": {"minutes": "30", "business_hours": False}, "total_resolution": 480},
            "high": {"first_reply": {"minutes": "", "business_hours": True}, "next_reply": "120"},
        },
        group_ownership={str(team.pk): {"minutes": 240, "business_hours": True}},
    )
    policy.refresh_from_db()
    assert policy.name == "Premium support"
    assert policy.priorities == ["urgent", "high"]
    assert policy.teams == [team.pk]
    assert policy.organizations == [org.pk]
    assert policy.channels == ["email", "chat"]
    assert policy.tags == ["vip-customer"]
    assert policy.calendar_id == calendar.pk
    assert policy.escalation_id == escalation.pk
    assert policy.warning_percent == 80
    rows = set(policy.targets.values_list("metric", "priority", "team_id", "minutes", "business_hours"))
    assert rows == {
        ("first_reply", "urgent", None, 30, False),
        ("total_resolution", "urgent", None, 480, True),
        ("next_reply", "high", None, 120, True),
        ("group_ownership", "", team.pk, 240, True),
    }
    assert escalation.notify_emails == ["ops@example.com"]

    # Editing replaces the matrix: a changed cell, a removed one, a new one.
    before = policy.updated_at
    updated = sla_actions.update_sla_policy(
        policy,
        warning_percent="",
        targets={"urgent": {"first_reply": {"minutes": 15, "business_hours": False}}, "low": {"agent_work": 600}},
        group_ownership={},
    )
    assert updated.warning_percent is None
    assert updated.updated_at > before
    rows2: set[tuple[object, ...]] = set(
        updated.targets.values_list("metric", "priority", "team_id", "minutes", "business_hours")
    )
    assert rows2 == {("first_reply", "urgent", None, 15, False), ("agent_work", "low", None, 600, True)}
    # The unchanged first-reply row was updated in place, not replaced.
    assert SlaTarget.objects.filter(policy=policy, metric="first_reply").count() == 1


def test_changing_only_a_target_bumps_the_policy() -> None:
    policy = sla_actions.create_sla_policy(name="P", targets={"normal": {"first_reply": 60}})
    SlaPolicy.objects.filter(pk=policy.pk).update(updated_at=policy.updated_at.replace(year=2020))
    sla_actions.update_sla_policy(policy, targets={"normal": {"first_reply": 90}})
    policy.refresh_from_db()
    assert policy.updated_at.year > 2020


@pytest.mark.parametrize(
    ("values", "field", "words"),
    [
        ({"name": " "}, "name", "must not be empty"),
        ({"priorities": ["urgentt"]}, "priorities", "'urgentt' is not a priority (low, normal, high, urgent)"),
        ({"channels": ["fax"]}, "channels", "'fax' is not a channel"),
        ({"types": ["bug"]}, "types", "'bug' is not a ticket type"),
        ({"tiers": ["gold"]}, "tiers", "'gold' is not a customer tier (standard, premium, enterprise)"),
        ({"teams": [999999]}, "teams", "there is no team with id 999999"),
        ({"teams": ["abc"]}, "teams", "'abc' is not an id"),
        ({"organizations": [999999]}, "organizations", "there is no organization with id 999999"),
        ({"tags": ["ok", " "]}, "tags", "must not be empty"),
        ({"warning_percent": 100}, "warning_percent", "from 1 to 99"),
        ({"warning_percent": "0"}, "warning_percent", "from 1 to 99"),
        ({"calendar": 999999}, "calendar", "there is no calendar with id 999999"),
        ({"escalation": 999999}, "escalation", "there is no escalation policy with id 999999"),
        (
            {"targets": {"urgent": {"first_reply": "0"}}},
            "targets.urgent.first_reply",
            "whole number of minutes above 0",
        ),
        ({"targets": {"urgent": {"first_reply": "1.5"}}}, "targets.urgent.first_reply", "whole number of minutes"),
        ({"targets": {"urgent": {"first_reply": -5}}}, "targets.urgent.first_reply", "above 0"),
        (
            {"targets": {"urgentt": {"first_reply": 5}}},
            "targets.urgentt",
            "'urgentt' is not a priority (low, normal, high, urgent)",
        ),
        ({"targets": {"high": {"first_replies": 5}}}, "targets.high.first_replies", "is not a metric"),
        ({"targets": {"high": {"group_ownership": 5}}}, "targets.high.group_ownership", "set per team"),
        ({"group_ownership": {"999999": 60}}, "group_ownership.999999", "there is no team with id 999999"),
        ({"group_ownership": {"1": "soon"}}, "group_ownership.1", "whole number of minutes"),
        ({"colour": "red"}, "colour", "is not a field"),
    ],
)
def test_validation_names_the_field_and_writes_nothing(values: dict[str, Any], field: str, words: str) -> None:
    existing = sla_actions.create_sla_policy(name="Existing", targets={"normal": {"first_reply": 60}})
    before = _state()
    kwargs = {"name": "New", **values}
    errors = _error(sla_actions.create_sla_policy, **kwargs)
    assert field in errors, errors
    assert words in errors[field]
    assert _state() == before
    # The same on an update, and the policy's matrix is untouched.
    errors = _error(sla_actions.update_sla_policy, existing, **{"targets": {"normal": {"next_reply": 10}}, **values})
    assert field in errors
    assert _state() == before


def test_a_name_is_unique_whatever_the_case() -> None:
    sla_actions.create_sla_policy(name="Standard")
    assert _error(sla_actions.create_sla_policy, name="STANDARD") == {
        "name": "an SLA policy called 'STANDARD' already exists"
    }


def test_nothing_is_half_written_when_a_late_write_fails() -> None:
    policy = sla_actions.create_sla_policy(name="P", targets={"normal": {"first_reply": 60}})
    before = _state()
    with (
        mock.patch.object(sla_actions.SlaTarget, "save", side_effect=RuntimeError("disk full")),
        pytest.raises(RuntimeError),
    ):
        sla_actions.update_sla_policy(policy, name="Renamed", targets={"normal": {"first_reply": 5, "next_reply": 9}})
    assert _state() == before


def test_reorder_and_move() -> None:
    a, b, c = (sla_actions.create_sla_policy(name=n) for n in "ABC")
    assert [p.position for p in (a, b, c)] == [0, 1, 2]
    sla_actions.reorder_sla_policies([c.pk, a.pk, b.pk])
    assert list(SlaPolicy.objects.values_list("name", flat=True)) == ["C", "A", "B"]
    sla_actions.move_sla_policy(b, -1)
    assert list(SlaPolicy.objects.values_list("name", flat=True)) == ["C", "B", "A"]
    sla_actions.move_sla_policy(c, -1)  # already first: stays
    assert list(SlaPolicy.objects.values_list("name", flat=True)) == ["C", "B", "A"]
    before = _state()
    assert "must list every policy" in _error(sla_actions.reorder_sla_policies, [a.pk, b.pk])["order"]
    assert "twice" in _error(sla_actions.reorder_sla_policies, [a.pk, a.pk, b.pk])["order"]
    assert "no SLA policy with id" in _error(sla_actions.reorder_sla_policies, [a.pk, b.pk, c.pk, 999999])["order"]
    assert _state() == before


def test_the_recompute_job_is_enqueued_on_commit(
    django_capture_on_commit_callbacks: Any, calendar: BusinessCalendar
) -> None:
    with mock.patch("deskpilot.policies.tasks.recompute_unsolved") as job:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            policy = sla_actions.create_sla_policy(name="P", targets={"normal": {"first_reply": 60}})
        assert len(callbacks) == 1
        assert not job.called  # not before the commit
        for callback in callbacks:
            callback()
        assert job.call_count == 1

        for change in (
            lambda: sla_actions.update_sla_policy(policy, targets={"normal": {"first_reply": 30}}),
            lambda: sla_actions.move_sla_policy(sla_actions.create_sla_policy(name="Q"), -1),
            lambda: sla_actions.update_calendar(calendar, time_zone="Europe/Berlin"),
            lambda: sla_actions.assign_calendars(default=calendar.pk),
            lambda: sla_actions.delete_sla_policy(policy),
            lambda: sla_actions.delete_calendar(calendar),
        ):
            job.reset_mock()
            with django_capture_on_commit_callbacks(execute=True):
                change()
            assert job.called

        # Refused input enqueues nothing.
        job.reset_mock()
        with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(InvalidInput):
            sla_actions.create_sla_policy(name="R", warning_percent=120)
        assert callbacks == []
        assert not job.called


def test_a_queue_that_is_down_does_not_fail_the_save(django_capture_on_commit_callbacks: Any) -> None:
    with (
        mock.patch("deskpilot.policies.tasks.recompute_unsolved", side_effect=ConnectionError("queue down")),
        django_capture_on_commit_callbacks(execute=True),
    ):
        sla_actions.create_sla_policy(name="P")
    assert SlaPolicy.objects.filter(name="P").exists()


def test_escalation_policy_validation() -> None:
    team = factories.team(name="Tier 2")
    policy = sla_actions.create_escalation_policy(
        name="Breach",
        on_warning=True,
        metrics=["first_reply", "group_ownership"],
        notify_emails="a@example.com\nb@example.com; a@example.com",
        move_to_team=team.pk,
        escalate_to="tier2",
        add_tag="SLA Breached",
    )
    assert policy.notify_emails == ["a@example.com", "b@example.com"]
    assert policy.move_to_team_id == team.pk
    assert policy.add_tag == "sla-breached"
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"notify_emails": "not-an-address"}, "notify_emails", "'not-an-address' is not an email address"),
        ({"metrics": ["first_reply", "speed"]}, "metrics", "'speed' is not a metric"),
        ({"move_to_team": 999999}, "move_to_team", "there is no team with id 999999"),
        ({"escalate_to": "ceo"}, "escalate_to", "'ceo' is not a level (tier2, manager, or empty)"),
        ({"on_warning": False, "on_breach": False}, "on_breach", "choose when it acts"),
        (
            {"notify_assignee": False, "notify_team_lead": False, "notify_emails": "", "move_to_team": None,
             "escalate_to": "", "add_tag": ""},
            "actions",
            "choose at least one thing to do",
        ),
        ({"name": "breach"}, "name", "already exists"),
    ]  # fmt: skip
    before = list(EscalationPolicy.objects.values_list("pk", "name", "updated_at", "notify_emails"))
    for values, field, words in cases:
        errors = _error(sla_actions.create_escalation_policy, **{"name": "Other", **values})
        assert words in errors.get(field, ""), (values, errors)
        if field != "name":
            errors = _error(sla_actions.update_escalation_policy, policy, **values)
            assert words in errors.get(field, ""), (values, errors)
    assert list(EscalationPolicy.objects.values_list("pk", "name", "updated_at", "notify_emails")) == before


def test_deleting_an_escalation_policy_marks_its_sla_policies_changed() -> None:
    escalation = sla_actions.create_escalation_policy(name="E")
    policy = sla_actions.create_sla_policy(name="P", escalation=escalation.pk)
    SlaPolicy.objects.filter(pk=policy.pk).update(updated_at=policy.updated_at.replace(year=2020))
    sla_actions.delete_escalation_policy(escalation)
    policy.refresh_from_db()
    assert policy.escalation_id is None
    assert policy.updated_at.year > 2020


def test_calendar_assignments(calendar: BusinessCalendar) -> None:
    other = sla_actions.create_calendar(name="Night")
    team = factories.team(name="Support")
    org = factories.organization(name="Acme")
    assert sla_actions.assign_calendars(
        default=calendar.pk, teams={team.pk: other.pk}, organizations={org.pk: calendar.pk}
    )
    assert DefaultCalendar.objects.get().calendar_id == calendar.pk
    assert TeamCalendar.objects.get(team=team).calendar_id == other.pk
    assert OrganizationCalendar.objects.get(organization=org).calendar_id == calendar.pk
    assert not sla_actions.assign_calendars(default=calendar.pk, teams={team.pk: other.pk})  # nothing changed
    assert sla_actions.assign_calendars(default=None, teams={team.pk: ""}, organizations={org.pk: other.pk})
    assert not DefaultCalendar.objects.exists()
    assert not TeamCalendar.objects.exists()
    assert OrganizationCalendar.objects.get(organization=org).calendar_id == other.pk

    before = (list(TeamCalendar.objects.values_list()), list(OrganizationCalendar.objects.values_list()))
    assert _error(sla_actions.assign_calendars, default=calendar.pk, teams={team.pk: 999999}) == {
        f"teams.{team.pk}": "there is no calendar with id 999999"
    }
    assert _error(sla_actions.assign_calendars, organizations={999999: calendar.pk}) == {
        "organizations.999999": "there is no organization with id 999999"
    }
    assert (list(TeamCalendar.objects.values_list()), list(OrganizationCalendar.objects.values_list())) == before
    assert not DefaultCalendar.objects.exists()


def test_deleting_a_calendar_frees_its_policies(calendar: BusinessCalendar) -> None:
    policy = sla_actions.create_sla_policy(name="P", calendar=calendar.pk)
    sla_actions.delete_calendar(calendar)
    policy.refresh_from_db()
    assert policy.calendar_id is None


def test_a_name_taken_meanwhile_is_explained_not_a_server_error() -> None:
    sla_actions.create_sla_policy(name="Taken")
    # As if another manager saved "Taken" between the check and the write.
    with mock.patch.object(sla_actions, "_clean_name", return_value="Taken"):
        errors = _error(sla_actions.create_sla_policy, name="Other")
    assert errors == {"name": "an SLA policy called 'Taken' already exists"}
    assert SlaPolicy.objects.count() == 1


def test_open_tickets_follow_a_saved_change(django_capture_on_commit_callbacks: Any) -> None:
    """End to end, with the real job: a changed target moves an open ticket's next breach, and a
    deleted policy lets the ticket fall to the next one that matches."""
    calendar_hours = {"minutes": 60, "business_hours": False}
    with django_capture_on_commit_callbacks(execute=True):
        first = sla_actions.create_sla_policy(name="First", targets={"normal": {"first_reply": calendar_hours}})
        second = sla_actions.create_sla_policy(
            name="Second", targets={"normal": {"first_reply": {"minutes": 600, "business_hours": False}}}
        )
    ticket = factories.ticket(priority="normal")
    ticket.refresh_from_db()
    assert ticket.sla_policy_id == first.pk
    assert ticket.sla_next_breach_at is not None
    due = ticket.sla_next_breach_at

    with django_capture_on_commit_callbacks(execute=True):
        sla_actions.update_sla_policy(
            first, targets={"normal": {"first_reply": {"minutes": 30, "business_hours": False}}}
        )
    ticket.refresh_from_db()
    assert ticket.sla_next_breach_at == due - datetime.timedelta(minutes=30)

    with django_capture_on_commit_callbacks(execute=True):
        sla_actions.delete_sla_policy(first)
    ticket.refresh_from_db()
    assert ticket.sla_policy_id == second.pk
    assert ticket.sla_next_breach_at == due + datetime.timedelta(minutes=540)


def test_updating_a_policy_deleted_meanwhile_is_not_found() -> None:
    policy = sla_actions.create_sla_policy(name="Gone")
    escalation = sla_actions.create_escalation_policy(name="Gone too")
    SlaPolicy.objects.filter(pk=policy.pk).delete()
    EscalationPolicy.objects.filter(pk=escalation.pk).delete()
    with pytest.raises(NotFound):
        sla_actions.update_sla_policy(policy, name="Back")
    with pytest.raises(NotFound):
        sla_actions.update_escalation_policy(escalation, name="Back")
