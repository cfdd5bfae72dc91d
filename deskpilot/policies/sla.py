"""Keeping every ticket's SLA clocks right: which policy applies, where its targets stand, when the
next one breaches, and the warnings and breaches recorded at the moment they happen.

- ``recompute(ticket)`` re-runs the clock (``policies.clock``) from the ticket's events. It runs
  inside every change's transaction (``tickets.signals.events_recorded``), so the ticket's
  ``sla_next_breach_at`` (what lists show and sort by) and ``sla_wake_at`` (the next instant a
  warning or a breach is due) are never stale.
- Nothing happens between events, so time itself is watched twice: a timer task per ticket whose
  wake-up is near (``policies.sla_timer``, exact to the second) and a sweep every minute over the
  indexed ``sla_wake_at`` (``policies.sla_sweep``), so a lost timer delays a breach by a minute at
  most and never hides it.
- A warning or breach is recorded as a TicketEvent (``field="sla"``) at the instant the clock says
  it happened, never before the policy that defines it existed in its current form: a breach found
  because a policy was changed or newly applies is recorded from that change on (no back-dating;
  earlier records stay as they are).

Policy choice: active policies in position order, the first whose conditions all match; a rule can
pin a policy or a calendar (``pin_policy``), which then wins. Business-hour targets count on the
policy's calendar, else the pinned one, the team's, the organization's, the default; with none,
around the clock.
"""

from __future__ import annotations

import datetime
import logging
import math
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from deskpilot.policies import calendar_choice, clock, config_version
from deskpilot.policies.business_time import Interval, Schedule
from deskpilot.policies.calendars import schedule_for
from deskpilot.policies.facts import facts_from_events
from deskpilot.policies.models import BusinessCalendar, RecomputeRequest, SlaMetric, SlaPolicy
from deskpilot.tickets import actions as ticket_actions
from deskpilot.tickets.models import UNSOLVED, Ticket, TicketEvent, TicketTag

logger = logging.getLogger(__name__)

# Events the clock or the policy choice depends on; anything else leaves the clocks as they are.
CLOCK_FIELDS = frozenset(
    {"created", "status", "priority", "team", "message", "organization", "requester", "type", "channel", "tags"}
)
_READ_FIELDS = ("created", "status", "priority", "team", "message", "sla", "sla_policy", "sla_pin")
# Timers are scheduled for wake-ups this close; later ones are left to the sweep until they near.
TIMER_HORIZON = datetime.timedelta(hours=1)
ALWAYS_OPEN = Schedule("UTC", tuple(Interval(day, datetime.time(0), datetime.time(0)) for day in range(7)), frozenset())


# --- policies ----------------------------------------------------------------------------------


class TicketFields(Protocol):
    """What policy conditions read of a ticket (a Ticket, or the bulk rebuild's lighter row)."""

    @property
    def priority(self) -> str: ...
    @property
    def team_id(self) -> int | None: ...
    @property
    def organization_id(self) -> int | None: ...
    @property
    def channel(self) -> str: ...
    @property
    def type(self) -> str: ...


@dataclass(frozen=True)
class CompiledPolicy:
    """An active SLA policy, ready to match tickets and feed the clock."""

    id: int
    name: str
    priorities: frozenset[str]
    teams: frozenset[int]
    organizations: frozenset[int]
    tiers: frozenset[str]
    channels: frozenset[str]
    types: frozenset[str]
    tags: frozenset[str]
    clock: clock.Policy
    calendar_id: int | None
    escalation_id: int | None
    updated_at: datetime.datetime
    business: bool

    def matches(self, ticket: TicketFields, tier: str | None, tags: frozenset[str] | None) -> bool:
        if self.priorities and ticket.priority not in self.priorities:
            return False
        if self.teams and ticket.team_id not in self.teams:
            return False
        if self.organizations and ticket.organization_id not in self.organizations:
            return False
        if self.channels and ticket.channel not in self.channels:
            return False
        if self.types and ticket.type not in self.types:
            return False
        if self.tiers and tier not in self.tiers:
            return False
        return not (self.tags and not (tags and self.tags & tags))


