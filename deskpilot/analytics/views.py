"""The managers' analytics pages. "Operations, live": the figures of ``analytics.operations``,
with every count linking to the inbox list of exactly the tickets it counts.

The page polls its own partial (``operations_live``) every 30 seconds with htmx; without
JavaScript it is the same numbers and tables, current as of the page load."""

from __future__ import annotations

import datetime
import zoneinfo
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from deskpilot.accounts.access import manager_required
from deskpilot.accounts.models import AGENT_ROLES, Team, User
from deskpilot.analytics import drilldown, exports, performance, performance_tables, scorecards, targets
from deskpilot.analytics import operations as ops
from deskpilot.analytics.kpis import Unit
from deskpilot.analytics.tables import Column, Table
from deskpilot.core.errors import InvalidInput
from deskpilot.customers.models import Organization
from deskpilot.reports import executive
from deskpilot.tickets.models import Channel, Priority, TicketType

# The inbox queue the backlog links narrow: "All open" is exactly the unsolved tickets.
BACKLOG_QUEUE = "all-open"
REFRESH_SECONDS = 30
# The organization filter lists this many by name; any other is reachable by id in the URL.
ORGANIZATION_CHOICES = 500


def inbox_url(queue: str = BACKLOG_QUEUE, **params: str | int) -> str:
    """A link to an inbox list filtered by the inbox's own URL filters (``saved_views.FILTER_KEYS``)."""
    url = reverse("tickets:inbox_view", kwargs={"view": queue})
    return f"{url}?{urlencode(params)}" if params else url


def _viewer_zone() -> zoneinfo.ZoneInfo:
    """The zone the middleware activated (the manager's own), UTC when theirs is unknown."""
    zone = timezone.get_current_timezone()
    return zone if isinstance(zone, zoneinfo.ZoneInfo) else zoneinfo.ZoneInfo("UTC")


def _context() -> dict[str, Any]:
    data = ops.operations(zone=_viewer_zone())
    backlog = data.backlog
    by_sla = inbox_url(sort="sla_next_breach_at")
    return {
        "title": "Operations, live",
        "ops": data,
        "refresh_seconds": REFRESH_SECONDS,
        "backlog_url": inbox_url(),
        "unassigned_url": inbox_url("unassigned"),
        "sla_url": by_sla,
        "by_status": [(c, inbox_url(status=str(c.key))) for c in backlog.by_status],
        "by_priority": [(c, inbox_url(priority=str(c.key))) for c in backlog.by_priority],
        "by_team": [(c, inbox_url(team=c.key if c.key is not None else "none")) for c in backlog.by_team],
        "agents": [(a, inbox_url(assignee=a.id)) for a in data.agents],
        # What the chart draws; the same figures are in the table under it.
        "chart": {
            "labels": [h.label for h in data.today.hours],
            "created": [h.created for h in data.today.hours],
            "solved": [h.solved for h in data.today.hours],
        },
    }


def _operations_tables(data: ops.Operations) -> list[Table]:
    """The operations page's tables, for its CSV / XLSX downloads (figures as of the request)."""
    count = Unit.COUNT
    tables = []
    for name, title, label, groups in (
        ("status", "Backlog by status", "Status", data.backlog.by_status),
        ("priority", "Backlog by priority", "Priority", data.backlog.by_priority),
        ("team", "Backlog by team", "Team", data.backlog.by_team),
    ):
        table = Table(name, title, [Column("group", label), Column("tickets", "Tickets", count)])
        for group in groups:
            table.add(group.label, group.count)
        tables.append(table)
    agents = Table(
        "agents",
        "Agents online",
        [
            Column("agent", "Agent"),
            Column("open", "Open tickets", count),
            Column("load", "Load", count),
            Column("capacity", "Capacity", count),
        ],
    )
    for agent in data.agents:
        agents.add(agent.name, agent.open_tickets, agent.load, agent.capacity)
    hours = Table(
        "hours",
        "Created and solved today, by hour",
        [Column("hour", "Hour"), Column("created", "Created", count), Column("solved", "Solved", count)],
    )
    for hour in data.today.hours:
        hours.add(hour.label, hour.created, hour.solved)
    return [*tables, agents, hours]


