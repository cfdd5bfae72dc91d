"""Attachment files: validated (size, type), stored once by content hash under DATA_DIR.

Files are written before the database rows that point at them, so a row never names a missing
file; a rolled-back transaction can leave an unreferenced file behind, which is harmless.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import filetype
from django.conf import settings

from deskpilot.core.errors import InvalidInput, TooLarge

# Executable formats are refused whatever they are called: a help desk forwards attachments to
# agents, and an agent should never be one click from running a stranger's program.
BLOCKED_TYPES = frozenset(
    {
        "application/x-msdownload",
        "application/x-dosexec",
        "application/x-executable",
        "application/x-elf",
        "application/x-mach-binary",
        "application/x-sharedlib",
        "application/vnd.microsoft.portable-executable",
    }
)
BLOCKED_EXTENSIONS = frozenset(
    {".exe", ".scr", ".bat", ".cmd", ".com", ".msi", ".pif", ".vbs", ".vbe", ".jse", ".wsf", ".cpl", ".hta"}
)
_UNSAFE_FILENAME_CHARS = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')
_CONTENT_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$")


@dataclass(frozen=True)
class IncomingFile:
    filename: str
    content: bytes
    content_type: str = ""


@dataclass(frozen=True)
class StoredFile:
    filename: str
    content_type: str
    size: int
    sha256: str


def clean_filename(name: str) -> str:
    """A safe display name: no directories, control characters or reserved characters."""
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE_FILENAME_CHARS.sub("_", name).strip(" .")
    if len(name) > 200:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 200 - len(ext) - 1] + "." + ext) if dot and len(ext) <= 16 else name[:200]
    return name or "attachment"


def _content_type(file: IncomingFile, filename: str) -> str:
    # The bytes decide when they are recognisable; the declared type and then the extension
    # are used only when they are not (text, CSV, unknown formats).
    sniffed = filetype.guess_mime(file.content) if file.content else None
    if sniffed:
        return str(sniffed)
    declared = file.content_type.split(";")[0].strip().lower()
    if declared and _CONTENT_TYPE.match(declared):
        return declared
    guessed, _ = mimetypes.guess_type(filename)
    return guessed or "application/octet-stream"


def path_for(sha256: str) -> Path:
    return Path(settings.ATTACHMENT_DIR) / sha256[:2] / sha256[2:4] / sha256


def validate(files: list[IncomingFile], field: str = "attachments") -> list[tuple[IncomingFile, str, str]]:
    """Check every file before any is stored; returns (file, clean name, content type)."""
    checked = []
    limit = settings.ATTACHMENT_MAX_BYTES
    for index, file in enumerate(files):
        where = f"{field}[{index}]"
        if len(file.content) > limit:
            raise TooLarge(where, f"{file.filename!r} is {len(file.content)} bytes; the limit is {limit} bytes")
        filename = clean_filename(file.filename)
        content_type = _content_type(file, filename)
        extension = os.path.splitext(filename)[1].lower()
        if content_type in BLOCKED_TYPES or extension in BLOCKED_EXTENSIONS:
            raise InvalidInput(where, f"{filename!r} is an executable file, which is not accepted")
        checked.append((file, filename, content_type))
    return checked


def store(files: list[IncomingFile], field: str = "attachments") -> list[StoredFile]:
    stored = []
    for file, filename, content_type in validate(files, field):
        digest = hashlib.sha256(file.content).hexdigest()
        target = path_for(digest)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            # Write then rename, so a reader never sees half a file.
            with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as tmp:
                tmp.write(file.content)
            os.replace(tmp.name, target)
        stored.append(StoredFile(filename=filename, content_type=content_type, size=len(file.content), sha256=digest))
    return stored
