"""Bulk work shared between forked worker processes (core.parallel): how ids are split, results
and progress collected, and a failing worker reported."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

from deskpilot.core import parallel
from deskpilot.tickets.models import Ticket
from tests import factories


@pytest.mark.django_db
@pytest.mark.parametrize("workers", [1, 2, 3, 7, 50])
def test_spans_cover_every_id_once(workers: int) -> None:
    ids = [factories.ticket().pk for _ in range(7)]
    spans = parallel.id_spans(Ticket.objects.all(), ids[1], workers)
    assert len(spans) <= workers
    covered = [i for after, last in spans for i in ids if after < i <= last]
    assert covered == ids[2:]
    assert all(after < last for after, last in spans)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(spans))  # contiguous, no overlap


@pytest.mark.django_db
def test_no_ids_no_spans() -> None:
    ticket = factories.ticket()
    assert parallel.id_spans(Ticket.objects.all(), ticket.pk, 2) == []


def _needs_fork() -> None:
    if not parallel.can_fork():
        pytest.skip("worker processes need a database they can open (the SQLite test database is in memory)")


@pytest.mark.django_db(transaction=True)
def test_workers_results_in_span_order_with_their_progress() -> None:
    _needs_fork()
    seen: list[int] = []

    def work(after: int, last: int, done: Callable[[int], None]) -> tuple[int, int]:
        done(last - after)
        return after, last

    spans = [(0, 10), (10, 25), (25, 26)]
    assert parallel.in_workers(work, spans, seen.append, "test") == spans
    assert sorted(seen) == [1, 10, 15]


@pytest.mark.django_db(transaction=True)
def test_a_failing_worker_stops_the_run_with_its_error() -> None:
    _needs_fork()

    def work(after: int, last: int, done: Callable[[int], None]) -> int:
        if after == 10:
            raise ValueError("ticket 11 is broken")
        return last

    with pytest.raises(RuntimeError, match=r"(?s)a metrics rebuild worker failed:.*ValueError: ticket 11 is broken"):
        parallel.in_workers(work, [(0, 10), (10, 20)], None, "metrics rebuild")
