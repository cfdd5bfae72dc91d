"""parse(): headers, charsets, bodies and attachments of real-world shapes of mail, and that
nothing but MailParseError ever comes out of it (property tests on random and mutated bytes)."""

from __future__ import annotations

import base64
import binascii
import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deskpilot.mail.parsing import Address, MailParseError, ParsedMail, parse
from tests.mail.conftest import corpus_messages


def _mail(headers: str, body: bytes | str = b"Hello\n") -> bytes:
    raw = headers.strip("\n").replace("\n", "\r\n").encode("utf-8") + b"\r\n\r\n"
    return raw + (body.encode("utf-8") if isinstance(body, str) else body)


PLAIN = _mail(
    """
From: "Jane Doe" <Jane@Example.com>
To: Support <support@example.org>, other@example.org
Cc: =?utf-8?q?J=C3=BCrgen?= <jurgen@example.de>
Reply-To: jane.private@example.com
Subject: Printer broken
Date: Tue, 01 Mar 2022 10:00:00 +0100
Message-ID: <abc123@mail.example.com>
In-Reply-To: <first@example.org>
References: <zero@example.org>
 <first@example.org>
Delivered-To: support+t12-abcdefgh@example.org
X-Original-To: support@example.org
Content-Type: text/plain; charset=utf-8
""",
    "Hello,\nthe printer is broken.\n\nOn Mon, Feb 28, 2022 at 9:00 AM Support <support@example.org> wrote:\n> How can we help?\n",
)


def test_plain_message_full_contract():
    mail = parse(PLAIN)
    assert isinstance(mail, ParsedMail)
    assert mail.message_id == "abc123@mail.example.com"
    assert mail.in_reply_to == ["first@example.org"]
    assert mail.references == ["zero@example.org", "first@example.org"]
    assert mail.subject == "Printer broken"
    assert mail.sender == Address("Jane Doe", "Jane@Example.com")
    assert mail.to == [Address("Support", "support@example.org"), Address("", "other@example.org")]
    assert mail.cc == [Address("Jürgen", "jurgen@example.de")]
    assert mail.reply_to == [Address("", "jane.private@example.com")]
    assert mail.delivered_to == ["support+t12-abcdefgh@example.org", "support@example.org"]
    assert mail.date == datetime.datetime(2022, 3, 1, 9, 0, tzinfo=datetime.UTC)
    assert mail.text.startswith("Hello,\nthe printer is broken.")
    assert mail.reply_text == "Hello,\nthe printer is broken."
    assert mail.html == ""
    assert mail.reply_html == ""
    assert mail.kind == "normal"
    assert not mail.auto_submitted
    assert not mail.spam
    assert mail.bounce is None
    assert mail.attachments == []


def test_missing_headers_have_empty_values():
    mail = parse(b"Subject: hi\n\nbody\n")
    assert (mail.message_id, mail.in_reply_to, mail.references, mail.sender, mail.date) == ("", [], [], None, None)
    assert mail.text == "body"


def test_sender_falls_back_to_sender_and_return_path():
    assert parse(b"Sender: a@example.com\nSubject: x\n\nb").sender == Address("", "a@example.com")
    assert parse(b"Return-Path: <b@example.com>\nSubject: x\n\nb").sender == Address("", "b@example.com")


def test_naive_date_is_taken_as_utc_and_garbage_date_is_none():
    assert parse(b"Date: Tue, 01 Mar 2022 10:00:00\n\nx").date == datetime.datetime(
        2022, 3, 1, 10, 0, tzinfo=datetime.UTC
    )
    assert parse(b"Date: yesterday at noon\n\nx").date is None


def test_encoded_words_split_over_folded_lines_and_across_a_character():
    # "Příliš žluťoučký kůň" in UTF-8, split between two encoded words inside the "ř" bytes.
    encoded = "Příliš žluťoučký kůň".encode()
    first, second = encoded[:2], encoded[2:]
    subject = (
        f"=?UTF-8?B?{base64.b64encode(first).decode()}?=\r\n =?UTF-8?B?{base64.b64encode(second).decode()}?="
    ).encode()
    mail = parse(b"Subject: " + subject + b"\r\n\r\nx")
    assert mail.subject == "Příliš žluťoučký kůň"


