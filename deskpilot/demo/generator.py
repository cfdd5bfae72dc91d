"""``generate``: a believable help desk operation, written in bulk.

The order of work: tags, organizations and customers (bulk), staff and teams (actions), arrival
times, then tickets in batches of ``batch_size``, one transaction each. For large runs the
tickets are simulated in a helper process while this one writes, so both cores work; the
simulation still runs in one place, in order, so the same seed gives the same data.

An interruption loses at most the batch in flight (its transaction rolls back); everything
written before it is complete and consistent, and a rerun appends after it.
"""

from __future__ import annotations

import datetime
import gc
import os
import pickle
import random
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Generator, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from itertools import accumulate

from django.conf import settings
from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone

from deskpilot.accounts.models import Role, TeamMembership, User
from deskpilot.analytics.rebuild import rebuild_all as rebuild_metrics
from deskpilot.customers.models import CustomerEmail, Organization
from deskpilot.demo import feedback as demo_feedback
from deskpilot.demo import policies as demo_policies
from deskpilot.demo import simulate, staff
from deskpilot.demo.simulate import DAY, Batch, Desk, PopulationPlan, Simulator
from deskpilot.demo.writer import PEOPLE_TABLES, TICKET_TABLES, Writer
from deskpilot.policies.sla_rebuild import recompute_all
from deskpilot.tickets.models import Tag, Ticket


