"""The MIME walk: body text and HTML, attachments (inline images, forwarded messages as .eml,
uuencoded blocks), each part handled on its own so one broken part never loses the rest."""

from __future__ import annotations

import binascii
import mimetypes
import re
from dataclasses import dataclass, field
from email.message import Message

from deskpilot.mail.parsing.headers import decode_bytes, decode_header, mime_view

_UU_BEGIN = re.compile(r"^begin(?:-base64)? [0-7]{3,4} (\S[^\r\n]*)\r?$", re.MULTILINE)
_HTML_META_CHARSET = re.compile(rb"<meta[^>]+charset=[\"']?([A-Za-z0-9_:.-]+)", re.IGNORECASE)
_BAD_FILENAME_CHARS = re.compile(r"[\x00-\x1f\x7f/\\]+")
_MAX_DEPTH = 30


@dataclass
class RawAttachment:
    filename: str
    content_type: str
    content: bytes
    content_id: str
    disposition: str


@dataclass
class Segment:
    """A piece of the message body: text, HTML, or both (the two sides of multipart/alternative)."""

    text: str | None = None
    html: str | None = None


@dataclass
class Walk:
    segments: list[Segment] = field(default_factory=list)
    attachments: list[RawAttachment] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    counter: int = 0


def _content_type(part: Message) -> str:
    try:
        return mime_view(part).get_content_type().lower()
    except Exception:
        return "application/octet-stream"


def _header_text(part: Message, name: str) -> str:
    try:
        values = part.get_all(name) or []
    except Exception:
        return ""
    return decode_header(str(values[0])) if values else ""


def _disposition(part: Message) -> str:
    try:
        return (mime_view(part).get_content_disposition() or "").lower()
    except Exception:
        return ""


def clean_filename(name: str) -> str:
    name = _BAD_FILENAME_CHARS.sub("_", decode_header(name)).strip(" ._")
    return name[:200]


def _filename(part: Message) -> str:
    name = ""
    try:
        name = str(mime_view(part).get_filename() or "")
    except Exception:  # fall back to the raw header parameter
        name = ""
    if not name:
        for header in ("content-disposition", "content-type"):
            raw = str(part.get(header, "") or "") if header in part else ""
            found = re.search(r"\b(?:file)?name\*?=\s*\"?([^\";]+)", raw, re.IGNORECASE)
            if found:
                name = found.group(1)
                break
    return clean_filename(name) if name else ""


def _payload_bytes(part: Message, walk: Walk) -> bytes:
    try:
        payload = part.get_payload(decode=True)
    except Exception as exc:
        walk.defects.append(f"undecodable part {_content_type(part)}: {exc.__class__.__name__}")
        payload = None
    if isinstance(payload, bytes):
        return payload
    raw = part.get_payload()
    if isinstance(raw, str):
        return raw.encode("utf-8", "surrogateescape")
    return b""


def _part_text(part: Message, walk: Walk) -> str:
    data = _payload_bytes(part, walk)
    charset = None
    try:
        charset = mime_view(part).get_content_charset()
    except Exception:
        charset = None
    if not charset and _content_type(part) == "text/html":
        found = _HTML_META_CHARSET.search(data[:4096])
        if found:
            charset = found.group(1).decode("ascii")
    text, repaired = decode_bytes(data, charset)
    if repaired:
        walk.defects.append(f"charset of {_content_type(part)} part was wrong or missing ({charset or 'none'})")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _made_up_name(part: Message, content_type: str, walk: Walk) -> str:
    walk.counter += 1
    description = clean_filename(_header_text(part, "content-description"))
    extension = (
        {
            "message/delivery-status": ".txt",
            "message/disposition-notification": ".txt",
            "message/feedback-report": ".txt",
            "text/rfc822-headers": ".txt",
            "text/plain": ".txt",
            "message/rfc822": ".eml",
            "message/global": ".eml",
        }.get(content_type)
        or mimetypes.guess_extension(content_type, strict=False)
        or ".bin"
    )
    base = description or f"part-{walk.counter}"
    return base if base.lower().endswith(extension) else base + extension


def _add_attachment(part: Message, walk: Walk, content: bytes, name: str = "") -> None:
    content_type = _content_type(part)
    name = name or _filename(part) or _made_up_name(part, content_type, walk)
    content_id = _header_text(part, "content-id").strip().strip("<>").strip()
    walk.attachments.append(RawAttachment(name, content_type, content, content_id, _disposition(part)))


def _forwarded(part: Message, walk: Walk) -> None:
    """A message/rfc822 part: kept whole as an .eml attachment named by its subject."""
    inner = part.get_payload()
    inner_message = inner[0] if isinstance(inner, list) and inner else None
    content = b""
    subject = ""
    if isinstance(inner_message, Message):
        subject = _header_text(inner_message, "subject")
        try:
            content = inner_message.as_bytes()
        except Exception:  # a message the generator cannot write: keep what was received
            walk.defects.append("forwarded message could not be re-serialised")
            content = str(inner_message).encode("utf-8", "surrogateescape") if inner_message else b""
    else:
        content = _payload_bytes(part, walk)
    name = _filename(part) or (clean_filename(subject) + ".eml" if clean_filename(subject) else "")
    _add_attachment(part, walk, content, name)


