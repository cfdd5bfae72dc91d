"""HTML sanitising (core.html): nothing that can run survives, formatting does."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deskpilot.core.html import html_to_text, sanitize_html, text_to_html

DANGEROUS_TAGS = {
    "script",
    "style",
    "iframe",
    "object",
    "embed",
    "svg",
    "math",
    "form",
    "input",
    "meta",
    "link",
    "base",
}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "background", "srcset", "poster"}
_INVISIBLE = re.compile(r"[\x00-\x20]+")


class _Inspector(HTMLParser):
    """Collects what a browser would act on: tags, attributes and URLs."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.attributes: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes.extend((tag, name, value or "") for name, value in attrs)

    handle_startendtag = handle_starttag


def assert_safe(output: str) -> None:
    assert "<script" not in output.lower()
    inspector = _Inspector()
    inspector.feed(output)
    inspector.close()
    assert not inspector.tags & DANGEROUS_TAGS, output
    for tag, name, value in inspector.attributes:
        assert not name.startswith("on"), (tag, name, output)
        assert name != "style", output
        if name in URL_ATTRIBUTES:
            # Browsers ignore control characters and whitespace inside a scheme.
            scheme = _INVISIBLE.sub("", html.unescape(value)).lower()
            assert not scheme.startswith(("javascript:", "vbscript:", "data:")), (tag, name, value)


ATTACKS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.test/x.js></SCRIPT>",
    "<<script>script>alert(1)<</script>/script>",
    '<img src=x onerror="alert(1)">',
    "<img src=x OnError=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href="jav&#x09;ascript:alert(1)">x</a>',
    '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">x</a>',
    '<a href=" javascript:alert(1)">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    '<a href="data:text/html,&lt;script&gt;alert(1)&lt;/script&gt;">x</a>',
    '<img src="data:image/svg+xml;base64,PHN2Zz4=">',
    '<p style="background:url(javascript:alert(1))">x</p>',
    "<svg onload=alert(1)><circle/></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<iframe src="https://evil.test" srcdoc="<script>x</script>"></iframe>',
    '<form action="javascript:alert(1)"><button formaction="javascript:x">go</button></form>',
    '<div onmouseover="alert(1)">hover</div>',
    "<body onload=alert(1)>",
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    "<!--<script>alert(1)</script>-->",
    "<![CDATA[<script>alert(1)</script>]]>",
    '<object data="javascript:alert(1)"></object><embed src="javascript:alert(1)">',
    '<base href="javascript:/">',
    '<a href="#" onclick="steal()" title="x">ok</a>',
]


@pytest.mark.parametrize("attack", ATTACKS)
def test_attacks_are_neutralised(attack: str) -> None:
    output = sanitize_html(attack)
    assert_safe(output)
    assert "alert(1)</script>" not in output


def test_formatting_survives() -> None:
    source = (
        '<h2>Title</h2><p dir="rtl">A <strong>bold</strong> <em>move</em> and <a href="https://example.test/a?b=1" '
        'title="t">a link</a>.</p><ul><li>one</li></ul><table><tr><td colspan="2">cell</td></tr></table>'
        '<img src="cid:logo@mail" alt="logo"><a href="mailto:help@example.test">mail</a>'
    )
    output = sanitize_html(source)
    for kept in (
        "<h2>Title</h2>",
        "<strong>bold</strong>",
        "<em>move</em>",
        'href="https://example.test/a?b=1"',
        "<li>one</li>",
        'colspan="2"',
        'src="cid:logo@mail"',
        'href="mailto:help@example.test"',
        'dir="rtl"',
    ):
        assert kept in output
    # Links open nothing of ours and pass no referrer.
    assert 'rel="noopener noreferrer nofollow"' in output


def test_text_content_is_kept_escaped() -> None:
    output = sanitize_html("<p>1 &lt; 2 &amp; a <b>x</b></p>")
    assert output == "<p>1 &lt; 2 &amp; a <b>x</b></p>"


_FRAGMENTS = [
    "<script>", "</script>", "<SCRIPT ", "<a href=", "<img src=", "<svg ", "<style>", "<iframe ", "<p ", "<div ",
    "javascript:", "JaVaScRiPt:", "jav&#x09;ascript:", "&#106;avascript:", "data:text/html,", "vbscript:",
    " onclick=", " onerror=", " OnLoad=", "onmouseover", " style=", "expression(", "alert(1)", '"', "'", "`",
    ">", "<", "/>", "</", "=", "&", "&#", ";", "<!--", "-->", "<![CDATA[", "]]>", "\x00", "\t", "\n", " ",
    "<math>", "<mglyph>", "<noscript>", "<template>", "<textarea>", "<title>", "srcdoc=", "formaction=",
]  # fmt: skip
_html_soup = st.lists(st.sampled_from(_FRAGMENTS) | st.text(max_size=8), max_size=40).map("".join)


@settings(max_examples=250, deadline=None)
@given(_html_soup)
def test_sanitised_output_never_runs_anything(raw: str) -> None:
    assert_safe(sanitize_html(raw))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_sanitised_output_of_any_text_is_safe(raw: str) -> None:
    assert_safe(sanitize_html(raw))


@settings(max_examples=200, deadline=None)
@given(_html_soup)
def test_sanitising_twice_changes_nothing_more(raw: str) -> None:
    once = sanitize_html(raw)
    assert_safe(once)
    assert_safe(sanitize_html(once))


def test_html_to_text_drops_scripts_and_keeps_blocks() -> None:
    text = html_to_text(
        "<h1>Hello</h1><p>first &amp; <b>bold</b></p><script>evil()</script><style>p{}</style>"
        "<ul><li>one</li><li>two</li></ul><p>a<br>b</p>"
    )
    assert "evil" not in text
    assert "p{}" not in text
    assert text.splitlines() == ["Hello", "first & bold", "one", "two", "a", "b"]


def test_html_to_text_collapses_blank_lines() -> None:
    assert html_to_text("<p>a</p><p></p><p></p><p></p><p>b</p>") == "a\n\nb"


def test_text_to_html_escapes_and_keeps_paragraphs() -> None:
    assert text_to_html("a <b> & c\nnext line\n\n\nsecond") == "<p>a &lt;b&gt; &amp; c<br>next line</p><p>second</p>"
    assert text_to_html("   \n\n  ") == ""


@given(st.text(max_size=200))
def test_text_to_html_is_always_safe(text: str) -> None:
    output = text_to_html(text)
    assert_safe(output)
    assert "<" not in re.sub(r"</?(p|br)>", "", output)
