# ruff: noqa: F811 - pytest fixtures imported from conftest_outbound are parameters here
"""Delivery by the job worker: retries with backoff against a server that cannot be reached,
final failure with the server's answer on the ticket page, the Retry button, claims that keep a
mail from going out twice, and the sweep that finds what a lost job left behind."""

from __future__ import annotations

import datetime
import re
import threading

import pytest
import time_machine
from django.core import mail as django_mail
from django.db import connection, connections, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from huey.api import PeriodicTask

from deskpilot.accounts.models import Role
from deskpilot.mail import tasks
from deskpilot.mail.models import DeliveryStatus, OutboundMail
from deskpilot.tickets import attachments as attachment_files
from deskpilot.tickets.attachments import IncomingFile
from tests import factories
from tests.mail.conftest_outbound import (  # noqa: F401
    agent,
    committed,
    email_ticket,
    mailbox,
    replies_of,
    reply,
    unreachable_smtp,
)

pytestmark = pytest.mark.django_db


def page(user, ticket) -> str:
    client = Client()
    client.force_login(user)
    return " ".join(client.get(reverse("tickets:ticket", args=[ticket.pk])).content.decode().split())


def test_an_unreachable_server_is_retried_with_backoff_then_fails_visibly(
    committed, mailbox, agent, unreachable_smtp, settings
):
    settings.MAIL_MAX_ATTEMPTS = 5
    settings.MAIL_RETRY_MINUTES = [1, 5, 30, 120]
    start = timezone.now().replace(microsecond=0)
    with time_machine.travel(start, tick=False), committed():
        ticket = email_ticket()
        message = reply(ticket, agent)
    (out,) = replies_of(message)
    assert (out.status, out.attempts) == (DeliveryStatus.QUEUED, 1)
    assert "cannot reach the mail server" in out.last_error
    assert out.next_attempt_at == start + datetime.timedelta(minutes=1)
    assert "queued (attempt 1 failed" in page(agent, ticket)

    # Not due yet: the sweep leaves it alone.
    with time_machine.travel(start + datetime.timedelta(seconds=30), tick=False):
        assert tasks.sweep() == 0
    waits = []
    moment = start
    for attempt in range(2, 6):
        out.refresh_from_db()
        assert out.next_attempt_at is not None
        waits.append(round((out.next_attempt_at - moment).total_seconds() / 60))
        moment = out.next_attempt_at
        with time_machine.travel(moment, tick=False):
            assert tasks.sweep() == 1
        out.refresh_from_db()
        assert out.attempts == attempt
    assert waits == [1, 5, 30, 120]
    assert out.status == DeliveryStatus.FAILED
    assert out.next_attempt_at is None
    text = page(agent, ticket)
    assert "failed: cannot reach the mail server" in text
    assert "(5 attempts)" in text
    assert reverse("mail:outbound_retry", args=[out.pk]) in text


def failed_reply(agent, answer: str = "550 5.1.1 <carol@customer.test>: user unknown") -> OutboundMail:
    ticket = email_ticket()
    message = reply(ticket, agent)
    from deskpilot.mail.outbound import queue_reply

    out = queue_reply(message)
    assert out is not None
    OutboundMail.objects.filter(pk=out.pk).update(status=DeliveryStatus.FAILED, attempts=3, last_error=answer)
    out.refresh_from_db()
    return out