def compile_policy(policy: SlaPolicy) -> CompiledPolicy:
    per_priority: dict[str, list[clock.Target]] = {}
    ownership: dict[int, clock.Target] = {}
    for row in policy.targets.all():
        target = clock.Target(row.metric, row.minutes * 60, row.business_hours)
        if row.metric == SlaMetric.GROUP_OWNERSHIP:
            if row.team_id is not None:
                ownership[row.team_id] = target
        else:
            per_priority.setdefault(row.priority, []).append(target)
    targets = {p: tuple(ts) for p, ts in per_priority.items()}
    business = any(t.business for ts in targets.values() for t in ts) or any(t.business for t in ownership.values())
    return CompiledPolicy(
        id=policy.pk,
        name=policy.name,
        priorities=frozenset(policy.priorities or ()),
        teams=frozenset(int(t) for t in policy.teams or ()),
        organizations=frozenset(int(o) for o in policy.organizations or ()),
        tiers=frozenset(policy.tiers or ()),
        channels=frozenset(policy.channels or ()),
        types=frozenset(policy.types or ()),
        tags=frozenset(policy.tags or ()),
        clock=clock.Policy(targets=targets, group_ownership=ownership, warning_percent=policy.warning_percent),
        calendar_id=policy.calendar_id,
        escalation_id=policy.escalation_id,
        updated_at=policy.updated_at,
        business=business,
    )


_cache_lock = threading.Lock()
_cache: dict[str, Any] = {"key": None, "policies": (), "by_id": {}}


def active_policies() -> tuple[CompiledPolicy, ...]:
    """The active policies in order, compiled once per process and rebuilt when the SLA
    configuration changes (``config_version.stamp``: one query, once per ticket change)."""
    key = config_version.stamp()
    with _cache_lock:
        if _cache["key"] == key:
            return _cache["policies"]
    rows = SlaPolicy.objects.prefetch_related("targets").order_by("position", "id")
    compiled = {p.pk: (p.active, compile_policy(p)) for p in rows}
    policies = tuple(c for active, c in compiled.values() if active)
    with _cache_lock:
        _cache.update(key=key, policies=policies, by_id={pk: c for pk, (_a, c) in compiled.items()})
    return policies


def policy_by_id(policy_id: int) -> CompiledPolicy | None:
    """Any policy, active or not (a pinned one applies even when it is not in the matching list)."""
    active_policies()
    with _cache_lock:
        return _cache["by_id"].get(policy_id)


def clear_cache() -> None:
    with _cache_lock:
        _cache.update(key=None, policies=(), by_id={})
    calendar_choice.clear_cache()


def _ticket_tier(ticket: Ticket) -> str:
    from deskpilot.customers.models import Customer

    customer = (
        Customer.objects.select_related("organization").only("tier", "organization__tier").get(pk=ticket.requester_id)
    )
    return customer.effective_tier


def match_policy(ticket: Ticket, policies: Sequence[CompiledPolicy]) -> CompiledPolicy | None:
    """The first policy whose conditions the ticket meets. Tags and the customer's tier are read
    only when some policy asks about them."""
    tier = _ticket_tier(ticket) if any(p.tiers for p in policies) else None
    tags: frozenset[str] | None = None
    if any(p.tags for p in policies):
        tags = frozenset(TicketTag.objects.filter(ticket_id=ticket.pk).values_list("tag__name", flat=True))
    for policy in policies:
        if policy.matches(ticket, tier, tags):
            return policy
    return None


def calendar_for(policy: CompiledPolicy, ticket: Ticket, pinned_calendar: int | None = None) -> BusinessCalendar | None:
    """The calendar business-hour targets count on: the policy's, the pinned one, the team's, the
    organization's, or the default (``calendar_choice``)."""
    key = (policy.id, pinned_calendar, ticket.team_id, ticket.organization_id)
    return calendar_choice.current().choose(key)


