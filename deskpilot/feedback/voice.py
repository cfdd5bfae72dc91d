"""Voice of the customer, in the database: what customers write (their messages and survey
comments) analysed into themes and sentiment, re-clustered nightly, and the figures of the
Insights page (themes by week with how unusual their change is, new themes, drivers).

The engine (``feedback.insights``) is pure; this module feeds it the texts, keeps its results:

- ``analyze_new`` (a job every minute): the customer messages written since the last run and
  survey comments not yet analysed get their sentiment and their theme (nearest centroid of the
  latest clustering), in batches. A new message is analysed within a minute or two.
- ``recluster`` (nightly): the texts of the last ``CLUSTER_DAYS`` days (the latest
  ``CLUSTER_LIMIT``) clustered again; a theme whose content did not change keeps its number
  (``insights.themes.carry_over_ids``), and those texts move to their new themes.
"""

from __future__ import annotations

import datetime
import logging
import math
import pickle
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from deskpilot.feedback.insights import embedding, sentiment, themes
from deskpilot.feedback.models import InsightCursor, SurveyResponse, TextInsight, Theme, ThemeRun
from deskpilot.tickets.models import Message

logger = logging.getLogger(__name__)

# What a text is cut to before analysis (the head of a message says what it is about).
MAX_TEXT = 2_000
ANALYZE_BATCH = 500
CLUSTER_DAYS = 90
CLUSTER_LIMIT = 50_000
# Fewer analysed texts than this make no themes.
MIN_TEXTS = 20


def _text(raw: str | None) -> str:
    return " ".join((raw or "")[: MAX_TEXT * 2].split())[:MAX_TEXT]


# --- the latest model ----------------------------------------------------------------------------

_lock = threading.Lock()
_cache: dict[str, Any] = {"model": None}


@dataclass
class LoadedModel:
    run_id: int
    model: themes.ThemeModel
    # Theme number (the engine's id) -> Theme row id.
    rows: dict[int, int] = field(default_factory=dict)


def _engine_theme(row: Theme) -> themes.Theme:
    """A stored theme as the engine holds it (its number is the engine's id)."""
    return themes.Theme(
        id=row.number,
        size=row.size,
        label=row.label,
        keywords=tuple(row.keywords),
        centroid=np.frombuffer(bytes(row.centroid), dtype=np.float32),
        examples=tuple(row.examples),
        space=row.space,
    )


def current_model() -> LoadedModel | None:
    """The latest clustering, ready to assign texts (loaded once per process and run). None
    before the first clustering, or when it was made by the embedding model and the ``insights``
    extra is missing here."""
    run = ThemeRun.objects.order_by("-created_at", "-id").first()
    if run is None:
        return None
    with _lock:
        cached: LoadedModel | None = _cache["model"]
        if cached is not None and cached.run_id == run.pk:
            return cached
    rows = list(Theme.objects.filter(active=True))
    if run.embedder:
        embedder: embedding.Embedder = pickle.loads(bytes(run.embedder))  # noqa: S301 - written by recluster
    elif embedding.embedding_available():
        embedder = embedding.get_embedder("embedding")
    else:
        logger.warning("the themes were made with the embedding model, which is not installed here")
        return None
    engine_themes = tuple(_engine_theme(row) for row in rows)
    loaded = LoadedModel(
        run_id=run.pk,
        model=themes.ThemeModel(themes=engine_themes, threshold=run.threshold, embedder=embedder),
        rows={row.number: row.pk for row in rows},
    )
    with _lock:
        _cache["model"] = loaded
    return loaded


# --- analysing new texts -------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    message_id: int | None
    response_id: int | None
    ticket_id: int | None
    at: datetime.datetime
    text: str


def _analyse(sources: Sequence[Source], now: datetime.datetime) -> list[TextInsight]:
    texts = [source.text for source in sources]
    feelings = sentiment.sentiments(texts)
    loaded = current_model()
    placed: list[themes.Assignment] = (
        loaded.model.assign_many(texts) if loaded is not None else [themes.Assignment(None, 0.0)] * len(texts)
    )
    rows = loaded.rows if loaded is not None else {}
    return [
        TextInsight(
            message_id=source.message_id,
            response_id=source.response_id,
            ticket_id=source.ticket_id,
            at=source.at,
            theme_id=rows.get(place.theme_id) if place.theme_id is not None else None,
            similarity=place.similarity,
            sentiment=feeling.label,
            sentiment_score=feeling.score,
            analyzed_at=now,
        )
        for source, feeling, place in zip(sources, feelings, placed, strict=True)
    ]


