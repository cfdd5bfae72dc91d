"""`deskpilot search-reindex` rebuilds the full-text index from tickets and messages."""

from __future__ import annotations

import pytest
from django.db import connection

from deskpilot import cli
from deskpilot.core import search
from deskpilot.tickets import actions
from deskpilot.tickets.models import Ticket, Via
from tests import factories

pytestmark = pytest.mark.django_db


def _found(query: str, *, internal: bool = True) -> set[int]:
    expression = search.matching_ids(query, include_internal=internal)
    assert expression is not None
    return set(Ticket.objects.filter(pk__in=expression).values_list("pk", flat=True))


def _wipe_index() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {search.TABLE}")


def test_reindex_restores_a_lost_index(capsys) -> None:
    agent = factories.user("agent")
    tickets = [factories.ticket(subject=f"Printer {n} jammed", body_text=f"paper tray number{n}") for n in range(5)]
    actions.add_message(tickets[0], actor=agent, via=Via.WEB, body_text="secret escalation codeword", public=False)
    _wipe_index()
    assert _found("jammed") == set()

    status = cli.main(["search-reindex", "--batch", "2"])
    out, err = capsys.readouterr()

    assert status == 0, err
    assert "Reindexed 5 tickets" in out
    assert _found("jammed") == {t.pk for t in tickets}
    assert _found("number3") == {tickets[3].pk}
    # Internal notes stay out of what customers can search.
    assert _found("codeword") == {tickets[0].pk}
    assert _found("codeword", internal=False) == set()


def test_reindex_resumes_from_an_id(capsys) -> None:
    first, second = factories.ticket(subject="alpha one"), factories.ticket(subject="alpha two")
    _wipe_index()
    assert cli.main(["search-reindex", "--from-id", str(second.pk)]) == 0
    assert _found("alpha") == {second.pk}
    assert first.pk not in _found("alpha")


@pytest.mark.parametrize(("args", "named"), [(["--batch", "0"], "--batch"), (["--from-id", "x"], "--from-id")])
def test_bad_arguments_are_one_line(capsys, args: list[str], named: str) -> None:
    status = cli.main(["search-reindex", *args])
    _, err = capsys.readouterr()
    assert status == 2
    assert named in err
    assert "Traceback" not in err
