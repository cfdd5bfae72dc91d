"""Data for the insights tests: a small synthetic corpus made here, and the third-party labelled
datasets read from $DESKPILOT_TESTDATA (never copied into the repository)."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

BITEXT_FILES = (
    "Bitext_Sample_Customer_Service_Training_Dataset.csv",
    "Bitext_Sample_Customer_Service_Validation_Dataset.csv",
    "Bitext_Sample_Customer_Service_Testing_Dataset.csv",
)

# Four things customers write about, each in several wordings, with order numbers, emails and
# names that vary from message to message (and must never reach a theme's label).
TOPICS: dict[str, list[str]] = {
    "refund": [
        "I still have not received my refund for order {num}",
        "where is the refund for order #{num}? the money is not back",
        "please refund the money for order {num}",
        "the refund for order {num} is still missing, contact me at {email}",
        "you promised a refund on order {num} but no money yet",
    ],
    "delivery": [
        "my parcel {num} has not been delivered yet",
        "the courier never delivered parcel {num}",
        "parcel {num} is late and still not delivered",
        "tracking says parcel {num} was delivered but there is no parcel at my door",
        "when will parcel {num} be delivered?",
    ],
    "password": [
        "I forgot my password and the password reset link does not work",
        "the password reset email never arrives at {email}",
        "how do I reset my password?",
        "locked out after a password reset, user {email}",
        "the password reset link expired, send a new password link",
    ],
    "invoice": [
        "could you send me a copy of invoice {num}",
        "I need invoice {num} with our VAT number for Mr. {name}",
        "invoice {num} shows the wrong company address, please correct the invoice",
        "where can I download invoice {num}?",
        "please email invoice {num} again to {email}",
    ],
}
NEW_TOPIC = {
    "subscription": [
        "how do I cancel my subscription before the next billing",
        "stop the subscription, no more monthly subscription renewal",
        "please end my subscription, the subscription renewal charged me again ({email})",
        "cancel the subscription renewal for {email} today",
        "does cancelling the subscription stop the billing?",
    ]
}
NAMES = ["Smith", "Garcia", "Okafor", "Nakamura", "Jensen", "Rossi"]
OPENERS = ["", "Hi,", "Hello,", "Good morning.", "Dear team,", "Hey there!"]
CLOSERS = ["", "Thanks.", "Regards, {name}", "Please answer soon.", "Sent from my phone", "Cheers"]
DETAILS = ["", "I ordered on {day}.", "This is my second message.", "My email is {email}.", "Customer {num}."]
DAYS = ["Monday", "Tuesday", "Friday", "the weekend", "last week"]


def synthetic(topics: dict[str, list[str]], per_topic: int, seed: int) -> tuple[list[str], list[str]]:
    """``per_topic`` messages per topic, shuffled: (texts, topic of each). Each is a topic's
    sentence between greetings, details and sign-offs drawn at random, with its own numbers,
    emails and names."""
    rng = random.Random(seed)
    rows = []
    for topic, templates in topics.items():
        for _ in range(per_topic):
            parts = [rng.choice(OPENERS), rng.choice(templates), rng.choice(DETAILS), rng.choice(CLOSERS)]
            text = " ".join(part for part in parts if part).format(
                num=rng.randrange(10_000_000, 99_999_999),
                email=f"{rng.choice(NAMES).lower()}{rng.randrange(100)}@example.com",
                name=rng.choice(NAMES),
                day=rng.choice(DAYS),
            )
            rows.append((text, topic))
    rng.shuffle(rows)
    return [text for text, _ in rows], [topic for _, topic in rows]


@pytest.fixture
def corpus() -> tuple[list[str], list[str]]:
    return synthetic(TOPICS, 60, seed=1)


def testdata() -> Path:
    root = os.environ.get("DESKPILOT_TESTDATA")
    if not root:
        pytest.skip("DESKPILOT_TESTDATA is not set (make test sets it)")
    return Path(root)


@pytest.fixture
def bitext_files() -> list[Path]:
    folder = testdata() / "support_datasets" / "bitext_intent"
    files = [folder / name for name in BITEXT_FILES]
    missing = [str(path) for path in files if not path.is_file()]
    if missing:
        pytest.fail(f"test data missing: {', '.join(missing)}")
    return files
