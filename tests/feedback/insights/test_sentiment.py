from __future__ import annotations

import pytest

from deskpilot.feedback.insights.sentiment import Sentiment, label_for, sentiment


@pytest.mark.parametrize(
    "text",
    [
        "This is the third time I write and nobody answers. I am furious.",
        "Your service is terrible and I want a refund NOW!!!",
        "I am not happy with the delay.",
        "Worst experience ever, the product broke after one day :(",
    ],
)
def test_clearly_negative(text: str) -> None:
    result = sentiment(text)
    assert result.label == "negative"
    assert -1.0 <= result.score < -0.3


@pytest.mark.parametrize(
    "text",
    [
        "Thanks a lot, that solved it!",
        "Great, the package arrived on time. Very happy with it.",
        "Excellent support, you were amazing, thank you so much",
    ],
)
def test_clearly_positive(text: str) -> None:
    result = sentiment(text)
    assert result.label == "positive"
    assert 0.3 < result.score <= 1.0


@pytest.mark.parametrize(
    "text",
    [
        "I want to change my delivery address",
        "Please help me cancel my order 12345",
        "Where can I download the invoice for my accountant?",
        "Hello,\n\nmy order 1234 has not arrived.\nWhere is it?\n\nKind regards,\nAnna",
    ],
)
def test_plain_requests_are_neutral(text: str) -> None:
    # "want", "help", "please", "cancel" and "kind regards" carry sentiment in VADER's general
    # lexicon; in a help desk they are just how requests are worded.
    assert sentiment(text) == Sentiment("neutral", 0.0)


@pytest.mark.parametrize("text", ["", "   \n\t", None, "12345 #ORD-9", "..."])
def test_empty_or_wordless_text_is_neutral(text: str | None) -> None:
    assert sentiment(text) == Sentiment("neutral", 0.0)


def test_one_furious_sentence_in_a_long_message_still_reads_negative() -> None:
    neutral = "My order number is 5512. I ordered it on Monday. The parcel was sent by courier. "
    text = neutral * 5 + "This is absolutely unacceptable and I am very angry."
    result = sentiment(text)
    assert result.label == "negative"
    assert result.frustrated


def test_very_long_text_is_bounded_and_in_range() -> None:
    result = sentiment("I love this! " * 200_000)
    assert result.label == "positive"
    assert -1.0 <= result.score <= 1.0


def test_label_thresholds() -> None:
    assert label_for(0.05) == "positive"
    assert label_for(0.049) == "neutral"
    assert label_for(-0.049) == "neutral"
    assert label_for(-0.05) == "negative"
    assert not Sentiment("negative", -0.2).frustrated
