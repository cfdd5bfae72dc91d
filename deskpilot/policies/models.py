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


class _Stamped(models.Model):
    """Every save bumps ``updated_at``: caches (schedules, compiled SLA policies) key on it."""

    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.updated_at = timezone.now()
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "updated_at"}
        super().save(*args, **kwargs)

    def touch(self) -> None:
        """Mark it changed (a part of it was), so what is cached from it is rebuilt."""
        self.updated_at = timezone.now()
        type(self).objects.filter(pk=self.pk).update(updated_at=self.updated_at)  # type: ignore[attr-defined]


class _Part(models.Model):
    """Saving or deleting a part (an interval, a holiday, a target) marks its parent changed."""

    parent_field = ""

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        self._parent().touch()

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        parent = self._parent()
        result = super().delete(*args, **kwargs)
        parent.touch()
        return result

    def _parent(self) -> _Stamped:
        parent = getattr(self, self.parent_field)
        assert isinstance(parent, _Stamped)
        return parent


class BusinessCalendar(_Stamped):
    name = models.CharField(max_length=200, unique=True)
    # IANA name; business time is computed on this zone's wall clock (DST included).
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    # ISO 3166-1 country code and optional subdivision for the holidays package ("US"/"CA", "DE"/"BY");
    # blank means no public holidays, only the calendar's custom ones.
    holiday_country = models.CharField(max_length=3, blank=True)
    holiday_subdivision = models.CharField(max_length=10, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # updated_at (_Stamped) is bumped by every change to the calendar, its intervals or holidays:
    # schedule_for caches on it.

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        try:
            self.holiday_country, self.holiday_subdivision = public_holidays.validate_region(
                self.holiday_country, self.holiday_subdivision
            )
        except public_holidays.UnknownRegion as error:
            raise ValidationError({error.field: str(error)}) from None


class _CalendarPart(_Part):
    """Saving or deleting an interval or a holiday marks its calendar changed."""

    parent_field = "calendar"

    class Meta:
        abstract = True


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


class DefaultCalendar(models.Model):
    """Which calendar business-hour targets use when neither the SLA policy, the ticket's team nor
    its organization names one (at most one row)."""

    calendar = models.OneToOneField(BusinessCalendar, on_delete=models.CASCADE, related_name="+")

    def __str__(self) -> str:
        return f"default: {self.calendar}"


class TeamCalendar(models.Model):
    """A team's business hours: its tickets' business-hour targets use them."""

    team = models.OneToOneField("accounts.Team", on_delete=models.CASCADE, related_name="business_calendar")
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="teams")

    def __str__(self) -> str:
        return f"{self.team_id}: {self.calendar}"


class OrganizationCalendar(models.Model):
    """An organization's business hours (a customer's contract hours), used when its tickets'
    team has none."""

    organization = models.OneToOneField(
        "customers.Organization", on_delete=models.CASCADE, related_name="business_calendar"
    )
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="organizations")

    def __str__(self) -> str:
        return f"{self.organization_id}: {self.calendar}"


class EscalationLevel(models.TextChoices):
    """Where a ticket stands on the escalation ladder (no level: tier 1, not escalated)."""

    TIER2 = "tier2", "Tier 2"
    MANAGER = "manager", "Manager"