def test_q_and_b_words_joined_without_space_and_unknown_charset_survives():
    mail = parse(b"Subject: =?utf-8?Q?Fwd:_Cyklozam=C4=9Bstnavatel?= =?utf-8?B?IC0gem3Em25h?=\n\nx")
    assert mail.subject == "Fwd: Cyklozaměstnavatel - změna"
    assert parse(b"Subject: =?x-klingon?Q?tlhIngan?=\n\nx").subject == "tlhIngan"


def test_raw_8bit_headers_in_utf8_and_latin1():
    assert parse("Subject: Grüße aus Köln\n\nx".encode()).subject == "Grüße aus Köln"
    assert parse("Subject: Grüße aus Köln\n\nx".encode("latin-1")).subject == "Grüße aus Köln"
    mail = parse('From: "Müller" <m@example.de>\n\nx'.encode("latin-1"))
    assert mail.sender == Address("Müller", "m@example.de")


@pytest.mark.parametrize(
    ("declared", "payload", "expected"),
    [
        ("iso-8859-1", "Café".encode("latin-1"), "Café"),
        ("iso-8859-1", "Café".encode(), "Café"),  # mislabelled UTF-8
        ("utf-8", "Café".encode("cp1252"), "Café"),  # mislabelled cp1252
        ("", "Café".encode(), "Café"),  # missing declaration
        ("x-unknown-charset", "Café".encode(), "Café"),
        ("windows-1252", "€ 5".encode("cp1252"), "€ 5"),
        ("utf-7", "Café".encode("utf-7"), "Café"),
        ("koi8-r", "Привет".encode("koi8-r"), "Привет"),
    ],
)
def test_body_charsets(declared: str, payload: bytes, expected: str):
    charset = f"; charset={declared}" if declared else ""
    raw = _mail(f"Subject: x\nContent-Type: text/plain{charset}\nContent-Transfer-Encoding: 8bit", payload)
    assert parse(raw).text == expected


def test_html_only_mail_is_sanitised_and_rendered_as_text():
    raw = _mail(
        "Subject: x\nContent-Type: text/html; charset=utf-8",
        '<p onclick="evil()">Hello <b>there</b></p><script>alert(1)</script><a href="javascript:x()">link</a>',
    )
    mail = parse(raw)
    assert "<script" not in mail.html
    assert "onclick" not in mail.html
    assert "javascript:" not in mail.html
    assert "<b>there</b>" in mail.html
    assert mail.text.startswith("Hello there")
    assert mail.reply_text.startswith("Hello there")


ALTERNATIVE = _mail(
    """
Subject: alt
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="b1"
""",
    """--b1
Content-Type: text/plain; charset=utf-8

Plain version
--b1
Content-Type: multipart/related; boundary="b2"

--b2
Content-Type: text/html; charset=utf-8

<div>HTML version <img src="cid:logo@x"></div>
--b2
Content-Type: image/png
Content-ID: <logo@x>
Content-Transfer-Encoding: base64

iVBORw0KGgo=
--b2--
--b1--
""",
)


def test_alternative_prefers_plain_for_text_and_html_for_html_with_inline_image():
    mail = parse(ALTERNATIVE)
    assert mail.text == "Plain version"
    assert "HTML version" in mail.html
    assert 'src="cid:logo@x"' in mail.html
    [image] = mail.attachments
    assert (image.content_type, image.content_id, image.inline) == ("image/png", "logo@x", True)
    assert image.content == b"\x89PNG\r\n\x1a\n"
    assert image.filename.endswith(".png")


def test_attachment_names_rfc2231_and_rfc2047_and_missing():
    raw = _mail(
        'Subject: files\nContent-Type: multipart/mixed; boundary="b"',
        """--b
Content-Type: text/plain

see attached
--b
Content-Type: application/pdf
Content-Disposition: attachment; filename*=UTF-8''Rechnung%20M%C3%A4rz.pdf
Content-Transfer-Encoding: base64

JVBERi0=
--b
Content-Type: application/octet-stream; name="=?utf-8?B?w7xiZXIudHh0?="
Content-Disposition: attachment

YWJj
--b
Content-Type: application/zip
Content-Disposition: attachment

UEsDBA==
--b
Content-Type: image/jpeg
Content-ID: <unused@x>
Content-Disposition: inline; filename="../../etc/passwd.jpg"

/9j/
--b--
""",
    )
    mail = parse(raw)
    assert mail.text == "see attached"
    names = [a.filename for a in mail.attachments]
    assert names[0] == "Rechnung März.pdf"
    assert names[1] == "über.txt"
    assert names[2].endswith(".zip")
    assert names[2]
    assert "/" not in names[3]
    assert names[3].endswith("passwd.jpg")
    assert mail.attachments[0].content == b"%PDF-"
    assert not mail.attachments[3].inline  # has a Content-ID but no cid: reference in HTML


