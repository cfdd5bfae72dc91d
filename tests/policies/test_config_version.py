"""policies.config_version: every write to the SLA configuration moves the stamp, however it is
made (an instance, a queryset, a cascade, a bulk write, raw SQL), with the clock stopped too; a
rolled-back write leaves no trace and is never mistaken for a later one; the log is compacted;
a ticket change reads the stamp once, whichever receivers ask."""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest
import time_machine
from django.core.management.color import no_style
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from deskpilot.accounts.models import Role
from deskpilot.policies import calendar_choice, config_version
from deskpilot.policies.models import (
    BusinessCalendar,
    BusinessInterval,
    ConfigChange,
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


class Boom(Exception):
    pass


def moves(change: Callable[[], object]) -> bool:
    before = config_version.stamp()
    change()
    return config_version.stamp() != before


@time_machine.travel(datetime.datetime(2026, 5, 4, 10, 0, tzinfo=datetime.UTC), tick=False)
def test_every_kind_of_write_moves_the_stamp_with_the_clock_stopped() -> None:
    calendar = BusinessCalendar.objects.create(name="Office", time_zone="UTC")
    other = BusinessCalendar.objects.create(name="Other", time_zone="UTC")
    team, organization = factories.team(), factories.organization()
    policy = SlaPolicy.objects.create(name="P")
    target = SlaTarget.objects.create(policy=policy, metric="first_reply", priority="normal", minutes=60)
    interval = BusinessInterval.objects.create(
        calendar=calendar, weekday=0, start=datetime.time(9), end=datetime.time(17)
    )
    holiday = CustomHoliday.objects.create(calendar=calendar, date=datetime.date(2026, 12, 24), name="Eve")
    table = connection.ops.quote_name(TeamCalendar._meta.db_table)
    changes: list[tuple[str, Callable[[], object]]] = [
        ("calendar saved", lambda: calendar.save()),
        ("calendar touched", lambda: calendar.touch()),
        ("interval saved", lambda: interval.save()),
        ("holiday deleted", lambda: holiday.delete()),
        ("intervals deleted by a queryset", lambda: calendar.intervals.all().delete()),
        ("default set", lambda: DefaultCalendar.objects.create(calendar=calendar)),
        ("defaults deleted by a queryset", lambda: DefaultCalendar.objects.all().delete()),
        ("team assigned", lambda: TeamCalendar.objects.create(team=team, calendar=calendar)),
        ("team reassigned by a queryset update", lambda: TeamCalendar.objects.update(calendar=other)),
        (
            "intervals bulk-created",
            lambda: BusinessInterval.objects.bulk_create(
                [BusinessInterval(calendar=other, weekday=1, start=datetime.time(8), end=datetime.time(12))]
            ),
        ),
        ("team reassigned in raw SQL", lambda: _raw(f"UPDATE {table} SET calendar_id = {calendar.pk}")),
        (
            "organization assigned",
            lambda: OrganizationCalendar.objects.create(organization=organization, calendar=calendar),
        ),
        ("organization deleted (a cascade)", lambda: organization.delete()),
        ("policy saved", lambda: policy.save()),
        ("targets updated by a queryset", lambda: SlaTarget.objects.update(minutes=30)),
        ("target deleted", lambda: target.delete()),
        ("policy deleted", lambda: policy.delete()),
    ]
    for name, change in changes:
        assert moves(change), name


def _raw(sql: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql)


def test_other_writes_leave_it() -> None:
    config_version.stamp()
    assert not moves(lambda: factories.team())
    assert not moves(lambda: factories.ticket())


def test_a_rolled_back_write_is_never_mistaken_for_a_later_one() -> None:
    """A write rolled back after the caches were loaded under it: the next write's stamp differs,
    so the caches do not keep what was rolled back."""
    berlin = BusinessCalendar.objects.create(name="Berlin", time_zone="Europe/Berlin")
    tokyo = BusinessCalendar.objects.create(name="Tokyo", time_zone="Asia/Tokyo")
    team = factories.team()
    key = (None, None, team.pk, None)
    assert calendar_choice.current().choose(key) is None

    def assign_then_fail() -> None:
        with transaction.atomic():
            TeamCalendar.objects.create(team=team, calendar=berlin)
            assert calendar_choice.current().choose(key) == berlin
            raise Boom

    with pytest.raises(Boom):
        assign_then_fail()
    assert calendar_choice.current().choose(key) is None
    TeamCalendar.objects.create(team=team, calendar=tokyo)
    assert calendar_choice.current().choose(key) == tokyo


def test_compacting_folds_the_log_into_one_row_and_moves_the_stamp_once() -> None:
    for name in ("A", "B", "C"):
        BusinessCalendar.objects.create(name=name, time_zone="UTC")
    assert ConfigChange.objects.count() >= 3
    assert moves(config_version.compact)
    assert ConfigChange.objects.count() == 1
    assert not moves(config_version.compact)
    assert config_version.compact() == 0


def test_a_sequence_reset_cannot_make_the_log_collide() -> None:
    """A test database's flush resets the sequences; the log has none (its random token is its
    key), so the triggers' inserts go on working."""
    BusinessCalendar.objects.create(name="A", time_zone="UTC")
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_by_name_sql(no_style(), connection.introspection.sequence_list()):
            cursor.execute(sql)
    assert moves(lambda: BusinessCalendar.objects.create(name="B", time_zone="UTC"))


def test_a_ticket_change_reads_the_stamp_once() -> None:
    """The SLA clock, the triggers and the metrics record all ask; one query answers them."""
    SlaTarget.objects.create(
        policy=SlaPolicy.objects.create(name="P"), metric="first_reply", priority="normal", minutes=60
    )
    agent = factories.user(Role.AGENT)
    ticket = factories.ticket()
    with CaptureQueriesContext(connection) as captured:
        actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"priority": "high"})
    assert sum("policies_configchange" in q["sql"] for q in captured.captured_queries) == 1
