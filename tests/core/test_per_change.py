"""core.per_change: a value computed once per change's scope, shared by nested scopes, and
computed every time outside a scope."""

from __future__ import annotations

from deskpilot.core import per_change


class Counter:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> int:
        self.calls += 1
        return self.calls


def test_outside_a_scope_every_call_computes() -> None:
    count = Counter()
    assert [per_change.once("k", count) for _ in range(3)] == [1, 2, 3]


def test_inside_a_scope_once_per_key_and_nested_scopes_share() -> None:
    count, other = Counter(), Counter()
    with per_change.scope():
        assert per_change.once("k", count) == 1
        with per_change.scope():
            assert per_change.once("k", count) == 1
            assert per_change.once("other", other) == 1
        assert per_change.once("k", count) == 1
    assert count.calls == 1
    # A new scope computes again.
    with per_change.scope():
        assert per_change.once("k", count) == 2


def test_a_failure_leaves_no_scope_behind() -> None:
    count = Counter()
    try:
        with per_change.scope():
            per_change.once("k", count)
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert [per_change.once("k", count) for _ in range(2)] == [2, 3]
