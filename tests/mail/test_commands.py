"""``deskpilot mail``: pipe delivery from stdin, import of a Maildir / mbox / directory with a
summary (and rerun safely), retry, and one-line errors with exit status 2 for bad arguments."""

from __future__ import annotations

import io
import mailbox
from pathlib import Path
from typing import Any

import pytest

from deskpilot import cli
from deskpilot.mail import intake
from deskpilot.mail.models import InboundMail, InboundStatus, Mailbox
from deskpilot.tickets.models import Message, Ticket
from tests.mail.conftest_inbound import SUPPORT, build, mail_raw_dir, message_id_of

__all__ = ["mail_raw_dir"]

pytestmark = pytest.mark.django_db(transaction=True)


def run(argv: list[str], capsys: pytest.CaptureFixture[str], stdin: bytes | None = None) -> tuple[int, str, str]:
    if stdin is not None:
        # The command reads sys.stdin.buffer, as a mail server's pipe gives it.
        fake = io.TextIOWrapper(io.BytesIO(stdin))
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr("sys.stdin", fake)
            status = cli.main(argv)
    else:
        status = cli.main(argv)
    out, err = capsys.readouterr()
    return status, out, err


def test_ingest_from_stdin(capsys: pytest.CaptureFixture[str]) -> None:
    team_box = Mailbox.objects.create(address=SUPPORT)
    status, out, err = run(["mail", "ingest", "--mailbox", SUPPORT.upper()], capsys, stdin=build(subject="Piped"))
    assert status == 0, err
    ticket = Ticket.objects.get()
    assert ticket.subject == "Piped"
    assert f"created (ticket {ticket.pk})" in out
    assert InboundMail.objects.get().mailbox == team_box
    assert InboundMail.objects.get().source == "pipe"


def test_ingest_exits_0_when_processing_fails_and_75_when_nothing_could_be_stored(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, settings: Any, tmp_path: Path
) -> None:
    monkeypatch.setattr(intake, "parse", lambda raw: (_ for _ in ()).throw(RuntimeError("boom")))
    status, out, _ = run(["mail", "ingest"], capsys, stdin=build())
    assert status == 0
    assert "failed" in out
    assert InboundMail.objects.get().status == InboundStatus.FAILED

    blocker = tmp_path / "file-not-dir"
    blocker.write_text("")
    settings.MAIL_RAW_DIR = blocker
    status, _, err = run(["mail", "ingest"], capsys, stdin=build(subject="other"))
    assert status == 75
    assert "could not be stored" in err
    assert InboundMail.objects.count() == 1


@pytest.mark.parametrize(
    ("argv", "stdin", "message"),
    [
        (["mail"], None, "missing action"),
        (["mail", "bogus"], None, "invalid choice"),
        (["mail", "ingest", "--mailbox", "nobody@x.example"], b"x", "--mailbox: no mailbox"),
        (["mail", "ingest"], b"", "standard input is empty"),
        (["mail", "import", "/no/such/path"], None, "does not exist"),
        (["mail", "import"], None, "the following arguments are required: PATH"),
        (["mail", "retry"], None, "give message ids to retry, or --all"),
        (["mail", "retry", "--all", "3"], None, "either --all or message ids"),
        (["mail", "retry", "x"], None, "are not all inbound mail ids"),
        (["mail", "retry", "999"], None, "no inbound mail 999"),
        (["mail", "smtpd", "--port", "http"], None, "--port: 'http' is not a port number"),
        (["mail", "smtpd", "--port", "70000"], None, "is not between 1 and 65535"),
        (["mail", "smtpd"], None, "--port"),
        (["mail", "poll", "--mailbox", "nobody@x.example"], None, "--mailbox: no mailbox"),
    ],
)
def test_bad_arguments_get_one_line_and_exit_2(
    argv: list[str], stdin: bytes | None, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = run(argv, capsys, stdin=stdin)
    assert status == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def _messages() -> list[bytes]:
    return [build(subject=f"Import {i}", message_id=f"<import.{i}@customer.example>") for i in range(4)]


def test_import_a_directory_of_eml_files_twice(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "eml" / "nested"
    folder.mkdir(parents=True)
    raws = _messages()
    for i, raw in enumerate(raws):
        (folder / f"{i}.eml").write_bytes(raw)
    (folder / "README.txt").write_text("not mail")
    status, out, err = run(["mail", "import", str(tmp_path / "eml")], capsys)
    assert status == 0, err
    assert "4 created, 0 threaded" in out
    assert "0 duplicates, 0 failed, 0 spam" in out
    assert Ticket.objects.count() == 4
    # Rerun (resume after an interruption): nothing new.
    status, out, _ = run(["mail", "import", str(tmp_path / "eml")], capsys)
    assert status == 0
    assert "0 created" in out
    assert "4 duplicates" in out
    assert Ticket.objects.count() == 4
    assert InboundMail.objects.count() == 4


def test_import_a_maildir_with_a_reply_and_a_failure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    box = mailbox.Maildir(str(tmp_path / "Maildir"), create=True)
    first = build(subject="First", message_id="<first@customer.example>")
    box.add(first)
    status, out, _ = run(["mail", "import", str(tmp_path / "Maildir")], capsys)
    assert "1 created" in out
    ticket = Ticket.objects.get()
    box.add(build(subject="Re: First", in_reply_to=message_id_of(ticket)))
    box.add(build(subject="Spam", headers={"X-Spam-Flag": "YES"}))
    original = intake.parse
    monkeypatch.setattr(
        intake, "parse", lambda raw: original(raw) if b"Crash" not in raw else (_ for _ in ()).throw(ValueError("x"))
    )
    box.add(build(subject="Crash"))
    status, out, _ = run(["mail", "import", str(tmp_path / "Maildir")], capsys)
    assert status == 0
    assert "Imported 4 message(s) from Maildir" in out
    assert "0 created, 1 threaded" in out
    assert "1 duplicates, 1 failed, 1 spam" in out
    assert "deskpilot mail retry --all" in out
    assert Message.objects.filter(ticket=ticket).count() == 2

    monkeypatch.setattr(intake, "parse", original)
    status, out, _ = run(["mail", "retry", "--all"], capsys)
    assert status == 0
    assert "Retried 1 message(s): 1 created" in out
    assert not InboundMail.objects.filter(status=InboundStatus.FAILED).exists()


def test_import_an_mbox(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "archive.mbox"
    box = mailbox.mbox(str(path), create=True)
    for raw in _messages():
        box.add(raw)
    box.flush()
    status, out, _ = run(["mail", "import", str(path)], capsys)
    assert status == 0
    assert "Imported 4 message(s) from mbox" in out
    assert "4 created" in out
    assert sorted(Ticket.objects.values_list("subject", flat=True)) == [f"Import {i}" for i in range(4)]


def test_help_describes_each_action(capsys: pytest.CaptureFixture[str]) -> None:
    for action in ("ingest", "import", "smtpd", "retry", "poll"):
        status, out, _ = run(["mail", action, "--help"], capsys)
        assert status == 0
        assert "usage:" in out
    status, out, _ = run(["--help"], capsys)
    assert "mail ingest" in out