def extract_uuencoded(text: str, walk: Walk) -> str:
    """Move ``begin 644 name`` ... ``end`` blocks out of a text body into attachments."""
    if "begin " not in text:
        return text
    while True:
        start = _UU_BEGIN.search(text)
        if not start:
            return text
        end = re.compile(r"^end\s*$", re.MULTILINE).search(text, start.end())
        if not end:
            return text
        data = bytearray()
        try:
            for line in text[start.end() : end.start()].splitlines():
                if line.strip() in ("", "`"):
                    continue
                try:
                    data += binascii.a2b_uu(line)
                except binascii.Error:
                    # Some encoders write lines too short; decode with the length byte trusted.
                    nbytes = (((ord(line[0]) - 32) & 63) * 4 + 5) // 3
                    data += binascii.a2b_uu(line[:nbytes])
        except (binascii.Error, IndexError, ValueError):
            walk.defects.append("broken uuencoded block left in the text")
            return text
        name = clean_filename(start.group(1)) or f"uuencoded-{len(walk.attachments) + 1}.bin"
        content_type = mimetypes.guess_type(name, strict=False)[0] or "application/octet-stream"
        walk.attachments.append(RawAttachment(name, content_type, bytes(data), "", "attachment"))
        text = text[: start.start()] + text[end.end() :]


def _block_bytes(block: Message) -> bytes:
    try:
        return block.as_bytes()
    except Exception:
        return b"".join(f"{k}: {v}\n".encode("utf-8", "surrogateescape") for k, v in block.raw_items()) + b"\n"


def _is_body_text(part: Message, content_type: str) -> bool:
    if content_type not in ("text/plain", "text/html"):
        return False
    disposition = _disposition(part)
    if disposition == "attachment":
        return False
    return not (disposition == "inline" and _filename(part) and content_type != "text/html")


def walk_part(part: Message, walk: Walk, depth: int = 0) -> None:
    """Collect ``part`` into ``walk``; never raises."""
    try:
        _walk_part(part, walk, depth)
    except RecursionError:
        walk.defects.append("MIME structure nested too deep")
    except Exception as exc:  # one broken part must not lose the others
        walk.defects.append(f"part {_content_type(part)} skipped: {exc.__class__.__name__}: {exc}")


def _walk_part(part: Message, walk: Walk, depth: int) -> None:
    content_type = _content_type(part)
    if depth > _MAX_DEPTH:
        walk.defects.append("MIME structure nested too deep")
        return
    if content_type in ("message/rfc822", "message/global") and isinstance(part.get_payload(), list):
        _forwarded(part, walk)
        return
    if content_type.startswith("message/") and isinstance(part.get_payload(), list):
        # delivery-status, disposition-notification, feedback-report: header blocks kept as text.
        blocks = [b for b in part.get_payload() if isinstance(b, Message)]
        _add_attachment(part, walk, b"".join(_block_bytes(b) for b in blocks))
        return
    if part.is_multipart():
        children = [child for child in part.get_payload() if isinstance(child, Message)]
        if content_type == "multipart/alternative":
            _alternative(children, walk, depth)
        else:
            for child in children:
                walk_part(child, walk, depth + 1)
        return
    if content_type.startswith("multipart/"):
        # No boundary (or none found): the stdlib leaves the whole body as one string; keep it as text.
        walk.defects.append(f"{content_type} without usable parts: body kept as text")
        walk.segments.append(Segment(text=extract_uuencoded(_part_text(part, walk), walk)))
        return
    if _is_body_text(part, content_type):
        text = _part_text(part, walk)
        if content_type == "text/html":
            walk.segments.append(Segment(html=text))
        else:
            walk.segments.append(Segment(text=extract_uuencoded(text, walk)))
        return
    _add_attachment(part, walk, _payload_bytes(part, walk))


def _alternative(children: list[Message], walk: Walk, depth: int) -> None:
    """One segment from the alternatives: the text/plain side for text, the HTML side for HTML."""
    segment = Segment()
    for child in children:
        sub = Walk(counter=walk.counter)
        walk_part(child, sub, depth + 1)
        walk.counter = sub.counter
        walk.attachments.extend(sub.attachments)
        walk.defects.extend(sub.defects)
        texts = [s.text for s in sub.segments if s.text is not None]
        htmls = [s.html for s in sub.segments if s.html is not None]
        if texts and segment.text is None:
            segment.text = "\n\n".join(texts)
        if htmls:
            segment.html = "\n".join(htmls)  # the last HTML alternative is the richest
    if segment.text is not None or segment.html is not None:
        walk.segments.append(segment)