def analyze_new(limit: int = ANALYZE_BATCH, *, now: datetime.datetime | None = None) -> int:
    """Analyse the next ``limit`` customer messages after the cursor and the survey comments not
    analysed yet; how many texts were analysed. Safe to run from two workers: the analysis is
    done outside any transaction, and written only if the cursor has not moved meanwhile."""
    now = now or timezone.now()
    cursor = InsightCursor.objects.filter(pk=1).first() or _first_cursor(now)
    start = cursor.last_message_id
    messages = list(
        Message.objects.filter(pk__gt=start, author_customer__isnull=False)
        .order_by("pk")
        .values_list("pk", "ticket_id", "created_at", "body_text")[:limit]
    )
    comments = list(
        SurveyResponse.objects.filter(insight__isnull=True)
        .exclude(comment="")
        .order_by("pk")
        .values_list("pk", "invitation__ticket_id", "answered_at", "comment")[:limit]
    )
    sources = [Source(pk, None, ticket, at, _text(body)) for pk, ticket, at, body in messages]
    sources += [Source(None, pk, ticket, at, _text(comment)) for pk, ticket, at, comment in comments]
    if not sources:
        return 0
    insights = _analyse(sources, now)
    with transaction.atomic():
        moved = InsightCursor.objects.filter(pk=1, last_message_id=start)
        if messages and not moved.update(last_message_id=messages[-1][0], updated_at=now):
            return 0  # another worker analysed these meanwhile
        TextInsight.objects.bulk_create(insights, ignore_conflicts=True)
    return len(insights)


def _first_cursor(now: datetime.datetime) -> InsightCursor:
    """The first run starts at the messages of the last CLUSTER_DAYS days: older ones would never
    count in a trend, and on a desk with years of history they would hold up the new ones."""
    since = now - datetime.timedelta(days=CLUSTER_DAYS)
    before = Message.objects.filter(created_at__lt=since).order_by("-pk").values_list("pk", flat=True).first()
    cursor, _ = InsightCursor.objects.get_or_create(pk=1, defaults={"last_message_id": before or 0})
    return cursor


def analyze_for(seconds: float, *, now: datetime.datetime | None = None) -> int:
    """``analyze_new`` batch after batch until nothing is left or ``seconds`` have passed (the
    job's run, so a backlog is caught up at thousands of texts a minute); how many were analysed."""
    deadline = time.monotonic() + seconds
    total = 0
    while time.monotonic() < deadline:
        done = analyze_new(now=now)
        if not done:
            break
        total += done
    return total


def forget_comment(response_id: int) -> None:
    """A comment changed: it is analysed again at the next run."""
    TextInsight.objects.filter(response_id=response_id).delete()


# --- re-clustering -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReclusterResult:
    run: ThemeRun | None
    texts: int
    new_themes: int
    kept_themes: int


def first_themes_due(now: datetime.datetime | None = None) -> bool:
    """Whether a desk that has never been clustered has enough analysed texts for its first
    themes: a new install finds them the same day instead of after the night's run."""
    if ThemeRun.objects.exists():
        return False
    since = (now or timezone.now()) - datetime.timedelta(days=CLUSTER_DAYS)
    return TextInsight.objects.filter(at__gte=since)[:MIN_TEXTS].count() >= MIN_TEXTS


def _window_texts(now: datetime.datetime, limit: int) -> tuple[list[int], list[str]]:
    """The ids and texts of the latest ``limit`` analysed texts of the last CLUSTER_DAYS days."""
    since = now - datetime.timedelta(days=CLUSTER_DAYS)
    found = list(
        TextInsight.objects.filter(at__gte=since)
        .order_by("-at", "-id")
        .values_list("pk", "message__body_text", "response__comment")[:limit]
    )
    return [pk for pk, _, _ in found], [_text(body if body is not None else comment) for _, body, comment in found]