def test_forwarded_message_kept_as_eml_named_by_subject():
    inner = _mail("From: a@example.com\nSubject: Original: question?\nMessage-ID: <orig@x>", "Original body\n")
    raw = _mail('Subject: Fwd\nContent-Type: multipart/mixed; boundary="b"', "")
    raw += b"--b\r\nContent-Type: text/plain\r\n\r\nFYI\r\n--b\r\nContent-Type: message/rfc822\r\n\r\n"
    raw += inner + b"\r\n--b--\r\n"
    mail = parse(raw)
    [eml] = mail.attachments
    assert eml.content_type == "message/rfc822"
    assert eml.filename == "Original: question?.eml"
    again = parse(eml.content)
    assert (again.subject, again.message_id, again.text) == ("Original: question?", "orig@x", "Original body")


def test_uuencoded_block_becomes_attachment():
    data = b"binary \x00\x01\x02 data " * 5
    lines = [binascii.b2a_uu(data[i : i + 45]).decode().rstrip("\n") for i in range(0, len(data), 45)]
    body = "Here is the file:\n\nbegin 644 report.bin\n" + "\n".join(lines) + "\n`\nend\n\nThanks\n"
    mail = parse(_mail("Subject: uu\nContent-Type: text/plain", body))
    [attachment] = mail.attachments
    assert attachment.filename == "report.bin"
    assert attachment.content == data
    assert "begin 644" not in mail.text
    assert "Thanks" in mail.text


def test_broken_base64_and_missing_boundary_are_defects_not_errors():
    raw = _mail(
        'Subject: broken\nContent-Type: multipart/mixed; boundary="nothere"',
        "just some text without the boundary\n",
    )
    mail = parse(raw)
    assert "just some text" in mail.text
    assert mail.defects
    broken = parse(_mail("Subject: b\nContent-Transfer-Encoding: base64", "!!!not base64 at all@@@\n"))
    assert isinstance(broken.text, str)


def test_mbox_from_line_is_ignored():
    mail = parse(b"From someone@example.com Mon Jan  1 00:00:00 2024\nSubject: mbox\n\nbody\n")
    assert mail.subject == "mbox"


@pytest.mark.parametrize("raw", [b"", b"   \r\n\r\n", b"\x00\x01\x02 binary junk \xff\xfe", b"just text, no header"])
def test_hopeless_input_raises_mail_parse_error(raw: bytes):
    with pytest.raises(MailParseError):
        parse(raw)


def test_non_bytes_raise_mail_parse_error():
    with pytest.raises(MailParseError):
        parse("Subject: str\n\nx")  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=3000))
def test_arbitrary_bytes_never_raise_anything_else(raw: bytes):
    try:
        mail = parse(raw)
    except MailParseError:
        return
    assert isinstance(mail, ParsedMail)
    assert "<script" not in mail.html.lower()


_CORPUS = [path.read_bytes() for path in corpus_messages()]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    st.sampled_from(_CORPUS),
    st.lists(st.tuples(st.floats(0, 1), st.integers(0, 4), st.binary(max_size=12)), min_size=1, max_size=8),
)
def test_mutated_real_messages_never_raise_anything_else(original: bytes, mutations):
    raw = bytearray(original)
    for where, kind, data in mutations:
        position = int(where * len(raw))
        if kind == 0:
            del raw[position : position + len(data) + 1]  # cut
        elif kind == 1:
            raw[position:position] = data  # insert junk
        elif kind == 2:
            raw[position : position + len(data)] = data  # overwrite
        elif kind == 3:
            raw[position:position] = b"\r\n--" + data + b"\r\n"  # fake boundary
        else:
            raw = raw[:position]  # truncate
    try:
        mail = parse(bytes(raw))
    except MailParseError:
        return
    assert isinstance(mail, ParsedMail)
    assert all(a.filename for a in mail.attachments)
