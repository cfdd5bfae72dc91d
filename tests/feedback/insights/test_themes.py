"""Themes on a synthetic corpus with the TF-IDF backend (fast, always installed); the same code
paths with the sentence-embedding model are in test_embedding.py (slow)."""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
import pytest

from deskpilot.feedback.insights.embedding import TfidfEmbedder, normalise
from deskpilot.feedback.insights.themes import (
    NO_THEME,
    Clustering,
    carry_over_ids,
    cluster_vectors,
    distinctive_words,
    find_themes,
    match_themes,
)
from tests.feedback.insights.conftest import NEW_TOPIC, TOPICS, synthetic

# The synthetic corpus is small (240 messages of five sentence shapes per topic): themes of at
# least 5% keep a topic's sentence shapes together, as on real data with the default 1%.
MIN_SHARE = 0.05


def topic_of(clustering: Clustering, topics: list[str], purity: float = 0.9) -> dict[int, str]:
    """Each theme's majority topic, asserting that the theme is at least ``purity`` pure."""
    out = {}
    for theme in clustering.themes:
        members = Counter(t for t, a in zip(topics, clustering.assignments.tolist(), strict=True) if a == theme.id)
        topic, count = members.most_common(1)[0]
        assert count >= purity * theme.size, (theme.label, members)
        out[theme.id] = topic
    return out


def test_themes_recover_the_topics_without_being_told_how_many(corpus: tuple[list[str], list[str]]) -> None:
    texts, topics = corpus
    clustering = find_themes(texts, backend="tfidf", min_share=MIN_SHARE)
    assert 4 <= len(clustering.themes) <= 10
    found = topic_of(clustering, topics)
    assert set(found.values()) == set(TOPICS)
    assert clustering.unthemed <= 0.1 * len(texts)
    sizes = [theme.size for theme in clustering.themes]
    assert sizes == sorted(sizes, reverse=True)
    assert sum(sizes) + clustering.unthemed == len(texts)
    assert [theme.id for theme in clustering.themes] == list(range(len(sizes)))


def test_labels_have_distinctive_words_and_no_order_numbers_emails_or_names(
    corpus: tuple[list[str], list[str]],
) -> None:
    texts, topics = corpus
    clustering = find_themes(texts, backend="tfidf", min_share=MIN_SHARE)
    found = topic_of(clustering, topics)
    expected = {"refund": "refund", "delivery": "deliver", "password": "password", "invoice": "invoice"}
    for theme in clustering.themes:
        assert theme.keywords, theme
        assert theme.label == " · ".join(theme.keywords[:3])
        for keyword in theme.keywords:
            assert not re.search(r"\d", keyword), keyword
            assert not re.search(r"example|com\b|smith|garcia|okafor|nakamura|jensen|rossi", keyword), keyword
            assert keyword not in {"please", "order", "hi"} or keyword == "order"  # desk stop words out
        assert any(expected[found[theme.id]] in keyword for keyword in theme.keywords), (found[theme.id], theme)
        assert 1 <= len(theme.examples) <= 5
        assert len(set(theme.examples)) == len(theme.examples)


def test_distinctive_words_prefer_what_sets_a_theme_apart() -> None:
    texts = ["refund my order 1", "refund my order 2", "late parcel order 3", "late parcel order 4"]
    words = distinctive_words(texts, np.array([0, 0, 1, 1]), 2, top=3)
    # "order" is in both themes: it comes after each theme's own words. Numbers never count.
    assert words[0] == ["refund", "order"]
    assert set(words[1][:2]) == {"late", "parcel"}
    assert words[1][2] == "order"


def test_examples_are_the_texts_closest_to_the_centroid(corpus: tuple[list[str], list[str]]) -> None:
    texts, _ = corpus
    clustering = find_themes(texts, backend="tfidf", min_share=MIN_SHARE)
    theme = clustering.themes[0]
    members = np.flatnonzero(clustering.assignments == theme.id)
    best = members[np.argmax(clustering.similarities[members])]
    assert theme.examples[0] == texts[best]


def test_assign_new_texts(corpus: tuple[list[str], list[str]]) -> None:
    texts, topics = corpus
    clustering = find_themes(texts, backend="tfidf", min_share=MIN_SHARE)
    found = topic_of(clustering, topics)
    model = clustering.model
    refund = model.assign("my refund for order 55555555 has still not arrived on my card")
    assert refund.theme_id is not None
    assert found[refund.theme_id] == "refund"
    assert refund.similarity >= model.threshold
    password = model.assign("reset password link broken, cannot log in")
    assert password.theme_id is not None
    assert found[password.theme_id] == "password"
    for unrelated in ["", "zebra quantum marmalade", "1234567"]:
        assigned = model.assign(unrelated)
        assert assigned.theme_id is None, unrelated
    many = model.assign_many(["where is my refund", "invoice copy please"])
    assert [found[a.theme_id] for a in many if a.theme_id is not None] == ["refund", "invoice"]
    assert model.assign_many([]) == []


