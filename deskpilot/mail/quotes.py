"""The new content of a reply: quoted history and signatures removed, across mail clients and
languages, for plain text (``reply_text``) and HTML (``reply_html``).

One detector serves both: it reads lines and finds where the quoted history starts (``>`` lines, an
"On ... wrote:" header, possibly split over lines, an Outlook "-----Original Message-----"
separator, a "From:/Sent:/To:/Subject:" header block, each in many languages). HTML is first cut at
the quote containers mail clients mark (Gmail, Apple, Thunderbird, Outlook, Yahoo), then read as
lines by the same detector. Signatures (``-- ``, app lines such as "Get Outlook for iOS", a closing
"Regards," with a few short lines) are removed from text.

A "Sent from my iPhone" device line at the very end of a reply is kept (it tells the agent the
customer is on a phone; talon's fixtures expect it); text *after* such a line is unmarked history
that mobile clients append, and is removed together with it.
"""

# ruff: noqa: RUF001 - the language tables hold Cyrillic and other non-Latin letters on purpose

from __future__ import annotations

import html as html_lib
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

# --- Language tables ------------------------------------------------------------------------------

# Verbs of reply headers ("On <date>, <name> wrote:"), per language.
_WROTE = {
    "en": r"wrote|writes",
    "de": r"schrieb|schreibt",
    "fr": r"a écrit|a ecrit|écrit",
    "it": r"ha scritto|scrisse",
    "es": r"escribió|escribio",
    "pt": r"escreveu",
    "nl": r"schreef",
    "da/no/sv": r"skrev|skrev följande|skrev følgende",
    "fi": r"kirjoitti",
    "pl": r"napisał\(a\)|napisała|napisał|pisze",
    "ru": r"написал\(а\)|написала|написал|пишет",
    "tr": r"yazdı",
    "hu": r"írta",
    "cs": r"napsal\(a\)|napsala|napsal",
}
# Words that open a reply header; with one of them the header may end right after the verb.
_OPENERS = r"on|le|am|il|in data|el|em|op|den|på|dnia|w dniu|pe|ma|ti|ke|to|pe|la|su|sø|lø|ср|вт|пн|чт|пт|сб|вс|dne"

