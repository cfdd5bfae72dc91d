"""Reply stripping beyond the corpus: each language's reply header, Outlook header blocks and
separators, mobile signatures, HTML quote containers; what must NOT be cut; and that sanitised
HTML never carries scripts (property test)."""

# ruff: noqa: RUF001 - Russian reply headers are test data

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deskpilot.core.html import html_to_text, sanitize_html
from deskpilot.mail.quotes import quote_start, reply_html, reply_text

REPLY = "Thanks, that fixed it."


@pytest.mark.parametrize(
    "header",
    [
        "On Mon, Jan 8, 2024 at 10:00 AM Support <help@example.com> wrote:",
        "On Mon, Jan 8, 2024 at 10:00 AM Support <\nhelp@example.com> wrote:",  # split over two lines
        "On 08/01/2024 10:00, Support wrote:",
        "Le lun. 8 janv. 2024 à 10:00, Support <help@example.com> a écrit :",
        "Am 08.01.2024 um 10:00 schrieb Support <help@example.com>:",
        "Il giorno lun 8 gen 2024 alle ore 10:00 Support <help@example.com> ha scritto:",
        "El lun, 8 ene 2024 a las 10:00, Support (<help@example.com>) escribió:",
        "Em seg., 8 de jan. de 2024 às 10:00, Support <help@example.com> escreveu:",
        "Op ma 8 jan. 2024 om 10:00 schreef Support <help@example.com>:",
        "Den 8 jan. 2024 kl. 10:00 skrev Support <help@example.com>:",
        "man. 8. jan. 2024 kl. 10:00 skrev Support <help@example.com>:",
        "ma 8. tammik. 2024 klo 10.00 Support <help@example.com> kirjoitti:",
        "pon., 8 sty 2024 o 10:00 Support <help@example.com> napisał(a):",
        "пн, 8 янв. 2024 г. в 10:00, Support <help@example.com>:",
        "8 января 2024 г., 10:00 пользователь Support <help@example.com> написал:",
        '08.01.2024, 10:00, "Support" <help@example.com>:',
        "---- On Mon, 08 Jan 2024 10:00:00 +0100 help@example.com wrote ----",
    ],
)
def test_reply_headers_in_many_languages(header: str):
    text = f"{REPLY}\n\n{header}\n\n> Did the restart help?\n> Support\n"
    assert reply_text(text) == REPLY


@pytest.mark.parametrize(
    "block",
    [
        "-----Original Message-----\nFrom: Support\nSent: Monday\nSubject: x",
        "-----Ursprüngliche Nachricht-----\nVon: Support\nGesendet: Montag\nBetreff: x",
        "-------- Message d'origine --------\nDe : Support\nDate : 08/01/24\nObjet : x",
        "-------- Mensaje original --------\nDe: Support\nFecha: 8 ene\nAsunto: x",
        "-------- Messaggio originale --------\nDa: Support\nData: 8 gen\nOggetto: x",
        "-------- Oorspronkelijk bericht --------\nVan: Support\nDatum: 8 jan\nOnderwerp: x",
        "-------- Oprindelig besked --------\nFra: Support\nDato: 8 jan\nEmne: x",
        "-------- Opprinnelig melding --------\nFra: Support\nDato: 8 jan\nEmne: x",
        "-------- Ursprungligt meddelande --------\nFrån: Support\nDatum: 8 jan\nÄmne: x",
        "-------- Alkuperäinen viesti --------\nLähettäjä: Support\nPäivämäärä: 8.1.\nAihe: x",
        "-------- Oryginalna wiadomość --------\nOd: Support\nData: 8 sty\nTemat: x",
        "-------- Mensagem original --------\nDe: Support\nData: 8 jan\nAssunto: x",
        "-------- Исходное сообщение --------\nОт: Support\nДата: 8 янв\nТема: x",
        # Outlook without a separator line: the header block alone.
        "From: Support <help@example.com>\nSent: Monday, January 8, 2024 10:00 AM\nTo: Jane\nSubject: RE: x",
        "Von: Support <help@example.com>\nGesendet: Montag, 8. Januar 2024 10:00\nAn: Jane\nBetreff: AW: x",
        "De : Support\nEnvoyé : lundi 8 janvier 2024 10:00\nÀ : Jane\nObjet : RE: x",
        "________________________________\nFrom: Support <help@example.com>\nSent: Monday\nTo: Jane",
        "*From:* Support <help@example.com>\n*Sent:* Monday\n*To:* Jane\n*Subject:* x",
    ],
)
def test_outlook_separators_and_header_blocks(block: str):
    assert reply_text(f"{REPLY}\n\n{block}\n\nDid the restart help?\n") == REPLY