class EscalationPolicy(_Stamped):
    """What happens when an SLA target of a ticket reaches its warning threshold or is breached.
    Each action is optional; an SLA policy names the escalation policy its tickets follow."""

    name = models.CharField(max_length=200, unique=True)
    on_warning = models.BooleanField(default=False, help_text="Act when a target reaches its warning threshold.")
    on_breach = models.BooleanField(default=True, help_text="Act when a target is breached.")
    # Metrics this applies to; empty means all of them.
    metrics = models.JSONField(default=list, blank=True)
    notify_assignee = models.BooleanField(default=True)
    notify_team_lead = models.BooleanField(default=True)
    notify_emails = models.JSONField(default=list, blank=True, help_text="More addresses to email.")
    raise_priority = models.BooleanField(default=False, help_text="One step up (low → normal → high → urgent).")
    move_to_team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    escalate_to = models.CharField(max_length=10, choices=EscalationLevel.choices, blank=True)
    add_lead_as_follower = models.BooleanField(default=False, help_text="The team lead follows the ticket.")
    add_tag = models.CharField(max_length=80, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SlaPolicy(_Stamped):
    """Promised response and resolution times. Active policies are tried in ``position`` order and
    the first whose conditions all match applies (an empty condition matches anything).

    Conditions are lists of values (ids for teams and organizations, names for tags): a ticket
    matches a list when its value is in it (for tags: when it has any of them)."""

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    position = models.PositiveIntegerField(default=0)
    active = models.BooleanField(default=True)
    priorities = models.JSONField(default=list, blank=True)
    teams = models.JSONField(default=list, blank=True)
    organizations = models.JSONField(default=list, blank=True)
    tiers = models.JSONField(default=list, blank=True)
    channels = models.JSONField(default=list, blank=True)
    types = models.JSONField(default=list, blank=True)
    tags = models.JSONField(default=list, blank=True)
    # Business-hour targets count on this calendar; when empty, the team's, the organization's or
    # the default calendar's.
    calendar = models.ForeignKey(BusinessCalendar, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # A target warns when this share of it has elapsed; empty: no warnings.
    warning_percent = models.PositiveSmallIntegerField(
        null=True, blank=True, default=75, validators=[MaxValueValidator(99)]
    )
    escalation = models.ForeignKey(
        EscalationPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="sla_policies"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # updated_at (_Stamped) is bumped by every change to the policy or its targets: compiled
    # policies are cached on it, and breaches found because of a change are recorded from then
    # on, never back-dated.

    class Meta:
        ordering = ["position", "id"]
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policies"

    def __str__(self) -> str:
        return self.name


class SlaMetric(models.TextChoices):
    FIRST_REPLY = "first_reply", "First reply"
    NEXT_REPLY = "next_reply", "Next reply"
    PERIODIC_UPDATE = "periodic_update", "Periodic update"
    PAUSABLE_UPDATE = "pausable_update", "Pausable update"
    REQUESTER_WAIT = "requester_wait", "Requester wait"
    AGENT_WORK = "agent_work", "Agent work"
    TOTAL_RESOLUTION = "total_resolution", "Total resolution"
    GROUP_OWNERSHIP = "group_ownership", "Group ownership"


class SlaTarget(_Part):
    """One promise of a policy: ``metric`` within ``minutes`` for tickets of ``priority``
    (group ownership: for tickets owned by ``team``, whatever the priority)."""

    policy = models.ForeignKey(SlaPolicy, on_delete=models.CASCADE, related_name="targets")
    metric = models.CharField(max_length=20, choices=SlaMetric.choices)
    priority = models.CharField(max_length=10, blank=True)
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    minutes = models.PositiveIntegerField()
    business_hours = models.BooleanField(default=True)

    parent_field = "policy"

    class Meta:
        ordering = ["policy", "metric", "priority"]
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "metric", "priority"],
                condition=models.Q(team__isnull=True),
                name="unique_sla_target_priority",
            ),
            models.UniqueConstraint(
                fields=["policy", "team"], condition=models.Q(team__isnull=False), name="unique_sla_target_team"
            ),
            models.CheckConstraint(condition=models.Q(minutes__gt=0), name="sla_target_minutes_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.metric} {self.priority or self.team_id}: {self.minutes} min"


class RecomputeRequest(models.Model):
    """A recompute of every unsolved ticket's clocks that is owed: written in the transaction that
    changed a policy or a calendar, removed by the job once it has done the work asked for until
    then. While one is left over (its job lost with a killed worker, or the queue down when it was
    queued), the minute's SLA sweep queues the job again (``policies.tasks``)."""

    requested_at = models.DateTimeField(default=timezone.now)
    # While a job works on it (renewed as it goes) or was just queued for it: not queued again
    # before this instant.
    lease_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["requested_at", "id"]

    def __str__(self) -> str:
        return f"recompute owed since {self.requested_at.isoformat()}"


class ConfigChange(models.Model):
    """One write to the SLA configuration: policies and their targets, calendars with their hours
    and holidays, and which calendar the default, a team or an organization uses. Database
    triggers add a row with a random token for every such write, whatever makes it (the actions,
    the admin, a bulk write, raw SQL, a migration); each process caches the compiled policies and
    the calendar assignments and reads the rows' count and token sum to know when to load them
    again (``config_version``). A periodic job folds the rows into one.

    The token is the key: no sequence, so nothing that resets sequences (a test database's
    flush) can make a trigger's insert collide with a row left behind."""

    token = models.BigIntegerField(primary_key=True)

    def __str__(self) -> str:
        return f"SLA configuration change {self.token}"