# Header-block field names ("From:", "Sent:", ...), per field and language.
_HEADER_FIELDS = {
    "from": r"from|de|von|da|van|fra|från|lähettäjä|od|от|kimden|feladó|odesílatel|发件人|差出人",
    "date": r"sent|date|envoyé|envoyé le|gesendet|datum|inviato|data|verzonden|sendt|dato|skickat|lähetetty"
    r"|päivämäärä|wysłano|отправлено|дата|enviado|enviada em|fecha|gönderildi|tarih|elküldve|odesláno"
    r"|message du|发送时间|日付",
    "to": r"to|à|a|an|aan|til|till|vastaanottaja|do|кому|para|kime|címzett|komu|per|收件人|宛先",
    "cc": r"cc|copie à|kopie|kopia|копия|kopio|kopi",
    "subject": r"subject|objet|sujet|betreff|oggetto|onderwerp|emne|ämne|aihe|temat|тема|asunto|assunto|konu"
    r"|tárgy|předmět|主题|件名",
}
# "-----Original Message-----" and its translations (Outlook, Thunderbird, Android mail apps).
_ORIGINAL_MESSAGE = (
    r"original message|original nachricht|ursprüngliche nachricht|oprindelig besked|oprindelig meddelelse"
    r"|message d'origine|message original|mensaje original|messaggio originale|oorspronkelijk bericht"
    r"|origineel bericht|opprinnelig melding|ursprungligt meddelande|originalmeddelande|alkuperäinen viesti"
    r"|wiadomość oryginalna|oryginalna wiadomość|mensagem original|исходное сообщение|původní zpráva"
    r"|eredeti üzenet|orijinal mesaj|reply message|回复的原邮件|原始邮件"
)
# "Sent from my iPhone": a device line (kept at the very end of a reply).
_DEVICE_LINE = re.compile(
    r"^(sent from my|envoyé de mon|envoyé depuis mon|gesendet von meinem|von meinem|enviado desde mi"
    r"|enviado do meu|enviado de meu|inviato dal mio|inviato da iphone|verzonden (?:van|met|vanaf) mijn"
    r"|skickat från min|sendt fra min|lähetetty (?:.*)puhelimesta|wysłane z mojego|отправлено с моего"
    r"|sent from (?:an?|the) (?:iphone|ipad|android|mobile|smartphone|samsung))\b.{0,60}$",
    re.IGNORECASE,
)
# "Get Outlook for iOS", "Sent from Yahoo Mail": an app's advertisement (always removed).
_APP_LINE = re.compile(
    r"^(get outlook for|sent from|sent with|sent via|sent using|envoyé à partir de|envoyé avec|envoyé depuis"
    r"|gesendet von|gesendet mit|enviado desde|enviado con|enviado a través de|enviado do|inviato da|inviato con"
    r"|verzonden met|verzonden vanaf|skickat från|sendt fra|wysłane z|отправлено из|télécharger outlook"
    r"|scarica outlook|outlook für (?:ios|android) herunterladen)\b.{0,100}$",
    re.IGNORECASE,
)
# A closing followed by a name and a few short lines ends the reply (a signature).
_CLOSING = re.compile(
    r"^(best regards|kind regards|warm regards|regards|best wishes|cheers|mit freundlichen grüßen"
    r"|mit freundlichen grüssen|freundliche grüße|viele grüße|beste grüße|liebe grüße|cordialement"
    r"|bien cordialement|bien à vous|saludos|saludos cordiales|un saludo|cordiali saluti|distinti saluti"
    r"|met vriendelijke groet(?:en)?|vriendelijke groet(?:en)?|med venlig hilsen|venlig hilsen|med vennlig hilsen"
    r"|vennlig hilsen|med vänliga hälsningar|vänliga hälsningar|ystävällisin terveisin|pozdrawiam"
    r"|z poważaniem|atenciosamente|cumprimentos|с уважением)\s*[,.!]?$",
    re.IGNORECASE,
)

_VERBS = "|".join(_WROTE.values())
_EMAIL = r"[^\s<>()\"]+@[^\s<>()\"]+"
_REPLY_HEADER_PATTERNS = [
    # "On <date>, <name> wrote:" (the opener lets the header end at the verb, colon optional).
    re.compile(rf"^[-\s]*(?:{_OPENERS})\b.{{0,300}}?(?:{_VERBS})\s*:?[\s-]*$", re.IGNORECASE),
    # "<date>, <name> <email> schrieb/skrev ...:" (ends with a colon after the verb).
    re.compile(rf"^.{{0,300}}?\b(?:{_VERBS})(?!\w).{{0,160}}:\s*$", re.IGNORECASE),
    # "30.09.2017, 18.30, "Name" <a@b.c>:" (a date and an address, then a colon).
    re.compile(rf"^.{{0,250}}\d.{{0,250}}(?:<{_EMAIL}>|\({_EMAIL}\)|{_EMAIL})\s*:\s*$", re.IGNORECASE),
]
_HEADER_END = re.compile(rf"(?::|-|\b(?:{_VERBS}))\s*$", re.IGNORECASE)
_SEPARATOR = re.compile(rf"^[\s*]*[-=_]{{2,}}\s*(?:{_ORIGINAL_MESSAGE})\s*[-=_]{{2,}}[\s*]*$", re.IGNORECASE)
_SEPARATOR_BARE = re.compile(rf"^[\s*]*(?:{_ORIGINAL_MESSAGE})\s*:?[\s*]*$", re.IGNORECASE)
_UNDERSCORES = re.compile(r"^\s*_{8,}\s*$")
_HEADER_LINE = {
    name: re.compile(rf"^[\s*_]*(?:{pattern})[\s*_]*:", re.IGNORECASE) for name, pattern in _HEADER_FIELDS.items()
}
_SIGNATURE_DELIMITER = re.compile(r"^(--|-- |__+)\s*$")
_JUNK_LINE = re.compile(r"^[\s\-=_*~#]*$")

