"""policies.config_version: every save and delete of the SLA configuration moves the stamp, in
whatever way it happens (an instance, a queryset delete, a cascade, a touch); a ticket change
reads the stamp once, whichever receivers ask; the counter row may be missing."""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from deskpilot.accounts.models import Role
from deskpilot.core import per_change
from deskpilot.policies import config_version
from deskpilot.policies.models import (
    BusinessCalendar,
    BusinessInterval,
    ConfigVersion,
    CustomHoliday,
    DefaultCalendar,
    OrganizationCalendar,
    SlaPolicy,
    SlaTarget,
    TeamCalendar,
)
from deskpilot.tickets import actions
from deskpilot.tickets.models import Via
from tests import factories

pytestmark = pytest.mark.django_db


def moves(change: Callable[[], object]) -> bool:
    before = config_version.stamp()
    change()
    return config_version.stamp() != before


@time_machine.travel(datetime.datetime(2026, 5, 4, 10, 0, tzinfo=datetime.UTC), tick=False)
def test_every_kind_of_change_moves_the_stamp_with_the_clock_stopped() -> None:
    calendar = BusinessCalendar.objects.create(name="Office", time_zone="UTC")
    team, organization = factories.team(), factories.organization()
    policy = SlaPolicy.objects.create(name="P")
    target = SlaTarget.objects.create(policy=policy, metric="first_reply", priority="normal", minutes=60)
    interval = BusinessInterval.objects.create(
        calendar=calendar, weekday=0, start=datetime.time(9), end=datetime.time(17)
    )
    holiday = CustomHoliday.objects.create(calendar=calendar, date=datetime.date(2026, 12, 24), name="Eve")
    changes: list[tuple[str, Callable[[], object]]] = [
        ("calendar saved", lambda: calendar.save()),
        ("calendar touched", lambda: calendar.touch()),
        ("interval saved", lambda: interval.save()),
        ("holiday deleted", lambda: holiday.delete()),
        ("intervals deleted by a queryset", lambda: calendar.intervals.all().delete()),
        ("default set", lambda: DefaultCalendar.objects.create(calendar=calendar)),
        ("defaults deleted by a queryset", lambda: DefaultCalendar.objects.all().delete()),
        ("team assigned", lambda: TeamCalendar.objects.create(team=team, calendar=calendar)),
        (
            "organization assigned",
            lambda: OrganizationCalendar.objects.create(organization=organization, calendar=calendar),
        ),
        ("organization deleted (a cascade)", lambda: organization.delete()),
        ("policy saved", lambda: policy.save()),
        ("target saved", lambda: target.save()),
        ("target deleted", lambda: target.delete()),
        ("policy deleted", lambda: policy.delete()),
    ]
    for name, change in changes:
        assert moves(change), name


def test_other_saves_leave_it() -> None:
    config_version.stamp()
    assert not moves(lambda: factories.team())
    assert not moves(lambda: factories.ticket())


def test_the_counter_row_may_be_missing() -> None:
    ConfigVersion.objects.all().delete()
    assert config_version.stamp()[0] is None
    config_version.bump()
    assert ConfigVersion.objects.get().version == 1
    config_version.bump()
    assert ConfigVersion.objects.get().version == 2


def test_a_ticket_change_reads_the_stamp_once() -> None:
    """The SLA clock, the triggers and the metrics record all ask; one query answers them."""
    SlaTarget.objects.create(
        policy=SlaPolicy.objects.create(name="P"), metric="first_reply", priority="normal", minutes=60
    )
    agent = factories.user(Role.AGENT)
    ticket = factories.ticket()
    with CaptureQueriesContext(connection) as captured:
        actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"priority": "high"})
    assert sum("policies_configversion" in q["sql"] for q in captured.captured_queries) == 1


def test_a_change_within_a_change_is_seen_at_once() -> None:
    """A bump inside a change's scope drops the stamp read for it, so the next ask sees it."""
    calendar = BusinessCalendar.objects.create(name="Office", time_zone="UTC")
    with per_change.scope():
        before = config_version.stamp()
        team = factories.team()
        TeamCalendar.objects.create(team=team, calendar=calendar)
        assert config_version.stamp() != before
