"""The per-ticket metrics record reports read (DOMAIN.md, "Ticket metrics").

One row per ticket, kept current inside every change's transaction (``analytics.ticket_metrics``)
and rebuilt from events by ``deskpilot metrics-rebuild`` (``analytics.rebuild``). What each value
means is decided in ``analytics.metrics``. Dimensions (status, team, assignee...) are copies of the
ticket's current fields, so a report filters and groups on this table alone.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from deskpilot.tickets.models import Channel, Priority, Status, Ticket, TicketType


def _seconds(help_text: str) -> models.PositiveIntegerField[int | None, int | None]:
    return models.PositiveIntegerField(null=True, blank=True, help_text=help_text)


class TicketMetrics(models.Model):
    ticket = models.OneToOneField(Ticket, primary_key=True, on_delete=models.CASCADE, related_name="metrics")

    # Dimensions: the ticket as it is now. Team and assignee are indexed with created_at (below).
    created_at = models.DateTimeField()
    first_solved_at = models.DateTimeField(null=True, blank=True)
    # The latest solve while the ticket is solved or closed; None while it is unsolved.
    solved_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    priority = models.CharField(max_length=10, choices=Priority.choices)
    type = models.CharField(max_length=10, choices=TicketType.choices)
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    organization = models.ForeignKey(
        "customers.Organization", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sla_policy = models.ForeignKey(
        "policies.SlaPolicy", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The ticket this one was merged into (it is then closed); reports usually leave these out.
    merged_into = models.PositiveIntegerField(null=True, blank=True)

    # Times in whole seconds, calendar and business; None until both ends exist.
    first_reply_time = _seconds("created (or the customer's first message) -> first public agent reply")
    first_reply_time_business = _seconds("first_reply_time in business seconds")
    first_resolution_time = _seconds("created -> first solved")
    first_resolution_time_business = _seconds("first_resolution_time in business seconds")
    full_resolution_time = _seconds("created -> latest solve, while solved")
    full_resolution_time_business = _seconds("full_resolution_time in business seconds")
    requester_wait_time = _seconds("time in new, open and on_hold, once solved")
    requester_wait_time_business = _seconds("requester_wait_time in business seconds")
    agent_wait_time = _seconds("time in pending, once solved")
    agent_wait_time_business = _seconds("agent_wait_time in business seconds")
    on_hold_time = _seconds("time in on_hold, once solved")
    on_hold_time_business = _seconds("on_hold_time in business seconds")

    replies = models.PositiveIntegerField(default=0)
    customer_messages = models.PositiveIntegerField(default=0)
    reopens = models.PositiveIntegerField(default=0)
    assignee_stations = models.PositiveIntegerField(default=0)
    group_stations = models.PositiveIntegerField(default=0)
    escalations = models.PositiveIntegerField(default=0)
    # None while unsolved.
    one_touch = models.BooleanField(null=True, blank=True)
    first_contact_resolution = models.BooleanField(null=True, blank=True)

    # SLA outcome: per metric {"met": n, "breached": n, "running": n} of the policy's target
    # instances (only metrics the policy measures), and the totals, so "% SLA met" per target and
    # overall both come from this table (daily rollups add the JSON up per day).
    sla_outcomes = models.JSONField(default=dict, blank=True)
    sla_met = models.PositiveIntegerField(default=0)
    sla_breached = models.PositiveIntegerField(default=0)

    # CSAT normalised to good (True) or bad (False), whatever the survey's scale (DOMAIN.md,
    # "Customer feedback scores"); None until a rating exists. Written by the feedback app (surveys
    # come in a later issue); the metrics computed from events never touch it.
    csat_good = models.BooleanField(null=True, blank=True)

    class Meta:
        verbose_name = "ticket metrics"
        verbose_name_plural = "ticket metrics"
        # Reports take a date range (created or solved) and filter or group by one dimension.
        indexes = [
            models.Index(fields=["created_at"], name="metrics_created_at"),
            models.Index(fields=["solved_at"], name="metrics_solved_at", condition=models.Q(solved_at__isnull=False)),
            models.Index(fields=["team", "created_at"], name="metrics_team_created"),
            models.Index(fields=["assignee", "created_at"], name="metrics_assignee_created"),
            models.Index(fields=["channel", "created_at"], name="metrics_channel_created"),
            models.Index(fields=["priority", "created_at"], name="metrics_priority_created"),
            models.Index(fields=["type", "created_at"], name="metrics_type_created"),
            models.Index(fields=["organization", "created_at"], name="metrics_org_created"),
            # The same on the solve day (drill-down lists of solved tickets per team, agent...).
            *(
                models.Index(
                    fields=[field, "solved_at"],
                    name=f"metrics_{short}_solved",
                    condition=models.Q(solved_at__isnull=False),
                )
                for field, short in (
                    ("team", "team"),
                    ("assignee", "assignee"),
                    ("channel", "channel"),
                    ("priority", "priority"),
                    ("type", "type"),
                    ("organization", "org"),
                )
            ),
        ]

    def __str__(self) -> str:
        return f"metrics of ticket {self.ticket_id}"


# --- daily rollups -----------------------------------------------------------------------------

# The time metrics counted in histogram buckets, each in calendar and business seconds, and the
# prefix of their bucket columns (``<prefix>_b00`` ... ``<prefix>_b18``, bounds in analytics.histogram).
HISTOGRAMS = {
    "first_reply_time": "frt",
    "first_reply_time_business": "frtb",
    "full_resolution_time": "res",
    "full_resolution_time_business": "resb",
}
# The plain counts of a rollup row, in column order.
COUNTS = (
    "created",
    "solved",
    "reopened",
    "reopens",
    "replies",
    "one_touch",
    "fcr",
    "escalated",
    "escalations",
    "sla_met",
    "sla_breached",
    "csat_good",
    "csat_bad",
)


class RollupDimension(models.TextChoices):
    ALL = "all", "All tickets"
    TEAM = "team", "Team"
    AGENT = "agent", "Agent"
    CHANNEL = "channel", "Channel"
    PRIORITY = "priority", "Priority"
    TYPE = "type", "Type"
    ORGANIZATION = "organization", "Organization"


class DailyRollup(models.Model):
    """Per UTC day and one dimension value, the sums reports need over TicketMetrics, kept current
    by the live path (``analytics.rollups``) and rebuilt from TicketMetrics by the rebuild.
    Which day each figure counts on is decided in ``analytics.rollups``. Every count is a plain
    integer updated as ``x = x + delta``; a row whose tickets moved away is left at zero. Every
    count defaults to 0 in the database too, so the live path's upsert names only the columns a
    change moves."""

    day = models.DateField()
    dimension = models.CharField(max_length=16, choices=RollupDimension.choices)
    # The team's or agent's id as text, the channel or priority name; "" for "all" and for no
    # team / no assignee.
    key = models.CharField(max_length=40, blank=True)

    created = models.IntegerField(default=0, db_default=0)
    solved = models.IntegerField(default=0, db_default=0, help_text="tickets whose latest solve is this day")
    reopened = models.IntegerField(default=0, db_default=0, help_text="of those solved, tickets reopened at least once")
    reopens = models.IntegerField(default=0, db_default=0, help_text="reopens of the tickets solved")
    replies = models.IntegerField(default=0, db_default=0, help_text="public agent replies of the tickets solved")
    one_touch = models.IntegerField(default=0, db_default=0)
    fcr = models.IntegerField(default=0, db_default=0, help_text="first-contact resolutions among the tickets solved")
    escalated = models.IntegerField(
        default=0, db_default=0, help_text="tickets created this day escalated at least once"
    )
    escalations = models.IntegerField(default=0, db_default=0)
    sla_met = models.IntegerField(
        default=0, db_default=0, help_text="SLA target instances met, tickets created this day"
    )
    sla_breached = models.IntegerField(
        default=0, db_default=0, help_text="SLA target instances breached, tickets created this day"
    )
    csat_good = models.IntegerField(default=0, db_default=0, help_text="tickets solved this day rated good")
    csat_bad = models.IntegerField(default=0, db_default=0, help_text="tickets solved this day rated bad")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "dimension", "key"], name="rollup_day_dimension_key")]
        indexes = [models.Index(fields=["dimension", "day"], name="rollup_dimension_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.dimension} {self.key}"


def _bucket_columns() -> list[str]:
    from deskpilot.analytics.histogram import BUCKETS

    return [f"{prefix}_b{i:02d}" for prefix in HISTOGRAMS.values() for i in range(BUCKETS)]


def _sla_columns() -> list[str]:
    from deskpilot.policies.clock import METRICS

    return [f"sla_{metric}_{outcome}" for metric in METRICS for outcome in ("met", "breached")]


# The sum of each histogram's values in seconds, so reports show the mean beside the median and
# p90 (DOMAIN.md): ``<prefix>_sum``, counted on the histogram's day. Big integers: a month of a
# busy desk's resolution times overflows 32 bits.
SUM_COLUMNS = tuple(f"{prefix}_sum" for prefix in HISTOGRAMS.values())
for _name in SUM_COLUMNS:
    models.BigIntegerField(default=0, db_default=0).contribute_to_class(DailyRollup, _name)

# Histogram columns added in a loop (76 of them): declared one by one they would drown the model.
BUCKET_COLUMNS = tuple(_bucket_columns())
# "% SLA met" per target: target instances met and breached per SLA metric (the record's
# sla_outcomes added up), counted on the creation day like the totals sla_met / sla_breached.
SLA_COLUMNS = tuple(_sla_columns())
for _name in SLA_COLUMNS + BUCKET_COLUMNS:
    models.IntegerField(default=0, db_default=0).contribute_to_class(DailyRollup, _name)


# --- KPI targets ---------------------------------------------------------------------------------


class TargetDirection(models.TextChoices):
    AT_LEAST = "at_least", "At least"
    AT_MOST = "at_most", "At most"


def _kpi_choices() -> list[tuple[str, str]]:
    from deskpilot.analytics.kpis import KPIS

    return [(key, kpi.label) for key, kpi in KPIS.items()]


class KpiTarget(models.Model):
    """A manager's target for one KPI, desk-wide or for one team or one agent (at most one of
    ``team`` and ``agent``; neither: the whole desk). One target per KPI and scope.

    Read and judged by ``analytics.targets`` (where the status rules live); written only through
    its actions, which check what the database cannot (thresholds in the KPI's range, the agent's
    role, a direction that agrees with the KPI)."""

    # A callable (read when first needed): the catalogue imports the rollups, which import this module.
    kpi = models.CharField(max_length=40, choices=_kpi_choices)
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # In the KPI's unit: seconds for time KPIs, 0-100 for percentages, tickets for counts.
    threshold = models.FloatField()
    # Stored, not looked up in the catalogue each time, so the row reads as the sentence the
    # manager agreed to ("at most 4 h"). The actions copy it from the KPI (higher_is_better) and
    # let the manager choose only for KPIs without a better side ("created").
    direction = models.CharField(max_length=8, choices=TargetDirection.choices)
    # How far from the threshold, on the passing side, a value is "at risk" (same unit; 0: never).
    at_risk_band = models.FloatField(default=0)
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(team__isnull=True) | models.Q(agent__isnull=True), name="kpi_target_one_scope"
            ),
            models.CheckConstraint(condition=models.Q(threshold__gte=0), name="kpi_target_threshold_not_negative"),
            models.CheckConstraint(condition=models.Q(at_risk_band__gte=0), name="kpi_target_band_not_negative"),
            models.CheckConstraint(
                condition=models.Q(direction__in=TargetDirection.values), name="kpi_target_direction_valid"
            ),
            # One per KPI and scope. Three partial constraints because NULLs are distinct in a
            # plain unique constraint (nulls_distinct=False is PostgreSQL-only).
            models.UniqueConstraint(
                fields=["kpi"],
                condition=models.Q(team__isnull=True, agent__isnull=True),
                name="kpi_target_one_per_desk",
            ),
            models.UniqueConstraint(
                fields=["kpi", "team"], condition=models.Q(team__isnull=False), name="kpi_target_one_per_team"
            ),
            models.UniqueConstraint(
                fields=["kpi", "agent"], condition=models.Q(agent__isnull=False), name="kpi_target_one_per_agent"
            ),
        ]

    def __str__(self) -> str:
        scope = f"team {self.team_id}" if self.team_id else f"agent {self.agent_id}" if self.agent_id else "desk"
        return f"{self.kpi} {self.direction} {self.threshold:g} ({scope})"
