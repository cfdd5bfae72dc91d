# ruff: noqa: F811 - pytest fixtures imported from conftest_outbound are parameters here
"""The scheduled-report job end to end: planning at each recipient's hour in their zone, the
e-mail with its PDF and CSV through a real SMTP server on 127.0.0.1, catch-up after downtime,
failures retried with backoff then failed visibly and retried by hand, claims that keep two
workers (or a dead one) from sending twice, and the job on a real queue."""

from __future__ import annotations

import datetime
import email
import email.policy
import io
import threading
from collections.abc import Iterator
from datetime import UTC
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.db import IntegrityError, connection, connections, transaction
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules
from huey.api import PeriodicTask
from huey.contrib.djhuey import HUEY
from pypdf import PdfReader

from deskpilot.accounts.models import Role
from deskpilot.core import outbox
from deskpilot.core.errors import InvalidInput
from deskpilot.reports import actions, tasks
from deskpilot.reports.models import DeliveryStatus, ReportDelivery
from deskpilot.tickets import actions as ticket_actions
from deskpilot.tickets.models import Status, Via
from tests import factories
from tests.mail.conftest_outbound import Recorder, smtp_server, unreachable_smtp  # noqa: F401
from tests.queues import BACKENDS, consumer_pass, new_queue, periodic_like, runs_every_minute
from tests.reports.conftest import staff, subscription

pytestmark = pytest.mark.django_db

# Thursday 3 December 2026, 06:00 UTC (07:00 in Paris, 01:00 in New York).
T0 = datetime.datetime(2026, 12, 3, 6, tzinfo=UTC)
MINUTE = datetime.timedelta(minutes=1)


def sweep_at(moment: datetime.datetime) -> int:
    with time_machine.travel(moment, tick=False):
        return tasks.sweep()


def received(server: Recorder) -> list[EmailMessage]:
    return [email.message_from_bytes(envelope.content, policy=email.policy.default) for envelope in server.envelopes]


def rows() -> list[tuple[str, str, int]]:
    return list(ReportDelivery.objects.order_by("id").values_list("address", "status", "attempts"))


def test_the_jobs_are_named_registered_and_the_sweep_runs_every_minute() -> None:
    assert tasks.deliver_report.name == "reports.deliver_report"
    assert tasks.sweep_reports.name == "reports.sweep_reports"
    assert issubclass(tasks.sweep_reports.task_class, PeriodicTask)
    autodiscover_modules("tasks")
    assert "reports.sweep_reports" in {t.name for t in HUEY._registry.periodic_tasks}
    assert runs_every_minute(tasks.sweep_reports)


