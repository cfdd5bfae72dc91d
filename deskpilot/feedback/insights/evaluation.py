"""How well themes agree with labels someone gave the same texts (intents, categories).

Two standard measures, from scikit-learn, both 1.0 for a perfect match:

- NMI (normalised mutual information, arithmetic mean): how much knowing a text's theme tells
  about its label and back, near 0 for unrelated groupings. Forgiving of a label split into two
  themes.
- ARI (adjusted Rand index): agreement on which pairs of texts go together, corrected for chance
  (0 for random, negative for worse). Stricter: a split label costs more.

Texts in no theme count as one more group, so leaving texts out is not free.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from deskpilot.core.errors import InvalidInput
from deskpilot.feedback.insights.embedding import Backend, BackendChoice, ProgressCallback, get_embedder
from deskpilot.feedback.insights.themes import Clustering, find_themes


@dataclass(frozen=True)
class LabelledTexts:
    texts: list[str]
    labels: list[str]


@dataclass(frozen=True)
class Agreement:
    nmi: float
    ari: float
    texts: int
    labels: int  # distinct labels
    themes: int  # distinct themes (texts in no theme not counted)
    unthemed: int  # texts in no theme


@dataclass(frozen=True)
class Evaluation:
    agreement: Agreement
    clustering: Clustering
    backend: Backend
    seconds: float  # embedding and clustering, wall time


def agreement(labels: Sequence[str], themes: Sequence[int]) -> Agreement:
    """NMI and ARI between ``labels`` and ``themes`` (theme ids, ``NO_THEME`` for none)."""
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    if len(labels) != len(themes):
        raise ValueError(f"{len(labels)} labels but {len(themes)} theme assignments")
    theme_list = [int(theme) for theme in themes]
    return Agreement(
        nmi=float(normalized_mutual_info_score(labels, theme_list)),
        ari=float(adjusted_rand_score(labels, theme_list)),
        texts=len(labels),
        labels=len(set(labels)),
        themes=len({theme for theme in theme_list if theme >= 0}),
        unthemed=sum(1 for theme in theme_list if theme < 0),
    )


def read_labelled_csv(
    paths: Path | Sequence[Path],
    *,
    text_column: str,
    label_column: str,
    limit: int | None = None,
) -> LabelledTexts:
    """Texts and their labels from one or more CSV files with a header row (UTF-8, a BOM is
    fine). Rows with an empty text or label are skipped; ``limit`` keeps the first N rows.

    Raises ``InvalidInput`` naming ``csv``, ``text_column``, ``label_column`` or ``limit``."""
    files = [paths] if isinstance(paths, Path) else list(paths)
    if not files:
        raise InvalidInput("csv", "give at least one CSV file")
    if limit is not None and limit < 1:
        raise InvalidInput("limit", f"must be at least 1, got {limit}")
    texts: list[str] = []
    labels: list[str] = []
    for path in files:
        _read_one(path, text_column, label_column, texts, labels, limit)
        if limit is not None and len(texts) >= limit:
            break
    if not texts:
        raise InvalidInput("csv", f"no rows with both {text_column!r} and {label_column!r} filled in")
    return LabelledTexts(texts=texts, labels=labels)


def _read_one(
    path: Path, text_column: str, label_column: str, texts: list[str], labels: list[str], limit: int | None
) -> None:
    if not path.exists():
        raise InvalidInput("csv", f"{str(path)!r} does not exist")
    if not path.is_file():
        raise InvalidInput("csv", f"{str(path)!r} is not a file")
    csv.field_size_limit(10_000_000)  # one ticket's text can be long
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            columns = reader.fieldnames
            if not columns:
                raise InvalidInput("csv", f"{str(path)!r} is empty (no header row)")
            for name, column in (("text_column", text_column), ("label_column", label_column)):
                if column not in columns:
                    known = ", ".join(repr(c) for c in columns[:20])
                    raise InvalidInput(name, f"no column {column!r} in {path.name} (columns: {known})")
            for row in reader:
                text, label = (row.get(text_column) or "").strip(), (row.get(label_column) or "").strip()
                if text and label:
                    texts.append(text)
                    labels.append(label)
                    if limit is not None and len(texts) >= limit:
                        return
    except UnicodeDecodeError:
        raise InvalidInput("csv", f"{str(path)!r} is not UTF-8 text") from None
    except csv.Error as error:
        raise InvalidInput("csv", f"{str(path)!r} is not readable CSV: {error}") from None
    except OSError as error:
        raise InvalidInput("csv", f"{str(path)!r} cannot be read: {error.strerror or error}") from None


def evaluate(
    data: LabelledTexts,
    *,
    backend: BackendChoice = "auto",
    seed: int = 0,
    progress: ProgressCallback | None = None,
) -> Evaluation:
    """Cluster ``data.texts`` with ``find_themes`` and compare the themes with ``data.labels``."""
    embedder = get_embedder(backend)
    started = time.monotonic()
    clustering = find_themes(data.texts, embedder=embedder, seed=seed, progress=progress)
    seconds = time.monotonic() - started
    return Evaluation(
        agreement=agreement(data.labels, clustering.assignments.tolist()),
        clustering=clustering,
        backend=embedder.backend,
        seconds=seconds,
    )