@require_GET
@manager_required
def operations(request: HttpRequest) -> HttpResponse:
    """The page; with ``format`` (csv or xlsx, and ``table`` for one of them), its tables."""
    fmt = request.GET.get("format")
    if fmt:
        data = ops.operations(zone=_viewer_zone())
        try:
            return _export(request, _operations_tables(data), fmt, f"operations-{data.now:%Y-%m-%d-%H%M}")
        except InvalidInput as error:
            return HttpResponse(
                "; ".join(f"{k}: {v}" for k, v in error.errors.items()),
                status=422,
                content_type="text/plain; charset=utf-8",
            )
    return render(request, "analytics/operations.html", _context())


@require_GET
@manager_required
def operations_live(request: HttpRequest) -> HttpResponse:
    """Just the figures, for the page's polling (and for anyone who wants them without the page)."""
    return render(request, "analytics/_operations_live.html", _context())


# --- performance, drill-down, scorecards --------------------------------------------------------


def _parse_or_422(request: HttpRequest, parse: Any) -> tuple[Any, dict[str, str]]:
    """Parse the page's parameters; on bad ones, the errors (the page shows them, status 422)."""
    try:
        return parse(request.GET), {}
    except InvalidInput as error:
        return None, error.errors


def _filter_options() -> dict[str, Any]:
    """The choices of the filter bar: teams, agents and organizations by name (three queries;
    organizations capped, the rest reachable by id in the URL)."""
    return {
        "teams": list(Team.objects.order_by("name").values_list("pk", "name")),
        "agents": list(
            User.objects.filter(role__in=AGENT_ROLES, is_active=True).order_by("name").values_list("pk", "name")
        ),
        "organizations": list(Organization.objects.order_by("name").values_list("pk", "name")[:ORGANIZATION_CHOICES]),
        "channels": Channel.choices,
        "priorities": Priority.choices,
        "types": TicketType.choices,
        "breakdowns": [(key, label) for key, (_, label) in performance_tables.BREAKDOWNS.items()],
    }


_FORM_KEYS = (
    "from",
    "to",
    "team",
    "agent",
    "channel",
    "priority",
    "type",
    "organization",
    "tag",
    "hours",
    "by",
    "view",
)


def _form_context(request: HttpRequest, filters: performance.Filters | None) -> dict[str, Any]:
    """The filter bar's values (the filters read back, or what was typed when refused), the
    quick ranges keeping the other filters, and the query string the download links extend."""
    raw = {key: request.GET.get(key, "") for key in _FORM_KEYS}
    form = dict(raw)
    if filters is not None:
        form.update({"from": filters.start.isoformat(), "to": filters.end.isoformat(), "hours": filters.hours})
        form.update(filters.to_params())
    kept = {k: v for k, v in request.GET.items() if k not in ("from", "to", "format", "table", "offset")}
    today = timezone.now().astimezone(datetime.UTC).date()
    first_of_month = today.replace(day=1)
    last_month_end = first_of_month - datetime.timedelta(days=1)
    spans = [
        ("Last 7 days", today - datetime.timedelta(days=6), today),
        ("Last 30 days", today - datetime.timedelta(days=29), today),
        ("Last 90 days", today - datetime.timedelta(days=89), today),
        ("This month", first_of_month, today),
        ("Last month", last_month_end.replace(day=1), last_month_end),
    ]
    ranges = [(label, "?" + urlencode({**kept, "from": a.isoformat(), "to": b.isoformat()})) for label, a, b in spans]
    export = urlencode({k: v for k, v in request.GET.items() if k not in ("format", "table", "offset")})
    return {"form": form, "ranges": ranges, "export_params": export}


def _statuses(report: performance.Report, book: Any) -> dict[str, Any]:
    """The target status of each headline KPI for the report's scope (team or agent filter)."""
    team = report.filters.team or None
    agent = report.filters.agent or None
    found = {}
    for figure in report.headline():
        status = book.status(figure.kpi.key, figure.value, team_id=team, agent_id=agent)
        if status is not None:
            found[figure.kpi.key] = status
    return found


