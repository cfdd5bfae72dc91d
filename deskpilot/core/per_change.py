"""Facts read once per ticket change, however many receivers ask.

A ticket change dispatches ``tickets.signals.events_recorded`` inside ``scope()``; its receivers
(the SLA clock, triggers, the metrics record, and the changes they make in turn, dispatched
inside the same scope) share what ``once`` returns for a key. Used for what cannot change during
a change but would otherwise be read by each receiver: whether the SLA configuration changed
(``policies.config_version``). Outside a scope ``once`` simply computes.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")

_memo: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("deskpilot_per_change", default=None)


@contextmanager
def scope() -> Iterator[None]:
    """One change's scope; a nested scope (a receiver's own change) shares the outer one."""
    if _memo.get() is not None:
        yield
        return
    token = _memo.set({})
    try:
        yield
    finally:
        _memo.reset(token)


def once(key: str, compute: Callable[[], T]) -> T:
    """``compute()``, once per scope for this key."""
    memo = _memo.get()
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    value: T = memo[key]
    return value
