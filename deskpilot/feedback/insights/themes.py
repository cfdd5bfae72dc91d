"""Themes: groups of customer texts about the same thing, found without knowing how many there are.

How ``find_themes`` works, and why:

1. Every text is embedded (``embedding``): unit vectors, so a dot product is a cosine similarity.
2. The number of themes is chosen by density, not given: HDBSCAN (scikit-learn) runs on a seeded
   random sample of at most ``sample_size`` texts, with cosine distance. A theme is a region
   where texts are denser than around it, holding at least ``min_share`` of the sample; texts
   between such regions are noise. HDBSCAN's cost grows with the square of the texts, hence the
   sample; a few thousand texts find every theme big enough to show a manager.
3. Each theme's centroid (the normalised mean of its texts) then takes every text, sample or not,
   that is closer to it than to any other theme and at least ``threshold`` similar to it; two
   rounds of this (k-means' update step) settle the centroids on all the data. ``threshold`` is
   read from the data too: the similarity that all but ``OUTLIER_QUANTILE`` of the sample's theme
   members have to their centroid (at most ``MAX_THRESHOLD``). Texts below it belong to no theme
   (``NO_THEME``).
4. Each theme is labelled by its most distinctive words (class-based TF-IDF: frequent in the theme,
   rare in the others; stop words, numbers, emails and links out) and shown with the texts
   closest to its centroid.

``ThemeModel.assign`` puts a new text in a theme (or none) with one embedding and one matrix
product. ``match_themes`` / ``carry_over_ids`` keep a theme's id across re-clusterings where its
content did not change, by optimal (Hungarian) matching of centroids.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from deskpilot.feedback.insights.embedding import (
    BackendChoice,
    Embedder,
    ProgressCallback,
    Vectors,
    get_embedder,
    normalise,
)
from deskpilot.feedback.insights.text import DESK_STOP_WORDS, clean

NO_THEME = -1
# The share of a theme's members allowed to lie further from its centroid than the assignment
# threshold: the threshold is the similarity all but this share of members reach...
OUTLIER_QUANTILE = 0.01
# ...but never above this: themes of near-identical texts (an automated message sent a thousand
# times) would otherwise take in nothing that is not a copy.
MAX_THRESHOLD = 0.5
# Rounds of "each text to its nearest centroid, each centroid to its texts' mean".
REFINE_ROUNDS = 2
# Two themes of consecutive clusterings are the same theme from this centroid similarity up.
SAME_THEME_SIMILARITY = 0.8
# The same, for a previous theme from another vector space (another TF-IDF fit), placed in the
# current one as the mean of its few examples: a mean of five texts is a noisier point than a
# centroid of hundreds, so the same theme scores lower (0.7-0.9 where others stay under 0.4).
SAME_THEME_SIMILARITY_ACROSS = 0.6
# HDBSCAN's excess-of-mass selection may prefer one big parent cluster to its children when the
# space has little density contrast (TF-IDF on short texts): no theme may hold more than this
# share of the sample, so such a parent is split into its children.
MAX_THEME_SHARE = 0.5
# Keywords shown in a theme's label.
LABEL_TERMS = 3
# The words labels are made of: two letters or more, letters only (numbers are gone already).
LABEL_WORD = r"(?u)\b[^\W\d_][^\W\d_]+\b"

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Theme:
    """One theme of a clustering."""

    id: int
    size: int  # texts in it
    label: str  # its top keywords joined, e.g. "cancel order · purchase"
    keywords: tuple[str, ...]  # most distinctive first
    centroid: FloatArray = field(repr=False, compare=False)  # unit vector in ``space``
    examples: tuple[str, ...]  # the texts closest to the centroid, distinct, closest first
    space: str  # the embedder's vector space the centroid lives in


@dataclass(frozen=True)
class Assignment:
    """Where a text belongs: a theme id, or None when it is further than the threshold from all."""

    theme_id: int | None
    similarity: float  # cosine similarity to the nearest theme's centroid (-1..1; 0 when no themes)


@dataclass(frozen=True)
class ThemeModel:
    """Themes and what is needed to put new texts into them."""

    themes: tuple[Theme, ...]
    threshold: float  # least similarity to a centroid for a text to join that theme
    embedder: Embedder = field(repr=False, compare=False)

    def theme(self, theme_id: int) -> Theme:
        """The theme with this id (KeyError when there is none)."""
        for theme in self.themes:
            if theme.id == theme_id:
                return theme
        raise KeyError(theme_id)

    def assign(self, text: str) -> Assignment:
        """The theme ``text`` belongs to (one embedding and one matrix product)."""
        return self.assign_many([text])[0]

    def assign_many(self, texts: Sequence[str]) -> list[Assignment]:
        """``assign`` for many texts, in one batch."""
        if not texts:
            return []
        if not self.themes:
            return [Assignment(None, 0.0) for _ in texts]
        indices, similarities = nearest(self.embedder.encode(texts), self._centroids, self.threshold)
        ids = [theme.id for theme in self.themes]
        return [
            Assignment(ids[index] if index != NO_THEME else None, float(similarity))
            for index, similarity in zip(indices.tolist(), similarities.tolist(), strict=True)
        ]

    @property
    def _centroids(self) -> FloatArray:
        cached: FloatArray | None = self.__dict__.get("_centroid_matrix")
        if cached is None:
            cached = np.stack([theme.centroid for theme in self.themes]).astype(np.float32)
            object.__setattr__(self, "_centroid_matrix", cached)  # frozen, but a pure cache
        return cached


@dataclass(frozen=True)
class Clustering:
    """The result of ``find_themes``: the themes, largest first, and each input text's theme."""

    model: ThemeModel
    assignments: IntArray  # per input text: its theme's id, or NO_THEME
    similarities: FloatArray = field(repr=False)  # per input text: similarity to its nearest centroid

    @property
    def themes(self) -> tuple[Theme, ...]:
        return self.model.themes

    @property
    def unthemed(self) -> int:
        """How many texts belong to no theme."""
        return int(np.count_nonzero(self.assignments == NO_THEME))