def test_each_recipient_gets_it_at_the_hour_in_their_zone_with_the_pdf_and_csv(
    smtp_server: Recorder, pdf_requests: list[Any]
) -> None:
    paris = staff("Europe/Paris", email="paula@acme.test")
    team = factories.team(name="Billing & <Co>")
    agent = factories.user(Role.AGENT)
    other_team = factories.team()
    for day in (1, 2):
        # A customer's ticket a day for each team, answered and solved the same day.
        for which in (team, other_team):
            with time_machine.travel(datetime.datetime(2026, 12, day, 9, tzinfo=UTC), tick=False):
                ticket = factories.ticket()
                ticket_actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"team": which})
            with time_machine.travel(datetime.datetime(2026, 12, day, 10, tzinfo=UTC), tick=False):
                ticket_actions.add_message(ticket, actor=agent, via=Via.WEB, body_text="Fixed.", public=True)
            with time_machine.travel(datetime.datetime(2026, 12, day, 11, tzinfo=UTC), tick=False):
                ticket_actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"status": Status.SOLVED})
    subscription(
        users=[paris],
        emails=[("boss@board.test", "America/New_York")],
        now=T0 - 30 * MINUTE,
        filters={"team": str(team.pk), "hours": "calendar"},
        period="previous_7_days",
    )
    assert sweep_at(T0) == 0  # 07:00 in Paris: not yet
    assert smtp_server.envelopes == []
    assert sweep_at(T0 + 60 * MINUTE) == 1  # 08:00 in Paris
    assert rows() == [("paula@acme.test", DeliveryStatus.SENT, 1)]
    [message] = received(smtp_server)
    assert message["To"] == "paula@acme.test"
    assert message["Subject"] == "Daily numbers: 26 Nov 2026 to 2 Dec 2026"
    assert message["Auto-Submitted"] == "auto-generated"
    body = message.get_body(("plain",))
    assert body is not None
    text_body = body.get_content()
    assert "Team: Billing & <Co>" in text_body
    # The headline figures against the previous week (which had none).
    assert "Created: 2 (+2 from the previous period)" in text_body
    assert "Solved: 2 (+2 from the previous period)" in text_body
    html = message.get_body(("html",))
    assert html is not None
    assert "Team: Billing &amp; &lt;Co&gt;" in html.get_content()
    files = {part.get_filename(): part for part in message.iter_attachments()}
    assert set(files) == {"performance-2026-11-26-to-2026-12-02.pdf", "performance-2026-11-26-to-2026-12-02.csv"}
    pdf = files["performance-2026-11-26-to-2026-12-02.pdf"]
    assert pdf.get_content_type() == "application/pdf"
    content = pdf.get_content()
    assert content.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(content))
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    assert "Team: Billing & <Co>" in text
    assert "26 Nov 2026 to 2 Dec 2026" in text
    raw = files["performance-2026-11-26-to-2026-12-02.csv"].get_payload(decode=True)
    assert isinstance(raw, bytes)
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Day,Created,Solved,")
    # A row a day; the team's ticket on each of the last two days (the other team's are filtered out).
    assert [line.split(",")[:3] for line in lines[1:]] == [
        [
            (datetime.date(2026, 11, 26) + datetime.timedelta(days=n)).isoformat(),
            *(["1", "1"] if n >= 5 else ["0", "0"]),
        ]
        for n in range(7)
    ]
    [asked] = pdf_requests
    assert (asked.start, asked.end, asked.team, asked.hours) == (
        datetime.date(2026, 11, 26),
        datetime.date(2026, 12, 2),
        team.pk,
        "calendar",
    )
    # The same minute again, and the hours until New York's 08:00 (13:00 UTC): nothing more.
    assert sweep_at(T0 + 61 * MINUTE) == 0
    assert sweep_at(T0 + 6 * 60 * MINUTE) == 0
    assert sweep_at(T0 + 7 * 60 * MINUTE) == 1
    assert [m["To"] for m in received(smtp_server)] == ["paula@acme.test", "boss@board.test"]
    delivery = ReportDelivery.objects.get(address="boss@board.test")
    assert delivery.due_at == datetime.datetime(2026, 12, 3, 13, tzinfo=UTC)
    assert (delivery.period_start, delivery.period_end) == (datetime.date(2026, 11, 26), datetime.date(2026, 12, 2))
    assert delivery.sent_at == T0 + 7 * 60 * MINUTE


def test_a_daily_report_of_a_day_without_answers_is_sent(smtp_server: Recorder, pdf_requests: list[Any]) -> None:
    # One customer's ticket yesterday, not answered yet: trends without a value still render.
    with time_machine.travel(datetime.datetime(2026, 12, 2, 10, tzinfo=UTC), tick=False):
        factories.ticket()
    subscription(users=[staff("UTC")], now=T0 - datetime.timedelta(days=1), period="previous_day")
    assert sweep_at(T0 + 2 * 60 * MINUTE) == 1
    assert rows()[0][1] == DeliveryStatus.SENT
    [message] = received(smtp_server)
    pdf = next(part for part in message.iter_attachments() if part.get_content_type() == "application/pdf")
    assert pdf.get_content().startswith(b"%PDF")


def test_a_worker_down_for_days_sends_the_missed_report_once(smtp_server: Recorder, pdf_requests: list[Any]) -> None:
    user = staff("Europe/Paris")
    subscription(users=[user], now=T0 - datetime.timedelta(days=10))
    # Nothing ran from the 1st to the 6th; the worker comes back on Sunday 6 Dec at noon.
    back = datetime.datetime(2026, 12, 6, 12, tzinfo=UTC)
    assert sweep_at(back) == 1
    assert sweep_at(back + MINUTE) == 0
    [delivery] = ReportDelivery.objects.all()
    assert delivery.due_at == datetime.datetime(2026, 12, 6, 7, tzinfo=UTC)  # that day's 08:00
    assert (delivery.period_start, delivery.period_end) == (datetime.date(2026, 12, 5), datetime.date(2026, 12, 5))
    assert len(smtp_server.envelopes) == 1


