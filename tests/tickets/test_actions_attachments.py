"""Attachment files: stored once by content hash, names cleaned, types sniffed, executables and
oversized files refused before anything is written."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from hypothesis import given
from hypothesis import strategies as st

from deskpilot.accounts.models import Role
from deskpilot.core.errors import InvalidInput, TooLarge
from deskpilot.tickets import actions
from deskpilot.tickets.attachments import IncomingFile, clean_filename, path_for, store, validate
from deskpilot.tickets.models import Attachment, Message, Ticket, TicketEvent, Via
from tests import factories

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 32
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + b"0" * 32
ZIP = b"PK\x03\x04" + b"\x00" * 40
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 56


def files_on_disk() -> list[Path]:
    root = Path(django_settings.ATTACHMENT_DIR)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


# --- storage -----------------------------------------------------------------------------------


def test_same_bytes_are_stored_once() -> None:
    first = store([IncomingFile("a.txt", b"same bytes"), IncomingFile("b.txt", b"same bytes")])
    second = store([IncomingFile("c.txt", b"same bytes")])
    digest = hashlib.sha256(b"same bytes").hexdigest()
    assert {f.sha256 for f in first + second} == {digest}
    assert files_on_disk() == [path_for(digest)]
    assert path_for(digest).read_bytes() == b"same bytes"
    assert path_for(digest).parent.parent.name == digest[:2]
    assert [f.filename for f in first + second] == ["a.txt", "b.txt", "c.txt"]


def test_different_bytes_are_different_files() -> None:
    stored = store([IncomingFile("a.txt", b"one"), IncomingFile("a.txt", b"two"), IncomingFile("e.txt", b"")])
    assert len({f.sha256 for f in stored}) == 3
    assert len(files_on_disk()) == 3
    assert stored[2].size == 0


@pytest.mark.django_db
def test_attachments_on_messages_share_the_file() -> None:
    agent = factories.user(Role.AGENT)
    ticket = factories.ticket(attachments=[IncomingFile("report.pdf", PDF)])
    actions.add_message(
        ticket, actor=agent, via=Via.WEB, body_text="again", attachments=[IncomingFile("copy.pdf", PDF)]
    )
    rows = list(Attachment.objects.filter(message__ticket=ticket).order_by("id"))
    assert [(a.filename, a.content_type, a.size) for a in rows] == [
        ("report.pdf", "application/pdf", len(PDF)),
        ("copy.pdf", "application/pdf", len(PDF)),
    ]
    assert rows[0].sha256 == rows[1].sha256 == hashlib.sha256(PDF).hexdigest()
    assert len(files_on_disk()) == 1
    event = TicketEvent.objects.filter(ticket=ticket, field="message").last()
    assert event is not None
    assert event.new is not None
    assert event.new["attachments"] == 1


# --- names -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\Desktop\\notes.txt", "notes.txt"),
        ("a\x00b\x1fc.txt", "a_b_c.txt"),
        ('what?*:"<>|.txt', "what_______.txt"),
        ("  spaced name.txt  ", "spaced name.txt"),
        ("trailing.dots...", "trailing.dots"),
        ("...", "attachment"),
        ("", "attachment"),
        ("/", "attachment"),
        ("Cafe\u0301.txt", "Café.txt"),  # NFC
        ("résumé 履歴書.docx", "résumé 履歴書.docx"),
    ],
)
def test_filenames_are_cleaned(raw: str, clean: str) -> None:
    assert clean_filename(raw) == clean


def test_long_filenames_keep_their_extension() -> None:
    cleaned = clean_filename("x" * 300 + ".pdf")
    assert len(cleaned) == 200
    assert cleaned.endswith(".pdf")
    assert len(clean_filename("y" * 300)) == 200


@given(st.text(max_size=400))
def test_any_filename_becomes_a_safe_name(raw: str) -> None:
    cleaned = clean_filename(raw)
    assert cleaned
    assert len(cleaned) <= 200
    assert not set(cleaned) & set('/\\:*?"<>|')
    assert not any(ord(ch) < 32 or ord(ch) == 127 for ch in cleaned)
    assert cleaned not in (".", "..")
    assert cleaned == cleaned.strip(" .") or cleaned == "attachment"


# --- content types -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "content", "declared", "expected"),
    [
        ("photo.png", PNG, "", "image/png"),
        ("photo.jpg", PNG, "image/jpeg", "image/png"),  # the bytes win over name and declaration
        ("doc", PDF, "text/plain", "application/pdf"),
        ("archive.bin", ZIP, "", "application/zip"),
        ("notes.txt", b"plain words", "", "text/plain"),
        ("data.csv", b"a,b\n1,2\n", "", "text/csv"),
        ("page", b"<p>hi</p>", "Text/HTML; charset=utf-8", "text/html"),
        ("unknown", b"\x00\x01\x02", "", "application/octet-stream"),
        ("weird", b"\x00\x01", "not a type", "application/octet-stream"),
        ("weird.txt", b"\x00\x01", "bad/type with spaces", "text/plain"),
    ],
)
def test_content_type_is_sniffed(filename: str, content: bytes, declared: str, expected: str) -> None:
    [(_, _, content_type)] = validate([IncomingFile(filename, content, declared)])
    assert content_type == expected


# --- refusals ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "content"),
    [
        ("invoice.pdf", EXE),
        ("program", EXE),
        ("linux-tool", ELF),
        ("setup.exe", b"text"),
        ("SETUP.EXE", b"text"),
        ("tool.exe.", b"text"),
        ("run.bat", b"echo"),
        ("run.cmd", b"echo"),
        ("x.scr", b"x"),
        ("x.msi", b"x"),
        ("x.vbs", b"x"),
        ("x.hta", b"x"),
        ("dir/evil.exe", b"x"),
    ],
)
def test_executables_are_refused_before_anything_is_stored(filename: str, content: bytes) -> None:
    with pytest.raises(InvalidInput) as error:
        store([IncomingFile("fine.txt", b"fine"), IncomingFile(filename, content)])
    assert set(error.value.errors) == {"attachments[1]"}
    assert files_on_disk() == []


def test_size_limit(settings: Any) -> None:
    settings.ATTACHMENT_MAX_BYTES = 10
    assert store([IncomingFile("ok.bin", b"x" * 10)])[0].size == 10
    with pytest.raises(TooLarge) as error:
        store([IncomingFile("first.bin", b"y"), IncomingFile("big.bin", b"x" * 11)], field="files")
    assert error.value.field == "files[1]"
    assert "11 bytes" in str(error.value)
    assert len(files_on_disk()) == 1  # only the earlier, accepted file


@pytest.mark.django_db
def test_refused_attachment_leaves_no_ticket_message_or_event(settings: Any) -> None:
    settings.ATTACHMENT_MAX_BYTES = 10
    agent = factories.user(Role.AGENT)
    ticket = factories.ticket()
    before = (Ticket.objects.count(), Message.objects.count(), TicketEvent.objects.count(), Attachment.objects.count())
    with pytest.raises(TooLarge):
        factories.ticket(attachments=[IncomingFile("big.bin", b"x" * 11)])
    with pytest.raises(TooLarge):
        actions.add_message(
            ticket, actor=agent, via=Via.WEB, body_text="x", attachments=[IncomingFile("big.bin", b"x" * 11)]
        )
    with pytest.raises(InvalidInput):
        actions.add_message(ticket, actor=agent, via=Via.WEB, body_text="x", attachments=[IncomingFile("a.exe", b"x")])
    after = (Ticket.objects.count(), Message.objects.count(), TicketEvent.objects.count(), Attachment.objects.count())
    assert after == before
