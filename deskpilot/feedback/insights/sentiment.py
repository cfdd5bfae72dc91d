"""Sentiment of a customer's message: positive, neutral or negative, with a score in [-1, 1].

VADER (``vaderSentiment``, MIT): a lexicon of words rated by people, with rules for negation
("not good"), intensifiers ("very"), capitals, exclamation marks and emoticons, made for short
informal text such as chat and reviews. No model to load, no extra needed, and about 0.1 ms a
sentence.

Two adaptations to help-desk text:

- The words customers use to *ask* for something ("please help", "I want", "support",
  "customer care", "free account", "cancel my order", "kind regards") are rated positive or
  negative in VADER's general lexicon; here they are neutral, so a plain request is neutral.
- A message is scored sentence by sentence, and its score is the mean of the sentences that carry
  any sentiment, each weighted by its own strength. VADER sums over the whole text, which drifts
  towards ±1 as a message gets longer; and one furious sentence among mild or neutral ones
  should still read as clearly negative.

The caller passes the customer's own words (quoted replies and signatures removed where it can);
empty text is neutral, and very long text is read up to ``text.MAX_CHARS`` characters.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from deskpilot.feedback.insights.text import MAX_CHARS

if TYPE_CHECKING:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

Label = Literal["positive", "neutral", "negative"]

# VADER's authors' recommended cut-offs for the compound score.
POSITIVE_FROM = 0.05
NEGATIVE_TO = -0.05
# From here down a message reads as clearly upset (e.g. "This is the third time I write and
# nobody answers. I am furious." scores -0.57): what a "frustrated customer" flag can use.
FRUSTRATED_TO = -0.5
# Sentences read per message.
MAX_SENTENCES = 60

# Request vocabulary, neutral in a help desk (VADER's general ratings in the comment).
_NEUTRAL_HERE = (
    "help",  # 1.7
    "please",  # 1.3
    "want",  # 0.3
    "support",  # 1.7
    "care",  # 2.2 ("customer care")
    "free",  # 2.3 ("free account", "free shipping")
    "like",  # 1.5 ("I would like to")
    "ok",  # 1.2
    "okay",  # 0.9
    "cancel",  # -1.0
    "kind",  # 2.4 ("kind regards")
    "best",  # 3.2 ("best regards")
    "reach",  # 0.1
    "number",  # 0.3 ("order number")
    "yes",  # 1.7
    "hopefully",  # 1.7 ("hopefully soon")
)

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


@dataclass(frozen=True)
class Sentiment:
    label: Label
    score: float  # -1 (most negative) .. 1 (most positive)

    @property
    def frustrated(self) -> bool:
        """Clearly negative: a message a manager may want to see (``FRUSTRATED_TO``)."""
        return self.score <= FRUSTRATED_TO


def label_for(score: float) -> Label:
    """The label of a compound score."""
    if score >= POSITIVE_FROM:
        return "positive"
    if score <= NEGATIVE_TO:
        return "negative"
    return "neutral"


def sentiment(text: str | None) -> Sentiment:
    """The sentiment of one customer message."""
    if not text or not text.strip():
        return Sentiment("neutral", 0.0)
    analyzer = _analyzer()
    sentences = [part for part in _SENTENCE_END.split(text[:MAX_CHARS]) if part.strip()][:MAX_SENTENCES]
    scores = [float(analyzer.polarity_scores(sentence)["compound"]) for sentence in sentences]
    felt = [score for score in scores if abs(score) >= POSITIVE_FROM]
    weight = sum(abs(score) for score in felt)
    score = round(sum(score * abs(score) for score in felt) / weight, 4) if felt else 0.0
    return Sentiment(label_for(score), max(-1.0, min(1.0, score)))


def sentiments(texts: list[str]) -> list[Sentiment]:
    """``sentiment`` of each text."""
    return [sentiment(text) for text in texts]


@functools.cache
def _analyzer() -> SentimentIntensityAnalyzer:
    """One analyzer per process: it reads its lexicon file (7,500 words) when made."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    for word in _NEUTRAL_HERE:
        analyzer.lexicon.pop(word, None)
    return analyzer