def test_identities_survive_a_reclustering_and_new_themes_get_new_ids() -> None:
    before_texts, before_topics = synthetic(TOPICS, 60, seed=1)
    before = find_themes(before_texts, backend="tfidf", min_share=MIN_SHARE)
    before_found = topic_of(before, before_topics)

    # A month later: other messages on the same four topics, and a fifth topic.
    after_texts, after_topics = synthetic({**TOPICS, **NEW_TOPIC}, 50, seed=2)
    after = find_themes(after_texts, backend="tfidf", min_share=MIN_SHARE, seed=7)
    kept = carry_over_ids(before.themes, after)
    # TF-IDF on short texts mixes a little ("send me a copy" / "send a new link").
    after_found = topic_of(kept, after_topics, purity=0.6)

    old_ids = {theme.id for theme in before.themes}
    for theme in kept.themes:
        topic = after_found[theme.id]
        if topic == "subscription":
            assert theme.id > max(old_ids)
    # A theme that kept an old id is about what that id was about; most old topics kept theirs
    # (TF-IDF on short texts is noisy: the strict version with the model is in test_embedding).
    kept_topics = set()
    for theme in kept.themes:
        if theme.id in old_ids:
            assert before_found[theme.id] == after_found[theme.id], theme
            kept_topics.add(after_found[theme.id])
    assert len(kept_topics) >= 3, kept_topics
    assert "subscription" not in kept_topics
    # Assignments follow the renumbering; ids are unique.
    assert len({theme.id for theme in kept.themes}) == len(kept.themes)
    assert set(kept.assignments.tolist()) - {NO_THEME} == {theme.id for theme in kept.themes}
    assert kept.model.assign("where is my refund").theme_id in {
        t.id for t in kept.themes if after_found[t.id] == "refund"
    }


def test_match_themes_needs_enough_similarity(corpus: tuple[list[str], list[str]]) -> None:
    texts, _ = corpus
    first = find_themes(texts, backend="tfidf", min_share=MIN_SHARE)
    assert match_themes([], first.model) == {}
    # The same themes match themselves exactly, one to one.
    same = match_themes(first.themes, first.model)
    assert same == {theme.id: theme.id for theme in first.themes}
    # Nothing is similar enough at an impossible threshold.
    assert match_themes(first.themes, first.model, min_similarity=1.01) == {}


def test_cluster_vectors_on_separated_groups_and_edge_cases() -> None:
    rng = np.random.default_rng(0)
    centres = normalise(rng.normal(size=(3, 32)))
    vectors = normalise(np.concatenate([centre + 0.15 * rng.normal(size=(100, 32)) for centre in centres]))
    labels, centroids, threshold, similarities = cluster_vectors(vectors)
    assert len(centroids) == 3
    for group in range(3):
        assert len(set(labels[group * 100 : (group + 1) * 100].tolist()) - {NO_THEME}) == 1
    assert 0 < threshold < 1
    assert similarities.dtype == np.float32
    # Too few texts for any theme: none, and no error.
    labels, centroids, _, _ = cluster_vectors(vectors[:2])
    assert len(centroids) == 0
    assert labels.tolist() == [NO_THEME, NO_THEME]


def test_tiny_and_degenerate_inputs_do_not_fail() -> None:
    assert find_themes([], backend="tfidf", min_share=MIN_SHARE).themes == ()
    few = find_themes(["refund please", "where is my parcel"], backend="tfidf", min_share=MIN_SHARE)
    assert few.themes == ()
    assert few.assignments.tolist() == [NO_THEME, NO_THEME]
    assert few.model.assign("refund").theme_id is None
    digits = find_themes(["123", "456", "#789"] * 10, backend="tfidf", min_share=MIN_SHARE)
    assert digits.unthemed + sum(t.size for t in digits.themes) == 30
    with pytest.raises(ValueError, match="min_share"):
        find_themes(["a"], backend="tfidf", min_share=0)


def test_tfidf_embedder_vectors() -> None:
    embedder = TfidfEmbedder()
    with pytest.raises(RuntimeError, match="fit"):
        embedder.encode(["x"])
    texts, _ = synthetic(TOPICS, 30, seed=3)
    embedder.fit(texts)
    progress: list[tuple[int, int]] = []
    vectors = embedder.encode(texts, progress=lambda done, total: progress.append((done, total)))
    assert vectors.dtype == np.float32
    assert vectors.shape[0] == len(texts)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert progress[-1] == (len(texts), len(texts))
    assert embedder.encode([]).shape == (0, vectors.shape[1])
    other = TfidfEmbedder()
    other.fit(texts)
    assert other.space != embedder.space  # two fits are two spaces
