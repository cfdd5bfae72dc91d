"""The failed mail and spam lists (managers and admins), Retry / Not spam, the original email
page and its .eml, the mailbox admin's write-only password."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from deskpilot.accounts.models import Role
from deskpilot.mail import intake, parsing
from deskpilot.mail.models import InboundMail, InboundStatus, Mailbox
from deskpilot.tickets import actions
from deskpilot.tickets.models import Ticket, Via
from tests import factories
from tests.mail.conftest_inbound import build, ingest, mail_raw_dir

__all__ = ["mail_raw_dir"]

pytestmark = pytest.mark.django_db


def _client(role: str) -> Client:
    client = Client()
    client.force_login(factories.user(role))
    return client


def _failed(monkeypatch: pytest.MonkeyPatch, **kwargs: Any) -> Any:
    original = intake.parse
    monkeypatch.setattr(intake, "parse", lambda raw: (_ for _ in ()).throw(RuntimeError("parser bug 42")))
    row = ingest(build(**kwargs))
    monkeypatch.setattr(intake, "parse", original)
    return row


@pytest.mark.parametrize("role", [Role.MANAGER, Role.ADMIN])
def test_the_failed_list_shows_the_error_and_retry_fixes_it(role: str, monkeypatch: pytest.MonkeyPatch) -> None:
    row = _failed(monkeypatch, subject="Lost order")
    client = _client(role)
    page = client.get(reverse("mail_inbound:failed")).content.decode()
    assert "parser bug 42" in page
    assert f'id="inbound-{row.pk}"' in page
    assert "Retry all" in page
    response = client.post(reverse("mail_inbound:failed_retry", args=[row.pk]))
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.status == InboundStatus.PROCESSED
    assert Ticket.objects.get().subject == "Lost order"
    assert "parser bug 42" not in client.get(reverse("mail_inbound:failed")).content.decode()


def test_retry_all_processes_every_failed_mail_and_keeps_what_still_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [_failed(monkeypatch, subject=f"Mail {i}") for i in range(3)]
    client = _client(Role.MANAGER)
    monkeypatch.setattr(intake, "parse", lambda raw: (_ for _ in ()).throw(RuntimeError("still broken")))
    response = client.post(reverse("mail_inbound:failed_retry_all"), follow=True)
    assert "3 email(s) still fail" in response.content.decode()
    assert InboundMail.objects.filter(pk__in=[r.pk for r in rows], status=InboundStatus.FAILED, attempts=2).count() == 3
    monkeypatch.setattr(intake, "parse", parsing.parse)
    response = client.post(reverse("mail_inbound:failed_retry_all"), follow=True)
    assert "3 email(s) processed" in response.content.decode()
    assert Ticket.objects.count() == 3


def test_the_spam_list_and_not_spam(monkeypatch: pytest.MonkeyPatch) -> None:
    row = ingest(build(subject="Cheap pills", headers={"X-Spam-Flag": "YES"}))
    assert row.status == InboundStatus.SPAM
    client = _client(Role.ADMIN)
    assert "Cheap pills" in client.get(reverse("mail_inbound:spam")).content.decode()
    response = client.post(reverse("mail_inbound:spam_release", args=[row.pk]))
    row.refresh_from_db()
    assert row.status == InboundStatus.PROCESSED
    assert row.ticket is not None
    assert response["Location"] == reverse("tickets:ticket", args=[row.ticket.pk])
    assert "Cheap pills" not in client.get(reverse("mail_inbound:spam")).content.decode()


@pytest.mark.parametrize("role", [Role.AGENT, Role.COLLABORATOR, Role.CUSTOMER])
def test_agents_and_others_cannot_see_or_act_on_the_lists(role: str, monkeypatch: pytest.MonkeyPatch) -> None:
    row = _failed(monkeypatch)
    client = _client(role)
    assert client.get(reverse("mail_inbound:failed")).status_code == 404
    assert client.get(reverse("mail_inbound:spam")).status_code == 404
    assert client.post(reverse("mail_inbound:failed_retry", args=[row.pk])).status_code == 404
    row.refresh_from_db()
    assert row.status == InboundStatus.FAILED


def test_the_original_email_page_and_its_raw() -> None:
    html = '<p>Hello <b>there</b></p><script>alert(1)</script><img src="https://tracker.example/x.gif">'
    row = ingest(build(subject="Invoice", html=html, attachments=[("a.txt", "text/plain", b"x")]))
    ticket = row.ticket
    assert ticket is not None
    agent = _client(Role.AGENT)
    ticket_page = agent.get(reverse("tickets:ticket", args=[ticket.pk])).content.decode()
    link = reverse("mail_inbound:inbound", args=[row.pk])
    assert f'href="{link}"' in ticket_page
    assert "View original email" in ticket_page
    page = agent.get(link).content.decode()
    assert "Hello, my printer is on fire." in page  # the full text
    assert 'sandbox=""' in page
    assert "srcdoc=" in page
    assert "<script>" not in page
    assert "alert(1)" not in page
    assert "Message-ID" in page
    assert "a.txt" in page
    raw = agent.get(reverse("mail_inbound:inbound_raw", args=[row.pk]))
    assert raw["Content-Type"] == "message/rfc822"
    assert b"".join(raw.streaming_content if raw.streaming else [raw.content]).startswith(b"From: Ann")  # type: ignore[attr-defined]

    # A collaborator sees it once following the ticket; a customer never.
    collaborator = factories.user(Role.COLLABORATOR)
    collab = Client()
    collab.force_login(collaborator)
    assert collab.get(link).status_code == 404
    actions.update_ticket(ticket, actor=None, via=Via.SYSTEM, changes={"followers": [collaborator]})
    assert collab.get(link).status_code == 200
    requester = Client()
    requester.force_login(factories.customer_user(email="ann2@customer.example"))
    assert requester.get(link).status_code == 404
    assert requester.get(reverse("mail_inbound:inbound_raw", args=[row.pk])).status_code == 404


def test_the_mailbox_password_is_write_only_in_the_admin(monkeypatch: pytest.MonkeyPatch) -> None:
    mailbox = Mailbox.objects.create(address="support@help.example", imap_host="imap.example", imap_user="u",
                                     imap_password="s3cret-Pa55")  # fmt: skip
    client = Client()
    client.force_login(factories.user(Role.ADMIN))
    change = reverse("admin:mail_mailbox_change", args=[mailbox.pk])
    page = client.get(change).content.decode()
    assert "s3cret-Pa55" not in page
    assert "s3cret-Pa55" not in client.get(reverse("admin:mail_mailbox_changelist")).content.decode()
    data = {
        "address": "support@help.example", "name": "Support", "active": "on", "send_acknowledgement": "on",
        "imap_host": "imap.example", "imap_port": "993", "imap_security": "ssl", "imap_user": "u",
        "imap_password": "", "imap_folder": "INBOX", "after_import": "mark_seen", "move_to_folder": "",
    }  # fmt: skip
    assert client.post(change, data).status_code == 302
    mailbox.refresh_from_db()
    assert mailbox.imap_password == "s3cret-Pa55"  # empty keeps the stored one
    assert mailbox.name == "Support"
    client.post(change, {**data, "imap_password": "new-one"})
    mailbox.refresh_from_db()
    assert mailbox.imap_password == "new-one"
    # Pointing the mailbox at another server (or user) needs the password typed again: the stored
    # one is never sent anywhere but where it was entered for (security review, 2026-11-23).
    for field, value in (("imap_host", "attacker.example"), ("imap_user", "other"), ("imap_security", "none")):
        response = client.post(change, {**data, field: value})
        assert response.status_code == 200, field
        assert "Enter the password again" in response.content.decode()
        mailbox.refresh_from_db()
        assert (mailbox.imap_host, mailbox.imap_user, mailbox.imap_security) == ("imap.example", "u", "ssl")
    assert client.post(change, {**data, "imap_host": "imap2.example", "imap_password": "typed"}).status_code == 302
    mailbox.refresh_from_db()
    assert (mailbox.imap_host, mailbox.imap_password) == ("imap2.example", "typed")
    data["imap_host"] = "imap2.example"
    # The received mail admin is read-only, with the retry action.
    row = _failed(monkeypatch)
    changelist = reverse("admin:mail_inboundmail_changelist")
    listing = client.get(changelist + "?status__exact=failed")
    assert "Process the selected failed email again" in listing.content.decode()
    assert client.get(reverse("admin:mail_inboundmail_add")).status_code == 403
    client.post(changelist, {"action": "retry", "_selected_action": [str(row.pk)]})
    row.refresh_from_db()
    assert row.status == InboundStatus.PROCESSED