# --- the clock of one ticket -------------------------------------------------------------------


@dataclass(frozen=True)
class Clocks:
    """Where a ticket's SLA stands now."""

    policy: CompiledPolicy | None
    calendar: BusinessCalendar | None
    instances: tuple[clock.TargetInstance, ...]
    next_breach_at: datetime.datetime | None
    wake_at: datetime.datetime | None
    recorded: tuple[TicketEvent, ...]


Key = tuple[str, int | None, int | None]


def _key(metric: str, start: int | str, team: int | None) -> Key:
    """What identifies a target instance among a ticket's recorded findings: its metric, start
    (Unix seconds; a recorded finding gives it as ISO 8601) and, for group ownership, team."""
    if isinstance(start, str):
        try:
            return (metric, math.floor(datetime.datetime.fromisoformat(start).timestamp()), team)
        except ValueError:
            return (metric, None, team)
    return (metric, start, team)


def _utc(ts: int) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(ts, datetime.UTC)


def _ts(moment: datetime.datetime) -> int:
    return math.floor(moment.timestamp())


def summarize(
    instances: Iterable[clock.TargetInstance], now: datetime.datetime, recorded: set[tuple[str, Key]]
) -> tuple[datetime.datetime | None, datetime.datetime | None]:
    """(next breach, wake-up): the earliest due of a running target (a breached one's breach), and
    the earliest future instant a warning or breach not yet recorded comes due."""
    now_ts = _ts(now)
    next_breach: int | None = None
    wake: int | None = None
    for inst in instances:
        if inst.state == "active":
            soonest = inst.due_ts
            next_breach = soonest if next_breach is None else min(next_breach, soonest)
            warning = inst.warning_ts
            if (
                warning is not None
                and now_ts < warning < soonest
                and ("warning", _key(inst.metric, inst.start_ts, inst.team)) not in recorded
            ):
                soonest = warning
            wake = soonest if wake is None else min(wake, soonest)
        elif inst.state == "breached-active" and inst.breached_ts is not None:
            next_breach = inst.breached_ts if next_breach is None else min(next_breach, inst.breached_ts)
    return (None if next_breach is None else _utc(next_breach)), (None if wake is None else _utc(wake))


def _finding(
    kind: str, inst: clock.TargetInstance, policy: CompiledPolicy, at: datetime.datetime
) -> tuple[str, dict[str, Any], datetime.datetime]:
    moment = inst.breached_at if kind == "breach" else inst.warning_at
    assert moment is not None
    return (
        "sla",
        {
            "kind": kind,
            "metric": inst.metric,
            "start": inst.start.isoformat(),
            "moment": moment.isoformat(),
            "due": inst.due.isoformat() if kind == "warning" else None,
            "target_minutes": inst.target.seconds // 60,
            "business_hours": inst.target.business,
            "policy": policy.id,
            "team": inst.team,
        },
        at,
    )


def findings(
    instances: Sequence[clock.TargetInstance],
    policy: CompiledPolicy,
    recorded: set[tuple[str, Key]],
    since: datetime.datetime,
    now: datetime.datetime,
) -> list[tuple[str, dict[str, Any], datetime.datetime]]:
    """The warnings and breaches that have happened and are not recorded yet, each at its moment
    (never before ``since``, when the policy came to apply in its current form). A warning is left
    out when its breach is recorded at the same instant: the breach says it all."""
    out = []
    now_ts = _ts(now)
    for inst in instances:
        breached, warning = inst.breached_ts, inst.warning_ts
        breached = breached if breached is not None and breached <= now_ts else None
        warning = warning if inst.warned and warning is not None and warning <= now_ts else None
        if breached is None and warning is None:
            continue  # nothing has happened to this one: no key to look up
        key = _key(inst.metric, inst.start_ts, inst.team)
        breach_at = None
        if breached is not None and ("breach", key) not in recorded:
            breach_at = max(_utc(breached), since)
        if warning is not None and ("warning", key) not in recorded and ("breach", key) not in recorded:
            warn_at = max(_utc(warning), since)
            if breach_at is None or warn_at < breach_at:
                out.append(_finding("warning", inst, policy, warn_at))
        if breach_at is not None:
            out.append(_finding("breach", inst, policy, breach_at))
    out.sort(key=lambda f: f[2])
    return out