def test_quoted_lines_and_signatures():
    assert reply_text(f"{REPLY}\n> quoted\n> more") == REPLY
    assert reply_text(f"{REPLY}\n\n-- \nJane Doe\nACME Corp\n+1 555 0100") == REPLY
    assert reply_text(f"{REPLY}\n\nGet Outlook for iOS<https://aka.ms/o0ukef>") == REPLY
    assert reply_text(f"{REPLY}\n\nGesendet von Outlook für Android") == REPLY
    assert reply_text(f"{REPLY}\n\nBest regards,\nJane Doe\nACME Corp") == REPLY
    assert reply_text(f"{REPLY}\n\nMit freundlichen Grüßen\nJane Doe") == REPLY


def test_device_line_kept_at_the_end_but_removed_with_unmarked_history():
    assert reply_text(f"{REPLY}\n\nSent from my iPhone") == f"{REPLY}\n\nSent from my iPhone"
    assert reply_text(f"{REPLY}\n\nSent from my iPhone\n\nOld message without markers") == REPLY
    assert reply_text(f"{REPLY}\n\nEnvoyé de mon iPad\n\nAncien message") == REPLY


@pytest.mark.parametrize(
    "text",
    [
        "On the surface, this looks fine.\nOn average it works.",
        "I wrote to you on 5 March about order 1234.\nPlease check.",
        "Please forward it to billing@example.com: they know.",
        "From: the first day it failed.\nTo: whom it may concern, it still fails.",
        "Here is my list:\n-- first point\n-- second point\nThanks!",
        "We discussed this with regards to the payment.\nRegards to your team for the help",
        "Original message text quoted in a sentence is fine.",
    ],
)
def test_ordinary_text_is_not_cut(text: str):
    assert reply_text(text) == text


def test_bottom_posted_reply_keeps_the_new_text():
    text = "On Mon, Jan 8, 2024 at 10:00 AM Support <help@example.com> wrote:\n> Did it help?\n\nYes, it did."
    assert reply_text(text) == "Yes, it did."
    assert quote_start(text.splitlines()) == 0


def test_a_message_that_is_all_quote_is_returned_whole():
    text = "> only\n> quoted"
    assert reply_text(text) == text


@pytest.mark.parametrize(
    "quote",
    [
        '<blockquote type="cite">Old</blockquote>',
        '<div class="gmail_quote">On Mon, Support wrote:<blockquote class="gmail_quote">Old</blockquote></div>',
        '<div id="divRplyFwdMsg"><b>From:</b> Support</div><div>Old</div>',
        '<div id="appendonsend"></div><hr><div><b>From:</b> Support<br><b>Sent:</b> Mon<br><b>To:</b> Jane</div>Old',
        '<div class="yahoo_quoted">Old</div>',
        '<div class="moz-cite-prefix">On 08.01.2024 10:00, Support wrote:</div><blockquote>Old</blockquote>',
        "<hr><b>From:</b> Support<br><b>Sent:</b> Monday<br><b>To:</b> Jane<br><p>Old</p>",
        "<p>On Mon, Jan 8, 2024 at 10:00 AM Support &lt;help@example.com&gt; wrote:</p><blockquote>Old</blockquote>",
        '<span id="OLK_SRC_BODY_SECTION"><div>From: Support</div>Old</span>',
    ],
)
def test_html_quote_containers(quote: str):
    markup = f"<html><body><div>Thanks, <b>fixed</b>.</div>{quote}</body></html>"
    result = reply_html(markup)
    assert "Old" not in result
    assert "Thanks, <b>fixed</b>." in result
    assert html_to_text(sanitize_html(result)) == "Thanks, fixed."


def test_html_without_quote_is_unchanged_in_content():
    markup = "<div><p>Hello</p><blockquote>A quote the customer typed</blockquote><p>Bye</p></div>"
    assert reply_html(markup) == markup


def test_html_all_quote_returns_the_whole_markup():
    markup = '<blockquote type="cite">Only history</blockquote>'
    assert reply_html(markup) == markup


_HTML_PIECES = st.sampled_from(
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        '<a href="javascript:alert(1)">x</a>',
        '<a href="JaVaScRiPt:alert(1)">x</a>',
        '<div onclick="x()" onmouseover="y()">d</div>',
        "<svg onload=alert(1)>",
        '<iframe src="javascript:alert(1)"></iframe>',
        '<a href="  javascript:alert(1)">x</a>',
        "<scr<script>ipt>alert(1)</script>",
        '<blockquote type="cite">',
        "</blockquote>",
        "<p>",
        "</div>",
        "text",
        "&lt;script&gt;",
        '<form action="javascript:x"><input onfocus=x autofocus>',
        '<body onload="x()">',
        "<style>body{background:url(javascript:x)}</style>",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_HTML_PIECES, st.text(max_size=20)), max_size=20))
def test_sanitised_html_never_contains_script(pieces: list[str]):
    markup = "".join(pieces)
    for result in (sanitize_html(markup), sanitize_html(reply_html(markup))):
        lowered = result.lower()
        assert "<script" not in lowered
        assert "javascript:" not in lowered
        assert not re.search(r"<[^>]*\son[a-z]+\s*=", lowered)
