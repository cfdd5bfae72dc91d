"""Voice-of-customer engine at scale (issue 7): ``python -m bench.insights [--messages N] [--out FILE]``.

No database and no Django: the engine is plain Python (deskpilot.feedback.insights). Measures:

- ``themes``: ``find_themes`` over ``--messages`` customer messages (50,000 by default) with the
  embedding backend: wall time of the embedding and of the clustering (HDBSCAN on the sample,
  assignment and refinement over all, labels and examples), against the issue's 10 minutes;
- ``assign``: what a new message costs once themes exist: its theme (one embedding and one
  matrix product against the centroids) and its sentiment, one message at a time, p50/p95 over
  ``--assign`` messages the corpus does not hold, after a warm-up, against the issue's 30 ms;
- the same two for the TF-IDF fallback (``--skip-tfidf`` leaves it out).

The messages are built from the third-party Bitext customer-service utterances
($DESKPILOT_TESTDATA/support_datasets/bitext_intent, 8,100 of them in 27 intents): each message
is one to three utterances of one intent between a greeting, up to two detail sentences (order
numbers, emails, dates) and a sign-off drawn at random, so lengths and wording vary like e-mail
(about 10 to 80 words). Deterministic for a given ``--seed``. torch uses ``--threads`` threads (the engine's
default is one; see deskpilot/feedback/insights/embedding.py).
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import os
import random
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench.common import REPO, summarize_ms

THEMES_TARGET_S = 600.0
ASSIGN_TARGET_MS = 30.0
BITEXT_FILES = (
    "Bitext_Sample_Customer_Service_Training_Dataset.csv",
    "Bitext_Sample_Customer_Service_Validation_Dataset.csv",
    "Bitext_Sample_Customer_Service_Testing_Dataset.csv",
)
OPENERS = ("", "Hi,", "Hello,", "Hello team,", "Good morning,", "Dear support,", "Hey,", "Hi there!")
DETAILS = (
    "My order number is {num}.",
    "I ordered on {day} and paid with my card.",
    "You can reach me at {email} or on {phone}.",
    "This is the second time I write about this.",
    "The reference on my last email was #{num}.",
    "I have been a customer for {years} years.",
    "I already tried the help page but it did not answer my question.",
)
CLOSERS = ("", "Thanks.", "Thank you,\n{name}", "Regards,\n{name}", "Best,\n{name}", "Please answer soon.", "Cheers")
NAMES = ("Anna", "Ben", "Chiara", "Dmitri", "Emeka", "Fatima", "Hiro", "Ines", "Jonas", "Priya")
DAYS = ("Monday", "Tuesday", "Wednesday", "Friday", "the weekend", "March 3rd", "last week")


def testdata() -> Path:
    root = os.environ.get("DESKPILOT_TESTDATA") or str(REPO.parent / "shared" / "testdata")
    return Path(root) / "support_datasets" / "bitext_intent"


def utterances() -> dict[str, list[str]]:
    """Bitext's utterances by intent."""
    by_intent: dict[str, list[str]] = defaultdict(list)
    for name in BITEXT_FILES:
        path = testdata() / name
        if not path.is_file():
            raise SystemExit(f"test data missing: {path} (set DESKPILOT_TESTDATA)")
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                by_intent[row["intent"]].append(row["utterance"])
    return dict(by_intent)


def messages(count: int, seed: int) -> tuple[list[str], list[str]]:
    """``count`` e-mail-like customer messages and the intent each is about."""
    rng = random.Random(seed)
    by_intent = utterances()
    intents = sorted(by_intent)
    texts, labels = [], []
    for _ in range(count):
        intent = rng.choice(intents)
        body = " ".join(rng.sample(by_intent[intent], rng.choice((1, 1, 2, 3))))
        body = body[0].upper() + body[1:]
        parts = [rng.choice(OPENERS), body, *rng.sample(DETAILS, rng.choice((0, 1, 1, 2))), rng.choice(CLOSERS)]
        text = "\n".join(part for part in parts if part).format(
            num=rng.randrange(10_000, 99_999_999),
            day=rng.choice(DAYS),
            email=f"{rng.choice(NAMES).lower()}.{rng.randrange(1000)}@example.com",
            phone=f"+44 20 {rng.randrange(1000, 9999)} {rng.randrange(1000, 9999)}",
            years=rng.randrange(2, 15),
            name=rng.choice(NAMES),
        )
        texts.append(text)
        labels.append(intent)
    return texts, labels