def test_a_failure_shows_the_servers_answer_and_agents_may_retry(committed, mailbox, agent):
    out = failed_reply(agent)
    ticket = out.ticket
    assert ticket is not None
    text = page(agent, ticket)
    assert "failed: 550 5.1.1 &lt;carol@customer.test&gt;: user unknown (3 attempts)" in text
    assert "Retry" in text
    # A collaborator following the ticket sees the failure, without the Retry button.
    collaborator = factories.user(Role.COLLABORATOR)
    from deskpilot.tickets import actions
    from deskpilot.tickets.models import Via

    actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"followers": [collaborator]})
    text = page(collaborator, ticket)
    assert "user unknown (3 attempts)" in text
    assert reverse("mail:outbound_retry", args=[out.pk]) not in text

    client = Client()
    client.force_login(agent)
    with committed():
        response = client.post(reverse("mail:outbound_retry", args=[out.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("tickets:ticket", args=[ticket.pk]) + f"#message-{out.message_id}"
    out.refresh_from_db()
    assert (out.status, out.attempts) == (DeliveryStatus.SENT, 1)
    assert len(django_mail.outbox) == 1


@pytest.mark.parametrize("role", [Role.COLLABORATOR, Role.CUSTOMER])
def test_only_agents_may_retry(mailbox, agent, role):
    out = failed_reply(agent)
    client = Client()
    client.force_login(factories.user(role))
    assert client.post(reverse("mail:outbound_retry", args=[out.pk])).status_code == 404
    out.refresh_from_db()
    assert out.status == DeliveryStatus.FAILED


def test_retry_refuses_get_and_leaves_other_states_alone(mailbox, agent):
    out = failed_reply(agent)
    OutboundMail.objects.filter(pk=out.pk).update(status=DeliveryStatus.SENT, sent_at=timezone.now())
    client = Client()
    client.force_login(agent)
    assert client.get(reverse("mail:outbound_retry", args=[out.pk])).status_code == 405
    assert client.post(reverse("mail:outbound_retry", args=[out.pk])).status_code == 302
    out.refresh_from_db()
    assert out.status == DeliveryStatus.SENT
    assert client.post(reverse("mail:outbound_retry", args=[999999])).status_code == 404


def test_a_queued_mail_whose_job_was_lost_is_sent_by_the_sweep(mailbox, agent):
    ticket = email_ticket()
    message = reply(ticket, agent)
    from deskpilot.mail.outbound import queue_reply

    out = queue_reply(message)  # no commit: its job is never enqueued
    assert out is not None
    assert out.status == DeliveryStatus.QUEUED
    assert django_mail.outbox == []
    assert tasks.sweep() == 1
    out.refresh_from_db()
    assert out.status == DeliveryStatus.SENT
    assert out.sent_at is not None
    assert len(django_mail.outbox) == 1


def test_a_mail_is_sent_once_however_often_its_job_runs(committed, mailbox, agent):
    with committed():
        ticket = email_ticket()
        message = reply(ticket, agent)
    (out,) = replies_of(message)
    assert out.status == DeliveryStatus.SENT
    assert tasks.send_outbound.call_local(out.pk) == "busy"
    assert tasks.deliver(out.pk) == "busy"
    assert tasks.sweep() == 0
    assert len(django_mail.outbox) == 1


def test_a_claimed_mail_is_left_to_its_worker_until_the_lease_ends(mailbox, agent):
    ticket = email_ticket()
    message = reply(ticket, agent)
    from deskpilot.mail.outbound import queue_reply

    out = queue_reply(message)
    assert out is not None
    now = timezone.now()
    assert tasks.claim_due(now) == [out.pk]  # a worker took it ...
    assert tasks.claim_due(now) == []  # ... so nobody else does
    assert tasks.deliver(out.pk, now=now) == "busy"
    # That worker died: after the lease the mail is due again.
    assert tasks.sweep(now + tasks.LEASE + datetime.timedelta(seconds=1)) == 1
    assert len(django_mail.outbox) == 1


def test_a_missing_attachment_fails_the_mail_with_the_reason(mailbox, agent):
    ticket = email_ticket()
    message = reply(ticket, agent, files=[IncomingFile("notes.txt", b"some notes", "text/plain")])
    attachment = message.attachments.get()
    attachment_files.path_for(attachment.sha256).unlink()
    from deskpilot.mail.outbound import queue_reply

    out = queue_reply(message)
    assert out is not None
    assert tasks.deliver(out.pk) == DeliveryStatus.FAILED
    out.refresh_from_db()
    assert "notes.txt" in out.last_error
    assert out.attempts == 1


def test_the_smtp_answers_are_classified():
    import smtplib

    refused = smtplib.SMTPRecipientsRefused({"a@x.test": (550, b"5.1.1 user unknown")})
    assert tasks.classify(refused) == (True, "a@x.test: 550 5.1.1 user unknown")
    greylisted = smtplib.SMTPRecipientsRefused({"a@x.test": (451, b"4.7.1 try again later")})
    assert tasks.classify(greylisted)[0] is False
    assert tasks.classify(smtplib.SMTPDataError(552, b"5.3.4 message too big")) == (True, "552 5.3.4 message too big")
    assert tasks.classify(smtplib.SMTPServerDisconnected("gone"))[0] is False
    permanent, answer = tasks.classify(ConnectionRefusedError(111, "Connection refused"))
    assert permanent is False
    assert re.search(r"cannot reach the mail server .*Connection refused", answer)


def test_the_tasks_are_named_and_the_sweep_runs_every_minute():
    assert tasks.send_outbound.name == "mail.send_outbound"
    assert tasks.sweep_outbound.name == "mail.sweep_outbound"
    assert issubclass(tasks.sweep_outbound.task_class, PeriodicTask)
    task = tasks.sweep_outbound.s()
    assert all(task.validate_datetime(datetime.datetime(2026, 3, 1, 9, minute)) for minute in range(60))


def test_settings_are_respected_for_the_number_of_attempts(mailbox, agent, settings, unreachable_smtp):
    settings.MAIL_MAX_ATTEMPTS = 1
    ticket = email_ticket()
    message = reply(ticket, agent)
    from deskpilot.mail.outbound import queue_reply

    out = queue_reply(message)
    assert out is not None
    assert tasks.deliver(out.pk) == DeliveryStatus.FAILED
    out.refresh_from_db()
    assert out.attempts == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="SKIP LOCKED is PostgreSQL's; SQLite writers are serial")
def test_the_sweep_skips_a_mail_another_worker_holds():
    now = timezone.now()
    held = OutboundMail.objects.create(
        kind="reply", from_address="s@acme.test", to=["a@x.test"], subject="s", message_id_header="held@acme.test",
        body_text="x", next_attempt_at=now,
    )  # fmt: skip
    free = OutboundMail.objects.create(
        kind="reply", from_address="s@acme.test", to=["b@x.test"], subject="s", message_id_header="free@acme.test",
        body_text="x", next_attempt_at=now,
    )  # fmt: skip
    locked, release = threading.Event(), threading.Event()

    def other_worker() -> None:
        try:
            with transaction.atomic():
                list(OutboundMail.objects.select_for_update().filter(pk=held.pk))
                locked.set()
                release.wait(20)
        finally:
            connections.close_all()

    thread = threading.Thread(target=other_worker)
    thread.start()
    try:
        assert locked.wait(20)
        # Not blocked by the other worker's lock, and not taking its mail.
        assert tasks.claim_due(now) == [free.pk]
    finally:
        release.set()
        thread.join(20)
    assert tasks.claim_due(now) == [held.pk]
