"""The demo operation as plain rows: who writes, when, and what the help desk does about it.

Pure Python (no Django, no database), so it is fast and easy to test: given a seeded RNG, the
people, and the ids to number rows from, it returns exactly the rows the ticket actions would have
written for the same history (tickets.actions: create_ticket, add_message, update_ticket,
close_solved_tickets). Each "batch" below stands for one action call: it bumps the ticket's
version and sets updated_at, like ``_Changes.save``.

Times are whole seconds since the epoch (UTC) until they are written; ``TimeFormat`` turns them
into the text each database accepts for a timestamp, without building datetime objects.
"""

from __future__ import annotations

import datetime
import json
import math
import random
from bisect import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from html import escape
from itertools import accumulate
from typing import Any, TypeVar

from deskpilot.demo import vocabulary as vocab
from deskpilot.demo.vocabulary import Topic

_T = TypeVar("_T")
HOUR = 3600
DAY = 86400

# Arrivals by hour of day (UTC, the desk's zone): a business-hours peak with a lunch dip, a quiet
# night. Relative weights.
HOUR_CURVE = (
    0.15, 0.12, 0.10, 0.10, 0.12, 0.20, 0.35, 0.60, 0.90, 1.00, 1.00, 0.95,
    0.80, 0.90, 0.95, 0.90, 0.80, 0.65, 0.50, 0.40, 0.35, 0.30, 0.25, 0.20,
)  # fmt: skip
# Monday first: the week starts busy and weekends are quiet.
WEEKDAY_CURVE = (1.15, 1.10, 1.05, 1.00, 0.90, 0.35, 0.30)
# The business is growing: the last day of the period gets this much more traffic than the first.
GROWTH = 0.20
# The desk's working hours (UTC): agents answer then; urgent tickets are answered around the clock.
OPEN_HOUR, CLOSE_HOUR = 8, 18

# Shares on arrival. Channel drives the "via" of the customer's messages.
CHANNELS = ("email", "web", "portal", "chat", "phone", "api")
CHANNEL_WEIGHTS = (44, 22, 12, 10, 7, 5)
CHANNEL_VIA = {"email": "email", "web": "web", "portal": "web", "chat": "api", "api": "api", "phone": "web"}
TYPES = ("question", "incident", "problem", "task")
# Median minutes to the first reply, in working time, by priority.
FIRST_REPLY_MINUTES = {"urgent": 20, "high": 60, "normal": 150, "low": 360}
ORG_TIERS = ("standard", "premium", "enterprise")
ORG_TIER_WEIGHTS = (70, 22, 8)


class TimeFormat:
    """Epoch seconds → the timestamp text a database column accepts, at about 100 ns a call.

    SQLite stores Django datetimes as 'YYYY-MM-DD HH:MM:SS' in UTC (what Django writes for a value
    with no microseconds); PostgreSQL gets the same with an explicit '+00:00' offset."""

    def __init__(self, suffix: str = "") -> None:
        self._clock = [f" {h:02d}:{m:02d}:{s:02d}{suffix}" for h in range(24) for m in range(60) for s in range(60)]
        self._days: dict[int, str] = {}
        self._last = (-1, "")

    def __call__(self, t: int) -> str:
        # Events of one action share their time: remember the last answer.
        if self._last[0] == t:
            return self._last[1]
        day, rest = divmod(t, DAY)
        text = self._days.get(day)
        if text is None:
            text = self._days[day] = (datetime.date(1970, 1, 1) + datetime.timedelta(days=day)).isoformat()
        text += self._clock[rest]
        self._last = (t, text)
        return text


# --- people --------------------------------------------------------------------------------------


@dataclass
class OrgPlan:
    name: str
    domain: str
    tier: str
    shared_tickets: bool
    created_at: int


@dataclass
class CustomerPlan:
    name: str
    email: str
    org: int  # index into the organizations, -1 for none
    time_zone: str
    created_at: int
    activity: float  # relative chance of writing a ticket


@dataclass
class PopulationPlan:
    organizations: list[OrgPlan]
    customers: list[CustomerPlan]


