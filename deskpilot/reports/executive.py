"""The executive report: one PDF a manager forwards upwards, for a period and filters.

What it holds: the headline KPIs against the previous period and their targets, the trends per
day as charts (created and solved, the backlog, first reply and resolution medians), SLA
achievement per target, the busiest causes (tags, ticket types) and the notable changes from the
previous period.

``gather`` reads every figure (``analytics.performance`` and a few grouped queries) and
``render_pdf`` lays them out with reportlab (decision 0005), so the figures are tested without
reading a PDF and the layout without a database. Text typed by users (team, tag, organization
names) is escaped before reportlab's paragraph markup reads it.
"""

from __future__ import annotations

import datetime
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from django.db.models import Count
from django.utils import timezone
from reportlab.graphics.charts.legends import Legend  # type: ignore[import-untyped]
from reportlab.graphics.charts.linecharts import HorizontalLineChart  # type: ignore[import-untyped]
from reportlab.graphics.shapes import Drawing, String  # type: ignore[import-untyped]
from reportlab.graphics.widgets.markers import makeMarker  # type: ignore[import-untyped]
from reportlab.lib import colors  # type: ignore[import-untyped]
from reportlab.lib.pagesizes import A4  # type: ignore[import-untyped]
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet  # type: ignore[import-untyped]
from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.platypus import (  # type: ignore[import-untyped]
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from deskpilot.analytics import formatting, performance, rollups
from deskpilot.analytics.models import RollupDimension
from deskpilot.analytics.performance import Filters, KpiFigure, Report
from deskpilot.tickets.models import TicketTag, TicketType

if TYPE_CHECKING:
    # Only for annotations: the targets module is read through the book the caller passes.
    from deskpilot.analytics.targets import TargetBook, TargetStatus

TOP_CAUSES = 10
# A KPI is a notable change when it moved by at least this share of its previous value.
NOTABLE_PERCENT = 10.0
NOTABLE_MAX = 6
EMPTY = "No tickets in this period."

# --- the figures --------------------------------------------------------------------------------


@dataclass(frozen=True)
class KpiLine:
    figure: KpiFigure
    # None: no target applies, or no value to judge.
    status: TargetStatus | None


@dataclass(frozen=True)
class Cause:
    """A tag or a ticket type: tickets created in the period and in the previous one."""

    name: str
    count: int
    previous: int


@dataclass(frozen=True)
class NotableChange:
    figure: KpiFigure
    # The change as a percentage of the previous value.
    relative: float

    @property
    def sentence(self) -> str:
        """ "First reply median (business hours) rose from 2 h 10 min to 3 h 05 min (+42 %)"."""
        kpi = self.figure.kpi
        verb = "rose" if self.relative > 0 else "fell"
        before = formatting.kpi_value(kpi, self.figure.previous)
        after = formatting.kpi_value(kpi, self.figure.value)
        return f"{kpi.label} {verb} from {before} to {after} ({formatting.signed_percent(self.relative)})"


@dataclass
class ExecutiveData:
    filters: Filters
    description: str
    generated_at: datetime.datetime
    report: Report
    kpis: list[KpiLine]
    tags: list[Cause] = field(default_factory=list)
    types: list[Cause] = field(default_factory=list)
    changes: list[NotableChange] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """Nothing created or solved in the period (the backlog may still carry tickets)."""
        values = self.report.values
        return not values["created"] and not values["solved"]


def _bounds(start: datetime.date, end: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    since = datetime.datetime.combine(start, datetime.time(), tzinfo=datetime.UTC)
    return since, since + datetime.timedelta(days=(end - start).days + 1)


def _created_in(filters: Filters) -> Any:
    since, until = _bounds(filters.start, filters.end)
    return performance.records(filters).filter(created_at__gte=since, created_at__lt=until)


def _tag_counts(filters: Filters, names: Sequence[str] | None = None) -> dict[str, int]:
    """Tickets created in the period per tag (only ``names`` when given, else the busiest),
    one grouped query over the ticket-tag links of the period's records."""
    links = TicketTag.objects.filter(ticket_id__in=_created_in(filters).values("ticket_id"))
    if names is not None:
        links = links.filter(tag__name__in=list(names))
    rows = links.values("tag__name").annotate(n=Count("ticket_id")).order_by("-n", "tag__name")
    if names is None:
        rows = rows[:TOP_CAUSES]
    return {row["tag__name"]: row["n"] for row in rows}


def busiest_tags(filters: Filters) -> list[Cause]:
    """The tags on most tickets created in the period, with the previous period's count: one
    query per period."""
    counts = _tag_counts(filters)
    previous = _tag_counts(filters.previous(), list(counts)) if counts else {}
    return [Cause(name, n, previous.get(name, 0)) for name, n in counts.items()]


def _type_label(key: str) -> str:
    return str(TicketType(key).label) if key in TicketType.values else key or "No type"


def _type_counts(filters: Filters) -> dict[str, int]:
    if not filters.chosen():
        # The whole desk: the type rollups answer without reading the records.
        totals = rollups.totals_by_key(filters.start, filters.end, RollupDimension.TYPE)
        return {key: day.counts["created"] for key, day in totals.items() if day.counts["created"]}
    rows = _created_in(filters).values("type").annotate(n=Count("pk"))
    return {row["type"]: row["n"] for row in rows}


def busiest_types(filters: Filters) -> list[Cause]:
    """Tickets created per type, this period and the previous one, busiest first."""
    counts, previous = _type_counts(filters), _type_counts(filters.previous())
    causes = [Cause(_type_label(key), n, previous.get(key, 0)) for key, n in counts.items()]
    return sorted(causes, key=lambda c: (-c.count, c.name))[:TOP_CAUSES]


def notable_changes(figures: Sequence[KpiFigure]) -> list[NotableChange]:
    """The KPIs that moved by at least ``NOTABLE_PERCENT`` of their previous value: changes for
    the worse first, then those without a better side, then improvements; largest first."""
    found = []
    for figure in figures:
        relative = formatting.relative_change(figure.value, figure.previous)
        if relative is not None and abs(relative) >= NOTABLE_PERCENT:
            found.append(NotableChange(figure, relative))
    order = {False: 0, None: 1, True: 2}
    found.sort(key=lambda c: (order[c.figure.improved], -abs(c.relative)))
    return found[:NOTABLE_MAX]


def gather(filters: Filters, *, book: TargetBook | None = None, now: datetime.datetime | None = None) -> ExecutiveData:
    """Every figure of the report: the performance report of ``filters``, each headline KPI's
    target status (``book``: ``analytics.targets.load()``; None: no targets shown), the busiest
    tags and types and the notable changes."""
    report = performance.performance(filters)
    headline = report.headline()
    lines = [
        KpiLine(
            figure,
            book.status(figure.kpi.key, figure.value, team_id=filters.team, agent_id=filters.agent)
            if book is not None
            else None,
        )
        for figure in headline
    ]
    data = ExecutiveData(
        filters=filters,
        description=filters.describe(),
        generated_at=now or timezone.now(),
        report=report,
        kpis=lines,
        changes=notable_changes(headline),
    )
    if not data.empty:
        data.tags = busiest_tags(filters)
        data.types = busiest_types(filters)
    return data


# --- the document -------------------------------------------------------------------------------

_INK = colors.HexColor("#1f2933")
_MUTED = colors.HexColor("#616e7c")
_RULE = colors.HexColor("#cbd2d9")
_HEAD = colors.HexColor("#e4e7eb")
_BETTER = colors.HexColor("#1e7b34")
_WORSE = colors.HexColor("#b42318")
_STATES = {"on_track": _BETTER, "at_risk": colors.HexColor("#a15c00"), "missed": _WORSE}
_SERIES = (colors.HexColor("#2563eb"), colors.HexColor("#16a34a"))
_PAGE_WIDTH, _PAGE_HEIGHT = A4
_MARGIN = 18 * mm
_FRAME_WIDTH = _PAGE_WIDTH - 2 * _MARGIN
# At most this many date labels under a chart's axis, however long the period.
_MAX_LABELS = 10


def _styles() -> dict[str, ParagraphStyle]:
    base = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=base["BodyText"], fontName="Helvetica", fontSize=9, leading=12, textColor=_INK)
    return {
        "brand": ParagraphStyle("brand", parent=body, fontName="Helvetica-Bold", fontSize=10, textColor=_MUTED),
        "title": ParagraphStyle("title", parent=body, fontName="Helvetica-Bold", fontSize=22, leading=28),
        "subtitle": ParagraphStyle("subtitle", parent=body, fontSize=11, leading=15),
        "meta": ParagraphStyle("meta", parent=body, fontSize=8, textColor=_MUTED),
        "h2": ParagraphStyle(
            "h2", parent=body, fontName="Helvetica-Bold", fontSize=13, leading=17, spaceBefore=12, spaceAfter=6
        ),
        "body": body,
        "cell": ParagraphStyle("cell", parent=body, fontSize=8.5, leading=10.5),
        "small": ParagraphStyle("small", parent=body, fontSize=7, leading=8.5, textColor=_MUTED),
        "head": ParagraphStyle("head", parent=body, fontName="Helvetica-Bold", fontSize=8.5, leading=10.5),
    }


def _hex(color: Any) -> str:
    return "#" + color.hexval()[2:]


def _change_cell(figure: KpiFigure, style: ParagraphStyle) -> Paragraph:
    text = formatting.kpi_change(figure.kpi, figure.value, figure.previous)
    delta = figure.change
    if not delta:
        return Paragraph(escape(text), style)
    # The arrows are in the Symbol font: the standard Helvetica has none.
    arrow = "\u2191" if delta > 0 else "\u2193"
    color = {True: _BETTER, False: _WORSE, None: _MUTED}[figure.improved]
    return Paragraph(f'<font color="{_hex(color)}"><font face="Symbol">{arrow}</font> {escape(text)}</font>', style)


def _target_cell(status: TargetStatus | None, styles: dict[str, ParagraphStyle]) -> list[Paragraph]:
    if status is None:
        return [Paragraph(formatting.NO_DATA, styles["cell"])]
    color = _STATES.get(str(status.state), _MUTED)
    return [
        Paragraph(f'<font color="{_hex(color)}"><b>{escape(status.label)}</b></font>', styles["cell"]),
        Paragraph(escape(status.description), styles["small"]),
    ]


def _table(rows: list[list[Any]], widths: Sequence[float], numeric_from: int = 1) -> Table:
    table = Table(rows, colWidths=list(widths), repeatRows=1, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), _HEAD),
                ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
                ("FONTNAME", (0, 1), (-1, -1), "Helvetica"),
                ("FONTSIZE", (0, 0), (-1, -1), 8.5),
                ("TEXTCOLOR", (0, 0), (-1, -1), _INK),
                ("ALIGN", (numeric_from, 0), (-1, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.4, _RULE),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    return table


def _kpi_table(data: ExecutiveData, styles: dict[str, ParagraphStyle]) -> Table:
    rows: list[list[Any]] = [["KPI", "This period", "Previous", "Change", "Target"]]
    for line in data.kpis:
        figure = line.figure
        rows.append(
            [
                Paragraph(escape(figure.kpi.label), styles["cell"]),
                formatting.kpi_value(figure.kpi, figure.value),
                formatting.kpi_value(figure.kpi, figure.previous),
                _change_cell(figure, styles["cell"]),
                _target_cell(line.status, styles),
            ]
        )
    table = _table(rows, [150, 68, 68, 72, _FRAME_WIDTH - 358], numeric_from=1)
    # The change and target cells are paragraphs, laid out left.
    table.setStyle(TableStyle([("ALIGN", (3, 0), (-1, -1), "LEFT")]))
    return table


def _sla_table(report: Report) -> Table:
    rows: list[list[Any]] = [["SLA target", "Met", "Breached", "Achievement", "Previous"]]
    for target in report.sla_targets:
        rows.append(
            [
                target.label,
                formatting.number(target.met),
                formatting.number(target.breached),
                formatting.percent(target.rate),
                formatting.percent(target.previous_rate),
            ]
        )
    return _table(rows, [170, 70, 70, 80, 80])


def _causes_table(title: str, causes: Sequence[Cause], styles: dict[str, ParagraphStyle]) -> Table:
    rows: list[list[Any]] = [[title, "Tickets", "Previous period", "Change"]]
    for cause in causes:
        relative = formatting.relative_change(cause.count, cause.previous)
        change = formatting.signed_percent(relative) if relative is not None else "new" if cause.count else "—"
        rows.append(
            [
                Paragraph(escape(cause.name), styles["cell"]),
                formatting.number(cause.count),
                formatting.number(cause.previous),
                change,
            ]
        )
    return _table(rows, [200, 70, 90, 70])


def _labels(days: Sequence[datetime.date]) -> list[str]:
    """One date label every few days so at most ``_MAX_LABELS`` show (a year has 366 days)."""
    step = max(1, math.ceil(len(days) / _MAX_LABELS))
    return [f"{day:%-d %b}" if i % step == 0 else "" for i, day in enumerate(days)]


def _chart(
    title: str,
    days: Sequence[datetime.date],
    series: Sequence[tuple[str, Sequence[float | None]]],
    unit: str = "",
    counts: bool = False,
) -> Drawing:
    """A line chart of one or two daily series with a legend above it; gaps where a day has no
    value, so those series (``counts`` False: times) mark each day's point, or a day between
    two gaps would not show."""
    width, height = _FRAME_WIDTH, 160
    drawing = Drawing(width, height)
    drawing.add(String(0, height - 10, title, fontName="Helvetica-Bold", fontSize=9, fillColor=_INK))
    # A series without a single value (no ticket solved all period: no resolution time) has
    # no line to draw, and reportlab refuses an empty one; the legend says so instead.
    drawn = [
        (color, values)
        for color, (_, values) in zip(_SERIES, series, strict=False)
        if any(v is not None for v in values)
    ]
    if not drawn:
        drawing.add(
            String(
                width / 2,
                height / 2,
                "No data in this period",
                textAnchor="middle",
                fontName="Helvetica",
                fontSize=8,
                fillColor=_MUTED,
            )
        )
        return drawing
    chart = HorizontalLineChart()
    chart.x, chart.y = 40, 22
    chart.width, chart.height = width - 50, height - 62
    chart.data = [list(values) for _, values in drawn]
    chart.categoryAxis.categoryNames = _labels(days)
    chart.categoryAxis.labels.fontName = "Helvetica"
    chart.categoryAxis.labels.fontSize = 7
    chart.categoryAxis.labels.angle = 0
    chart.categoryAxis.labels.dy = -2
    chart.categoryAxis.tickDown = 2
    chart.categoryAxis.strokeColor = _RULE
    chart.valueAxis.valueMin = 0
    chart.valueAxis.labels.fontName = "Helvetica"
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.strokeColor = _RULE
    chart.valueAxis.visibleGrid = True
    chart.valueAxis.gridStrokeColor = _HEAD
    known = [v for _, values in series for v in values if v is not None]
    top = max(known, default=0)
    if top <= 0:
        # Nothing but zeros: an axis of 0-1 rather than reportlab's degenerate range.
        chart.valueAxis.valueMax = 1
    if counts:
        # Whole tickets: no 0.5 steps on the axis.
        chart.valueAxis.valueStep = max(1, math.ceil(top / 5))
    for i, (color, _) in enumerate(drawn):
        chart.lines[i].strokeColor = color
        chart.lines[i].strokeWidth = 1.2
        if not counts:
            chart.lines[i].symbol = makeMarker("FilledCircle", size=2.5, fillColor=color, strokeColor=color)
    drawing.add(chart)
    legend = Legend()
    legend.x, legend.y = 40, height - 24
    legend.alignment = "right"
    legend.columnMaximum = 1
    legend.deltax = 110
    legend.fontName = "Helvetica"
    legend.fontSize = 7.5
    legend.dx = legend.dy = 6
    legend.colorNamePairs = [
        (color, (f"{name} ({unit})" if unit else name) + ("" if any(v is not None for v in values) else ": no data"))
        for color, (name, values) in zip(_SERIES, series, strict=False)
    ]
    drawing.add(legend)
    return drawing


def _hours(values: Sequence[float | None]) -> list[float | None]:
    return [None if v is None else v / 3600 for v in values]


def _charts(report: Report) -> list[Any]:
    points = report.points
    days = [p.day for p in points]
    hours = report.filters.hours
    return [
        _chart(
            "Created and solved per day",
            days,
            [("Created", [p.created for p in points]), ("Solved", [p.solved for p in points])],
            counts=True,
        ),
        Spacer(1, 4),
        _chart(
            "Backlog at the end of each day", days, [("Unsolved tickets", [p.backlog for p in points])], counts=True
        ),
        Spacer(1, 4),
        _chart(
            f"First reply and resolution, median per day ({hours} hours)",
            days,
            [
                ("First reply median", _hours([p.first_reply_median for p in points])),
                ("Resolution median", _hours([p.resolution_median for p in points])),
            ],
            unit="hours",
        ),
    ]


def _page_decorations(description: str) -> Any:
    def draw(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 7.5)
        canvas.setFillColor(_MUTED)
        canvas.drawString(_MARGIN, 10 * mm, f"Deskpilot · Executive report · {description}"[:130])
        canvas.drawRightString(_PAGE_WIDTH - _MARGIN, 10 * mm, f"Page {doc.page}")
        canvas.restoreState()

    return draw


def build(data: ExecutiveData) -> bytes:
    """The PDF of gathered figures."""
    styles = _styles()
    story: list[Any] = [
        Paragraph("Deskpilot", styles["brand"]),
        Paragraph("Executive report", styles["title"]),
        Paragraph(escape(data.description), styles["subtitle"]),
        Paragraph(
            escape(
                f"Compared with {data.report.previous_filters.start:%-d %b %Y} to "
                f"{data.report.previous_filters.end:%-d %b %Y}. "
                f"Generated {data.generated_at.astimezone(datetime.UTC):%-d %b %Y %H:%M} UTC."
            ),
            styles["meta"],
        ),
        Spacer(1, 8),
        Paragraph("Key figures", styles["h2"]),
        _kpi_table(data, styles),
    ]
    if data.empty:
        story += [Spacer(1, 10), Paragraph(EMPTY, styles["body"])]
    else:
        story += [Paragraph("Notable changes", styles["h2"])]
        if data.changes:
            for change in data.changes:
                color = {True: _BETTER, False: _WORSE, None: _INK}[change.figure.improved]
                story.append(
                    Paragraph(f'<font color="{_hex(color)}">•</font> {escape(change.sentence)}', styles["body"])
                )
        else:
            story.append(
                Paragraph(f"No KPI moved by {NOTABLE_PERCENT:.0f} % or more from the previous period.", styles["body"])
            )
        # A heading stays on the page of what it heads.
        first, *others = _charts(data.report)
        story += [KeepTogether([Paragraph("Trends", styles["h2"]), first]), *others]
        if data.report.sla_targets:
            story.append(KeepTogether([Paragraph("SLA achievement per target", styles["h2"]), _sla_table(data.report)]))
        tags = (
            _causes_table("Tag", data.tags, styles)
            if data.tags
            else Paragraph("No tagged tickets were created in this period.", styles["body"])
        )
        story.append(KeepTogether([Paragraph("Busiest causes", styles["h2"]), tags]))
        story.append(Spacer(1, 8))
        story.append(_causes_table("Ticket type", data.types, styles))
    out = io.BytesIO()
    document = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=_MARGIN,
        rightMargin=_MARGIN,
        topMargin=_MARGIN,
        bottomMargin=_MARGIN,
        title=f"Executive report · {data.description}",
        author="Deskpilot",
        subject="Executive report",
        creator="Deskpilot",
    )
    decorate = _page_decorations(data.description)
    document.build(story, onFirstPage=decorate, onLaterPages=decorate)
    return out.getvalue()


def render_pdf(filters: Filters, *, book: TargetBook | None = None) -> bytes:
    """The executive report of ``filters`` as a PDF (``book``: the targets to judge the KPIs
    against, ``analytics.targets.load()``; None leaves the target column empty)."""
    return build(gather(filters, book=book))
