"""Fixtures and helpers for the outgoing-mail tests (imported by those modules: tests/mail/conftest.py
belongs to the parsing tests).

Tests run jobs inline (DESKPILOT_JOBS_IMMEDIATE) and in a transaction that never commits, so
``committed()`` runs the after-commit work (the ticket_changed signal, the delivery job) the way
a real commit does. The SMTP server is a real aiosmtpd server on a free loopback port.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from deskpilot.accounts.models import Role, Team, User
from deskpilot.customers.models import Customer
from deskpilot.mail.models import Mailbox, MailReference, OutboundKind, OutboundMail
from deskpilot.tickets import actions
from deskpilot.tickets.attachments import IncomingFile
from deskpilot.tickets.models import Message, Ticket, Via
from tests import factories

Committed = Callable[[], AbstractContextManager[Any]]


@pytest.fixture
def committed(django_capture_on_commit_callbacks: Any) -> Committed:
    """``with committed(): ...``: what the block writes is treated as committed, so after-commit
    callbacks (and the callbacks those add) run at the end of the block."""

    @contextmanager
    def run() -> Iterator[Any]:
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            yield callbacks

    return run


@pytest.fixture
def mailbox(db: Any) -> Mailbox:
    return Mailbox.objects.create(address="support@acme.test", name="ACME Support")


@pytest.fixture
def agent(db: Any) -> User:
    return factories.user(Role.AGENT, name="Alice Agent", email="alice@acme.test")


def email_ticket(
    *,
    requester: Customer | None = None,
    subject: str = "Printer on fire",
    message_id: str = "first-mail@customer.test",
    ccs: list[Customer] | None = None,
    team: Team | None = None,
) -> Ticket:
    """A ticket as mail intake leaves it: created by the customer via email, its Message-ID on
    record for threading."""
    requester = requester or factories.customer(email="carol@customer.test", name="Carol Customer")
    ticket = actions.create_ticket(
        actor=requester,
        via=Via.EMAIL,
        subject=subject,
        requester=requester,
        body_text="My printer is on fire. Please help.",
        ccs=ccs or [],
    )
    if team is not None:
        actions.update_ticket(ticket, actor=None, via=Via.SYSTEM, changes={"team": team})
    MailReference.objects.create(
        message_id_header=message_id, ticket=ticket, message=ticket.messages.first(), outbound=False
    )
    return ticket


def reply(
    ticket: Ticket,
    author: User,
    text: str = "Please unplug it.",
    *,
    public: bool = True,
    files: list[IncomingFile] | None = None,
    via: str = Via.WEB,
) -> Message:
    return actions.add_message(ticket, actor=author, via=via, body_text=text, public=public, attachments=files or [])


def replies_of(message: Message) -> list[OutboundMail]:
    return list(OutboundMail.objects.filter(message=message, kind=OutboundKind.REPLY))


# --- a real SMTP server --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Recorder:
    """The aiosmtpd handler: keeps what it received; refuses the recipients named in ``refuse``
    with the given answer."""

    envelopes: list[Any] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        answer = self.refuse.get(address.lower())
        if answer:
            return answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


def use_smtp(settings: Any, port: int) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 10


@pytest.fixture
def smtp_server(settings: Any) -> Iterator[Recorder]:
    """A real SMTP server on 127.0.0.1, with Django's SMTP backend pointed at it."""
    handler = Recorder()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        use_smtp(settings, controller.port)
        yield handler
    finally:
        controller.stop()


@pytest.fixture
def unreachable_smtp(settings: Any) -> int:
    """Django's SMTP backend pointed at a loopback port nobody listens on."""
    port = free_port()
    use_smtp(settings, port)
    return port
