from __future__ import annotations

from deskpilot.feedback.insights.text import MAX_CHARS, clean


def test_clean_strips_what_identifies_a_customer_or_an_order() -> None:
    text = (
        "Hi, Mr. Jensen here: order #00123842 (ORD-55-1234) from jane.doe+shop@example.co.uk, "
        "see https://shop.example.com/orders/12 or www.example.com; call +1 555 123 4567 {{Order Number}}"
    )
    cleaned = clean(text)
    assert not any(char.isdigit() for char in cleaned)
    assert "@" not in cleaned
    assert "example" not in cleaned
    assert "Jensen" not in cleaned
    assert "{{" not in cleaned
    assert cleaned.startswith("Hi, here: order")


def test_clean_keeps_words_and_bounds_length() -> None:
    assert clean("  my   parcel\n\nis late ") == "my parcel is late"
    assert clean("") == ""
    assert len(clean("word " * 10_000)) <= MAX_CHARS