def default_batch_size(tickets: int) -> int:
    """Tickets per transaction: larger batches for larger runs, because every commit copies the
    pages it changed (the hot index pages included) through the WAL once more; small enough that
    progress moves and an interruption loses little."""
    return max(2_000, min(20_000, tickets // 20))


# From this many tickets on, a helper process simulates while this one writes; below it, starting
# the process (a fraction of a second) is not worth it.
PARALLEL_FROM = 20_000
# How much more often a demo customer account writes than the average customer, so that signing
# in as one shows a real ticket history.
ACCOUNT_ACTIVITY = 40.0


@dataclass
class Result:
    tickets: int
    messages: int
    events: int
    first_ticket: int | None
    last_ticket: int | None


class HelperFailed(RuntimeError):
    """The simulation helper process stopped or failed."""


class Progress:
    """What ``generate`` reports while it works; the command shows it with rich."""

    def stage(self, description: str) -> None:
        """A preparatory step started."""

    def start(self, total: int) -> None:
        """Ticket batches are about to be written."""

    def advance(self, tickets: int) -> None:
        """Another batch of ``tickets`` was committed."""

    def task(self, description: str, total: int) -> Callable[[int], None]:
        """A later step over ``total`` items; the returned function hears how many more are done."""
        return lambda done: None


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while rows are made. The simulation allocates millions
    of tuples and strings that live until their batch is written; the collector would rescan them
    over and over (half the run time) to find no cycles, because the rows make none. Objects
    alive before the run are frozen out of its scans altogether."""
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()


def _simulated_elsewhere(simulator: Simulator, slices: list[list[int]]) -> Generator[Batch, None, None]:
    """The simulated batches, made by a helper process (``demo.helper``) while this one writes,
    so both cores work. The helper gets the simulator with its RNG state and stays about one batch
    ahead; it is stopped when this generator is closed (Ctrl-C, an error while writing)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    helper = subprocess.Popen(
        [sys.executable, "-m", "deskpilot.demo.helper"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env
    )
    assert helper.stdin is not None
    assert helper.stdout is not None
    try:
        with helper.stdin:
            pickle.dump((simulator, slices), helper.stdin, protocol=pickle.HIGHEST_PROTOCOL)
        for _ in slices:
            try:
                item = pickle.load(helper.stdout)  # noqa: S301 - written by our own helper
            except EOFError:
                raise HelperFailed(f"the simulation process stopped (exit status {helper.wait()})") from None
            if isinstance(item, simulate.SimulationFailed):
                raise HelperFailed(f"the simulation process failed:\n{item}")
            yield item
    finally:
        helper.stdout.close()
        if helper.poll() is None:
            helper.terminate()
        helper.wait()


def _chunks(items: list[str], size: int = 500) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _ensure_tags(names: list[str]) -> dict[str, int]:
    Tag.objects.bulk_create([Tag(name=n) for n in names], ignore_conflicts=True)
    return dict(Tag.objects.filter(name__in=names).values_list("name", "pk"))


def _ensure_population(plan: PopulationPlan, writer: Writer) -> tuple[list[int], list[int | None], list[str]]:
    """Write the planned organizations and customers that do not exist yet (organizations match
    by name, customers by email address, case-insensitively, like the actions) and return, per
    planned customer, its id, its organization id and its tier."""
    fmt = writer.time_format
    org_ids: list[int] = []
    with transaction.atomic():
        writer.begin_batch(PEOPLE_TABLES)
        existing_orgs: dict[str, int] = {}
        for chunk in _chunks([o.name.lower() for o in plan.organizations]):
            orgs = Organization.objects.annotate(lname=Lower("name")).filter(lname__in=chunk)
            existing_orgs.update((name, pk) for name, pk in orgs.values_list("lname", "pk"))
        ids = writer.next_ids(PEOPLE_TABLES)
        new_orgs = []
        for org in plan.organizations:
            found = existing_orgs.get(org.name.lower())
            if found is None:
                found = ids["organization"]
                ids["organization"] += 1
                new_orgs.append(
                    (found, org.name, f'["{org.domain}"]', org.tier, "", org.shared_tickets, fmt(org.created_at))
                )
            org_ids.append(found)
        writer.insert("organization", new_orgs)

        existing_customers: dict[str, tuple[int, int | None]] = {}
        for chunk in _chunks([c.email.lower() for c in plan.customers]):
            emails = CustomerEmail.objects.annotate(laddress=Lower("address")).filter(laddress__in=chunk)
            existing_customers.update(
                (address, (cid, oid))
                for address, cid, oid in emails.values_list("laddress", "customer_id", "customer__organization_id")
            )
        new_customers, new_emails = [], []
        customer_ids: list[int] = []
        customer_orgs: list[int | None] = []
        for customer in plan.customers:
            found_customer = existing_customers.get(customer.email.lower())
            if found_customer is not None:
                customer_ids.append(found_customer[0])
                customer_orgs.append(found_customer[1])
                continue
            cid = ids["customer"]
            ids["customer"] += 1
            org_id = org_ids[customer.org] if customer.org >= 0 else None
            created = fmt(customer.created_at)
            new_customers.append((cid, customer.name, "", customer.time_zone, "en", "", created, None, org_id))
            new_emails.append((ids["customer_email"], cid, customer.email, True, created, ""))
            ids["customer_email"] += 1
            customer_ids.append(cid)
            customer_orgs.append(org_id)
        writer.insert("customer", new_customers)
        writer.insert("customer_email", new_emails)
        writer.advance_sequences({key: ids[key] - 1 for key in PEOPLE_TABLES if ids[key] > 1})
        writer.end_batch()
    tiers_by_org = dict(Organization.objects.filter(pk__in=set(org_ids)).values_list("pk", "tier"))
    tiers = [tiers_by_org.get(o, "standard") if o is not None else "standard" for o in customer_orgs]
    return customer_ids, customer_orgs, tiers


def _desk(
    plan: PopulationPlan,
    people: tuple[list[int], list[int | None], list[str]],
    team_staff: staff.Staff,
    tag_ids: dict[str, int],
) -> Desk:
    customer_ids, customer_orgs, tiers = people
    names = [c.name for c in plan.customers]
    weights = [c.activity for c in plan.customers]
    mean = sum(weights) / len(weights)
    for account in team_staff.customer_accounts:
        customer_ids.append(account.pk)
        names.append(account.name)
        customer_orgs.append(account.organization_id)
        tiers.append("standard")
        weights.append(mean * ACCOUNT_ACTIVITY)
    org_ids = {o for o in customer_orgs if o is not None}
    org_names = dict(Organization.objects.filter(pk__in=org_ids).values_list("pk", "name"))
    org_members: dict[int, list[int]] = {}
    for index, org in enumerate(customer_orgs):
        if org is not None:
            org_members.setdefault(org, []).append(index)

    team_ids = {key: team.pk for key, team in team_staff.teams.items()}
    members: dict[int, list[int]] = {}
    memberships = TeamMembership.objects.filter(team_id__in=team_ids.values(), user__is_active=True)
    rows = list(memberships.values_list("team_id", "user_id", "user__role").order_by("user_id"))
    for team_id in team_ids.values():
        agents = [u for t, u, role in rows if t == team_id and role == Role.AGENT]
        leads = [u for t, u, role in rows if t == team_id and role in (Role.MANAGER, Role.ADMIN)]
        # Managers take tickets only when a team has no agents.
        members[team_id] = agents or leads
        if not members[team_id]:
            raise ValueError(f"team {team_id} has no active agents to assign tickets to")
    # Everyone who may act on a ticket: the demo staff and any other members of the teams.
    demo_staff = {u.pk for u in team_staff.users.values()}
    people_ids = demo_staff | {u for ms in members.values() for u in ms}
    users = list(User.objects.filter(pk__in=people_ids).values_list("pk", "name", "role"))
    return Desk(
        team_ids=team_ids,
        members=members,
        managers=sorted(pk for pk, _, role in users if role == Role.MANAGER and pk in demo_staff),
        user_first={pk: name.split(" ", 1)[0] for pk, name, _ in users},
        user_role={pk: role for pk, _, role in users},
        tag_ids=tag_ids,
        customer_ids=customer_ids,
        customer_names=names,
        customer_orgs=customer_orgs,
        customer_tiers=tiers,
        customer_weights=list(accumulate(weights)),
        org_names=org_names,
        org_members=org_members,
    )


def generate(
    *,
    tickets: int,
    days: int,
    seed: int,
    now: datetime.datetime | None = None,
    batch_size: int | None = None,
    progress: Progress | None = None,
    parallel: bool | None = None,
) -> Result:
    """Generate ``tickets`` tickets arriving over the ``days`` days before ``now``, with their
    people, conversations and histories. The same seed and ``now`` on an empty database give the
    same data, whether or not the simulation runs in a helper process (``parallel``: by default
    for large runs)."""
    report = progress or Progress()
    now = now or timezone.now()
    end = int(now.timestamp())
    start = end - days * DAY
    since = datetime.datetime.fromtimestamp(start - 400 * DAY, tz=datetime.UTC)
    rng = random.Random(seed)  # noqa: S311 - demo data, reproducible by design
    writer = Writer()

    if writer.deferred_indexes():
        report.stage("indexes left out by an interrupted run")
        writer.restore_indexes()

    report.stage("organizations and customers")
    tag_ids = _ensure_tags(simulate.all_tag_names())
    plan = simulate.plan_population(rng, tickets, start)
    people = _ensure_population(plan, writer)
    # The demo customer accounts join the organization with the most contacts.
    sizes = Counter(c.org for c in plan.customers if c.org >= 0)
    biggest = plan.organizations[sizes.most_common(1)[0][0]] if sizes else None
    org = Organization.objects.filter(name__iexact=biggest.name).first() if biggest else None

    report.stage("staff and teams")
    team_staff = staff.ensure_staff(agents=staff.agent_count(tickets), since=since, organization=org)
    desk = _desk(plan, people, team_staff, tag_ids)

    report.stage("arrival times")
    arrivals = simulate.plan_arrivals(rng, tickets, start, end)
    with transaction.atomic():
        next_ids = writer.next_ids(TICKET_TABLES)
    simulator = Simulator(
        rng,
        desk,
        now=end,
        close_days=settings.AUTO_CLOSE_DAYS,
        outage_hours=arrivals.outage_hours,
        next_ids=next_ids,
        time_format=writer.time_format,
    )

    report.start(tickets)
    batch_size = batch_size or default_batch_size(tickets)
    result = Result(tickets=0, messages=0, events=0, first_ticket=None, last_ticket=None)
    slices = [arrivals.times[i : i + batch_size] for i in range(0, tickets, batch_size)]
    if parallel is None:
        parallel = tickets >= PARALLEL_FROM
    batches: Generator[Batch, None, None]
    batches = _simulated_elsewhere(simulator, slices) if parallel else (simulator.batch(s) for s in slices)
    # Into empty ticket tables, load without the secondary indexes and build them afterwards,
    # also after an interruption or an error, so the database is always left fully indexed.
    deferred = writer.defer_indexes() if tickets else 0
    try:
        # closing(): stop the helper process at once on Ctrl-C or an error, not whenever the
        # generator happens to be collected.
        with writer.bulk_load(), _no_cyclic_gc(), closing(batches):
            for batch in batches:
                with transaction.atomic():
                    writer.write_batch(batch)
                result.tickets += len(batch.tickets)
                result.messages += len(batch.messages)
                result.events += len(batch.events)
                if batch.tickets:
                    result.first_ticket = result.first_ticket or batch.tickets[0][0]
                    result.last_ticket = batch.tickets[-1][0]
                report.advance(len(batch.tickets))
    finally:
        if deferred:
            report.stage("indexes")
            writer.restore_indexes()
    report.stage("statistics")
    writer.finish()
    report.stage("service policies")
    demo_policies.ensure_service_policies(since=since)
    # The history's SLA clocks, warnings and breaches (the bulk writer bypasses the live path).
    total = Ticket.objects.count()
    # Not announced chunk by chunk: every ticket's metrics are built just after.
    recompute_all(now=now, progress=report.task("SLA clocks", total), workers=os.cpu_count() or 1, announce=False)
    # The per-ticket metrics, from the events above and the SLA findings just recorded.
    rebuild_metrics(progress=report.task("ticket metrics", total), workers=os.cpu_count() or 1)
    # Surveys and their answers (the CSAT onto the records just built, and the rollups).
    report.stage("customer feedback")
    demo_feedback.generate(seed=seed, now=now)
    return result
