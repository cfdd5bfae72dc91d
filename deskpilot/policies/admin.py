"""Django admin for business-hours calendars, with their intervals and custom holidays inline.

Overlapping intervals are refused by the inline form set, which sees every row of the calendar at
once (a row-by-row check against the database would refuse swapping two intervals in one save).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Count, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest

from deskpilot.policies.business_time import Interval, find_overlap
from deskpilot.policies.models import BusinessCalendar, BusinessInterval, CustomHoliday


class IntervalFormSet(BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        rows: list[tuple[forms.BaseForm, Interval]] = []
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE") or form.errors:
                continue
            if data.get("weekday") is None or data.get("start") is None or data.get("end") is None:
                continue
            try:
                rows.append((form, Interval(data["weekday"], data["start"], data["end"])))
            except ValueError:
                continue  # the row's own validation (BusinessInterval.clean) reports it
        overlap = find_overlap([interval for _, interval in rows])
        if overlap is not None:
            first, second = overlap
            rows[second][0].add_error("start", f"{rows[second][1]} overlaps {rows[first][1]}")


class BusinessIntervalInline(admin.TabularInline):
    model = BusinessInterval
    formset = IntervalFormSet
    extra = 0
    fields = ["weekday", "start", "end"]


class CustomHolidayInline(admin.TabularInline):
    model = CustomHoliday
    extra = 0
    fields = ["date", "name"]


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    list_display = ["name", "time_zone", "holiday_country", "holiday_subdivision", "interval_count", "updated_at"]
    search_fields = ["name"]
    list_filter = ["time_zone", "holiday_country"]
    readonly_fields = ["created_at", "updated_at"]
    fields = ["name", "time_zone", "holiday_country", "holiday_subdivision", "created_at", "updated_at"]
    inlines = [BusinessIntervalInline, CustomHolidayInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[BusinessCalendar]:
        return super().get_queryset(request).annotate(interval_total=Count("intervals"))

    @admin.display(description="intervals", ordering="interval_total")
    def interval_count(self, calendar: Any) -> int:
        return int(calendar.interval_total)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        form.instance.touch()  # deleted inline rows, too, change the schedule
