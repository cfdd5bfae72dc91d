"""Header decoding that survives real-world mail: RFC 2047 words (also split over folded lines and
across multibyte characters), raw 8-bit headers in any charset, unknown charsets, broken addresses."""

from __future__ import annotations

import codecs
import datetime
import email.header
import email.utils
import re
import weakref
from email.message import Message

_FOLD = re.compile(r"\r?\n[ \t]+")
_ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?]*\?=")
_BETWEEN_WORDS = re.compile(r"(=\?[^?\s]+\?[bBqQ]\?[^?]*\?=)\s+(?==\?[^?\s]+\?[bBqQ]\?)")
_ANGLE_ID = re.compile(r"<([^<>\s]+)>")
_CTRL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# Charsets mail software declares that Python does not know by that name, or that are supersets.
_CHARSET_ALIASES = {
    "iso-8859-8-i": "iso-8859-8",
    "x-unknown": "",
    "unknown-8bit": "",
    "x-user-defined": "cp1252",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949",
    "iso-8859-1": "cp1252",  # what senders that say latin-1 really send (the WHATWG rule)
    "latin-1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "shift_jis": "cp932",
}


def codec_for(charset: str | None) -> str:
    """A Python codec name for a declared charset, "" when unknown."""
    if not charset:
        return ""
    name = charset.strip().strip("\"'").lower()
    name = _CHARSET_ALIASES.get(name, name)
    if not name:
        return ""
    try:
        return codecs.lookup(name).name
    except LookupError:
        return ""


def decode_bytes(data: bytes, charset: str | None) -> tuple[str, bool]:
    """Text from bytes: declared charset, then UTF-8, then cp1252, then latin-1 (never fails).
    The flag tells whether the declaration was wrong or missing (for the defects list)."""
    codec = codec_for(charset)
    if codec in ("cp1252", "latin-1", "iso8859-1", "ascii") and not data.isascii():
        # A "latin-1" part that is valid UTF-8 with non-ASCII characters is UTF-8 mislabelled:
        # valid multibyte UTF-8 sequences practically never occur in real latin-1 text.
        try:
            return data.decode("utf-8"), True
        except UnicodeDecodeError:
            pass
    if codec:
        try:
            return data.decode(codec), False
        except (UnicodeDecodeError, LookupError):
            pass
    try:
        return data.decode("utf-8"), bool(charset)
    except UnicodeDecodeError:
        pass
    # Mostly UTF-8 with a few broken sequences (a truncated character): UTF-8 with replacements
    # reads better than cp1252 mojibake of every character.
    lenient = data.decode("utf-8", "replace")
    broken = lenient.count("\ufffd")
    if sum(1 for ch in lenient if ord(ch) > 127) - broken > 2 * broken:
        return lenient, True
    try:
        return data.decode("cp1252"), True
    except UnicodeDecodeError:
        return data.decode("latin-1"), True


def _undo_surrogates(value: str) -> str:
    """Raw 8-bit header bytes arrive as surrogate escapes from BytesParser: decode them properly."""
    if not any("\udc80" <= ch <= "\udcff" for ch in value):
        return value
    raw = value.encode("utf-8", "surrogateescape")
    return decode_bytes(raw, None)[0]


def decode_header(value: str | None) -> str:
    """A header value as text: unfolded, encoded words decoded, control characters removed."""
    if not value:
        return ""
    value = _undo_surrogates(str(value))
    value = _FOLD.sub(" ", value).replace("\r", "").replace("\n", " ")
    if "=?" in value and _ENCODED_WORD.search(value):
        # Whitespace between two encoded words is not part of the text (RFC 2047 section 6.2).
        value = _BETWEEN_WORDS.sub(r"\1", value)
        try:
            chunks = email.header.decode_header(value)
        except Exception:  # a broken encoded word: keep the text as written
            chunks = [(value, None)]
        parts: list[str] = []
        for chunk, charset in chunks:
            if isinstance(chunk, bytes):
                parts.append(decode_bytes(chunk, charset)[0])
            else:
                parts.append(chunk)
        value = "".join(parts)
    return _CTRL.sub("", value).strip()


def parse_addresses(value: str | None) -> list[tuple[str, str]]:
    """(name, email) pairs from an address header as written (decoded, never raising)."""
    if not value:
        return []
    raw = _FOLD.sub(" ", _undo_surrogates(str(value)))
    try:
        pairs = email.utils.getaddresses([raw])
    except Exception:
        pairs = []
    result: list[tuple[str, str]] = []
    for name, addr in pairs:
        addr = _CTRL.sub("", addr).strip().strip("<>").strip()
        if not addr and not name:
            continue
        if not addr or "@" not in addr:
            # A bare word or a broken address: look for anything that looks like one in the name.
            found = re.search(r"[^\s<>\"',;:()]+@[^\s<>\"',;:()]+", name + " " + addr)
            if not found:
                continue
            addr = found.group(0)
        result.append((decode_header(name).strip().strip("\"'").strip(), addr))
    if not result:
        result = [("", addr) for addr in re.findall(r"[^\s<>\"',;:()]+@[^\s<>\"',;:()]+", raw)]
    return result


def message_ids(value: str | None) -> list[str]:
    """Message-IDs without angle brackets, in the order written."""
    if not value:
        return []
    text = _FOLD.sub(" ", _undo_surrogates(str(value)))
    ids = _ANGLE_ID.findall(text)
    if not ids:
        ids = [word.strip("<>,;") for word in text.split() if "@" in word]
    seen: set[str] = set()
    result = []
    for mid in ids:
        if mid and mid not in seen:
            seen.add(mid)
            result.append(mid)
    return result


def parse_date(value: str | None) -> datetime.datetime | None:
    """An aware UTC datetime, None when missing or unreadable."""
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(_FOLD.sub(" ", str(value)).strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.UTC)
    try:
        return parsed.astimezone(datetime.UTC)
    except (OverflowError, ValueError):
        return None


_VIEWS: weakref.WeakKeyDictionary[Message, Message] = weakref.WeakKeyDictionary()


def mime_view(part: Message) -> Message:
    """A cheap compat32 copy of a part's Content-Type and Content-Disposition, cached per part.

    With policy.default every ``get_content_type()``/``get_param()`` re-parses the header with the
    full RFC 5322 parser (about 0.3 ms each); the MIME walk and the classification ask many times
    per part. compat32's parameter parsing (RFC 2231 included) on the raw value is ~50x cheaper and
    tolerant of the same broken input."""
    view = _VIEWS.get(part)
    if view is None:
        view = Message()
        view.set_default_type(part.get_default_type())
        try:
            for key, value in part.raw_items():
                if key.lower() in ("content-type", "content-disposition") and key not in view:
                    view[key] = _FOLD.sub(" ", str(value))
        except Exception:  # noqa: S110 - a part whose headers cannot be read: the defaults apply
            pass
        _VIEWS[part] = view
    return view