_MAX_SIGNATURE_LINES = 10
_MAX_CLOSING_LINES = 5


def _header_fields(line: str) -> set[str]:
    return {name for name, pattern in _HEADER_LINE.items() if pattern.match(line)}


def _is_reply_header(lines: list[str], index: int) -> bool:
    """Whether a reply header ("On ... wrote:") starts at ``lines[index]`` (over up to 3 lines)."""
    first = lines[index].strip()
    if not first or first.startswith(">") or len(first) > 400:
        return False
    # Cheap test first: every header form ends a line with a colon, a verb or a dash run.
    if not any(_HEADER_END.search(line) for line in lines[index : index + 3]):
        return False
    # A header continued on the next lines starts with a date, an address or an opener word.
    may_continue = bool(re.search(r"\d|@", first) or re.match(rf"[-\s]*(?:{_OPENERS})\b", first, re.IGNORECASE))
    joined = ""
    for extra in range(3):
        if index + extra >= len(lines):
            break
        part = lines[index + extra].strip()
        if extra and (not part or not may_continue):
            break
        joined = f"{joined} {part}".strip() if joined else part
        normalized = re.sub(r"<\s+", "<", re.sub(r"\s+>", ">", joined))
        if len(normalized) > 450:
            break
        if not re.search(r"\d|@", normalized):
            continue
        if any(pattern.match(normalized) for pattern in _REPLY_HEADER_PATTERNS):
            return True
    return False


def _is_header_block(lines: list[str], index: int) -> bool:
    """Whether a forwarded/replied header block ("From: / Sent: / To: / Subject:") starts here."""
    fields = _header_fields(lines[index])
    if not fields:
        return False
    for line in lines[index + 1 : index + 7]:
        if not line.strip():
            if len(fields) >= 3:
                break
            continue
        fields |= _header_fields(line)
    return len(fields) >= 3 and ("from" in fields or "date" in fields) and ("subject" in fields or "to" in fields)


def quote_start(lines: list[str]) -> int | None:
    """Index of the first line of quoted history, None when there is none."""
    for index, line in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith(">"):
            return index
        if _SEPARATOR.match(stripped) or _SEPARATOR_BARE.match(stripped):
            return index
        if _UNDERSCORES.match(stripped) and any(_header_fields(line) for line in lines[index + 1 : index + 3]):
            return index
        if _is_reply_header(lines, index):
            return index
        if _is_header_block(lines, index):
            # "Message du : <date>" or "Sent: <date>" right above the block belongs to it.
            if index and re.search(r"\d{1,2}[:./-]\d{1,2}", lines[index - 1]) and lines[index - 1].strip():
                return index - 1
            return index
    return None


def _strip_signature(lines: list[str]) -> list[str]:
    """Remove mobile app lines, device lines followed by more text, ``--`` signatures, closings."""
    for index, line in enumerate(lines):
        stripped = line.strip()
        if _DEVICE_LINE.match(stripped):
            if any(rest.strip() for rest in lines[index + 1 :]):
                lines = lines[:index]
            break
        if _APP_LINE.match(stripped):
            lines = lines[:index]
            break
    for index in range(len(lines) - 1, -1, -1):
        if _SIGNATURE_DELIMITER.match(lines[index]):
            after = [line for line in lines[index + 1 :] if line.strip()]
            if len(after) <= _MAX_SIGNATURE_LINES and any(line.strip() for line in lines[:index]):
                lines = lines[:index]
            break
    for index in range(len(lines) - 1, -1, -1):
        if _CLOSING.match(lines[index].strip()):
            after = [line for line in lines[index + 1 :] if line.strip()]
            if (
                1 <= len(after) <= _MAX_CLOSING_LINES
                and all(len(line.strip()) <= 60 for line in after)
                and any(line.strip() for line in lines[:index])
            ):
                lines = lines[:index]
            break
    return lines


