"""Business-hours calendars: a time zone, weekly open intervals and holidays.

The arithmetic lives in ``business_time.py`` (pure); ``calendars.schedule_for`` turns a calendar
into its ``Schedule``. Calendars are not linked to teams, organizations or SLA policies yet.
"""

from __future__ import annotations

import zoneinfo
from datetime import time
from functools import lru_cache
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils import timezone

from deskpilot.policies import holidays as public_holidays


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


@lru_cache(maxsize=1)
def known_time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(value: str) -> None:
    if value not in known_time_zones():
        raise ValidationError(f"{value!r} is not a known time zone (e.g. Europe/Berlin)", code="invalid")


class BusinessCalendar(models.Model):
    name = models.CharField(max_length=200, unique=True)
    # IANA name; business time is computed on this zone's wall clock (DST included).
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    # ISO 3166-1 country code and optional subdivision for the holidays package ("US"/"CA", "DE"/"BY");
    # blank means no public holidays, only the calendar's custom ones.
    holiday_country = models.CharField(max_length=3, blank=True)
    holiday_subdivision = models.CharField(max_length=10, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Bumped by every change to the calendar, its intervals or holidays: schedule_for caches on it.
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.updated_at = timezone.now()
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "updated_at"}
        super().save(*args, **kwargs)

    def clean(self) -> None:
        try:
            self.holiday_country, self.holiday_subdivision = public_holidays.validate_region(
                self.holiday_country, self.holiday_subdivision
            )
        except public_holidays.UnknownRegion as error:
            raise ValidationError({error.field: str(error)}) from None

    def touch(self) -> None:
        """Mark the calendar changed (its intervals or holidays were), so cached schedules rebuild."""
        self.updated_at = timezone.now()
        BusinessCalendar.objects.filter(pk=self.pk).update(updated_at=self.updated_at)


class _CalendarPart(models.Model):
    """Saving or deleting an interval or a holiday marks its calendar changed."""

    class Meta:
        abstract = True

    calendar: models.ForeignKey[BusinessCalendar, BusinessCalendar]

    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        self.calendar.touch()

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        calendar = self.calendar
        result = super().delete(*args, **kwargs)
        calendar.touch()
        return result


class BusinessInterval(_CalendarPart):
    """Open from ``start`` to ``end`` (the calendar's wall clock) on ``weekday``. ``end <= start``
    runs past midnight into the next day; 00:00-00:00 is the whole day. Overlaps within a calendar
    (past midnight included) are refused by the actions and the admin form set, which see them all."""

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="intervals")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices, validators=[MaxValueValidator(6)])
    start = models.TimeField()
    end = models.TimeField(help_text="At or before the start: runs past midnight (00:00-00:00 is the whole day).")

    class Meta:
        ordering = ["calendar", "weekday", "start"]
        constraints = [
            models.CheckConstraint(condition=models.Q(weekday__lte=6), name="business_interval_weekday_0_6"),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start:%H:%M}-{self.end:%H:%M}"

    def clean(self) -> None:
        errors = {}
        for field in ("start", "end"):
            value = getattr(self, field)
            if value is not None and value.microsecond:
                errors[field] = "must be whole seconds"
        if self.start is not None and self.start == self.end and self.start != time(0):
            errors["end"] = "equals the start: the interval would be empty (00:00-00:00 is the whole day)"
        if errors:
            raise ValidationError(errors)


class CustomHoliday(_CalendarPart):
    """A date the calendar is closed all day (local date), besides its country's public holidays."""

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="custom_holidays")
    date = models.DateField()
    name = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["calendar", "date"]
        constraints = [models.UniqueConstraint(fields=["calendar", "date"], name="unique_custom_holiday_date")]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.name}".strip()