def test_nothing_is_owed_for_a_moment_before_the_schedule_was_made_or_changed(
    smtp_server: Recorder, pdf_requests: list[Any]
) -> None:
    user = staff("UTC")
    made = subscription(users=[user], now=T0 + 3 * 60 * MINUTE)  # 09:00 UTC, after today's 08:00
    assert sweep_at(T0 + 4 * 60 * MINUTE) == 0
    # Moved to 10:00: today's 10:00 is owed.
    values = {f: getattr(made, f) for f in ("name", "report", "filters", "period", "frequency", "weekday")}
    actions.save_subscription(
        made,
        owner=None,
        values={**values, "day_of_month": None, "send_hour": 10, "active": True},
        users=[user],
        emails=[],
        now=T0 + 4 * 60 * MINUTE,
    )
    assert sweep_at(T0 + 4 * 60 * MINUTE + MINUTE) == 1
    assert ReportDelivery.objects.get().due_at == T0 + 4 * 60 * MINUTE


def test_deactivated_users_and_inactive_subscriptions_get_nothing(
    smtp_server: Recorder, pdf_requests: list[Any]
) -> None:
    gone = staff("UTC")
    gone.is_active = False
    gone.save()
    subscription(users=[gone], now=T0 - datetime.timedelta(days=1), name="Gone")
    subscription(users=[staff("UTC")], now=T0 - datetime.timedelta(days=1), name="Off", active=False)
    assert sweep_at(T0 + 3 * 60 * MINUTE) == 0
    assert ReportDelivery.objects.count() == 0


def test_a_subscription_turned_off_after_queueing_fails_without_sending(
    smtp_server: Recorder, pdf_requests: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    made = subscription(users=[staff("UTC")], now=T0)
    with time_machine.travel(T0, tick=False):
        [delivery] = actions.send_now(made, actor=None)  # not committed: the job waits
    made.active = False
    made.save()
    assert tasks.deliver(delivery.pk, now=T0) == DeliveryStatus.FAILED
    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_error) == (DeliveryStatus.FAILED, "the report was turned off")
    assert smtp_server.envelopes == []
    # Nor can it be sent by hand while it is off.
    with pytest.raises(InvalidInput, match="the report is off"):
        actions.send_now(made, actor=None)


def test_a_deleted_subscriptions_queued_and_claimed_deliveries_are_dropped_unsent(
    smtp_server: Recorder, pdf_requests: list[Any]
) -> None:
    made = subscription(users=[staff("UTC"), staff("UTC")], now=T0)
    with time_machine.travel(T0, tick=False):
        queued, claimed = actions.send_now(made, actor=None)
    assert outbox.claim(ReportDelivery, claimed.pk, queued=DeliveryStatus.QUEUED, now=T0)
    actions.delete_subscription(made)
    assert not ReportDelivery.objects.exists()
    assert tasks.deliver(queued.pk, now=T0) == "missing"
    assert tasks.deliver(claimed.pk, now=T0, claimed=True) == "busy"
    assert smtp_server.envelopes == []


def test_send_now_refuses_a_deactivated_recipient_and_a_stranger(smtp_server: Recorder) -> None:
    gone = staff("UTC")
    made = subscription(users=[gone], emails=[("a@b.test", "UTC")], now=T0)
    other = subscription(emails=[("x@y.test", "UTC")], now=T0, name="Other")
    gone.is_active = False
    gone.save()
    with pytest.raises(InvalidInput, match="is deactivated"):
        actions.send_now(made, actor=None)
    with pytest.raises(InvalidInput, match="not a recipient of this report"):
        actions.send_now(made, other.recipients.get(), actor=None)
    assert ReportDelivery.objects.count() == 0


