"""Stored calendars: models, actions with errors naming the field, schedule_for, and the admin."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.test import Client

from deskpilot.accounts.models import Role
from deskpilot.core.errors import InvalidInput
from deskpilot.policies import actions
from deskpilot.policies.business_time import Interval, business_seconds, is_open
from deskpilot.policies.calendars import schedule_for
from deskpilot.policies.models import BusinessCalendar, BusinessInterval, CustomHoliday
from tests import factories

pytestmark = pytest.mark.django_db

NEW_YORK = ZoneInfo("America/New_York")
WEEKDAYS_9_TO_5 = [{"weekday": d, "start": "09:00", "end": "17:00"} for d in range(5)]


def new_york(**overrides):
    values: dict[str, Any] = {
        "name": "New York office",
        "time_zone": "America/New_York",
        "holiday_country": "US",
        "intervals": WEEKDAYS_9_TO_5,
        "holidays": [{"date": "2025-12-24", "name": "Christmas Eve"}],
    }
    values.update(overrides)
    return actions.create_calendar(**values)


def test_create_calendar_and_its_schedule():
    calendar = new_york()
    assert calendar.intervals.count() == 5
    assert [h.name for h in calendar.custom_holidays.all()] == ["Christmas Eve"]
    schedule = schedule_for(calendar, years=[2025])
    assert schedule.time_zone == "America/New_York"
    assert Interval(0, time(9), time(17)) in schedule.intervals
    assert {date(2025, 1, 20), date(2025, 12, 24), date(2025, 12, 25)} <= schedule.holidays
    # Mon 2025-01-20 is MLK Day: that week has 4 open days.
    week = (datetime(2025, 1, 20, tzinfo=NEW_YORK), datetime(2025, 1, 27, tzinfo=NEW_YORK))
    assert business_seconds(schedule, *week) == 4 * 8 * 3600


def test_weekday_names_past_midnight_and_whole_days():
    calendar = actions.create_calendar(
        name="Night desk",
        time_zone="Europe/Berlin",
        intervals=[
            {"weekday": "friday", "start": time(22), "end": time(6)},
            {"weekday": "Sunday", "start": "00:00", "end": "00:00"},
        ],
    )
    schedule = schedule_for(calendar, years=[2025])
    assert is_open(schedule, datetime(2025, 1, 4, 4, tzinfo=UTC))  # Saturday 05:00 in Berlin
    assert is_open(schedule, datetime(2025, 1, 5, 22, tzinfo=UTC))  # Sunday 23:00 in Berlin


def test_schedule_for_is_cached_until_the_calendar_changes():
    calendar = new_york()
    first = schedule_for(calendar, years=[2025])
    assert schedule_for(BusinessCalendar.objects.get(pk=calendar.pk), years=[2025]) is first
    assert schedule_for(calendar, years=[2026]) is not first

    actions.update_calendar(calendar, intervals=[{"weekday": 0, "start": "10:00", "end": "12:00"}])
    second = schedule_for(BusinessCalendar.objects.get(pk=calendar.pk), years=[2025])
    assert second is not first
    assert second.intervals == (Interval(0, time(10), time(12)),)

    # A change made to a part directly (as the admin does) moves updated_at too.
    CustomHoliday.objects.create(calendar=calendar, date=date(2025, 3, 3), name="Founders' day")
    third = schedule_for(BusinessCalendar.objects.get(pk=calendar.pk), years=[2025])
    assert date(2025, 3, 3) in third.holidays
    BusinessInterval.objects.get(calendar=calendar).delete()
    assert schedule_for(BusinessCalendar.objects.get(pk=calendar.pk), years=[2025]).intervals == ()


@pytest.mark.parametrize(
    ("overrides", "field", "problem"),
    [
        ({"name": "  "}, "name", "must not be empty"),
        ({"time_zone": "Mars/Olympus"}, "time_zone", "not a known time zone"),
        ({"holiday_country": "XX"}, "holiday_country", "unknown holiday country 'XX'"),
        ({"holiday_subdivision": "ZZ"}, "holiday_subdivision", "unknown subdivision 'ZZ' for US"),
        ({"intervals": [{"weekday": 7, "start": "09:00", "end": "17:00"}]}, "intervals[0].weekday", "not a weekday"),
        ({"intervals": [{"weekday": 0, "start": "9 am", "end": "17:00"}]}, "intervals[0].start", "not a time of day"),
        ({"intervals": [{"weekday": 0, "start": "09:00", "end": "09:00"}]}, "intervals[0].end", "would be empty"),
        (
            {"intervals": [*WEEKDAYS_9_TO_5, {"weekday": 4, "start": "16:00", "end": "18:00"}]},
            "intervals[5]",
            "Friday 16:00-18:00 overlaps Friday 09:00-17:00",
        ),
        (
            # Sunday 22:00-10:00 runs into Monday 09:00-17:00.
            {"intervals": [*WEEKDAYS_9_TO_5, {"weekday": 6, "start": "22:00", "end": "10:00"}]},
            "intervals[5]",
            "overlaps",
        ),
        ({"holidays": [{"date": "2025-02-30"}]}, "holidays[0].date", "not a date"),
        ({"holidays": [{"date": "2025-03-01"}, {"date": date(2025, 3, 1)}]}, "holidays[1].date", "listed twice"),
    ],
)
def test_create_errors_name_the_field(overrides, field, problem):
    with pytest.raises(InvalidInput) as caught:
        new_york(**overrides)
    assert list(caught.value.errors) == [field]
    assert problem in caught.value.errors[field]
    assert not BusinessCalendar.objects.exists()


def test_names_are_unique_and_updates_validate():
    calendar = new_york()
    with pytest.raises(InvalidInput, match="name: a calendar called 'new york office' already exists"):
        new_york(name="new york office")
    other = new_york(name="Berlin", time_zone="Europe/Berlin", holiday_country="DE", holiday_subdivision="by")
    assert (other.holiday_country, other.holiday_subdivision) == ("DE", "BY")
    with pytest.raises(InvalidInput, match="name: a calendar called 'Berlin' already exists"):
        actions.update_calendar(calendar, name="Berlin")
    with pytest.raises(InvalidInput, match="holiday_subdivision: unknown subdivision 'BY' for US"):
        actions.update_calendar(calendar, holiday_subdivision="BY")
    with pytest.raises(InvalidInput, match="colour: is not a field"):
        actions.update_calendar(calendar, colour="red")
    # Changing the country to one with that subdivision is fine.
    actions.update_calendar(calendar, holiday_country="DE", holiday_subdivision="BY", name="Munich")
    calendar.refresh_from_db()
    assert (calendar.name, calendar.holiday_country, calendar.holiday_subdivision) == ("Munich", "DE", "BY")
    assert calendar.intervals.count() == 5  # untouched when not given


def test_model_validation_names_the_field():
    calendar = BusinessCalendar(name="Somewhere", time_zone="Nowhere/City", holiday_country="XX")
    with pytest.raises(ValidationError) as caught:
        calendar.full_clean()
    assert set(caught.value.message_dict) == {"time_zone", "holiday_country"}
    saved = new_york()
    interval = BusinessInterval(calendar=saved, weekday=5, start=time(9), end=time(9))
    with pytest.raises(ValidationError) as caught:
        interval.full_clean()
    assert set(caught.value.message_dict) == {"end"}
    with pytest.raises(ValidationError) as caught:
        BusinessInterval(calendar=saved, weekday=7, start=time(9), end=time(10)).full_clean()
    assert set(caught.value.message_dict) == {"weekday"}
    BusinessInterval(calendar=saved, weekday=5, start=time(0), end=time(0)).full_clean()  # whole day


def test_custom_holidays_are_unique_per_calendar():
    calendar = new_york()
    new_york(name="Other", holidays=[]).custom_holidays.create(date=date(2025, 12, 24))  # another calendar: fine
    with pytest.raises(IntegrityError):
        CustomHoliday.objects.create(calendar=calendar, date=date(2025, 12, 24))


# -- admin ----------------------------------------------------------------------------------------


def _signed_in(role):
    client = Client()
    client.force_login(factories.user(role))
    return client


def _change_form(calendar, intervals, holidays=()):
    data = {
        "name": calendar.name,
        "time_zone": calendar.time_zone,
        "holiday_country": calendar.holiday_country,
        "holiday_subdivision": calendar.holiday_subdivision,
        "intervals-TOTAL_FORMS": str(len(intervals)),
        "intervals-INITIAL_FORMS": "0",
        "custom_holidays-TOTAL_FORMS": str(len(holidays)),
        "custom_holidays-INITIAL_FORMS": "0",
    }
    for i, (weekday, start, end) in enumerate(intervals):
        data |= {f"intervals-{i}-weekday": str(weekday), f"intervals-{i}-start": start, f"intervals-{i}-end": end}
    for i, (day, name) in enumerate(holidays):
        data |= {f"custom_holidays-{i}-date": day, f"custom_holidays-{i}-name": name}
    return data


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MANAGER])
def test_admin_pages_for_admins_and_managers(role):
    calendar = new_york()
    client = _signed_in(role)
    listing = client.get("/admin/policies/businesscalendar/")
    assert listing.status_code == 200
    assert "New York office" in listing.content.decode()
    page = client.get(f"/admin/policies/businesscalendar/{calendar.pk}/change/")
    assert page.status_code == 200
    assert "Christmas Eve" in page.content.decode()
    assert client.get("/admin/policies/businesscalendar/add/").status_code == 200


@pytest.mark.parametrize("role", [Role.AGENT, Role.COLLABORATOR])
def test_admin_pages_refused_to_agents(role):
    calendar = new_york()
    client = _signed_in(role)
    for url in ["/admin/policies/businesscalendar/", f"/admin/policies/businesscalendar/{calendar.pk}/change/"]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")
    response = client.post("/admin/policies/businesscalendar/add/", _change_form(calendar, []) | {"name": "Sneaky"})
    assert response.status_code == 302
    assert not BusinessCalendar.objects.filter(name="Sneaky").exists()


def test_admin_adds_a_calendar_with_inlines_and_refuses_overlaps():
    client = _signed_in(Role.ADMIN)
    blank = BusinessCalendar(
        name="Sydney", time_zone="Australia/Sydney", holiday_country="AU", holiday_subdivision="NSW"
    )
    overlapping = [(0, "09:00", "17:00"), (6, "20:00", "10:00")]
    response = client.post("/admin/policies/businesscalendar/add/", _change_form(blank, overlapping))
    assert response.status_code == 200
    assert "Sunday 20:00-10:00 overlaps Monday 09:00-17:00" in response.content.decode()
    assert not BusinessCalendar.objects.exists()

    bad_region = BusinessCalendar(
        name="Sydney", time_zone="Australia/Sydney", holiday_country="AU", holiday_subdivision="XYZ"
    )
    response = client.post("/admin/policies/businesscalendar/add/", _change_form(bad_region, []))
    assert response.status_code == 200
    assert "holiday_subdivision" in response.context["adminform"].form.errors

    good = [(0, "09:00", "17:00"), (6, "20:00", "09:00")]
    response = client.post(
        "/admin/policies/businesscalendar/add/", _change_form(blank, good, [("2025-06-02", "Company day")])
    )
    assert response.status_code == 302
    calendar = BusinessCalendar.objects.get(name="Sydney")
    assert calendar.intervals.count() == 2
    schedule = schedule_for(calendar, years=[2025])
    assert {date(2025, 6, 2), date(2025, 1, 1)} <= schedule.holidays
