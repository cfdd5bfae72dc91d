"""Bulk work over ticket id ranges shared between forked worker processes (the rebuilds of SLA
clocks and of the metrics records): the ids split into equal spans, one process per span with its
own database connection, the parent relaying their progress and collecting their results."""

from __future__ import annotations

import multiprocessing
import traceback
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django.db import connection, connections
from django.db.models import Max, Min, Model, QuerySet

Result = TypeVar("Result")
# work(after, last, progress): the ids in (after, last], telling progress how many are done.
Work = Callable[[int, int, Callable[[int], None]], Result]


def can_fork() -> bool:
    """Worker processes need a database other connections can open (not SQLite's in-memory test
    database), to be outside a transaction (they could not see its rows) and the fork start method
    (POSIX)."""
    if "fork" not in multiprocessing.get_all_start_methods() or connection.in_atomic_block:
        return False
    if connection.vendor == "sqlite":
        name = str(connection.settings_dict["NAME"])
        return not (name == ":memory:" or "mode=memory" in name)
    return True


def id_spans(rows: QuerySet[Model], after: int, workers: int) -> list[tuple[int, int]]:
    """The ids above ``after`` as at most ``workers`` (after, last] spans of equal width."""
    bounds = rows.filter(pk__gt=after).aggregate(lo=Min("pk"), hi=Max("pk"))
    if bounds["lo"] is None:
        return []
    lo, hi = bounds["lo"], bounds["hi"]
    width = -(-(hi - lo + 1) // workers)
    return [(lo - 1 + i * width, min(hi, lo - 1 + (i + 1) * width)) for i in range(workers) if lo + i * width <= hi]


def in_workers(
    work: Work[Result], spans: Sequence[tuple[int, int]], progress: Callable[[int], None] | None, what: str
) -> list[Result]:
    """Run ``work`` on each span in a forked process of its own; their results in span order. A
    worker that fails stops the run with its error (``what`` names the work); what the others
    finished stays written, so the work must be safe to run again."""
    context = multiprocessing.get_context("fork")
    messages: multiprocessing.Queue[tuple[str, int, Any]] = context.Queue()
    # Children must not share the parent's open connections: each opens its own.
    connections.close_all()
    processes = [
        context.Process(target=_worker, args=(work, index, after, last, messages), daemon=True)
        for index, (after, last) in enumerate(spans)
    ]
    for process in processes:
        process.start()
    results: dict[int, Result] = {}
    try:
        while len(results) < len(processes):
            kind, index, value = messages.get()
            if kind == "progress":
                if progress is not None:
                    progress(value)
            elif kind == "done":
                results[index] = value
            else:
                raise RuntimeError(f"a {what} worker failed:\n{value}")
    finally:
        for process in processes:
            if process.is_alive() and len(results) < len(processes):
                process.terminate()
            process.join()
    return [results[index] for index in range(len(processes))]


def _worker(work: Work[Any], index: int, after: int, last: int, messages: Any) -> None:
    # A connection inherited open (whatever the parent did not close: another alias, a wrapper
    # left by a thread) shares its socket with the parent: it must never be used or closed here.
    # Forgetting it makes this process open its own; the process ends with os._exit, so the
    # inherited one is never finalised from here either.
    for alias in connections:
        connections[alias].connection = None
    try:
        result = work(after, last, lambda n: messages.put(("progress", index, n)))
        messages.put(("done", index, result))
    except BaseException:
        messages.put(("error", index, traceback.format_exc()))
    finally:
        connections.close_all()