def _tidy(lines: list[str]) -> str:
    lines = [line.rstrip() for line in lines]
    while lines and _JUNK_LINE.match(lines[-1]):
        lines.pop()
    return "\n".join(lines).strip("\n").strip()


def reply_text(text: str) -> str:
    """Only the new content of a plain-text reply."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    start = quote_start(lines)
    reply = _tidy(_strip_signature(lines[:start] if start is not None else lines))
    if reply:
        return reply
    # Nothing above the quote (a bottom-posted reply): what is neither quoted nor a header.
    if start is not None:
        rest = [line for line in lines[start + 1 :] if not line.lstrip().startswith(">")]
        later = quote_start(rest)
        remainder = _tidy(_strip_signature(rest[:later] if later is not None else rest))
        if remainder:
            return remainder
    return text.strip()


# --- HTML -----------------------------------------------------------------------------------------

_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"}
_BLOCK = {
    "address", "article", "aside", "blockquote", "body", "br", "dd", "div", "dl", "dt", "fieldset", "figure",
    "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "html", "li", "main", "nav", "ol", "p",
    "pre", "section", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
}  # fmt: skip
_SKIP_TEXT = {"style", "script", "head", "title", "template"}
# Quote containers, as (attribute, value pattern): the whole element and what follows are history.
_QUOTE_MARKERS: list[tuple[str | None, str, re.Pattern[str]]] = [
    ("blockquote", "type", re.compile(r"^cite$", re.I)),  # Apple Mail, Thunderbird
    (None, "class", re.compile(r"(^|\s)(gmail_quote|gmail_quote_container|yahoo_quoted|moz-cite-prefix|zmail_extra"
                               r"|OutlookMessageHeader|protonmail_quote|tutanota_quote|x_gmail_quote)(\s|$)", re.I)),
    (None, "id", re.compile(r"^(divRplyFwdMsg|appendonsend|OLK_SRC_BODY_SECTION|mail-editor-reference-message-container"
                            r"|ymail_android_signature|isForwardContent|reply-intro|x_divRplyFwdMsg)$", re.I)),
    ("div", "data-marker", re.compile(r"^__QUOTED_TEXT__$", re.I)),  # Front, Zoho
]  # fmt: skip


@dataclass
class _Node:
    tag: str  # "" for text, "#comment"/"#decl" for the rest
    attrs: list[tuple[str, str | None]] = field(default_factory=list)
    children: list[_Node] = field(default_factory=list)
    text: str = ""
    parent: _Node | None = None


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.root = _Node("#root")
        self.current = self.root

    def _append(self, node: _Node) -> None:
        node.parent = self.current
        self.current.children.append(node)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = _Node(tag, attrs)
        self._append(node)
        if tag not in _VOID:
            self.current = node

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._append(_Node(tag, attrs))

    def handle_endtag(self, tag: str) -> None:
        node: _Node | None = self.current
        while node is not None and node is not self.root:
            if node.tag == tag:
                self.current = node.parent or self.root
                return
            node = node.parent
        # A stray end tag: ignored.

    def handle_data(self, data: str) -> None:
        self._append(_Node("", text=data))

    def handle_entityref(self, name: str) -> None:
        self._append(_Node("", text=f"&{name};"))

    def handle_charref(self, name: str) -> None:
        self._append(_Node("", text=f"&#{name};"))

    def handle_comment(self, data: str) -> None:
        self._append(_Node("#comment", text=data))

    def handle_decl(self, decl: str) -> None:
        self._append(_Node("#decl", text=decl))


def _parse_html(markup: str) -> _Node:
    builder = _TreeBuilder()
    builder.feed(markup)
    builder.close()
    return builder.root


def _serialize(node: _Node, out: list[str]) -> None:
    if node.tag == "":
        out.append(node.text)
        return
    if node.tag == "#comment":
        out.append(f"<!--{node.text}-->")
        return
    if node.tag == "#decl":
        out.append(f"<!{node.text}>")
        return
    if node.tag != "#root":
        attrs = "".join(
            f" {name}" if value is None else f' {name}="{html_lib.escape(value, quote=True)}"'
            for name, value in node.attrs
        )
        out.append(f"<{node.tag}{attrs}>")
    for child in node.children:
        _serialize(child, out)
    if node.tag != "#root" and node.tag not in _VOID:
        out.append(f"</{node.tag}>")


def _in_order(node: _Node) -> list[_Node]:
    result: list[_Node] = []
    stack = [node]
    while stack:
        current = stack.pop()
        result.append(current)
        stack.extend(reversed(current.children))
    return result


def _matches_marker(node: _Node) -> bool:
    if not node.tag or node.tag.startswith("#"):
        return False
    attrs = {name.lower(): value or "" for name, value in node.attrs}
    for tag, attribute, pattern in _QUOTE_MARKERS:
        if (tag is None or tag == node.tag) and attribute in attrs and pattern.search(attrs[attribute]):
            return True
    return False


def _cut_from(node: _Node) -> None:
    """Remove ``node`` and everything after it in document order."""
    current = node
    while current.parent is not None:
        siblings = current.parent.children
        position = next(i for i, child in enumerate(siblings) if child is current)
        del siblings[position + (0 if current is node else 1) :]
        current = current.parent


def _text_lines(root: _Node) -> list[tuple[str, _Node | None]]:
    """The document read as lines of text, each with the node where the line starts."""
    lines: list[tuple[str, _Node | None]] = []
    buffer: list[str] = []
    start: list[_Node | None] = [None]

    def flush() -> None:
        line = re.sub(r"\s+", " ", html_lib.unescape("".join(buffer)).replace("\xa0", " ")).strip()
        if line:
            lines.append((line, start[0]))
        buffer.clear()
        start[0] = None

    def visit(node: _Node) -> None:
        if node.tag in _SKIP_TEXT or (node.tag.startswith("#") and node.tag != "#root"):
            return
        if node.tag == "":
            if node.text.strip() and start[0] is None:
                start[0] = node
            buffer.append(node.text)
            return
        block = node.tag in _BLOCK
        if block:
            flush()
            if node.tag == "hr":
                lines.append(("__________", node))
        for child in node.children:
            visit(child)
        if block:
            flush()

    visit(root)
    flush()
    return lines


def _prune_trailing(node: _Node) -> bool:
    """Drop empty elements, line breaks and rules left at the end; True when ``node`` is now empty."""
    while node.children:
        last = node.children[-1]
        if (
            (last.tag == "" and not html_lib.unescape(last.text).replace("\xa0", " ").strip())
            or last.tag in ("br", "hr", "#comment")
            or (last.tag and not last.tag.startswith("#") and last.tag not in _VOID and _prune_trailing(last))
        ):
            node.children.pop()
        else:
            break
    return not node.children


def reply_html(markup: str) -> str:
    """Only the new content of an HTML reply (not sanitised: sanitise the result before showing it)."""
    if not markup.strip():
        return markup
    try:
        root = _parse_html(markup)
    except Exception:  # html.parser is lenient; anything it cannot read is left whole
        return markup
    for node in _in_order(root):
        if _matches_marker(node):
            _cut_from(node)
            break
    lines = _text_lines(root)
    texts = [text for text, _ in lines]
    start = quote_start(texts)
    if start is not None:
        # The quote starts at the node of that line (or the nearest earlier line that has one).
        index = start
        while index >= 0 and lines[index][1] is None:
            index -= 1
        if index >= 0:
            anchor = lines[index][1]
            assert anchor is not None
            _cut_from(anchor)
    _prune_trailing(root)
    out: list[str] = []
    _serialize(root, out)
    result = "".join(out).strip()
    return result if re.sub(r"<[^>]*>|\s|&nbsp;", "", result) or "<img" in result else markup