def _chart(report: performance.Report) -> dict[str, Any]:
    """What the charts draw (times in hours), with the drill-down URL of every point."""
    filters = report.filters

    def hours(value: float | None) -> float | None:
        return None if value is None else round(value / 3600, 2)

    def urls(measure: str) -> list[str]:
        return [drilldown.drill_url(filters, measure, p.day) for p in report.points]

    points = report.points
    return {
        "labels": [p.day.isoformat() for p in points],
        "volume": {
            "created": [p.created for p in points],
            "solved": [p.solved for p in points],
            "backlog": [p.backlog for p in points],
            "urls": {"created": urls("created"), "solved": urls("solved"), "backlog": urls("backlog")},
        },
        "times": {
            "first_reply_median": [hours(p.first_reply_median) for p in points],
            "first_reply_p90": [hours(p.first_reply_p90) for p in points],
            "resolution_median": [hours(p.resolution_median) for p in points],
            "resolution_p90": [hours(p.resolution_p90) for p in points],
            "urls": {"first_reply": urls("first_reply"), "resolution": urls("resolution")},
        },
        "rates": {
            "sla_achievement": [p.sla_achievement for p in points],
            "reopen_rate": [p.reopen_rate for p in points],
            "one_touch_rate": [p.one_touch_rate for p in points],
            "escalation_rate": [p.escalation_rate for p in points],
            "csat": [p.csat for p in points],
            "urls": {
                "sla_achievement": urls("sla_breached"),
                "reopen_rate": urls("reopened"),
                "one_touch_rate": urls("one_touch"),
                "escalation_rate": urls("escalated"),
                "csat": urls("csat_bad"),
            },
        },
    }


def _performance_tables(report: performance.Report, by: str, statuses: dict[str, Any]) -> list[Table]:
    return [
        performance_tables.kpi_table(report, statuses),
        performance_tables.sla_table(report),
        performance_tables.breakdown_table(report.filters, by),
        performance_tables.daily_table(report),
    ]


@require_GET
@manager_required
def performance_page(request: HttpRequest) -> HttpResponse:
    """Performance over a date range with filters, against the previous period; every figure
    drills down to its tickets; every table downloads as CSV or XLSX (``format``, ``table``)."""
    filters, errors = _parse_or_422(request, performance.Filters.parse)
    by = request.GET.get("by") or "team"
    if by not in performance_tables.BREAKDOWNS:
        errors["by"] = f"{by!r} is not one of: {', '.join(performance_tables.BREAKDOWNS)}"
    context: dict[str, Any] = {"title": "Performance", "errors": errors, "by": by}
    context.update(_filter_options())
    context.update(_form_context(request, filters))
    if errors:
        return render(request, "analytics/performance.html", context, status=422)
    report = performance.performance(filters)
    statuses = _statuses(report, targets.load())
    tables = _performance_tables(report, by, statuses)
    fmt = request.GET.get("format")
    if fmt:
        try:
            return _export(request, tables, fmt, f"performance-{filters.start}-{filters.end}")
        except InvalidInput as error:
            context["errors"] = error.errors
            return render(request, "analytics/performance.html", context, status=422)
    context.update(
        {
            "filters": filters,
            "report": report,
            "statuses": statuses,
            "names": filters.names(),
            "tiles": [
                (figure, statuses.get(figure.kpi.key), drilldown.drill_url(filters, figure.kpi.measure))
                for figure in report.headline()
            ],
            "tables": {table.name: table for table in tables},
            "chart": _chart(report),
            "pdf_url": f"{reverse('analytics:performance_pdf')}?{urlencode(filters.to_params())}",
            # A schedule of this report keeps its filters; its period is the schedule's own.
            "schedule_url": f"{reverse('reports:schedule_new')}?"
            + urlencode({k: v for k, v in filters.to_params().items() if k not in ("from", "to")}),
        }
    )
    return render(request, "analytics/performance.html", context)


def _export(request: HttpRequest, tables: list[Table], fmt: str, stem: str) -> HttpResponse:
    """A page's tables as a download: ``table`` picks one (CSV holds one table), XLSX holds all
    of them unless one is picked."""
    name = request.GET.get("table")
    if name:
        chosen = [t for t in tables if t.name == name]
        if not chosen:
            raise InvalidInput("table", f"{name!r} is not a table of this page")
        tables = chosen
    return exports.export_response(tables, fmt, stem)


@require_GET
@manager_required
def performance_pdf(request: HttpRequest) -> HttpResponse:
    """The executive report of the same filters as a PDF."""
    filters, errors = _parse_or_422(request, performance.Filters.parse)
    if errors:
        return HttpResponse(
            "; ".join(f"{k}: {v}" for k, v in errors.items()), status=422, content_type="text/plain; charset=utf-8"
        )
    pdf = executive.render_pdf(filters, book=targets.load())
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="deskpilot-report-{filters.start}-{filters.end}.pdf"'
    return response


