"""/api/v1/metrics: the per-ticket metrics records and the daily rollups, as JSON or CSV, for BI
tools (Tableau, Power BI). Managers and admins only; a read-only token is enough.

Column names and order are part of the contract (docs/api.md, "Metrics"): BI tools map columns by
name once and re-import, so a column is only ever added at the end, never renamed or moved.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime
import json
import zoneinfo
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import F, Q, QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from ninja import Query, Router

from deskpilot.accounts.models import Role, Team, User
from deskpilot.analytics import kpis, operations, performance, performance_tables, rollups, scorecards, targets
from deskpilot.analytics.models import COUNTS, HISTOGRAMS, SLA_COLUMNS, RollupDimension, TicketMetrics
from deskpilot.core.api_support import BY_ID, DEFAULT_PAGE_SIZE, ErrorOut, after_cursor, keyset_page, request_user
from deskpilot.core.errors import InvalidInput, NotPermitted
from deskpilot.policies.clock import METRICS as SLA_METRICS
from deskpilot.tickets.models import Channel, Priority, Status, TicketType

router = Router(tags=["metrics"])
ERRORS: dict[int, type[ErrorOut]] = {401: ErrorOut, 403: ErrorOut, 422: ErrorOut}

# The longest range /daily answers: a year and a bit, so "this year against last" fits, while a
# mistyped year (2206) is an error instead of a 70,000-row response.
MAX_DAILY_SPAN_DAYS = 400
# Rows per query while a CSV export streams: big enough that the round trips do not dominate,
# small enough that a million-row export never holds more than this in memory.
CSV_CHUNK = 2000

# Every time metric of the record, calendar then business seconds.
TIME_COLUMNS = (
    "first_reply_time",
    "first_reply_time_business",
    "first_resolution_time",
    "first_resolution_time_business",
    "full_resolution_time",
    "full_resolution_time_business",
    "requester_wait_time",
    "requester_wait_time_business",
    "agent_wait_time",
    "agent_wait_time_business",
    "on_hold_time",
    "on_hold_time_business",
)
# The record's own columns, read with one values_list per page.
_RECORD_COLUMNS = (
    "ticket_id",
    "created_at",
    "first_solved_at",
    "solved_at",
    "status",
    "channel",
    "priority",
    "type",
    "team_id",
    "assignee_id",
    "organization_id",
    "sla_policy_id",
    "merged_into",
    *TIME_COLUMNS,
    "replies",
    "customer_messages",
    "reopens",
    "assignee_stations",
    "group_stations",
    "escalations",
    "one_touch",
    "first_contact_resolution",
    "csat_good",
    "sla_met",
    "sla_breached",
)
_SLA_STATES = ("met", "breached", "running")
# The per-target SLA outcomes flattened, so a CSV has one column per target and state.
SLA_OUTCOME_COLUMNS = tuple(f"sla_{metric}_{state}" for metric in SLA_METRICS for state in _SLA_STATES)
TICKET_COLUMNS = (*_RECORD_COLUMNS, *SLA_OUTCOME_COLUMNS)

PERCENTILE_COLUMNS = tuple(
    f"{metric}_{stat}"
    for metric in (
        "first_reply_time",
        "first_reply_time_business",
        "full_resolution_time",
        "full_resolution_time_business",
    )
    for stat in ("mean", "median", "p90")
)
DAILY_COLUMNS = ("day", *COUNTS, *SLA_COLUMNS, *PERCENTILE_COLUMNS)


def _require_manager(user: User) -> None:
    # The same rule and message shape as managing teams (accounts.api): metrics show every
    # agent's workload and speed, which is the managers' business, not their peers'.
    if user.role not in (Role.ADMIN, Role.MANAGER):
        raise NotPermitted("only admins and managers can read metrics")


def _wants_csv(request: HttpRequest, format: str | None) -> bool:
    if format is None:
        return "text/csv" in request.headers.get("Accept", "")
    if format not in ("json", "csv"):
        raise InvalidInput("format", f"{format!r} is not one of: json, csv")
    return format == "csv"


def _json(data: Any) -> HttpResponse:
    return HttpResponse(json.dumps(data, cls=DjangoJSONEncoder), content_type="application/json")


_ENCODER = DjangoJSONEncoder()


class _Echo:
    """A file-like object whose write returns the line, so csv.writer can feed a generator."""

    def write(self, value: str) -> str:
        return value


def _csv_cell(value: Any) -> Any:
    # Times exactly as the JSON spells them (ISO 8601, UTC, milliseconds), so both formats of one
    # export agree; booleans as true/false like the JSON; None empty.
    if isinstance(value, datetime.datetime | datetime.date):
        return _ENCODER.default(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else value


def _csv_response(columns: Sequence[str], rows: Iterable[dict[str, Any]], filename: str) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield writer.writerow(columns)
        for row in rows:
            yield writer.writerow([_csv_cell(row[name]) for name in columns])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- parameters ---------------------------------------------------------------------------------


def _moment(raw: str | None, field: str, *, end: bool) -> tuple[datetime.datetime, bool] | None:
    """An ISO date or datetime. A date means its whole UTC day: as a lower bound its start, as an
    upper bound the start of the next day (exclusive), so created_to=2026-03-02 includes all of
    the 2nd. A datetime without an offset is UTC (the stored time zone). Returns (bound,
    inclusive)."""
    if raw is None or raw == "":
        return None
    try:
        if len(raw) == 10:
            day = datetime.date.fromisoformat(raw)
            start = datetime.datetime.combine(day, datetime.time(), tzinfo=datetime.UTC)
            return (start + datetime.timedelta(days=1), False) if end else (start, True)
        moment = datetime.datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(field, f"{raw!r} is not an ISO 8601 date or date and time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment, True


def _time_range(
    qs: QuerySet[TicketMetrics], column: str, raw_from: str | None, raw_to: str | None, prefix: str
) -> QuerySet[TicketMetrics]:
    start = _moment(raw_from, f"{prefix}_from", end=False)
    stop = _moment(raw_to, f"{prefix}_to", end=True)
    # An inclusive bound may equal the start (one instant); an exclusive one (a date's next day) may not.
    if start and stop and (start[0] > stop[0] if stop[1] else start[0] >= stop[0]):
        raise InvalidInput(f"{prefix}_from", f"is after {prefix}_to")
    if start:
        qs = qs.filter(**{f"{column}__gte": start[0]})
    if stop:
        qs = qs.filter(**{f"{column}__{'lte' if stop[1] else 'lt'}": stop[0]})
    return qs


def _split(values: list[str]) -> list[str]:
    """Repeated parameters and comma-separated lists both work, as on /tickets."""
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _choices(values: list[str], field: str, allowed: Sequence[str]) -> list[str]:
    chosen = _split(values)
    unknown = [v for v in chosen if v not in allowed]
    if unknown:
        raise InvalidInput(field, f"{unknown[0]!r} is not one of: {', '.join(allowed)}")
    return chosen


def _ids(values: list[str], field: str) -> tuple[list[int], bool]:
    """Ids, and whether "none" (no team / unassigned) was among them."""
    ids, none = [], False
    for value in _split(values):
        if value == "none":
            none = True
        elif value.isdigit() and len(value) < 19:
            ids.append(int(value))
        else:
            raise InvalidInput(field, f"{value!r} is not an id or 'none'")
    return ids, none


def _by_ids(qs: QuerySet[TicketMetrics], column: str, values: list[str], field: str) -> QuerySet[TicketMetrics]:
    ids, none = _ids(values, field)
    if not ids and not none:
        return qs
    condition = Q(**{f"{column}__in": ids}) if ids else Q(pk__in=[])
    if none:
        condition |= Q(**{f"{column}__isnull": True})
    return qs.filter(condition)


# --- /metrics/tickets ---------------------------------------------------------------------------


def _ticket_row(values: Sequence[Any]) -> dict[str, Any]:
    row = dict(zip(_RECORD_COLUMNS, values[: len(_RECORD_COLUMNS)], strict=True))
    stored = values[len(_RECORD_COLUMNS)]
    outcomes = stored or {}
    for metric in SLA_METRICS:
        outcome = outcomes.get(metric) or {}
        for state in _SLA_STATES:
            row[f"sla_{metric}_{state}"] = outcome.get(state, 0)
    return row


def _values(qs: QuerySet[TicketMetrics]) -> QuerySet[TicketMetrics, tuple[Any, ...]]:
    return qs.values_list(*_RECORD_COLUMNS, "sla_outcomes")


def _csv_rows(qs: QuerySet[TicketMetrics]) -> Iterator[dict[str, Any]]:
    """Every row of ``qs`` in ticket order, CSV_CHUNK per query (keyset, so each chunk costs the
    same however deep into the export it is)."""
    last = None
    while True:
        chunk = qs if last is None else qs.filter(ticket_id__gt=last)
        found = list(_values(chunk.order_by("ticket_id"))[:CSV_CHUNK])
        for values in found:
            yield _ticket_row(values)
        if len(found) < CSV_CHUNK:
            return
        last = found[-1][0]


@router.get("/tickets", response={200: dict[str, Any], **ERRORS}, summary="Per-ticket metrics (JSON or CSV)")
def ticket_metrics(
    request: HttpRequest,
    created_from: str | None = Query(None, description="ISO date or date and time (UTC without an offset)"),
    created_to: str | None = Query(None, description="a date includes that whole day"),
    solved_from: str | None = None,
    solved_to: str | None = None,
    team: list[str] = Query([]),  # noqa: B008 - ninja's declaration style
    assignee: list[str] = Query([]),  # noqa: B008
    channel: list[str] = Query([]),  # noqa: B008
    priority: list[str] = Query([]),  # noqa: B008
    status: list[str] = Query([]),  # noqa: B008
    cursor: str | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
    format: str | None = Query(None, description="json (default) or csv; or send Accept: text/csv"),
) -> HttpResponse | StreamingHttpResponse:
    _require_manager(request_user(request))
    as_csv = _wants_csv(request, format)
    # The record's primary key is ticket_id; the cursor helpers page on a column named "id".
    qs: QuerySet[TicketMetrics] = TicketMetrics.objects.annotate(id=F("ticket_id"))
    qs = _time_range(qs, "created_at", created_from, created_to, "created")
    qs = _time_range(qs, "solved_at", solved_from, solved_to, "solved")
    qs = _by_ids(qs, "team_id", team, "team")
    qs = _by_ids(qs, "assignee_id", assignee, "assignee")
    if chosen := _choices(channel, "channel", Channel.values):
        qs = qs.filter(channel__in=chosen)
    if chosen := _choices(priority, "priority", Priority.values):
        qs = qs.filter(priority__in=chosen)
    if chosen := _choices(status, "status", Status.values):
        qs = qs.filter(status__in=chosen)
    if as_csv:
        # An export wants everything that matches, not a page of it; a cursor still resumes one.
        qs = after_cursor(qs, ordering=BY_ID, cursor=cursor)
        return _csv_response(TICKET_COLUMNS, _csv_rows(qs), "ticket-metrics.csv")
    rows, next_cursor = keyset_page(
        qs.only(*_RECORD_COLUMNS, "sla_outcomes"), ordering=BY_ID, cursor=cursor, limit=limit
    )
    items = [_ticket_row([getattr(r, c) for c in _RECORD_COLUMNS] + [r.sla_outcomes]) for r in rows]
    return _json({"items": items, "next_cursor": next_cursor})


# --- /metrics/daily -----------------------------------------------------------------------------


def _day(raw: str | None, field: str) -> datetime.date:
    if not raw:
        raise InvalidInput(field, "is required (an ISO date, YYYY-MM-DD)")
    try:
        return datetime.date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(field, f"{raw!r} is not an ISO date (YYYY-MM-DD)") from None


def _rollup_keys(dimension: str, values: list[str]) -> list[str] | None:
    chosen = _split(values)
    if not chosen:
        return None
    if dimension == RollupDimension.ALL:
        raise InvalidInput("keys", "needs a dimension other than all")
    if dimension in (RollupDimension.TEAM, RollupDimension.AGENT, RollupDimension.ORGANIZATION):
        ids, none = _ids(chosen, "keys")
        # Rollup keys are ids as text, "" for no team / unassigned (analytics.rollups).
        return [str(i) for i in ids] + ([""] if none else [])
    allowed = {
        RollupDimension.CHANNEL: Channel.values,
        RollupDimension.PRIORITY: Priority.values,
        RollupDimension.TYPE: TicketType.values,
    }[RollupDimension(dimension)]
    return _choices(chosen, "keys", allowed)


def _seconds(value: float | None) -> int | None:
    # Histogram estimates are interpolated; a fraction of a second is noise, not precision.
    return None if value is None else round(value)


@router.get("/daily", response={200: dict[str, Any], **ERRORS}, summary="Daily rollups (JSON or CSV)")
def daily_metrics(
    request: HttpRequest,
    start: str | None = Query(None, alias="from", description="first UTC day, YYYY-MM-DD (required)"),
    end: str | None = Query(None, alias="to", description="last UTC day, included (required)"),
    dimension: str = Query("all", description="all, team, agent, channel or priority"),
    # "keys" itself as the argument's name would shadow the mapping method ninja calls on the
    # parsed parameters.
    key_values: list[str] = Query([], alias="keys"),  # noqa: B008
    format: str | None = Query(None, description="json (default) or csv; or send Accept: text/csv"),
) -> HttpResponse | StreamingHttpResponse:
    _require_manager(request_user(request))
    as_csv = _wants_csv(request, format)
    first, last = _day(start, "from"), _day(end, "to")
    if first > last:
        raise InvalidInput("from", "is after to")
    if (last - first).days + 1 > MAX_DAILY_SPAN_DAYS:
        raise InvalidInput("to", f"is more than {MAX_DAILY_SPAN_DAYS} days after from")
    if dimension not in RollupDimension.values:
        raise InvalidInput("dimension", f"{dimension!r} is not one of: {', '.join(RollupDimension.values)}")
    series = rollups.rollup_series(first, last, dimension, _rollup_keys(dimension, key_values))
    items = []
    for day in series:
        row: dict[str, Any] = {"day": day.day, **{name: day.counts[name] for name in COUNTS + SLA_COLUMNS}}
        for metric in HISTOGRAMS:
            mean, median, p90 = day.stats(metric)
            row[f"{metric}_mean"], row[f"{metric}_median"], row[f"{metric}_p90"] = map(_seconds, (mean, median, p90))
        items.append(row)
    if as_csv:
        return _csv_response(DAILY_COLUMNS, items, "daily-metrics.csv")
    period = {}
    whole = rollups.period_total(series)
    for metric in HISTOGRAMS:
        mean, median, p90 = whole.stats(metric)
        period[f"{metric}_mean"], period[f"{metric}_median"], period[f"{metric}_p90"] = map(
            _seconds, (mean, median, p90)
        )
    return _json({"items": items, "period": period})


# --- the dashboard series -----------------------------------------------------------------------
# What the performance page, the scorecards and the operations page show, for BI tools: the same
# functions compute them (analytics.performance, scorecards, operations), so the API and the pages
# never disagree. Parameters are the performance page's (from, to, the filters, hours).


def _report_filters(
    start: str | None,
    end: str | None,
    team: str | None,
    agent: str | None,
    channel: str | None,
    priority: str | None,
    type: str | None,
    organization: str | None,
    tag: str | None,
    hours: str | None,
) -> performance.Filters:
    params = {
        "from": start,
        "to": end,
        "team": team,
        "agent": agent,
        "channel": channel,
        "priority": priority,
        "type": type,
        "organization": organization,
        "tag": tag,
        "hours": hours,
    }
    return performance.Filters.parse({k: v for k, v in params.items() if v is not None})


def _filters_out(filters: performance.Filters) -> dict[str, Any]:
    return {"from": filters.start, "to": filters.end, **filters.to_params(), "hours": filters.hours}


def _kpis_out(report: performance.Report) -> list[dict[str, Any]]:
    out = []
    for key in kpis.KPIS:
        figure = report.figure(key)
        out.append(
            {
                "key": key,
                "label": figure.kpi.label,
                "unit": figure.kpi.unit.value,
                "value": figure.value,
                "previous": figure.previous,
                "change": figure.change,
            }
        )
    return out


SERIES_COLUMNS = tuple(f.name for f in dataclasses.fields(performance.Point))

_FILTER_DOC = {
    "team": "team id, or none",
    "agent": "agent id, or none (unassigned)",
    "channel": "a channel",
    "priority": "a priority",
    "type": "a ticket type",
    "organization": "organization id, or none",
    "tag": "a tag name",
    "hours": "business (default) or calendar: which seconds the time series are in",
}


@router.get("/performance", response={200: dict[str, Any], **ERRORS}, summary="Performance series (JSON or CSV)")
def performance_series(
    request: HttpRequest,
    start: str | None = Query(None, alias="from", description="first UTC day (YYYY-MM-DD); default: 30 days ago"),
    end: str | None = Query(None, alias="to", description="last UTC day, included; default: today"),
    team: str | None = Query(None, description=_FILTER_DOC["team"]),
    agent: str | None = Query(None, description=_FILTER_DOC["agent"]),
    channel: str | None = Query(None, description=_FILTER_DOC["channel"]),
    priority: str | None = Query(None, description=_FILTER_DOC["priority"]),
    type: str | None = Query(None, description=_FILTER_DOC["type"]),
    organization: str | None = Query(None, description=_FILTER_DOC["organization"]),
    tag: str | None = Query(None, description=_FILTER_DOC["tag"]),
    hours: str | None = Query(None, description=_FILTER_DOC["hours"]),
    format: str | None = Query(None, description="json (default) or csv (the daily series); or send Accept: text/csv"),
) -> HttpResponse | StreamingHttpResponse:
    """The performance page's figures: every KPI of the period and the previous one, the daily
    series (created, solved, backlog, medians and p90s, rates) and SLA achievement per target."""
    _require_manager(request_user(request))
    as_csv = _wants_csv(request, format)
    filters = _report_filters(start, end, team, agent, channel, priority, type, organization, tag, hours)
    report = performance.performance(filters)
    series = [dataclasses.asdict(point) for point in report.points]
    if as_csv:
        return _csv_response(SERIES_COLUMNS, series, "performance.csv")
    return _json(
        {
            "filters": _filters_out(filters),
            "previous": _filters_out(report.previous_filters),
            "kpis": _kpis_out(report),
            "series": series,
            "sla_targets": [dataclasses.asdict(target) for target in report.sla_targets],
        }
    )


BREAKDOWN_VALUES = ("created", "solved", *(k for k in kpis.KPIS if k not in ("created", "solved", "backlog")))
BREAKDOWN_COLUMNS = ("key", "name", *BREAKDOWN_VALUES)


@router.get("/breakdown", response={200: dict[str, Any], **ERRORS}, summary="Figures per team, agent... (JSON or CSV)")
def breakdown(
    request: HttpRequest,
    by: str = Query(..., description="team, agent, channel, priority, type or organization"),
    start: str | None = Query(None, alias="from", description="first UTC day (YYYY-MM-DD); default: 30 days ago"),
    end: str | None = Query(None, alias="to", description="last UTC day, included; default: today"),
    team: str | None = Query(None, description=_FILTER_DOC["team"]),
    agent: str | None = Query(None, description=_FILTER_DOC["agent"]),
    channel: str | None = Query(None, description=_FILTER_DOC["channel"]),
    priority: str | None = Query(None, description=_FILTER_DOC["priority"]),
    type: str | None = Query(None, description=_FILTER_DOC["type"]),
    organization: str | None = Query(None, description=_FILTER_DOC["organization"]),
    tag: str | None = Query(None, description=_FILTER_DOC["tag"]),
    format: str | None = Query(None, description="json (default) or csv; or send Accept: text/csv"),
) -> HttpResponse | StreamingHttpResponse:
    """Every KPI of the period per key of ``by`` ("" is none: no team, unassigned...), busiest first."""
    _require_manager(request_user(request))
    as_csv = _wants_csv(request, format)
    if by not in performance_tables.BREAKDOWNS:
        raise InvalidInput("by", f"{by!r} is not one of: {', '.join(performance_tables.BREAKDOWNS)}")
    filters = _report_filters(start, end, team, agent, channel, priority, type, organization, tag, None)
    totals = performance_tables.breakdown(filters, by)
    names = performance_tables.key_labels(by, list(totals))
    items = []
    for key, total in sorted(totals.items(), key=lambda item: -item[1].counts["created"]):
        found = kpis.values(total)
        items.append({"key": key, "name": names[key], **{name: found[name] for name in BREAKDOWN_VALUES}})
    if as_csv:
        return _csv_response(BREAKDOWN_COLUMNS, items, f"breakdown-{by}.csv")
    return _json({"filters": _filters_out(filters), "by": by, "items": items})


@router.get("/scorecards", response={200: dict[str, Any], **ERRORS}, summary="Agent or team scorecards (JSON)")
def scorecard_series(
    request: HttpRequest,
    view: str = Query("agents", description="agents (of a team, or all) or teams"),
    start: str | None = Query(None, alias="from", description="first UTC day (YYYY-MM-DD); default: 30 days ago"),
    end: str | None = Query(None, alias="to", description="last UTC day, included; default: today"),
    team: str | None = Query(None, description="agents: only this team's members, compared with the team"),
    hours: str | None = Query(None, description=_FILTER_DOC["hours"]),
) -> HttpResponse:
    """Each agent's (or team's) KPIs beside the team's (or desk's) and the target's status."""
    _require_manager(request_user(request))
    if view not in ("agents", "teams"):
        raise InvalidInput("view", f"{view!r} is not one of: agents, teams")
    filters = _report_filters(start, end, team, None, None, None, None, None, None, hours)
    chosen_team = None
    if view == "agents" and filters.team:
        chosen_team = Team.objects.filter(pk=filters.team).first()
        if chosen_team is None:
            raise InvalidInput("team", f"no team has the id {filters.team}")
    book = targets.load()
    cards = scorecards.agents(filters, chosen_team, book) if view == "agents" else scorecards.teams(filters, book)

    def card_out(card: scorecards.Card) -> dict[str, Any]:
        return {
            "name": card.name,
            "scores": {
                score.kpi.key: {
                    "value": score.value,
                    "reference": score.reference,
                    "better": score.better,
                    "target": score.status.state.value if score.status else None,
                }
                for score in card.scores
            },
        }

    return _json(
        {
            "filters": _filters_out(cards.filters),
            "view": view,
            "reference": {"name": cards.reference_name, **card_out(cards.reference)},
            "items": [card_out(card) for card in cards.cards],
        }
    )


@router.get("/operations", response={200: dict[str, Any], **ERRORS}, summary="Operations, live (JSON)")
def operations_now(request: HttpRequest) -> HttpResponse:
    """The operations page's figures right now (UTC hours for "today")."""
    _require_manager(request_user(request))
    data = operations.operations(zone=zoneinfo.ZoneInfo("UTC"))
    return _json(dataclasses.asdict(data))
