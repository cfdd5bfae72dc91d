"""The search table beside the tickets table, in tests that commit for real."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from deskpilot.tickets import queries
from deskpilot.tickets.models import Ticket
from tests import factories


@pytest.mark.django_db(transaction=True)
def test_committed_tickets_are_searchable_and_the_database_can_be_flushed() -> None:
    agent = factories.user()
    ticket = factories.ticket(subject="Quarterly invoice missing")
    found = queries.filter_tickets(agent, queries.TicketFilters(q="quarterly"))
    assert list(found.values_list("pk", flat=True)) == [ticket.pk]
    # Django's flush (used between transactional tests, and by `deskpilot flush`) truncates the
    # tickets table; PostgreSQL refuses that while another table references it.
    call_command("flush", interactive=False, verbosity=0)
    assert not Ticket.objects.exists()
