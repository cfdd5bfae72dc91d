"""IMAP polling against a real server: Debian's dovecot, started as a plain process with a
throw-away configuration in tmp_path (loopback, a free port, passwd-file users, a maildir)."""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from imap_tools import AND, MailBoxUnencrypted

from deskpilot.mail import imap
from deskpilot.mail.intake_tasks import poll_mailboxes
from deskpilot.mail.models import AfterImport, ImapSecurity, InboundMail, Mailbox
from deskpilot.tickets.models import Ticket
from tests.mail.conftest_inbound import SUPPORT, build, mail_raw_dir

__all__ = ["mail_raw_dir"]

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

DOVECOT = "/usr/sbin/dovecot"
PASSWORD = "imap-Secret-77"


@dataclass
class Server:
    port: int
    log: Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def dovecot(tmp_path: Path) -> Iterator[Server]:
    if not os.path.exists(DOVECOT):
        pytest.skip("dovecot is not installed (make mail-deps installs it)")
    root = os.geteuid() == 0
    if root:
        # Dovecot never serves mail or logins as root: its own users do, and must reach tmp_path.
        mail_user, login_user = pwd.getpwnam("dovecot"), "dovenull"
        internal_group = grp.getgrgid(mail_user.pw_gid).gr_name
        for parent in [tmp_path, *tmp_path.parents]:
            if parent == Path("/tmp") or parent == Path("/"):
                break
            parent.chmod(parent.stat().st_mode | 0o011)
    else:
        mail_user = pwd.getpwuid(os.getuid())
        login_user = mail_user.pw_name
        internal_group = grp.getgrgid(os.getgid()).gr_name
    home = tmp_path / "home"
    for name in ("run", "state", "home"):
        (tmp_path / name).mkdir()
    os.chown(home, mail_user.pw_uid, mail_user.pw_gid)
    (tmp_path / "passwd").write_text(f"{SUPPORT}:{{PLAIN}}{PASSWORD}\n")
    port = _free_port()
    conf = tmp_path / "dovecot.conf"
    conf.write_text(
        f"""base_dir = {tmp_path}/run
state_dir = {tmp_path}/state
log_path = {tmp_path}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
default_login_user = {login_user}
default_internal_user = {mail_user.pw_name}
default_internal_group = {internal_group}
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {tmp_path}/passwd
}}
userdb {{
  driver = static
  args = uid={mail_user.pw_uid} gid={mail_user.pw_gid} home={home}/%u
}}
mail_location = maildir:~/Maildir
service imap-login {{
  chroot =
  inet_listener imap {{
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""
    )
    process = subprocess.Popen([DOVECOT, "-F", "-c", str(conf)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                    if s.recv(100).startswith(b"* OK"):
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                output = process.stdout.read().decode() if process.stdout else ""
                log = (tmp_path / "dovecot.log").read_text() if (tmp_path / "dovecot.log").exists() else ""
                pytest.fail(f"dovecot did not start: {output} {log}")
            time.sleep(0.1)
        yield Server(port=port, log=tmp_path / "dovecot.log")
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(tmp_path / "run", ignore_errors=True)


def _client(server: Server) -> MailBoxUnencrypted:
    return MailBoxUnencrypted("127.0.0.1", server.port).login(SUPPORT, PASSWORD)


def _mailbox(server: Server, **kwargs: object) -> Mailbox:
    return Mailbox.objects.create(
        address=SUPPORT, imap_host="127.0.0.1", imap_port=server.port, imap_security=ImapSecurity.NONE,
        imap_user=SUPPORT, imap_password=PASSWORD, **kwargs,
    )  # fmt: skip


def _deliver(server: Server, *raws: bytes) -> None:
    with _client(server) as box:
        for raw in raws:
            box.append(raw, "INBOX", flag_set=())


@pytest.mark.parametrize("after", [AfterImport.MARK_SEEN, AfterImport.DELETE, AfterImport.MOVE])
def test_poll_imports_unseen_mail_and_handles_it_as_configured(dovecot: Server, after: str) -> None:
    mailbox = _mailbox(dovecot, after_import=after, move_to_folder="Imported" if after == AfterImport.MOVE else "")
    if after == AfterImport.MOVE:
        with _client(dovecot) as box:
            box.folder.create("Imported")
    _deliver(dovecot, build(subject="First by IMAP"), build(subject="Second by IMAP"))
    [result] = imap.poll_all()
    assert result.error == ""
    assert (result.fetched, result.stored) == (2, 2)
    assert sorted(Ticket.objects.values_list("subject", flat=True)) == ["First by IMAP", "Second by IMAP"]
    assert set(InboundMail.objects.values_list("source", flat=True)) == {"imap"}
    mailbox.refresh_from_db()
    assert mailbox.last_polled_at is not None
    assert mailbox.last_error == ""
    with _client(dovecot) as box:
        inbox = list(box.fetch(mark_seen=False, headers_only=True))
        if after == AfterImport.MARK_SEEN:
            assert len(inbox) == 2
            assert all("\\Seen" in m.flags for m in inbox)
        else:
            assert inbox == []
        if after == AfterImport.MOVE:
            box.folder.set("Imported")
            assert len(list(box.fetch(headers_only=True, mark_seen=False))) == 2
    # Polling again finds nothing new.
    [again] = imap.poll_all()
    assert again.fetched == 0
    assert Ticket.objects.count() == 2


def test_a_message_already_seen_is_left_alone_and_the_periodic_job_polls(dovecot: Server) -> None:
    _mailbox(dovecot)
    _deliver(dovecot, build(subject="Read by someone"))
    with _client(dovecot) as box:
        box.flag([m.uid for m in box.fetch(AND(seen=False), mark_seen=False) if m.uid], "\\Seen", True)
    _deliver(dovecot, build(subject="New one"))
    assert poll_mailboxes.call_local() == 1
    assert list(Ticket.objects.values_list("subject", flat=True)) == ["New one"]


def test_a_wrong_password_is_recorded_without_the_password(dovecot: Server) -> None:
    mailbox = _mailbox(dovecot)
    Mailbox.objects.filter(pk=mailbox.pk).update(imap_password="wrong-Secret-99")
    mailbox.refresh_from_db()
    _deliver(dovecot, build())
    [result] = imap.poll_all()
    mailbox.refresh_from_db()
    assert "AUTHENTICATIONFAILED" in mailbox.last_error or "auth" in mailbox.last_error.lower()
    assert "wrong-Secret-99" not in mailbox.last_error
    assert result.stored == 0
    assert Ticket.objects.count() == 0
    # An unreachable server is recorded the same way.
    Mailbox.objects.filter(pk=mailbox.pk).update(imap_port=_free_port(), imap_password=PASSWORD)
    [result] = imap.poll_all()
    assert "refused" in result.error.lower() or "ConnectionRefused" in result.error


def test_a_message_that_cannot_be_stored_stays_unseen_on_the_server(
    dovecot: Server, settings: object, tmp_path: Path
) -> None:
    _mailbox(dovecot)
    _deliver(dovecot, build(subject="Keep me"))
    blocker = tmp_path / "blocked"
    blocker.write_text("")
    settings.MAIL_RAW_DIR = blocker  # type: ignore[attr-defined]
    [result] = imap.poll_all()
    assert result.stored == 0
    assert "could not be stored" in result.error
    with _client(dovecot) as box:
        assert [m.subject for m in box.fetch(AND(seen=False), mark_seen=False)] == ["Keep me"]
