"""Which calendar business time counts on (policies.calendar_choice), in every ranking case: the
SLA policy's, the pinned one, the team's, the organization's, the default, none; the same through
the live path's assignments (kept per process, ``current``), the rebuilds' (loaded once) and
sla.calendar_for. The kept assignments follow every change to them, with the clock stopped too."""

from __future__ import annotations

import datetime
import itertools

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from deskpilot.core import per_change
from deskpilot.policies import sla, sla_actions
from deskpilot.policies.calendar_choice import current, load_all
from deskpilot.policies.models import (
    BusinessCalendar,
    DefaultCalendar,
    OrganizationCalendar,
    SlaPolicy,
    SlaTarget,
    TeamCalendar,
)
from deskpilot.tickets.models import Ticket
from tests import factories

pytestmark = pytest.mark.django_db


def key_of(policy: sla.CompiledPolicy, pinned: int | None, ticket: Ticket) -> tuple[int | None, ...]:
    return (policy.id, pinned, ticket.team_id, ticket.organization_id)


def test_every_ranking_case() -> None:
    names = ("policy", "pinned", "team", "organization", "default", "unused")
    calendars = {name: BusinessCalendar.objects.create(name=name, time_zone="UTC") for name in names}
    with_calendar = SlaPolicy.objects.create(name="With", calendar=calendars["policy"])
    without_calendar = SlaPolicy.objects.create(name="Without")
    for stored in (with_calendar, without_calendar):
        SlaTarget.objects.create(policy=stored, metric="first_reply", priority="normal", minutes=60)
    sla.clear_cache()
    policies = [p for p in (sla.policy_by_id(with_calendar.pk), sla.policy_by_id(without_calendar.pk)) if p]
    assert len(policies) == 2
    team, bare_team = factories.team(), factories.team()
    TeamCalendar.objects.create(team=team, calendar=calendars["team"])
    organization, bare_organization = factories.organization(), factories.organization()
    OrganizationCalendar.objects.create(organization=organization, calendar=calendars["organization"])
    deleted = BusinessCalendar.objects.create(name="gone", time_zone="UTC")
    deleted_id = deleted.pk
    deleted.delete()

    pins = (None, calendars["pinned"].pk, deleted_id)
    teams = (None, team, bare_team)
    organizations = (None, organization, bare_organization)
    for has_default in (True, False):
        if has_default:
            DefaultCalendar.objects.create(calendar=calendars["default"])
        else:
            DefaultCalendar.objects.all().delete()
        everything = load_all()
        seen = set()
        for policy, pinned, ticket_team, ticket_organization in itertools.product(policies, pins, teams, organizations):
            ticket = Ticket(team=ticket_team, organization=ticket_organization)
            ranked = (
                calendars["policy"] if policy.id == with_calendar.pk else None,
                calendars["pinned"] if pinned == calendars["pinned"].pk else None,  # a deleted one is passed over
                calendars["team"] if ticket_team == team else None,
                calendars["organization"] if ticket_organization == organization else None,
                calendars["default"] if has_default else None,
            )
            expected = next((c for c in ranked if c is not None), None)
            assert sla.calendar_for(policy, ticket, pinned) == expected, key_of(policy, pinned, ticket)
            key = (policy.id, pinned, ticket.team_id, ticket.organization_id)
            assert current().choose(key) == expected, key
            assert everything.choose(key) == expected, key
            seen.add(expected.name if expected is not None else None)
        # Every rank was chosen at least once (and none when there is nothing at all).
        assert seen == {"policy", "pinned", "team", "organization", "default" if has_default else None}
        # A policy without any calendar key at all: the default, or none.
        nothing = (None, None, None, None)
        assert current().choose(nothing) == (calendars["default"] if has_default else None)


def test_kept_assignments_cost_no_query_within_a_change() -> None:
    berlin = BusinessCalendar.objects.create(name="Berlin", time_zone="Europe/Berlin")
    team = factories.team()
    TeamCalendar.objects.create(team=team, calendar=berlin)
    key = (None, None, team.pk, None)
    assert current().choose(key) == berlin  # loaded
    with CaptureQueriesContext(connection) as captured:
        assert current().choose(key) == berlin
    assert len(captured) == 1  # the stamp alone
    with per_change.scope(), CaptureQueriesContext(connection) as captured:
        for _ in range(3):
            assert current().choose(key) == berlin
    assert len(captured) == 1  # the stamp, once per change


@time_machine.travel(datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC), tick=False)
def test_kept_assignments_follow_every_change_with_the_clock_stopped() -> None:
    """Every way an assignment changes is seen at once, even when nothing's ``updated_at`` can
    move (a stopped clock): the counter tells."""
    berlin = BusinessCalendar.objects.create(name="Berlin", time_zone="Europe/Berlin")
    tokyo = BusinessCalendar.objects.create(name="Tokyo", time_zone="Asia/Tokyo")
    team, organization = factories.team(), factories.organization()
    policy = SlaPolicy.objects.create(name="P")
    by_team = (None, None, team.pk, None)
    by_organization = (None, None, None, organization.pk)
    by_policy = (policy.pk, None, None, None)
    nothing = (None, None, None, None)
    assert current().choose(by_team) is None

    sla_actions.assign_calendars(default=berlin.pk)
    assert current().choose(nothing) == berlin
    sla_actions.assign_calendars(teams={team.pk: tokyo.pk}, organizations={organization.pk: tokyo.pk})
    assert current().choose(by_team) == tokyo
    assert current().choose(by_organization) == tokyo
    sla_actions.assign_calendars(teams={team.pk: berlin.pk})  # reassigned in place
    assert current().choose(by_team) == berlin
    sla_actions.assign_calendars(teams={team.pk: None})
    assert current().choose(by_team) == berlin  # the default now
    sla_actions.assign_calendars(default=None)
    assert current().choose(by_team) is None

    policy.calendar = tokyo
    policy.save()
    assert current().choose(by_policy) == tokyo
    organization.delete()  # the assignment goes with it (a cascade)
    assert current().choose(by_organization) is None
    TeamCalendar.objects.create(team=team, calendar=tokyo)
    assert current().choose(by_team) == tokyo
    team.delete()
    assert current().choose(by_team) is None
    tokyo.delete()  # the policy's calendar goes too
    assert current().choose(by_policy) is None


def test_the_chosen_calendar_comes_with_what_its_schedule_needs() -> None:
    calendar = BusinessCalendar.objects.create(name="Office", time_zone="Europe/Berlin", holiday_country="DE")
    DefaultCalendar.objects.create(calendar=calendar)
    key = (None, None, None, None)
    chosen = current().choose(key)
    assert chosen is not None
    assert (chosen.pk, chosen.time_zone, chosen.holiday_country) == (calendar.pk, "Europe/Berlin", "DE")
    assert chosen.updated_at == BusinessCalendar.objects.get(pk=calendar.pk).updated_at
    assert isinstance(chosen.updated_at, datetime.datetime)
