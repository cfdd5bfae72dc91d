"""Full-text search (core.search) on whichever database is active: SQLite FTS5 or PostgreSQL
tsvector. The same queries must give the same answers on both."""

from __future__ import annotations

import pytest
from django.db import connection

from deskpilot.accounts.models import Role
from deskpilot.core import search
from deskpilot.core.search import Term, parse_query
from deskpilot.tickets import actions
from deskpilot.tickets import search as ticket_search
from deskpilot.tickets.models import Ticket, Via
from tests import factories

pytestmark = pytest.mark.django_db


def find(query: str, *, internal: bool = True) -> set[str]:
    """Subjects of the tickets matching ``query``."""
    matching = search.matching_ids(query, include_internal=internal)
    if matching is None:
        return set()
    return set(Ticket.objects.filter(pk__in=matching).values_list("subject", flat=True))


@pytest.fixture
def corpus() -> dict[str, Ticket]:
    agent = factories.user(Role.AGENT)
    tickets = {
        "printer": factories.ticket(subject="Printer jammed", body_text="The office printer eats paper every morning."),
        "invoice": factories.ticket(subject="Invoice question", body_text="Why was my card charged twice this month?"),
        "cafe": factories.ticket(
            subject="Café order", body_text="Ich möchte meine Bestellung ändern, s'il vous plaît."
        ),
        "cyrillic": factories.ticket(subject="Вопрос про доставку", body_text="Привет, где мой заказ?"),
        "either": factories.ticket(subject="Scanner or printer", body_text="Which one should we buy?"),
    }
    # Internal text lives only on tickets' notes: customers must never find it.
    actions.add_message(
        tickets["invoice"], actor=agent, via=Via.WEB, public=False, body_text="Refund approved by zebrafinance."
    )
    actions.add_message(
        tickets["printer"], actor=agent, via=Via.WEB, public=False, body_text="Vendor ticket opened for paper feed."
    )
    return tickets


def test_words_match_subject_and_messages_case_insensitively(corpus: dict[str, Ticket]) -> None:
    assert find("printer") == {"Printer jammed", "Scanner or printer"}
    assert find("PRINTER jammed") == {"Printer jammed"}
    assert find("charged") == {"Invoice question"}
    assert find("nothing-like-this") == set()


def test_all_words_must_match(corpus: dict[str, Ticket]) -> None:
    assert find("printer paper") == {"Printer jammed"}
    assert find("printer invoice") == set()


def test_phrases_match_words_in_order(corpus: dict[str, Ticket]) -> None:
    assert find('"eats paper"') == {"Printer jammed"}
    assert find('"paper eats"') == set()
    assert find('"charged twice" card') == {"Invoice question"}


def test_negation_excludes(corpus: dict[str, Ticket]) -> None:
    assert find("printer -jammed") == {"Scanner or printer"}
    assert find('printer -"eats paper"') == {"Scanner or printer"}


def test_or_is_a_word_not_an_operator(corpus: dict[str, Ticket]) -> None:
    # parse_query documents words, phrases and minus only; "or" must not turn into OR on one backend.
    assert find("scanner or printer") == {"Scanner or printer"}
    assert find("invoice or printer") == set()


def test_only_negations_match_nothing(corpus: dict[str, Ticket]) -> None:
    assert search.matching_ids("-printer", include_internal=True) is None
    assert find("-printer -invoice") == set()


@pytest.mark.parametrize("query", ["!!!", "...", "- -", '"" ""', "*", "(", ")", "&&", "'", "?", '"', "-"])
def test_punctuation_only_query_matches_nothing(corpus: dict[str, Ticket], query: str) -> None:
    assert search.matching_ids(query, include_internal=True) is None
    assert find(query) == set()


@pytest.mark.parametrize(
    "query",
    ['printer"', 'print"er', "printer*", "NEAR(printer", "printer AND", "subject:printer", "printer^", "printer:"],
)
def test_engine_syntax_in_the_query_is_only_words(corpus: dict[str, Ticket], query: str) -> None:
    # Whatever the engine's own syntax would make of these, they are searched as plain words and
    # never raise a syntax error.
    find(query)
    find(query, internal=False)


