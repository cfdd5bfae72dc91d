"""Which calendar business time counts on (policies.calendar_choice), in every ranking case: the
SLA policy's, the pinned one, the team's, the organization's, the default, none; the same through
the live path's assignments (one statement for a ticket's keys), the rebuilds' (all of them,
loaded once) and sla.calendar_for."""

from __future__ import annotations

import datetime
import itertools

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from deskpilot.policies import sla
from deskpilot.policies.calendar_choice import load_all, load_for
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
            assert load_for([key]).choose(key) == expected, key
            assert everything.choose(key) == expected, key
            seen.add(expected.name if expected is not None else None)
        # Every rank was chosen at least once (and none when there is nothing at all).
        assert seen == {"policy", "pinned", "team", "organization", "default" if has_default else None}
        # A policy without any calendar key at all: the default, or none.
        nothing = (None, None, None, None)
        assert load_for([nothing]).choose(nothing) == (calendars["default"] if has_default else None)


def test_one_statement_serves_all_the_keys_of_a_history() -> None:
    berlin = BusinessCalendar.objects.create(name="Berlin", time_zone="Europe/Berlin")
    tokyo = BusinessCalendar.objects.create(name="Tokyo", time_zone="Asia/Tokyo")
    first, second = factories.team(), factories.team()
    TeamCalendar.objects.create(team=first, calendar=berlin)
    TeamCalendar.objects.create(team=second, calendar=tokyo)
    keys = [(None, None, first.pk, None), (None, None, second.pk, None), (None, None, None, None)]
    with CaptureQueriesContext(connection) as captured:
        assignments = load_for(keys)
    assert len(captured) == 1
    assert [assignments.choose(k) for k in keys] == [berlin, tokyo, None]


def test_the_chosen_calendar_comes_with_what_its_schedule_needs() -> None:
    calendar = BusinessCalendar.objects.create(name="Office", time_zone="Europe/Berlin", holiday_country="DE")
    DefaultCalendar.objects.create(calendar=calendar)
    key = (None, None, None, None)
    chosen = load_for([key]).choose(key)
    assert chosen is not None
    assert (chosen.pk, chosen.time_zone, chosen.holiday_country) == (calendar.pk, "Europe/Berlin", "DE")
    assert chosen.updated_at == BusinessCalendar.objects.get(pk=calendar.pk).updated_at
    assert isinstance(chosen.updated_at, datetime.datetime)
