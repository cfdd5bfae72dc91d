"""Cleaning customer text before it is embedded or its words are counted.

What identifies one customer or one order (email addresses, links, order and phone numbers,
reference codes) says nothing about what a theme is about, and would otherwise end up in theme
labels ("order 00123842") or pull a customer's messages together because they share an order
number. Everything here is a pure function of its input.
"""

from __future__ import annotations

import re

# Longest text considered, in characters. The embedding model reads at most 256 word pieces (about
# 1,000 characters of English) anyway; the limit keeps a pasted log file from costing seconds.
MAX_CHARS = 4_000

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
# Any token holding a digit: order and ticket numbers, phone numbers, amounts, dates, codes like
# ORD-1234 or A1B2C3. Hyphens, slashes, dots and '#' inside such a token go with it.
_WITH_DIGIT = re.compile(r"[#\w/.:-]*\d[\w/.:-]*")
_TEMPLATE_SLOT = re.compile(r"\{\{[^}]*\}\}")  # placeholders such as {{Order Number}}
# A title and the name after it ("Mr. Smith"): a person, not a topic.
_TITLED_NAME = re.compile(r"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr)\b\.?\s+[A-Z][\w'-]*")
_SPACES = re.compile(r"\s+")

# Words that are in nearly every customer message and so name no theme. Common English stop
# words are removed separately (scikit-learn's list); these are the help desk's own.
DESK_STOP_WORDS = frozenset(
    {
        "hi",
        "hello",
        "hey",
        "dear",
        "thanks",
        "thank",
        "thx",
        "regards",
        "kind",
        "best",
        "cheers",
        "pls",
        "plz",
        "please",
        "ok",
        "okay",
        "sir",
        "madam",
        "team",
        "support",
        "im",
        "ive",
        "dont",
        "cant",
        "wanna",
        "gonna",
        "u",
        # What is left of "don't", "isn't" and so on once the apostrophe splits the word.
        "don",
        "doesn",
        "didn",
        "isn",
        "wasn",
        "won",
        "ve",
        "ll",
        "re",
        "mr",
        "mrs",
        "ms",
        "dr",
    }
)


def clean(text: str) -> str:
    """``text`` without emails, links, tokens holding digits or template slots, whitespace
    collapsed, cut at ``MAX_CHARS``. Words are kept as they are (case included)."""
    text = text[: MAX_CHARS * 2]
    text = _TEMPLATE_SLOT.sub(" ", text)
    text = _EMAIL.sub(" ", text)
    text = _TITLED_NAME.sub(" ", text)
    text = _URL.sub(" ", text)
    text = _WITH_DIGIT.sub(" ", text)
    return _SPACES.sub(" ", text).strip()[:MAX_CHARS]
