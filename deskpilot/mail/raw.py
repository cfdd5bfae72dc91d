"""Raw email, byte for byte, stored once by SHA-256 under ``settings.MAIL_RAW_DIR``.

The intake stores the raw message before anything else reads it, so a message that crashes the
parser is never lost: it can be read back and retried. Written to a temporary file in the target
directory and renamed, so a reader never sees half a message (as tickets/attachments.py does).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from django.conf import settings


def sha256(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def path_for(digest: str) -> Path:
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise ValueError(f"not a SHA-256 hex digest: {digest!r}")
    return Path(settings.MAIL_RAW_DIR) / digest[:2] / digest[2:4] / f"{digest}.eml"


def store(raw: bytes, *, durable: bool = True) -> str:
    """Store ``raw`` (once; the same bytes twice are one file) and return its SHA-256. Raises
    OSError when the bytes could not be written (full disk, permissions): the caller must then
    tell the sender to try again later, since nothing was kept. ``durable`` flushes the bytes to
    the disk before returning (fsync), for mail that exists nowhere else once it is accepted."""
    digest = sha256(raw)
    target = path_for(digest)
    if target.exists() and target.stat().st_size == len(raw):
        return digest
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=target.parent, delete=False, prefix=".incoming-") as tmp:
        try:
            tmp.write(raw)
            tmp.flush()
            if durable:
                os.fsync(tmp.fileno())
        except BaseException:
            tmp.close()
            os.unlink(tmp.name)
            raise
    os.replace(tmp.name, target)
    return digest


def read(digest: str) -> bytes:
    """The stored bytes; FileNotFoundError when they are missing."""
    return path_for(digest).read_bytes()


def exists(digest: str) -> bool:
    return path_for(digest).exists()