def test_diacritics_are_ignored_both_ways(corpus: dict[str, Ticket]) -> None:
    assert find("cafe") == {"Café order"}
    assert find("café") == {"Café order"}
    assert find("andern") == {"Café order"}
    assert find("ÄNDERN") == {"Café order"}
    assert find("plait") == {"Café order"}


def test_non_latin_words_match_case_insensitively(corpus: dict[str, Ticket]) -> None:
    assert find("привет") == {"Вопрос про доставку"}
    assert find("ВОПРОС доставку") == {"Вопрос про доставку"}
    assert find("заказ -привет") == set()


def test_internal_text_is_found_only_when_included(corpus: dict[str, Ticket]) -> None:
    assert find("zebrafinance") == {"Invoice question"}
    assert find("zebrafinance", internal=False) == set()
    assert find('"refund approved"', internal=False) == set()
    assert find("invoice", internal=False) == {"Invoice question"}


def test_negating_an_internal_word_reveals_nothing_to_customers(corpus: dict[str, Ticket]) -> None:
    # If "-word" looked into internal notes, a customer could learn what the notes say by
    # watching their own ticket disappear from the results.
    assert find("invoice -zebrafinance", internal=False) == {"Invoice question"}
    assert find("printer -vendor", internal=False) == {"Printer jammed", "Scanner or printer"}
    # Staff search does look at notes.
    assert find("invoice -zebrafinance") == set()


@pytest.mark.parametrize(
    "query",
    [
        "internal_text:zebrafinance",
        "{internal_text}: zebrafinance",
        "internal_text : zebrafinance",
        '"internal_text" : "zebrafinance"',
        "zebrafinance OR invoice",
        "NOT invoice zebrafinance",
        "all_doc zebrafinance",
    ],
)
def test_engine_syntax_cannot_reach_internal_text(corpus: dict[str, Ticket], query: str) -> None:
    assert find(query, internal=False) == set()


def test_new_messages_and_subject_changes_are_indexed(corpus: dict[str, Ticket]) -> None:
    agent = factories.user(Role.AGENT)
    ticket = corpus["invoice"]
    actions.add_message(ticket, actor=agent, via=Via.WEB, body_text="We refunded the duplicate charge.")
    assert find("duplicate", internal=False) == {"Invoice question"}
    actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"subject": "Double charge"})
    assert find("double") == {"Double charge"}
    assert find("question invoice") == set()
    # The messages are still indexed after the subject was re-indexed.
    assert find("duplicate zebrafinance") == {"Double charge"}
    assert find("zebrafinance", internal=False) == set()


def test_replace_and_delete(corpus: dict[str, Ticket]) -> None:
    ticket = corpus["printer"]
    backend = search.backend()
    backend.replace(
        [search.SearchDocument(doc_id=ticket.pk, subject="Renamed", public_text="alpha", internal_text="omega")]
    )
    assert find("alpha") == {"Printer jammed"}
    assert find("omega", internal=False) == set()
    assert find("paper") == set()
    backend.delete([ticket.pk])
    assert find("alpha") == set()
    # Re-indexing from the database restores it.
    ticket_search.reindex([ticket])
    assert find("paper") == {"Printer jammed"}


def test_long_text_is_clipped_not_refused() -> None:
    ticket = factories.ticket(subject="Big log", body_text="start " + "x" * 150_000 + " ending")
    assert find("start") == {"Big log"}
    assert ticket.messages.get().body_text.endswith("ending")


@pytest.mark.parametrize(
    ("query", "terms"),
    [
        ("printer jam", [Term("printer", False), Term("jam", False)]),
        ('"paper jam" -toner', [Term("paper jam", False), Term("toner", True)]),
        ('-"a b"', [Term("a b", True)]),
        ("!!! ok ...", [Term("ok", False)]),
        ("", []),
        ('""', []),
        ("é", [Term("é", False)]),
    ],
)
def test_parse_query(query: str, terms: list[Term]) -> None:
    assert parse_query(query) == terms


def test_backend_matches_the_database() -> None:
    expected = {"sqlite": "_SqliteFts5", "postgresql": "_PostgresTsvector"}[connection.vendor]
    assert type(search.backend()).__name__ == expected