def test_an_unreachable_server_is_retried_with_backoff_then_fails_visibly_and_a_retry_sends_it(
    unreachable_smtp: int, pdf_requests: list[Any], settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    subscription(users=[staff("UTC", email="ursula@acme.test")], now=T0 - datetime.timedelta(days=1))
    due = T0 + 2 * 60 * MINUTE  # 08:00 UTC
    assert sweep_at(due) == 1
    delivery = ReportDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.QUEUED, 1)
    assert "cannot reach the mail server" in delivery.last_error
    assert delivery.next_attempt_at == due + 5 * MINUTE
    assert sweep_at(due + 4 * MINUTE) == 0  # not before its time
    moment = due + 5 * MINUTE
    for wait in tasks.RETRY_MINUTES[1:]:
        assert sweep_at(moment) == 1
        delivery.refresh_from_db()
        assert delivery.next_attempt_at == moment + wait * MINUTE
        moment += wait * MINUTE
    assert sweep_at(moment) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 4)
    assert delivery.next_attempt_at is None
    assert "cannot reach the mail server" in delivery.last_error
    assert sweep_at(moment + 10 * 60 * MINUTE) == 0  # given up

    # The server is back; the manager retries it.
    from aiosmtpd.controller import Controller

    from tests.mail.conftest_outbound import free_port, use_smtp

    server = Recorder()
    controller = Controller(server, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        use_smtp(settings, controller.port)
        later = moment + 11 * 60 * MINUTE
        with time_machine.travel(later, tick=False), django_capture_on_commit_callbacks(execute=True):
            actions.retry(delivery)
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts, delivery.last_error) == (DeliveryStatus.SENT, 1, "")
        assert len(server.envelopes) == 1
        with pytest.raises(Exception, match="only a failed delivery"):
            actions.retry(delivery)
    finally:
        controller.stop()


def test_a_refused_recipient_fails_at_once_with_the_servers_answer(
    smtp_server: Recorder, pdf_requests: list[Any]
) -> None:
    smtp_server.refuse["nobody@acme.test"] = "550 5.1.1 No such user"
    subscription(users=[staff("UTC", email="nobody@acme.test")], now=T0 - datetime.timedelta(days=1))
    assert sweep_at(T0 + 2 * 60 * MINUTE) == 1
    delivery = ReportDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 1)
    assert delivery.last_error == "nobody@acme.test: 550 5.1.1 No such user"


def test_a_report_that_cannot_be_rendered_is_retried(
    smtp_server: Recorder, monkeypatch: pytest.MonkeyPatch, pdf_requests: list[Any]
) -> None:
    from deskpilot.reports import rendering

    def broken(filters: Any) -> bytes:
        raise RuntimeError("the chart library is missing")

    monkeypatch.setattr(rendering, "_pdf", broken)
    subscription(users=[staff("UTC")], now=T0 - datetime.timedelta(days=1))
    assert sweep_at(T0 + 2 * 60 * MINUTE) == 1
    delivery = ReportDelivery.objects.get()
    assert (delivery.status, delivery.last_error) == (
        DeliveryStatus.QUEUED,
        "RuntimeError: the chart library is missing",
    )
    assert smtp_server.envelopes == []


def test_a_delivery_claimed_by_one_worker_is_not_sent_by_another(
    smtp_server: Recorder, pdf_requests: list[Any]
) -> None:
    made = subscription(users=[staff("UTC")], now=T0)
    with time_machine.travel(T0, tick=False):
        [delivery] = actions.send_now(made, actor=None)
    # Worker A claims it (and is still rendering); worker B's job and sweep find it taken.
    assert outbox.claim(ReportDelivery, delivery.pk, queued=DeliveryStatus.QUEUED, now=T0)
    assert tasks.deliver(delivery.pk, now=T0 + MINUTE) == "busy"
    assert sweep_at(T0 + MINUTE) == 0
    assert smtp_server.envelopes == []
    # A finishes: sent once; B's late job leaves it alone.
    assert tasks.deliver(delivery.pk, now=T0, claimed=True) == DeliveryStatus.SENT
    assert tasks.deliver(delivery.pk, now=T0 + 2 * MINUTE) == DeliveryStatus.SENT
    assert len(smtp_server.envelopes) == 1


def test_a_worker_killed_while_sending_leaves_a_claim_that_expires(
    smtp_server: Recorder, pdf_requests: list[Any]
) -> None:
    made = subscription(users=[staff("UTC")], now=T0)
    with time_machine.travel(T0, tick=False):
        actions.send_now(made, actor=None)
    # A worker claimed it and marked it sending, then died.
    [claimed] = outbox.claim_due(ReportDelivery, queued=DeliveryStatus.QUEUED, now=T0, limit=10)
    ReportDelivery.objects.filter(pk=claimed).update(status=DeliveryStatus.SENDING)
    assert sweep_at(T0 + outbox.LEASE - MINUTE) == 0
    assert ReportDelivery.objects.get().status == DeliveryStatus.SENDING
    assert sweep_at(T0 + outbox.LEASE) == 1
    assert rows()[0][1:] == (DeliveryStatus.SENT, 1)
    assert len(smtp_server.envelopes) == 1