@dataclass
class _Evaluation:
    policy: CompiledPolicy | None
    calendar: BusinessCalendar | None
    instances: tuple[clock.TargetInstance, ...]
    entries: list[tuple[str, Any, datetime.datetime]]
    recorded: set[tuple[str, Key]]
    now: datetime.datetime


def _evaluate(ticket: Ticket, now: datetime.datetime | None) -> _Evaluation:
    """The ticket's clocks from its events, and what should be recorded (nothing is written)."""
    rows = list(
        TicketEvent.objects.filter(ticket_id=ticket.pk, field__in=_READ_FIELDS)
        .only("field", "new", "created_at", "actor_customer_id")
        .order_by("created_at", "id")
    )
    now = now or timezone.now()
    if rows and rows[-1].created_at > now:
        now = rows[-1].created_at  # a change recorded with a later ``at`` (imports, tests)
    recorded: set[tuple[str, Key]] = set()
    pin: dict[str, Any] = {}
    policy_since: datetime.datetime | None = None
    for row in rows:
        new = row.new if isinstance(row.new, dict) else {}
        if row.field == "sla":
            recorded.add((new.get("kind", ""), _key(new.get("metric", ""), new.get("start", ""), new.get("team"))))
        elif row.field == "sla_pin":
            pin = new
            policy_since = row.created_at
        elif row.field == "sla_policy":
            policy_since = row.created_at

    pinned_policy = pin.get("policy")
    policy = policy_by_id(pinned_policy) if pinned_policy else match_policy(ticket, active_policies())
    entries: list[tuple[str, Any, datetime.datetime]] = []
    if (policy.id if policy else None) != ticket.sla_policy_id:
        entries.append(("sla_policy", None if policy is None else {"id": policy.id, "name": policy.name}, now))
        policy_since = now

    instances: tuple[clock.TargetInstance, ...] = ()
    calendar = None
    if policy is not None:
        facts = facts_from_events(rows)
        schedule = None
        if policy.business:
            calendar = calendar_for(policy, ticket, pin.get("calendar"))
            schedule = schedule_for(calendar) if calendar is not None else ALWAYS_OPEN
        if facts and facts[0].kind == "created":
            instances = tuple(clock.evaluate(facts, policy.clock, schedule, now))
        since = max(policy.updated_at, policy_since) if policy_since else policy.updated_at
        entries += findings(instances, policy, recorded, since, now)
    return _Evaluation(policy, calendar, instances, entries, recorded, now)


def recompute(ticket: Ticket, *, now: datetime.datetime | None = None) -> Clocks:
    """Re-run the ticket's clocks, record new warnings and breaches and keep its SLA fields
    current. Call inside a transaction with the ticket locked (the actions do); the ``ticket``
    instance is updated in place."""
    ev = _evaluate(ticket, now)
    recorded = set(ev.recorded)
    recorded.update(
        (f[1]["kind"], _key(f[1]["metric"], f[1]["start"], f[1]["team"])) for f in ev.entries if f[0] == "sla"
    )
    next_breach, wake = summarize(ev.instances, ev.now, recorded)
    saved = ticket_actions.record_sla_events(ticket, ev.entries) if ev.entries else []
    _store(ticket, ev.policy.id if ev.policy else None, next_breach, wake, ev.now)
    return Clocks(ev.policy, ev.calendar, ev.instances, next_breach, wake, tuple(saved))