def measure_backend(
    backend: str, texts: list[str], labels: list[str], new: list[str], *, threads: int, warmup: int
) -> dict[str, Any]:
    from deskpilot.feedback.insights.embedding import SentenceEmbedder, get_embedder
    from deskpilot.feedback.insights.evaluation import agreement
    from deskpilot.feedback.insights.sentiment import sentiment
    from deskpilot.feedback.insights.themes import find_themes

    started = time.monotonic()
    embedder = get_embedder(backend)  # type: ignore[arg-type]
    if isinstance(embedder, SentenceEmbedder):
        embedder.threads = threads
    loaded = time.monotonic()
    marks: dict[str, float] = {}
    last_print = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.monotonic()
        if now - last_print[0] > 30 or done == total:
            print(f"  {backend}: embedded {done:,}/{total:,} in {now - loaded:.0f} s", flush=True)
            last_print[0] = now
        if done == total:
            marks["embedded"] = now

    clustering = find_themes(texts, embedder=embedder, progress=progress)
    finished = time.monotonic()
    figures = agreement(labels, clustering.assignments.tolist())

    model = clustering.model
    for text in new[:warmup]:
        model.assign(text)
        sentiment(text)
    theme_ms, sentiment_ms, both_ms = [], [], []
    for text in new[warmup:]:
        t0 = time.perf_counter()
        model.assign(text)
        t1 = time.perf_counter()
        sentiment(text)
        t2 = time.perf_counter()
        theme_ms.append((t1 - t0) * 1000)
        sentiment_ms.append((t2 - t1) * 1000)
        both_ms.append((t2 - t0) * 1000)
    embedded = marks.get("embedded", finished)
    return {
        "backend": backend,
        "threads": threads if backend == "embedding" else None,
        "messages": len(texts),
        "load_seconds": round(loaded - started, 2),
        "embed_seconds": round(embedded - loaded, 1),
        "cluster_seconds": round(finished - embedded, 1),
        "themes_seconds": round(finished - loaded, 1),
        "themes": len(clustering.themes),
        "unthemed": clustering.unthemed,
        "nmi_vs_intents": round(figures.nmi, 3),
        "ari_vs_intents": round(figures.ari, 3),
        "largest_themes": [f"{theme.size} {theme.label}" for theme in clustering.themes[:8]],
        "assign_samples": len(both_ms),
        "assign_theme_ms": summarize_ms(theme_ms),
        "assign_sentiment_ms": summarize_ms(sentiment_ms),
        "assign_total_ms": summarize_ms(both_ms),
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.insights", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=50_000, help="messages to cluster (default 50,000)")
    parser.add_argument("--assign", type=int, default=200, help="new messages assigned one by one (default 200)")
    parser.add_argument("--warmup", type=int, default=20, help="assignments not counted first")
    parser.add_argument("--threads", type=int, default=1, help="torch threads for the embedding (default 1)")
    parser.add_argument("--seed", type=int, default=20261203)
    parser.add_argument("--skip-tfidf", action="store_true", help="measure the embedding backend only")
    parser.add_argument("--skip-embedding", action="store_true", help="measure the TF-IDF fallback only")
    parser.add_argument("--out", type=Path, help="write the results as JSON here too")
    args = parser.parse_args(argv)
    if args.messages < 100 or args.assign < 1 or args.warmup < 0 or args.threads < 1:
        parser.error("--messages must be at least 100, --assign and --threads at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    from bench import machine
    from deskpilot.feedback.insights.embedding import embedding_available

    args = parse_args(argv)
    texts, labels = messages(args.messages, args.seed)
    # New messages: built the same way from another seed, so the corpus does not hold them.
    new, _ = messages(args.assign + args.warmup, args.seed + 1)
    words = sum(len(text.split()) for text in texts) / len(texts)
    print(f"{len(texts):,} messages, {words:.0f} words on average; {len(new) - args.warmup} to assign", flush=True)
    result: dict[str, Any] = {
        "started_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": machine.describe(),
        "loadavg_before": list(os.getloadavg()),
        "cpu_busy_before": machine.cpu_busy(),
        "messages": len(texts),
        "average_words": round(words, 1),
        "targets": {"themes_seconds": THEMES_TARGET_S, "assign_ms_p95": ASSIGN_TARGET_MS},
        "runs": [],
    }
    backends = []
    if not args.skip_embedding:
        if not embedding_available():
            raise SystemExit("the insights extra is not installed: pip install -r requirements-insights.txt")
        backends.append("embedding")
    if not args.skip_tfidf:
        backends.append("tfidf")
    for backend in backends:
        run = measure_backend(backend, texts, labels, new, threads=args.threads, warmup=args.warmup)
        result["runs"].append(run)
        total = run["assign_total_ms"]
        print(
            f"{backend}: themes for {run['messages']:,} messages in {run['themes_seconds']:.0f} s "
            f"(embedding {run['embed_seconds']:.0f} s, clustering {run['cluster_seconds']:.0f} s; "
            f"target {THEMES_TARGET_S:.0f} s), {run['themes']} themes, {run['unthemed']:,} unthemed, "
            f"NMI {run['nmi_vs_intents']}, ARI {run['ari_vs_intents']}; "
            f"a new message's theme + sentiment p50 {total['p50']:.1f} ms, p95 {total['p95']:.1f} ms "
            f"(target {ASSIGN_TARGET_MS:.0f} ms)",
            flush=True,
        )
    result["loadavg_after"] = list(os.getloadavg())
    result["finished_at"] = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    if args.out:
        args.out.write_text(json.dumps(result, indent=2))
    else:
        json.dump(result, sys.stdout, indent=2)
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