def test_two_workers_planning_the_same_minute_create_one_delivery(
    smtp_server: Recorder, pdf_requests: list[Any]
) -> None:
    subscription(users=[staff("UTC")], now=T0 - datetime.timedelta(days=1))
    due = T0 + 2 * 60 * MINUTE
    assert len(actions.plan(due)) == 1
    assert actions.plan(due) == []
    # A second planner that read before the first one's insert tries the same row: the database
    # refuses it (and plan() moves on). "Send now" rows for the same moment are not refused.
    delivery = ReportDelivery.objects.get()
    delivery.pk = None
    with pytest.raises(IntegrityError), transaction.atomic():
        delivery.save()
    delivery.manual = True
    delivery.save()
    assert ReportDelivery.objects.filter(manual=False).count() == 1


def test_send_now_to_one_recipient_covers_the_period_as_of_today_in_their_zone(
    smtp_server: Recorder, pdf_requests: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    tokyo = staff("Asia/Tokyo")
    other = staff("UTC")
    made = subscription(users=[tokyo, other], now=T0, period="previous_week")
    recipient = made.recipients.get(user=tokyo)
    # Sunday 6 Dec 20:00 UTC is Monday 7 Dec in Tokyo: the week just ended.
    moment = datetime.datetime(2026, 12, 6, 20, tzinfo=UTC)
    with time_machine.travel(moment, tick=False), django_capture_on_commit_callbacks(execute=True):
        [delivery] = actions.send_now(made, recipient, actor=None)
    delivery.refresh_from_db()
    assert (delivery.manual, delivery.status, delivery.address) == (True, DeliveryStatus.SENT, tokyo.email)
    assert (delivery.period_start, delivery.period_end) == (datetime.date(2026, 11, 30), datetime.date(2026, 12, 6))
    assert [m["To"] for m in received(smtp_server)] == [tokyo.email]


# --- a real queue ----------------------------------------------------------------------------------


@pytest.fixture(params=BACKENDS)
def queue(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A queue of the test's own with the report jobs under their real names, the actions'
    enqueueing pointed at it (the tests' settings run jobs inline)."""
    huey = new_queue(request.param, tmp_path, "reports")
    deliver = huey.task(name="reports.deliver_report")(tasks.deliver_report.call_local)
    periodic_like(huey, tasks.sweep_reports)
    monkeypatch.setattr(tasks, "deliver_report", deliver)
    try:
        yield huey
    finally:
        huey.storage.flush_all()


def test_on_a_real_queue_the_sweep_and_a_send_now_job_each_send_once(
    queue: Any, smtp_server: Recorder, pdf_requests: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    made = subscription(users=[staff("UTC", email="q@acme.test")], now=T0 - datetime.timedelta(days=1))
    due = T0 + 2 * 60 * MINUTE
    assert consumer_pass(queue, due, minute=True) == [1]
    with time_machine.travel(due + MINUTE, tick=False), django_capture_on_commit_callbacks(execute=True):
        actions.send_now(made, actor=None)
    assert len(queue) == 1  # queued, not sent by the request
    assert consumer_pass(queue, due + MINUTE + datetime.timedelta(seconds=1)) == [DeliveryStatus.SENT]
    assert len(smtp_server.envelopes) == 2
    assert [row[1] for row in rows()] == [DeliveryStatus.SENT, DeliveryStatus.SENT]


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="two writers at once: PostgreSQL's; SQLite's are serial")
def test_two_workers_sweeping_at_the_same_moment_send_each_report_once(
    smtp_server: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    addresses = [f"r{n}@board.test" for n in range(4)]
    made = subscription(emails=[(a, "UTC") for a in addresses], now=timezone.now())
    # Four deliveries due now, left to the sweeps (their jobs are not queued).
    monkeypatch.setattr(actions, "enqueue", lambda ids: None)
    actions.send_now(made, actor=None)
    # Batches of one: the two sweeps take turns claiming, rather than one taking all four.
    monkeypatch.setattr(tasks, "SWEEP_BATCH", 1)
    start = threading.Barrier(2)
    attempted: list[int] = []

    def worker() -> None:
        try:
            start.wait(20)
            attempted.append(tasks.sweep())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sum(attempted) == 4
    assert sorted(rcpt for envelope in smtp_server.envelopes for rcpt in envelope.rcpt_tos) == addresses
    assert [row[1:] for row in rows()] == [(DeliveryStatus.SENT, 1)] * 4