def clocks_now(ticket: Ticket) -> Clocks:
    """The ticket's clocks as they stand, for display: nothing is recorded or stored."""
    ev = _evaluate(ticket, None)
    next_breach, wake = summarize(ev.instances, ev.now, ev.recorded)
    return Clocks(ev.policy, ev.calendar, ev.instances, next_breach, wake, ())


def _store(
    ticket: Ticket,
    policy_id: int | None,
    next_breach: datetime.datetime | None,
    wake: datetime.datetime | None,
    now: datetime.datetime,
) -> None:
    if (ticket.sla_policy_id, ticket.sla_next_breach_at, ticket.sla_wake_at) == (policy_id, next_breach, wake):
        return
    wake_changed = wake != ticket.sla_wake_at
    Ticket.objects.filter(pk=ticket.pk).update(
        sla_policy_id=policy_id, sla_next_breach_at=next_breach, sla_wake_at=wake
    )
    ticket.sla_policy_id, ticket.sla_next_breach_at, ticket.sla_wake_at = policy_id, next_breach, wake
    if wake_changed and wake is not None and wake - now <= TIMER_HORIZON:
        ticket_id = ticket.pk
        transaction.on_commit(lambda: schedule_timer(ticket_id, wake))


def schedule_timer(ticket_id: int, at: datetime.datetime) -> None:
    """Wake the ticket's clocks at ``at`` (one second late, so the instant has passed). A timer that
    is lost or fires early does no harm: the sweep and the re-check under lock decide."""
    from deskpilot.policies.tasks import sla_timer

    try:
        sla_timer.schedule(args=(ticket_id,), eta=at + datetime.timedelta(seconds=1))
    except Exception:
        logger.exception("could not schedule the SLA timer of ticket %s; the sweep will catch it", ticket_id)


# --- events, the sweep, pins -------------------------------------------------------------------


def on_events_recorded(sender: Any, *, ticket: Ticket, events: Sequence[TicketEvent], **kwargs: Any) -> None:
    """Receiver of ``events_recorded``: recompute when the change touches the clocks or the policy
    choice (not for the SLA's own findings)."""
    if any(e.field in CLOCK_FIELDS for e in events):
        recompute(ticket)


