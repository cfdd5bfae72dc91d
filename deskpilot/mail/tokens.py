"""Signed ticket tokens for email threading (DOMAIN.md, rule 2).

Outgoing mail carries the ticket's token in the subject (``[#1234-3kq9x7ab]``) and in the reply
address (``support+t1234-3kq9x7ab@example.com``), so a reply whose In-Reply-To / References were lost
(forwarded, rewritten by a mail client, typed anew) still finds its ticket. The suffix is an HMAC of
the ticket number with the installation's secret key: a sender cannot aim at another ticket by
editing the number. A bare ``[#1234]`` (what people type) is not trusted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

from django.conf import settings

_SALT = b"deskpilot.mail.ticket-token"
_SIGNATURE_CHARS = 8
_SUBJECT = re.compile(r"\[#(\d{1,12})-([a-z2-7]{8})\]", re.IGNORECASE)
_ADDRESS = re.compile(r"\+t(\d{1,12})-([a-z2-7]{8})@", re.IGNORECASE)


def _signature(ticket_id: int) -> str:
    key = hashlib.sha256(_SALT + settings.SECRET_KEY.encode()).digest()
    digest = hmac.new(key, str(ticket_id).encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode().lower()[:_SIGNATURE_CHARS]


def token(ticket_id: int) -> str:
    """``1234-3kq9x7ab``."""
    return f"{ticket_id}-{_signature(ticket_id)}"


def subject_tag(ticket_id: int) -> str:
    """``[#1234-3kq9x7ab]``, appended to the subject of every mail about the ticket."""
    return f"[#{token(ticket_id)}]"


def reply_address(mailbox_address: str, ticket_id: int) -> str:
    """``support+t1234-3kq9x7ab@example.com``: plus-addressing, which mail servers deliver to
    the mailbox itself."""
    local, _, domain = mailbox_address.rpartition("@")
    return f"{local}+t{token(ticket_id)}@{domain}"


def _verified(matches: list[tuple[str, str]]) -> list[int]:
    found: list[int] = []
    for number, signature in matches:
        ticket_id = int(number)
        if hmac.compare_digest(signature.lower(), _signature(ticket_id)) and ticket_id not in found:
            found.append(ticket_id)
    return found


def tickets_in_subject(subject: str) -> list[int]:
    """Ticket ids whose valid token appears in ``subject``, in order of appearance."""
    return _verified(_SUBJECT.findall(subject or ""))


def tickets_in_addresses(addresses: list[str]) -> list[int]:
    """Ticket ids whose valid token appears in a reply address among ``addresses``."""
    return _verified([m for address in addresses for m in _ADDRESS.findall(address or "")])


def strip_subject_tags(subject: str) -> str:
    """The subject without ticket tags (for a new ticket's subject)."""
    return " ".join(_SUBJECT.sub("", subject or "").split())