def recluster(
    *,
    now: datetime.datetime | None = None,
    backend: embedding.BackendChoice = "auto",
    limit: int = CLUSTER_LIMIT,
    progress: Callable[[int, int], None] | None = None,
) -> ReclusterResult:
    """Cluster the recent texts again and move them to their themes (see the module's doc)."""
    now = now or timezone.now()
    started = time.monotonic()
    ids, texts = _window_texts(now, limit)
    if len(texts) < MIN_TEXTS:
        return ReclusterResult(None, len(texts), 0, 0)
    clustering = themes.find_themes(texts, backend=backend, progress=progress)
    previous_rows = list(Theme.objects.all())
    previous = [_engine_theme(row) for row in previous_rows]
    clustering = themes.carry_over_ids(previous, clustering)
    known = {row.number: row for row in previous_rows}
    embedder = clustering.model.embedder
    with transaction.atomic():
        Theme.objects.update(active=False)
        by_number: dict[int, Theme] = {}
        for theme in clustering.themes:
            row = known.get(theme.id) or Theme(number=theme.id, first_seen_at=now)
            row.label, row.keywords, row.examples = theme.label, list(theme.keywords), list(theme.examples)
            row.size, row.space, row.active, row.updated_at = theme.size, theme.space, True, now
            row.centroid = np.asarray(theme.centroid, dtype=np.float32).tobytes()
            row.save()
            by_number[theme.id] = row
        run = ThemeRun.objects.create(
            created_at=now,
            backend=embedder.backend,
            texts=len(texts),
            themes=len(clustering.themes),
            unthemed=clustering.unthemed,
            threshold=clustering.model.threshold,
            seconds=time.monotonic() - started,
            embedder=pickle.dumps(embedder) if embedder.backend == "tfidf" else b"",
        )
        updates = [
            TextInsight(
                pk=pk,
                theme_id=by_number[number].pk if number in by_number else None,
                similarity=float(similarity),
            )
            for pk, number, similarity in zip(
                ids, clustering.assignments.tolist(), clustering.similarities.tolist(), strict=True
            )
        ]
        TextInsight.objects.bulk_update(updates, ["theme", "similarity"], batch_size=2_000)
    kept = sum(1 for theme in clustering.themes if theme.id in known)
    return ReclusterResult(run, len(texts), len(clustering.themes) - kept, kept)


# --- the Insights page's figures -----------------------------------------------------------------

WEEK = datetime.timedelta(days=7)


@dataclass
class ThemeTrend:
    theme: Theme
    weekly: list[int]  # texts per week, oldest first; the last is the current week
    negative_share: float | None  # of this week's texts, the share with negative sentiment
    # This week against the previous: the change, and how unusual it is (a z-score of a Poisson
    # count against the mean of the earlier weeks).
    change: int = 0
    unusual: float = 0.0
    new: bool = False

    @property
    def this_week(self) -> int:
        return self.weekly[-1]


def trends(now: datetime.datetime | None = None, weeks: int = 8) -> list[ThemeTrend]:
    """Every active theme's texts per week for ``weeks`` weeks up to now, rising and unusual
    first: one grouped query (a conditional count per week), whatever the number of texts."""
    now = now or timezone.now()
    start = now - weeks * WEEK
    bounds = [start + week * WEEK for week in range(weeks + 1)]
    active = {row.pk: row for row in Theme.objects.filter(active=True)}
    counts = {
        f"w{week}": Count(
            "pk",
            filter=Q(at__gte=bounds[week], at__lt=bounds[week + 1]) if week < weeks - 1 else Q(at__gte=bounds[week]),
        )
        for week in range(weeks)
    }
    grouped = {
        row["theme_id"]: row
        for row in TextInsight.objects.filter(at__gte=start, theme_id__in=list(active))
        .values("theme_id")
        .annotate(**counts, negative=Count("pk", filter=Q(at__gte=bounds[-2], sentiment="negative")))
        .order_by()
    }
    result = []
    for row in active.values():
        found = grouped.get(row.pk, {})
        weekly = [found.get(f"w{week}", 0) for week in range(weeks)]
        earlier = weekly[:-1]
        mean = sum(earlier) / len(earlier) if earlier else 0.0
        result.append(
            ThemeTrend(
                theme=row,
                weekly=weekly,
                negative_share=found.get("negative", 0) / weekly[-1] if weekly[-1] else None,
                change=weekly[-1] - (weekly[-2] if weeks > 1 else 0),
                unusual=(weekly[-1] - mean) / math.sqrt(mean + 1.0),
                new=row.first_seen_at >= now - WEEK,
            )
        )
    return sorted(result, key=lambda t: (-t.unusual, -t.this_week))