def _slug(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def plan_population(rng: random.Random, tickets: int, start: int) -> PopulationPlan:
    """Organizations and customers for ``tickets`` tickets: about one customer per five tickets,
    a dozen contacts per organization, a third of customers writing for themselves. Activity is
    heavy-tailed, as in real help desks: a few customers write much more than the rest."""
    n_customers = max(40, min(200_000, tickets // 5))
    n_orgs = max(8, min(4_000, n_customers // 12))
    orgs: list[OrgPlan] = []
    seen_orgs: set[str] = set()
    while len(orgs) < n_orgs:
        stem, trade = rng.choice(vocab.ORG_STEMS), rng.choice(vocab.ORG_TRADES)
        key = f"{stem} {trade}"
        if key in seen_orgs:
            continue
        seen_orgs.add(key)
        suffix = rng.choice(vocab.ORG_SUFFIXES)
        tier = rng.choices(ORG_TIERS, ORG_TIER_WEIGHTS)[0]
        orgs.append(
            OrgPlan(
                name=f"{key} {suffix}".strip(),
                domain=_slug(key) + ".example",
                tier=tier,
                shared_tickets=rng.random() < 0.3,
                created_at=start - rng.randrange(30 * DAY, 3 * 365 * DAY),
            )
        )
    # Organization sizes are heavy-tailed too: a few key accounts with many contacts.
    org_weights = list(accumulate(min(rng.paretovariate(1.2), 40.0) for _ in orgs))
    customers: list[CustomerPlan] = []
    emails: set[str] = set()
    for _ in range(n_customers):
        first, last = rng.choice(vocab.FIRST_NAMES), rng.choice(vocab.LAST_NAMES)
        if rng.random() < 0.65:
            org = bisect(org_weights, rng.random() * org_weights[-1])
            local, domain = f"{_slug(first)}.{_slug(last)}", orgs[org].domain
        else:
            org = -1
            local, domain = (
                f"{_slug(first)}{_slug(last)[:1]}{rng.randrange(10, 99)}",
                rng.choice(vocab.PERSONAL_DOMAINS),
            )
        email, n = f"{local}@{domain}", 1
        while email in emails:
            n += 1
            email = f"{local}{n}@{domain}"
        emails.add(email)
        customers.append(
            CustomerPlan(
                name=f"{first} {last}",
                email=email,
                org=org,
                time_zone=rng.choice(vocab.CUSTOMER_TIME_ZONES),
                created_at=start - rng.randrange(DAY, 2 * 365 * DAY),
                activity=min(rng.paretovariate(1.5), 50.0),
            )
        )
    return PopulationPlan(organizations=orgs, customers=customers)


# --- arrivals ------------------------------------------------------------------------------------


@dataclass
class Arrivals:
    times: list[int]  # sorted epoch seconds
    # Hours (epoch seconds of their start) in which the service had an outage.
    outage_hours: frozenset[int]


def plan_arrivals(rng: random.Random, tickets: int, start: int, end: int) -> Arrivals:
    """``tickets`` arrival times in [start, end): each hour's share follows the hour-of-day and
    weekday curves, a slow growth, day-to-day noise, and an occasional outage (a few hours of
    several times the usual traffic, about one a month)."""
    first_hour = start - start % HOUR
    hours = list(range(first_hour, end, HOUR))
    days = (end - start) / DAY
    noise: dict[int, float] = {}
    outages: set[int] = set()
    for _ in range(max(1, round(days / 30)) if days >= 14 else 0):
        begin = first_hour + rng.randrange(len(hours))
        begin -= begin % HOUR
        outages.update(begin + i * HOUR for i in range(rng.randint(1, 3)))
    weights = []
    for hour in hours:
        day = hour // DAY
        if day not in noise:
            noise[day] = rng.uniform(0.85, 1.15)
        weekday = (day + 3) % 7  # 1970-01-01 was a Thursday
        w = HOUR_CURVE[(hour % DAY) // HOUR] * WEEKDAY_CURVE[weekday] * noise[day]
        w *= 1.0 + GROWTH * (hour - start) / max(1, end - start)
        if hour in outages:
            w *= 6.0
        weights.append(w)
    cumulative = list(accumulate(weights))
    times = []
    for hour in rng.choices(hours, cum_weights=cumulative, k=tickets):
        lo, hi = max(hour, start), min(hour + HOUR, end)
        times.append(rng.randrange(lo, hi) if hi > lo else lo)
    times.sort()
    return Arrivals(times=times, outage_hours=frozenset(outages))


# --- the desk ------------------------------------------------------------------------------------


@dataclass
class Desk:
    """The staff and reference data the simulation refers to, by database id."""

    team_ids: dict[str, int]  # TeamSpec.key → id
    members: dict[int, list[int]]  # team id → user ids who can be assigned (agent roles)
    managers: list[int]
    user_first: dict[int, str]
    user_role: dict[int, str]
    tag_ids: dict[str, int]
    # Customers (ids), with their names, organization id and tier, and cumulative activity weights.
    customer_ids: list[int]
    customer_names: list[str]
    customer_orgs: list[int | None]
    customer_tiers: list[str]
    customer_weights: list[float]
    org_names: dict[int, str]
    org_members: dict[int, list[int]] = field(default_factory=dict)  # org id → customer indexes


@dataclass
class Batch:
    """Rows for one transaction, in the column order of ``writer.COLUMNS``."""

    tickets: list[tuple[Any, ...]] = field(default_factory=list)
    messages: list[tuple[Any, ...]] = field(default_factory=list)
    events: list[tuple[Any, ...]] = field(default_factory=list)
    ticket_tags: list[tuple[Any, ...]] = field(default_factory=list)
    ccs: list[tuple[Any, ...]] = field(default_factory=list)
    # (ticket id, subject, public text, internal text) for the search index.
    documents: list[tuple[int, str, str, str]] = field(default_factory=list)
    # First id used in each table (for the collision check); absent when the table got no rows.
    first_ids: dict[str, int] = field(default_factory=dict)


_COUNTS = ("12", "37", "48", "120", "250", "400", "1200", "3500")
_SEATS = ("2", "3", "5", "8", "10", "15", "25", "40")


class _Slots(dict[str, str]):
    """Template slot values for one ticket, drawn only when a template first uses them: most
    texts use two or three of the twenty-odd slots, and drawing all would dominate the cost."""

    __slots__ = ("_draw",)

    def __init__(self, draw: Callable[[str], str], **fixed: str) -> None:
        super().__init__(fixed)
        self._draw = draw

    def __missing__(self, key: str) -> str:
        value = self[key] = self._draw(key)
        return value


def fast_html(text: str) -> str:
    """``core.html.text_to_html`` for the generator's own texts (paragraphs separated by exactly
    one blank line, no blank-looking lines), at a fraction of the cost: escaping the whole text
    once equals escaping it line by line. The tests check the two agree on generated messages."""
    return "<p>" + escape(text).replace("\n\n", "</p><p>").replace("\n", "<br>") + "</p>"


# Status values as the JSON text stored in TicketEvent.old/new.
_J = {
    s: json.dumps(s)
    for s in ("new", "open", "pending", "on_hold", "solved", "closed", "low", "normal", "high", "urgent")
}


def _json_id(value: int | None) -> str | None:
    return None if value is None else str(value)


class Simulator:
    """Writes tickets' lives as rows. One instance per run; ``batch`` is called with consecutive
    slices of the sorted arrival times and keeps numbering rows from ``next_ids``."""

    def __init__(
        self,
        rng: random.Random,
        desk: Desk,
        *,
        now: int,
        close_days: int,
        outage_hours: frozenset[int],
        next_ids: dict[str, int],
        time_format: TimeFormat,
    ) -> None:
        self.rng = rng
        self.desk = desk
        self.now = now
        self.close_after = close_days * DAY
        self.outage_hours = outage_hours
        self.next_ids = dict(next_ids)
        self.fmt = time_format
        self.topics = vocab.TOPICS
        self.topic_weights = list(accumulate(t.weight for t in vocab.TOPICS))
        self.outage_topic = next(t for t in vocab.TOPICS if t.key == "outage")
        self.channel_weights = list(accumulate(CHANNEL_WEIGHTS))
        self.team_of_topic = {t.key: desk.team_ids[t.team] for t in vocab.TOPICS}
        self.escalation_team = desk.team_ids["escalations"]
        self.slot_keys = tuple(vocab.SLOT_VALUES)
        self.slot_lists = tuple(vocab.SLOT_VALUES[k] for k in self.slot_keys)
        self.type_weights = {t.key: list(accumulate(t.types)) for t in vocab.TOPICS}
        self.all_agents = sorted(
            {u for members in desk.members.values() for u in members if desk.user_role[u] == "agent"}
        )

    # --- time ------------------------------------------------------------------------------

    def _working(self, t: int) -> int:
        """``t`` if the desk is open then, else the next opening plus a little while."""
        day, sec = divmod(t, DAY)
        weekday = (day + 3) % 7
        if weekday < 5 and OPEN_HOUR * HOUR <= sec < CLOSE_HOUR * HOUR:
            return t
        if weekday < 5 and sec < OPEN_HOUR * HOUR:
            opening = day * DAY + OPEN_HOUR * HOUR
        else:
            day += 1
            while (day + 3) % 7 >= 5:
                day += 1
            opening = day * DAY + OPEN_HOUR * HOUR
        return opening + int(self.rng.random() * 45 * 60)

    def _agent_time(self, t: int, median_minutes: float, *, urgent: bool = False) -> int:
        """When an agent acts on something that became actionable at ``t``: a skewed delay
        (most quick, some slow), inside working hours unless the ticket is urgent."""
        start = t if urgent else self._working(t)
        delay = int(60 * self.rng.lognormvariate(math.log(median_minutes), 0.9))
        done = start + max(60, delay)
        return done if urgent else self._working(done)

    def _customer_time(self, t: int, median_hours: float) -> int:
        return t + max(120, int(HOUR * self.rng.lognormvariate(math.log(median_hours), 1.0)))

    # --- one batch -------------------------------------------------------------------------

    def batch(self, arrivals: list[int]) -> Batch:
        out = Batch()
        ids = self.next_ids
        for table in ("ticket", "message", "event", "ticket_tag", "cc"):
            out.first_ids[table] = ids[table]
        for t0 in arrivals:
            self._ticket(out, t0)
        for table, first in list(out.first_ids.items()):
            if ids[table] == first:
                del out.first_ids[table]
        return out

    def _slot(self, key: str) -> str:
        """A random value for a template slot that the ticket's texts use."""
        rand = self.rng.random
        values = vocab.SLOT_VALUES.get(key)
        if values is not None:
            return values[int(rand() * len(values))]
        if key == "agent2":
            agents = self.all_agents
            return self.desk.user_first[agents[int(rand() * len(agents))]] if agents else "team"
        if key == "other_first":
            return vocab.FIRST_NAMES[int(rand() * len(vocab.FIRST_NAMES))]
        if key == "invoice":
            return f"INV-{2022 + int(rand() * 4)}-{10000 + int(rand() * 90000)}"
        if key == "po":
            return f"PO-{100000 + int(rand() * 900000)}"
        if key == "card":
            return f"{int(rand() * 10000):04d}"
        if key == "count":
            return _COUNTS[int(rand() * len(_COUNTS))]
        if key == "seats":
            return _SEATS[int(rand() * len(_SEATS))]
        if key == "code":
            return f"{self.rng.getrandbits(40):010x}"
        raise KeyError(key)

    def _ticket(self, out: Batch, t0: int) -> None:
        # One long function on purpose: a ticket's life, told in order, with its state in locals
        # (closures and locals are the fastest Python has, and this runs a million times).
        rng = self.rng
        rand = rng.random
        desk = self.desk
        now = self.now

        def pick(options: Sequence[_T]) -> _T:
            # rng.choice costs three times as much, and this is called ~30 times a ticket.
            return options[int(rand() * len(options))]

        fmt = self.fmt
        ids = self.next_ids

        # --- who writes, about what, and how. Everything is drawn per ticket, in order, so the
        # data depend on the seed alone, not on the batch size.
        weights = desk.customer_weights
        who = bisect(weights, rand() * weights[-1])
        if t0 - t0 % HOUR in self.outage_hours and rand() < 0.7:
            topic: Topic = self.outage_topic
        else:
            topic = self.topics[bisect(self.topic_weights, rand() * self.topic_weights[-1])]
        channel = CHANNELS[bisect(self.channel_weights, rand() * self.channel_weights[-1])]
        if channel == "phone" and self._working(t0) != t0:
            channel = "email"  # nobody answers the phone outside working hours
        cust_via = CHANNEL_VIA[channel]
        ticket_type = TYPES[bisect(self.type_weights[topic.key], rand() * sum(topic.types))]
        requester = desk.customer_ids[who]
        org = desk.customer_orgs[who]
        tier = desk.customer_tiers[who]
        team = self.team_of_topic[topic.key]
        members = desk.members[team]
        agent = members[int(rand() * len(members))]
        name = desk.customer_names[who]
        slots = _Slots(
            self._slot,
            full=name,
            first=name.partition(" ")[0],
            company=desk.org_names[org] if org is not None else "our team",
            agent=desk.user_first[agent],
            product=vocab.PRODUCT,
        )
        subject = pick(topic.subjects).format_map(slots)
        r = rand()
        if r < 0.06:
            subject = subject.lower()  # people type subjects in a hurry
        elif r < 0.09 and channel == "email":
            subject = "Fwd: " + subject
        elif r < 0.11 and channel == "email":
            subject = "Re: " + subject  # a reply to an old notification, arriving as a new ticket
        elif r < 0.13:
            subject = f"{subject} ({slots['company']})" if org is not None else subject

        tid = ids["ticket"]
        ids["ticket"] = tid + 1
        events = out.events
        messages = out.messages
        public_texts: list[str] = []
        internal_texts: list[str] = []

        status = "new"
        priority = "normal"
        assignee: int | None = None
        team_id: int | None = None
        tags: list[str] = []
        version = 0
        updated = t0
        solved_at: int | None = None
        closed_at: int | None = None

        def event(
            at: int,
            name: str,
            old: str | None,
            new: str | None,
            user: int | None,
            customer: int | None,
            via: str,
            message: int | None = None,
        ) -> None:
            eid = ids["event"]
            ids["event"] = eid + 1
            events.append((eid, tid, name, old, new, user, customer, via, message, fmt(at)))

        def message(
            at: int, text: str, user: int | None, customer: int | None, via: str, *, public: bool = True
        ) -> None:
            mid = ids["message"]
            ids["message"] = mid + 1
            messages.append((mid, tid, user, customer, public, text, fast_html(text), via, fmt(at)))
            (public_texts if public else internal_texts).append(text)
            role = "customer" if customer is not None else desk.user_role[user] if user is not None else "system"
            new = (
                f'{{"id": {mid}, "public": {"true" if public else "false"}, "author_role": "{role}", "attachments": 0}}'
            )
            event(at, "message", None, new, user, customer, via, mid)

        def set_status(at: int, new: str, user: int | None, customer: int | None, via: str) -> None:
            nonlocal status, solved_at, closed_at
            if new == status:
                return
            event(at, "status", _J[status], _J[new], user, customer, via)
            status = new
            # As actions._stamp_status: solved and closed stamp their time, anything else unsolves.
            if new == "solved":
                solved_at = at
            elif new == "closed":
                closed_at = at
            else:
                solved_at = None

        def action(at: int) -> None:
            nonlocal version, updated
            version += 1
            updated = at

        def customer_text(body: str, *, signed: bool = True) -> str:
            text = body
            if signed and cust_via == "email":
                text = f"{body}\n\n{pick(vocab.CUSTOMER_SIGNOFFS)}"
            return text.format_map(slots)

        def agent_text(body: str) -> str:
            return f"{pick(vocab.AGENT_GREETINGS)}\n\n{body}\n\n{pick(vocab.AGENT_SIGNOFFS)}".format_map(slots)

        # --- creation (create_ticket): by the customer, or by an agent logging a phone call
        problem = pick(topic.problems)
        ccs: list[int] = []
        if channel == "phone":
            assignee, team_id, status = agent, team, "open"
            tags = sorted(topic.tags)
            actor_user, actor_customer, via = agent, None, "web"
            first_text = (pick(vocab.PHONE_INTRO) + problem).format_map(slots)
        else:
            actor_user, actor_customer, via = None, requester, cust_via
            if channel in ("web", "portal") and rand() < 0.15:
                priority = "high" if rand() < 0.7 else "low"  # the form's priority menu
            if cust_via == "email":
                greeting = pick(vocab.CUSTOMER_GREETINGS)
                context = pick(vocab.CUSTOMER_CONTEXT)
                body = f"{greeting}\n\n{problem}" if greeting else problem
                if context:
                    body = f"{body} {context}"
                first_text = customer_text(body)
                if org is not None and rand() < 0.06:
                    colleagues = desk.org_members.get(org, ())
                    if len(colleagues) > 1:
                        cc = desk.customer_ids[pick(colleagues)]
                        if cc != requester:
                            ccs = [cc]
            else:
                first_text = problem.format_map(slots)
        action(t0)
        created = {
            "subject": subject, "status": status, "priority": priority, "type": ticket_type, "channel": channel,
            "requester": requester, "organization": org, "team": team_id, "assignee": assignee, "tags": tags,
            "ccs": ccs, "custom_fields": {},
        }  # fmt: skip
        event(t0, "created", None, json.dumps(created), actor_user, actor_customer, via)
        message(t0, first_text, actor_user, actor_customer, via)

        # --- routing rule on arrival (update_ticket by the system, via rule): team, tags, priority
        if channel != "phone":
            action(t0)
            new_priority = priority
            if rand() < topic.urgent_bias:
                new_priority = "urgent" if rand() < 0.5 else "high"
            elif tier == "enterprise" and rand() < 0.5:
                new_priority = "high"
            elif topic.key in ("how_to", "feature_request") and rand() < 0.5:
                new_priority = "low"
            if new_priority != priority:
                event(t0, "priority", _J[priority], _J[new_priority], None, None, "rule")
                priority = new_priority
            event(t0, "team", None, str(team), None, None, "rule")
            team_id = team
            new_tags = sorted({*topic.tags, *(("key-account",) if tier == "enterprise" else ())})
            event(t0, "tags", "[]", json.dumps(new_tags), None, None, "rule")
            tags = new_tags

        # --- the conversation
        t = t0
        urgent = priority == "urgent"
        t = self._agent_time(t, FIRST_REPLY_MINUTES[priority], urgent=urgent)
        last_ask = False
        reopened_thanks = False
        for round_no in range(12):
            if t > now:
                break
            if status in ("new", "open"):
                if assignee is None:
                    # The agent takes the ticket (update_ticket: assignee).
                    action(t)
                    event(t, "assignee", None, str(agent), agent, None, "web")
                    assignee = agent
                    t += 60 + int(rand() * 840)
                if rand() < 0.10:
                    # A note to colleagues before answering (add_message, internal).
                    action(t)
                    message(t, pick(vocab.INTERNAL_NOTES).format_map(slots), assignee, None, "web", public=False)
                    t += 120 + int(rand() * 1680)
                if round_no > 0 and rand() < 0.12:
                    # Reassignment: escalation to second line, or to a colleague in the same team.
                    actor: int = assignee if rand() < 0.7 or not desk.managers else pick(desk.managers)
                    if team_id != self.escalation_team and topic.team == "technical" and rand() < 0.6:
                        new_team = self.escalation_team
                    elif rand() < 0.7 or topic.team == "general":
                        new_team = team_id if team_id is not None else team
                    else:
                        new_team = desk.team_ids["general"]
                    candidates = [u for u in desk.members[new_team] if u != assignee] or desk.members[new_team]
                    new_assignee = pick(candidates)
                    if new_team != team_id or new_assignee != assignee:
                        # One update_ticket: team first, then assignee, then tags (as recorded).
                        action(t)
                        if new_team != team_id:
                            event(t, "team", _json_id(team_id), str(new_team), actor, None, "web")
                            team_id = new_team
                        if new_assignee != assignee:
                            event(t, "assignee", _json_id(assignee), str(new_assignee), actor, None, "web")
                            assignee = new_assignee
                        if new_team == self.escalation_team and "escalated" not in tags:
                            new_tags = sorted([*tags, "escalated"])
                            event(t, "tags", json.dumps(tags), json.dumps(new_tags), actor, None, "web")
                            tags = new_tags
                        slots["agent"] = desk.user_first[new_assignee]
                        t = self._agent_time(t, 90, urgent=urgent)
                if t > now:
                    break
                # The agent answers (add_message with a status): ask, fix, hand over, or keep working.
                r = rand()
                ask, fix, hold = (0.40, 0.82, 0.90) if round_no == 0 else (0.15, 0.80, 0.87)
                if last_ask:
                    ask = 0.0  # they just got their answer
                if r < ask:
                    body, new_status = pick(topic.asks), "pending"
                elif r < fix:
                    body, new_status = pick(topic.fixes), "solved"
                elif r < hold:
                    body, new_status = pick(vocab.AGENT_ON_HOLD), "on_hold"
                else:
                    body, new_status = pick(vocab.AGENT_WORKING), "open"
                action(t)
                message(t, agent_text(body), assignee, None, "web")
                set_status(t, new_status, assignee, None, "web")
                last_ask = new_status == "pending"
                if status == "open":
                    t = self._agent_time(t, 240, urgent=urgent)
                continue

            if status == "pending":
                if rand() < 0.78:
                    # The customer answers: pending → open (add_message by the requester).
                    t = self._customer_time(t, 5)
                    if t > now:
                        break
                    action(t)
                    message(t, customer_text(pick(topic.answers)), None, requester, cust_via)
                    set_status(t, "open", None, requester, cust_via)
                    t = self._agent_time(t, 120, urgent=urgent)
                    continue
                # No answer: a reminder after a few days, then solved for lack of reply.
                if rand() < 0.6:
                    t = self._agent_time(t + 2 * DAY, 60)
                    if t > now:
                        break
                    action(t)
                    message(t, agent_text(pick(vocab.AGENT_NUDGE)), assignee, None, "web")
                t = self._agent_time(t + 3 * DAY, 60)
                if t > now:
                    break
                action(t)
                message(t, agent_text(pick(vocab.AGENT_NO_REPLY_SOLVE)), assignee, None, "web")
                set_status(t, "solved", assignee, None, "web")
                last_ask = False
                continue

            if status == "on_hold":
                fixed_at = self._agent_time(t + int(DAY * rng.lognormvariate(0.3, 0.8)), 60)
                ping_at = self._customer_time(t, 30)
                if rand() < 0.3 and ping_at < fixed_at:
                    # The customer chases: on_hold → open.
                    if ping_at > now:
                        break
                    t = ping_at
                    action(t)
                    message(t, customer_text(pick(vocab.CUSTOMER_PING)), None, requester, cust_via)
                    set_status(t, "open", None, requester, cust_via)
                    if rand() < 0.25 and priority in ("low", "normal"):
                        t = self._agent_time(t, 60)
                        if t > now:
                            break
                        action(t)
                        new_priority = "high" if priority == "normal" else "normal"
                        event(t, "priority", _J[priority], _J[new_priority], assignee, None, "web")
                        priority = new_priority
                    t = self._agent_time(t, 60, urgent=urgent)
                    continue
                t = fixed_at
                if t > now:
                    break
                action(t)
                message(t, agent_text(pick(topic.fixes)), assignee, None, "web")
                set_status(t, "solved", assignee, None, "web")
                continue

            if status == "solved":
                assert solved_at is not None
                close_at = solved_at + self.close_after + int(rand() * HOUR)  # the hourly auto-close job
                r = rand()
                # Reopen rates of real desks: a few "still broken", more "thank you" replies.
                if r < 0.05 or (r < 0.14 and not reopened_thanks):
                    # A customer reply reopens a solved ticket (DOMAIN.md), "thanks" included.
                    broken = r < 0.05
                    reply_at = self._customer_time(t, 20 if broken else 1)
                    if reply_at < close_at:
                        if reply_at > now:
                            break
                        t = reply_at
                        action(t)
                        text = pick(vocab.CUSTOMER_STILL_BROKEN if broken else vocab.CUSTOMER_THANKS)
                        message(t, customer_text(text), None, requester, cust_via)
                        set_status(t, "open", None, requester, cust_via)
                        if broken:
                            t = self._agent_time(t, 90, urgent=urgent)
                            continue
                        # Thanks needs no answer: the agent solves it again (update_ticket: status).
                        reopened_thanks = True
                        t = self._agent_time(t, 60)
                        if t > now:
                            break
                        action(t)
                        set_status(t, "solved", assignee, None, "web")
                        continue
                # Solved tickets close after AUTO_CLOSE_DAYS (close_solved_tickets, by the system).
                if close_at <= now:
                    action(close_at)
                    set_status(close_at, "closed", None, None, "system")
                break
            break

        # --- the ticket row as it stands now, its tags, CCs and search document
        out.tickets.append(
            (tid, subject, status, priority, ticket_type, channel, "{}", fmt(t0), fmt(updated),
             None if solved_at is None else fmt(solved_at), None if closed_at is None else fmt(closed_at),
             version, assignee, org, requester, team_id)
        )  # fmt: skip
        tag_ids = desk.tag_ids
        for name in tags:
            ids["ticket_tag"] += 1
            out.ticket_tags.append((ids["ticket_tag"] - 1, tid, tag_ids[name]))
        for cc in ccs:
            ids["cc"] += 1
            out.ccs.append((ids["cc"] - 1, tid, cc))
        out.documents.append((tid, subject, "\n".join(public_texts), "\n".join(internal_texts)))


class SimulationFailed(Exception):
    """The helper process failed; the message is its traceback."""


def all_tag_names() -> list[str]:
    """Every tag the simulation may put on a ticket, so they can be created up front."""
    names = {tag for topic in vocab.TOPICS for tag in topic.tags}
    return sorted(names | {"key-account", "escalated"})