# --- finding themes ------------------------------------------------------------------------------


def find_themes(
    texts: Sequence[str],
    *,
    embedder: Embedder | None = None,
    backend: BackendChoice = "auto",
    min_share: float = 0.01,
    min_size: int = 5,
    sample_size: int = 4_000,
    keywords: int = 4,
    examples: int = 5,
    seed: int = 0,
    progress: ProgressCallback | None = None,
) -> Clustering:
    """Cluster ``texts`` into themes whose number is chosen from the data.

    ``min_share``: the smallest theme worth showing, as a share of the texts (0.01: themes of at
    least 1% of them; at least ``min_size`` texts in any case). ``embedder`` (else one for
    ``backend``) is fitted on ``texts`` first. ``progress`` follows the embedding, the long part.
    Deterministic for a given ``seed``.
    """
    if not 0 < min_share < 1:
        raise ValueError(f"min_share must be between 0 and 1, got {min_share}")
    embedder = embedder if embedder is not None else get_embedder(backend)
    embedder.fit(texts)
    vectors = embedder.encode(texts, progress=progress)
    labels, centroids, threshold, similarities = cluster_vectors(
        vectors, min_share=min_share, min_size=min_size, sample_size=sample_size, seed=seed
    )
    themes = describe_themes(
        texts,
        vectors,
        labels,
        centroids,
        similarities,
        space=embedder.space,
        keywords=keywords,
        examples=examples,
    )
    model = ThemeModel(themes=tuple(themes), threshold=threshold, embedder=embedder)
    return Clustering(model=model, assignments=labels, similarities=similarities)