@dataclass(frozen=True)
class Driver:
    theme: Theme
    tickets: int
    csat: float | None  # % good of the rated tickets with this theme
    csat_gap: float | None  # the desk's CSAT minus this theme's (points)
    resolution_median: float | None  # business seconds, tickets with this theme
    resolution_gap: float | None  # this theme's median minus the desk's (seconds)
    # Rated tickets times the CSAT gap: how many good ratings the theme costs.
    impact: float


def drivers(now: datetime.datetime | None = None, days: int = 90) -> list[Driver]:
    """Themes ranked by what they cost: CSAT points below the desk's times the rated tickets
    carrying them, then resolution time against the desk's. A theme's tickets are those with a
    text of the last ``days`` days in it; the desk's figures are those of the tickets solved in
    the same days, from the daily rollups. Three queries, whatever the number of themes: the
    themes, their CSAT counts, their resolution-time histograms."""
    from deskpilot.analytics import rollups
    from deskpilot.analytics.histogram import median_and_p90

    now = now or timezone.now()
    since = now - datetime.timedelta(days=days)
    series = rollups.rollup_series(since.date(), now.date())
    desk = rollups.period_total(series)
    rated = desk.counts["csat_good"] + desk.counts["csat_bad"]
    desk_csat = 100 * desk.counts["csat_good"] / rated if rated else None
    desk_median = desk.median_and_p90("full_resolution_time_business")[0]
    rows = {row.pk: row for row in Theme.objects.filter(active=True)}
    result = []
    for theme_id, tickets, good, bad, histogram in _theme_tickets(since, list(rows)):
        theme = rows[theme_id]
        theme_rated = good + bad
        csat = 100 * good / theme_rated if theme_rated else None
        gap = desk_csat - csat if desk_csat is not None and csat is not None else None
        median = median_and_p90(histogram)[0]
        result.append(
            Driver(
                theme=theme,
                tickets=tickets,
                csat=csat,
                csat_gap=gap,
                resolution_median=median,
                resolution_gap=median - desk_median if median is not None and desk_median is not None else None,
                impact=(gap or 0.0) * theme_rated / 100,
            )
        )
    return sorted(result, key=lambda d: (-d.impact, -(d.resolution_gap or 0.0)))


def _theme_tickets(since: datetime.datetime, theme_ids: list[int]) -> list[tuple[int, int, int, int, list[int]]]:
    """Per theme of ``theme_ids``: its tickets with a text since ``since`` (each once), how many
    of them are rated good and bad, and the histogram (analytics.histogram buckets) of their
    business resolution times; one grouped query over the themes' own index."""
    from django.db import connection

    from deskpilot.analytics.histogram import BOUNDS, BUCKETS
    from deskpilot.analytics.models import TicketMetrics

    if not theme_ids:
        return []
    column = "m.full_resolution_time_business"
    sums = []
    for i in range(BUCKETS):
        upper = f" AND {column} < {BOUNDS[i + 1]}" if i + 1 < BUCKETS else ""
        sums.append(f"SUM(CASE WHEN {column} >= {BOUNDS[i]}{upper} THEN 1 ELSE 0 END)")
    quote = connection.ops.quote_name
    marks = ", ".join(["%s"] * len(theme_ids))
    # Only table names from the models, fixed numbers and placeholders are formatted in.
    sql = (
        f"SELECT t.theme_id, COUNT(*), SUM(CASE WHEN m.csat_good THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN NOT m.csat_good THEN 1 ELSE 0 END), {', '.join(sums)} "
        f"FROM (SELECT DISTINCT theme_id, ticket_id FROM {quote(TextInsight._meta.db_table)} "
        f"WHERE theme_id IN ({marks}) AND at >= %s AND ticket_id IS NOT NULL) t "
        f"JOIN {quote(TicketMetrics._meta.db_table)} m ON m.ticket_id = t.ticket_id GROUP BY t.theme_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*theme_ids, connection.ops.adapt_datetimefield_value(since)])
        return [
            (theme_id, int(tickets), int(good or 0), int(bad or 0), [int(n or 0) for n in buckets])
            for theme_id, tickets, good, bad, *buckets in cursor.fetchall()
        ]