def wake(ticket_id: int, *, now: datetime.datetime | None = None) -> bool:
    """Recompute one ticket whose wake-up has come, under its lock. False when it was not due any
    more (another worker got there first, or a change moved the wake-up)."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = Ticket.objects.select_for_update().filter(pk=ticket_id, sla_wake_at__lte=now).first()
        if locked is None:
            return False
        recompute(locked, now=now)
    return True


def due_ticket_ids(now: datetime.datetime, limit: int) -> list[int]:
    """Tickets whose wake-up has come, oldest first: an index range scan (``ticket_sla_wake``)."""
    return list(
        Ticket.objects.filter(sla_wake_at__lte=now).order_by("sla_wake_at").values_list("pk", flat=True)[:limit]
    )


def sweep(*, now: datetime.datetime | None = None, batch: int = 500) -> int:
    """Recompute every ticket whose warning or breach has come; returns how many were. Safe to run
    in several workers at once: each ticket is re-checked under its lock. A ticket that fails is
    logged and passed over (it stays due for the next sweep), never blocking the ones behind it."""
    now = now or timezone.now()
    done = 0
    after: tuple[datetime.datetime, int] | None = None
    while True:
        due = Ticket.objects.filter(sla_wake_at__lte=now)
        if after is not None:
            due = due.filter(Q(sla_wake_at__gt=after[0]) | Q(sla_wake_at=after[0], pk__gt=after[1]))
        page = list(due.order_by("sla_wake_at", "pk").values_list("sla_wake_at", "pk")[:batch])
        for _, ticket_id in page:
            try:
                if wake(ticket_id, now=now):
                    done += 1
            except Exception:
                logger.exception("SLA clocks of ticket %s could not be recomputed", ticket_id)
        if len(page) < batch:
            return done
        last_wake, last_id = page[-1]
        assert last_wake is not None  # filtered on it
        after = (last_wake, last_id)


# A recompute owed after a policy change (RecomputeRequest): not queued again for this long after
# it was queued, nor while its job renews this lease between batches.
RECOMPUTE_QUEUED_LEASE = datetime.timedelta(minutes=2)
RECOMPUTE_WORK_LEASE = datetime.timedelta(minutes=10)


def request_recompute() -> None:
    """Write down, in the current transaction, that every unsolved ticket's clocks are owed a
    recompute; the caller queues the job once it commits (``sla_actions.enqueue_recompute``)."""
    RecomputeRequest.objects.create(lease_until=timezone.now() + RECOMPUTE_QUEUED_LEASE)


def claim_owed_recompute(now: datetime.datetime | None = None) -> bool:
    """Whether a recompute is owed that no job is known to be doing (its job lost, or never
    queued); claimed for a new job, so two sweeps queue it once."""
    now = now or timezone.now()
    stale = RecomputeRequest.objects.filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
    return stale.update(lease_until=now + RECOMPUTE_QUEUED_LEASE) > 0


def recompute_owed(*, batch: int = 500) -> int:
    """The recompute job: every unsolved ticket again, then the requests made before it began are
    settled (a change made while it ran is owed another pass)."""
    began = timezone.now()
    owed = RecomputeRequest.objects.filter(requested_at__lte=began)

    def renew() -> None:
        owed.update(lease_until=timezone.now() + RECOMPUTE_WORK_LEASE)

    renew()
    done = recompute_unsolved(batch=batch, on_batch=renew)
    owed.delete()
    return done


def recompute_unsolved(*, batch: int = 500, on_batch: Callable[[], None] | None = None) -> int:
    """Recompute every unsolved ticket (after a policy or calendar changed: a new condition may
    choose another policy for any of them), each under its lock; returns how many. Resumable:
    it walks ticket ids upwards, so a rerun simply repeats the work."""
    done, last = 0, 0
    while True:
        if on_batch is not None:
            on_batch()
        ids = list(
            Ticket.objects.filter(status__in=UNSOLVED, pk__gt=last).order_by("pk").values_list("pk", flat=True)[:batch]
        )
        for ticket_id in ids:
            with transaction.atomic():
                locked = Ticket.objects.select_for_update().filter(pk=ticket_id, status__in=UNSOLVED).first()
                if locked is not None:
                    recompute(locked)
                    done += 1
        if len(ids) < batch:
            return done
        last = ids[-1]


def pin_policy(ticket: Ticket, *, policy_id: int | None, calendar_id: int | None, cause: str) -> None:
    """Make a policy and/or a calendar apply to the ticket whatever the conditions say (a trigger's
    "set SLA policy" action); None for both returns it to the usual choice. Records an ``sla_pin``
    event and recomputes at once. Raises InvalidInput for a policy or calendar that does not
    exist."""
    from deskpilot.core.errors import InvalidInput

    if policy_id is not None and not SlaPolicy.objects.filter(pk=policy_id).exists():
        raise InvalidInput("policy", f"there is no SLA policy {policy_id}")
    if calendar_id is not None and not BusinessCalendar.objects.filter(pk=calendar_id).exists():
        raise InvalidInput("calendar", f"there is no calendar {calendar_id}")
    with transaction.atomic():
        locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
        ticket_actions.record_sla_events(
            locked, [("sla_pin", {"policy": policy_id, "calendar": calendar_id}, timezone.now())], cause=cause
        )
        recompute(locked)
    ticket.sla_policy_id, ticket.sla_next_breach_at, ticket.sla_wake_at = (
        locked.sla_policy_id,
        locked.sla_next_breach_at,
        locked.sla_wake_at,
    )