def cluster_vectors(
    vectors: Vectors,
    *,
    min_share: float = 0.01,
    min_size: int = 5,
    sample_size: int = 4_000,
    seed: int = 0,
) -> tuple[IntArray, FloatArray, float, FloatArray]:
    """The clustering itself, on unit vectors: (theme index per row or NO_THEME, centroids with
    the largest theme first, the assignment threshold, each row's similarity to its nearest
    centroid). Theme indices are rows of the centroid matrix."""
    from sklearn.cluster import HDBSCAN

    count = len(vectors)
    empty = (
        np.full(count, NO_THEME, dtype=np.int64),
        np.zeros((0, vectors.shape[1] if vectors.ndim == 2 else 0), dtype=np.float32),
        1.0,
        np.zeros(count, dtype=np.float32),
    )
    if count < max(min_size, 3):
        return empty
    rng = np.random.default_rng(seed)
    sample = np.sort(rng.choice(count, size=min(count, sample_size), replace=False))
    points = vectors[sample]
    distances = np.clip(1.0 - points.astype(np.float64) @ points.T.astype(np.float64), 0.0, 2.0)
    np.fill_diagonal(distances, 0.0)
    smallest = max(min_size, math.ceil(min_share * len(sample)))
    if len(sample) < 2 * smallest:
        smallest = max(2, len(sample) // 2)
    found = HDBSCAN(
        min_cluster_size=smallest,
        min_samples=min(5, smallest),
        metric="precomputed",
        cluster_selection_method="eom",
        max_cluster_size=max(smallest + 1, int(MAX_THEME_SHARE * len(sample))),
        copy=True,
    ).fit_predict(distances)
    groups = [np.flatnonzero(found == k) for k in range(int(found.max()) + 1)]
    groups = [group for group in groups if len(group)]
    if not groups:
        return empty
    centroids = normalise(np.stack([points[group].mean(axis=0) for group in groups]))
    # The threshold: the similarity all but OUTLIER_QUANTILE of the sample's members reach.
    member_similarity = np.concatenate([points[group] @ centroids[k] for k, group in enumerate(groups)]).astype(
        np.float64
    )
    threshold = min(float(np.quantile(member_similarity, OUTLIER_QUANTILE)), MAX_THRESHOLD)

    floor = max(min_size, math.ceil(min_share * count / 2))
    labels, similarities = nearest(vectors, centroids, threshold)
    for _ in range(REFINE_ROUNDS):
        sizes = np.bincount(labels[labels >= 0], minlength=len(centroids))
        # Themes that kept too few texts on all the data are dissolved into their neighbours.
        keep = np.flatnonzero(sizes >= floor)
        if len(keep) == 0:
            return empty
        centroids = normalise(np.stack([vectors[labels == k].mean(axis=0) for k in keep]))
        labels, similarities = nearest(vectors, centroids, threshold)
    sizes = np.bincount(labels[labels >= 0], minlength=len(centroids))
    keep = np.flatnonzero(sizes > 0)
    order = keep[np.argsort(-sizes[keep], kind="stable")]
    centroids = centroids[order]
    labels, similarities = nearest(vectors, centroids, threshold)
    return labels, centroids, threshold, similarities


def nearest(vectors: Vectors, centroids: FloatArray, threshold: float) -> tuple[IntArray, FloatArray]:
    """For each row of ``vectors``: the index of the most similar centroid (NO_THEME when its
    similarity is below ``threshold``), and that similarity."""
    if len(centroids) == 0 or len(vectors) == 0:
        return np.full(len(vectors), NO_THEME, dtype=np.int64), np.zeros(len(vectors), dtype=np.float32)
    labels = np.empty(len(vectors), dtype=np.int64)
    best = np.empty(len(vectors), dtype=np.float32)
    for start in range(0, len(vectors), 8_192):  # bounded memory for any corpus size
        similarity = vectors[start : start + 8_192] @ centroids.T
        index = similarity.argmax(axis=1)
        labels[start : start + 8_192] = index
        best[start : start + 8_192] = similarity[np.arange(len(index)), index]
    labels[best < threshold] = NO_THEME
    return labels, best


# --- describing themes ---------------------------------------------------------------------------


def describe_themes(
    texts: Sequence[str],
    vectors: Vectors,
    labels: IntArray,
    centroids: FloatArray,
    similarities: FloatArray,
    *,
    space: str,
    keywords: int = 4,
    examples: int = 5,
) -> list[Theme]:
    """Themes (id = index of the centroid) with keywords, label and representative examples."""
    words = distinctive_words(texts, labels, len(centroids), top=keywords)
    themes = []
    for k, centroid in enumerate(centroids):
        members = np.flatnonzero(labels == k)
        closest = members[np.argsort(-similarities[members], kind="stable")]
        themes.append(
            Theme(
                id=k,
                size=len(members),
                label=" · ".join(words[k][:LABEL_TERMS]) or "(no words)",
                keywords=tuple(words[k]),
                centroid=centroid.astype(np.float32),
                examples=tuple(_distinct(texts, closest, examples)),
                space=space,
            )
        )
    return themes


def _distinct(texts: Sequence[str], indices: npt.NDArray[Any], count: int) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for index in indices.tolist():
        text = texts[index].strip()
        key = " ".join(clean(text).lower().split())
        if text and key not in seen:
            seen.add(key)
            out.append(text)
            if len(out) == count:
                break
    return out


def distinctive_words(texts: Sequence[str], labels: IntArray, themes: int, *, top: int = 4) -> list[list[str]]:
    """Each theme's most distinctive words and word pairs, by class-based TF-IDF: a term's share
    of the theme's words, times log(1 + average words per theme / the term's count in all
    themes). Frequent in this theme and rare elsewhere scores high. A word already inside a
    chosen pair is not listed again."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

    if themes == 0:
        return []
    documents = [""] * themes
    joined: list[list[str]] = [[] for _ in range(themes)]
    for text, label in zip(texts, labels.tolist(), strict=True):
        if label != NO_THEME:
            joined[label].append(clean(text))
    documents = [" \n ".join(parts) for parts in joined]
    vectorizer = CountVectorizer(
        lowercase=True,
        token_pattern=LABEL_WORD,
        stop_words=sorted(ENGLISH_STOP_WORDS | DESK_STOP_WORDS),
        ngram_range=(1, 2),
    )
    try:
        counts = vectorizer.fit_transform(documents).astype(np.float64).toarray()
    except ValueError:  # no words at all
        return [[] for _ in range(themes)]
    vocabulary = vectorizer.get_feature_names_out()
    per_theme = counts.sum(axis=1, keepdims=True)
    tf = np.divide(counts, per_theme, out=np.zeros_like(counts), where=per_theme > 0)
    frequency = counts.sum(axis=0)
    average = counts.sum() / themes
    scores = tf * np.log1p(average / np.maximum(frequency, 1.0))
    out = []
    for row in scores:
        chosen: list[str] = []
        covered: set[str] = set()
        for index in np.argsort(-row, kind="stable"):
            if row[index] <= 0 or len(chosen) == top:
                break
            term = str(vocabulary[index])
            parts = term.split()
            # Each word once: "premium account" makes "open premium" and "premium" redundant.
            if len(set(parts)) < len(parts) or any(part in covered for part in parts):
                continue
            covered.update(parts)
            chosen.append(term)
        out.append(chosen)
    return out


# --- stable identities ---------------------------------------------------------------------------


def match_themes(
    previous: Sequence[Theme],
    current: ThemeModel,
    *,
    min_similarity: float = SAME_THEME_SIMILARITY,
    min_similarity_across: float = SAME_THEME_SIMILARITY_ACROSS,
) -> dict[int, int]:
    """Which current theme is which previous one: {current id: previous id}. Pairs are chosen
    to maximise total centroid similarity (Hungarian matching, each theme used once); a pair
    counts only from ``min_similarity`` up. Previous themes from another vector space (another
    TF-IDF fit, another backend) are placed in the current one through their examples, and
    count from ``min_similarity_across`` up."""
    from scipy.optimize import linear_sum_assignment

    if not previous or not current.themes:
        return {}
    old = _centroids_in(previous, current)
    new = np.stack([theme.centroid for theme in current.themes]).astype(np.float32)
    similarity = new @ old.T
    space = current.embedder.space
    needed = [min_similarity if theme.space == space else min_similarity_across for theme in previous]
    rows, columns = linear_sum_assignment(-similarity)
    return {
        current.themes[row].id: previous[column].id
        for row, column in zip(rows.tolist(), columns.tolist(), strict=True)
        if similarity[row, column] >= needed[column]
    }


def _centroids_in(previous: Sequence[Theme], current: ThemeModel) -> FloatArray:
    space = current.embedder.space
    rows = []
    for theme in previous:
        if theme.space == space:
            rows.append(theme.centroid.astype(np.float32))
        elif theme.examples:
            rows.append(normalise(current.embedder.encode(theme.examples).mean(axis=0, keepdims=True))[0])
        else:
            rows.append(np.zeros(current.themes[0].centroid.shape, dtype=np.float32))
    return np.stack(rows)


def carry_over_ids(
    previous: Sequence[Theme],
    clustering: Clustering,
    *,
    min_similarity: float = SAME_THEME_SIMILARITY,
    min_similarity_across: float = SAME_THEME_SIMILARITY_ACROSS,
) -> Clustering:
    """``clustering`` with its themes renumbered: a theme matching a previous one
    (``match_themes``) takes that theme's id; the others get new ids above every previous one,
    so an id is never reused for different content."""
    matched = match_themes(
        previous, clustering.model, min_similarity=min_similarity, min_similarity_across=min_similarity_across
    )
    next_id = max((theme.id for theme in previous), default=-1) + 1
    renumber: dict[int, int] = {}
    for theme in clustering.themes:
        if theme.id in matched:
            renumber[theme.id] = matched[theme.id]
        else:
            renumber[theme.id] = next_id
            next_id += 1
    themes = tuple(replace(theme, id=renumber[theme.id]) for theme in clustering.themes)
    lookup = np.full(max(renumber, default=0) + 2, NO_THEME, dtype=np.int64)
    for old_id, new_id in renumber.items():
        lookup[old_id] = new_id
    assignments = np.where(clustering.assignments == NO_THEME, NO_THEME, lookup[clustering.assignments])
    model = replace(clustering.model, themes=themes)
    return Clustering(model=model, assignments=assignments.astype(np.int64), similarities=clustering.similarities)