@require_GET
@manager_required
def drilldown_page(request: HttpRequest) -> HttpResponse:
    """The tickets behind one figure, 50 a page, with the total; CSV / XLSX of the whole list."""
    drill, errors = _parse_or_422(request, drilldown.Drill.parse)
    context: dict[str, Any] = {"title": "Tickets behind a figure", "errors": errors}
    if errors:
        return render(request, "analytics/drilldown.html", context, status=422)
    fmt = request.GET.get("format")
    if fmt:
        try:
            return exports.export_response([drilldown.export_table(drill)], fmt, f"tickets-{drill.measure}")
        except InvalidInput as error:
            context["errors"] = error.errors
            return render(request, "analytics/drilldown.html", context, status=422)
    raw_offset = request.GET.get("offset") or "0"
    if not raw_offset.isdigit():
        context["errors"] = {"offset": f"{raw_offset!r} is not a whole number"}
        return render(request, "analytics/drilldown.html", context, status=422)
    offset = int(raw_offset)
    page = drilldown.page(drill, offset)
    params = drill.to_params()
    context.update(
        {
            "title": drill.title(),
            "drill": drill,
            "page": page,
            "names": drill.filters.names(),
            "business": drill.filters.hours == "business",
            "next_url": f"?{urlencode({**params, 'offset': page.next_offset})}" if page.next_offset else None,
            "previous_url": f"?{urlencode({**params, 'offset': max(offset - drilldown.PAGE_SIZE, 0)})}"
            if offset
            else None,
            "back_url": f"{reverse('analytics:performance')}?{urlencode(drill.filters.to_params())}",
            "export_params": urlencode(params),
        }
    )
    return render(request, "analytics/drilldown.html", context)


@require_GET
@manager_required
def scorecards_page(request: HttpRequest) -> HttpResponse:
    """Agent scorecards (of a team, or all agents) or team scorecards, over a period."""
    filters, errors = _parse_or_422(request, performance.Filters.parse)
    kind = request.GET.get("view") or "agents"
    if kind not in ("agents", "teams"):
        errors["view"] = f"{kind!r} is not one of: agents, teams"
    context: dict[str, Any] = {"title": "Scorecards", "errors": errors, "kind": kind, "hidden_view": [("view", kind)]}
    context["teams"] = list(Team.objects.order_by("name").values_list("pk", "name"))
    context.update(_form_context(request, filters))
    if errors:
        return render(request, "analytics/scorecards.html", context, status=422)
    team = None
    if kind == "agents" and filters.team:
        team = Team.objects.filter(pk=filters.team).first()
        if team is None:
            context["errors"] = {"team": f"no team has the id {filters.team}"}
            return render(request, "analytics/scorecards.html", context, status=422)
    book = targets.load()
    cards = scorecards.agents(filters, team, book) if kind == "agents" else scorecards.teams(filters, book)
    fmt = request.GET.get("format")
    if fmt:
        try:
            return exports.export_response([cards.table()], fmt, f"scorecards-{kind}-{filters.start}-{filters.end}")
        except InvalidInput as error:
            context["errors"] = error.errors
            return render(request, "analytics/scorecards.html", context, status=422)
    context.update(
        {"filters": filters, "cards": cards, "team": team, "surveys": _survey_scores(filters, kind, cards, team)}
    )
    return render(request, "analytics/scorecards.html", context)


def _survey_scores(filters: Any, kind: str, cards: Any, team: Team | None) -> list[dict[str, Any]]:
    """Each card's survey scores (feedback.reporting: NPS, CES and the CSAT response rate of the
    surveys sent in the period), the reference's last, with links to their answers. Two grouped
    queries per table of scores."""
    from deskpilot.feedback import reporting
    from deskpilot.feedback.score_views import answers_url

    by = "agent" if kind == "agents" else "team"
    found = {row.key: row for row in reporting.score_table(filters.start, filters.end, by)}
    if team is not None:
        reference = {row.key: row for row in reporting.score_table(filters.start, filters.end, "team")}.get(team.pk)
        reference_by, reference_key = "team", team.pk
    else:
        overall = reporting.score_table(filters.start, filters.end)
        reference, reference_by, reference_key = (overall[0] if overall else None), None, None

    def links(row_by: str | None, key: Any) -> dict[str, str]:
        return {kind: answers_url(filters, kind, row_by, key) for kind in ("csat", "nps", "ces")}

    rows = []
    for card in cards.cards:
        key = card.filters.agent if kind == "agents" else card.filters.team
        rows.append({"name": card.name, "scores": found.get(key), "links": links(by, key), "reference": False})
    rows.append(
        {
            "name": cards.reference_name,
            "scores": reference,
            "links": links(reference_by, reference_key),
            "reference": True,
        }
    )
    return rows
