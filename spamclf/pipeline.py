"""Training: a scikit-learn pipeline from raw messages to a calibrated linear SVM.

``MessageVectorizer`` (parse, extract features, hash, scale rows; see ``hash_row``) followed by
``CalibratedClassifierCV(LinearSVC, method="sigmoid")``. Both follow the estimator conventions,
so ``clone``, grid search and cross-validation work on the whole pipeline.

Why this classifier (benchmarks/model_selection.md has the numbers): on the benchmark splits a
linear SVM on L2-normalized binary features beat logistic regression, SGD and naive Bayes on
every corpus; normalization alone halved (1-AUC)% on spamassassin. Platt scaling on
cross-validated decisions turns the margin into a probability that means what it says.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.svm import LinearSVC

from spamclf.features import FeatureSettings
from spamclf.inputs import MessageInput, read_heads
from spamclf.model import DEFAULT_C, Model, ModelSettings, features_row, read_features
from spamclf.parse import Limits
from spamclf.scripts import count_scripts
from spamclf.vectorize import DEFAULT_N_FEATURES, Row, rows_to_csr

__all__ = [
    "MessageVectorizer",
    "fit_model",
    "group_balance",
    "linear_parts",
    "make_classifier",
    "make_pipeline",
    "model_matrix",
    "row_chunks",
    "vectorizer_for",
]

_CHUNK = 256


class MessageVectorizer(TransformerMixin, BaseEstimator):
    """Raw messages to rows of hashed feature tokens (``hash_row``). Stateless.

    Parameters mirror :class:`spamclf.ModelSettings`; ``n_jobs`` spreads parsing over processes.
    """

    def __init__(
        self,
        *,
        n_features: int = DEFAULT_N_FEATURES,
        trusted_networks: tuple[str, ...] = (),
        header_words: bool = False,
        limits: Limits | None = None,
        n_jobs: int = 1,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        self.n_features = n_features
        self.trusted_networks = trusted_networks
        self.header_words = header_words
        self.limits = limits
        self.n_jobs = n_jobs
        self.progress = progress

    def fit(self, messages: Sequence[MessageInput], y: Any = None) -> MessageVectorizer:
        if self.n_features < 2:
            raise ValueError(f"n_features must be at least 2, got {self.n_features}")
        self.n_features_out_ = self.n_features
        return self

    def transform(self, messages: Sequence[MessageInput]):  # type: ignore[no-untyped-def]
        settings = ModelSettings(
            n_features=self.n_features,
            # As given: ModelSettings reads one network written as a str, which tuple() cut
            # into characters ("10.0.0.0/8": "'1' is not a network").
            trusted_networks=self.trusted_networks,
            header_words=self.header_words,
            limits=self.limits or Limits(),
        )
        return model_matrix(messages, settings, n_jobs=self.n_jobs, progress=self.progress)[0]


def row_chunks(
    messages: Iterable[MessageInput],
    settings: ModelSettings,
    *,
    n_jobs: int = 1,
    progress: Callable[[int], None] | None = None,
) -> Iterator[list[Row]]:
    """Hashed rows of every message as a model with ``settings`` reads them, in order, a chunk
    at a time, parsing in ``n_jobs`` processes. Each chunk of messages is read only when it is
    handed out."""
    heads = read_heads(messages, settings.limits.max_message_bytes)
    chunks = iter(lambda: list(itertools.islice(heads, _CHUNK)), [])
    args = (settings.n_features, settings.feature_settings(), settings.limits)
    if n_jobs == 1:
        results: Iterable[list[Row]] = (_vectorize_chunk(chunk, *args) for chunk in chunks)
    else:
        import joblib

        parallel = joblib.Parallel(n_jobs=n_jobs, return_as="generator")
        results = parallel(joblib.delayed(_vectorize_chunk)(chunk, *args) for chunk in chunks)
    for chunk_rows in results:
        if progress:
            progress(len(chunk_rows))
        yield chunk_rows


def model_matrix(
    messages: Iterable[MessageInput],
    settings: ModelSettings,
    *,
    n_jobs: int = 1,
    progress: Callable[[int], None] | None = None,
) -> tuple[Any, list[str]]:
    """The CSR matrix of ``messages`` as a model with ``settings`` reads them, and each row's
    writing system (training, the Dask partitions and the benchmarks' feature cache all go
    through here).

    Built a chunk at a time: a :class:`Row` also keeps each token's column and each 4-gram's
    position, to explain a verdict, and all of trec06p's rows took 3.5 times the memory of its
    matrix (0.96 GB against 0.27 GB).
    """
    import scipy.sparse

    parts: list[Any] = []
    scripts: list[str] = []
    for rows in row_chunks(messages, settings, n_jobs=n_jobs, progress=progress):
        parts.append(rows_to_csr(rows, settings.n_features))
        scripts.extend(row.script for row in rows)
    if not parts:
        return rows_to_csr([], settings.n_features), scripts
    return scipy.sparse.vstack(parts, format="csr"), scripts


def _vectorize_chunk(
    chunk: list[tuple[bytes, int]], n_features: int, settings: FeatureSettings, limits: Limits
) -> list[Row]:
    rows = []
    for head, size in chunk:
        rows.append(features_row(read_features(head, limits, settings, size=size), n_features))
    return rows


def make_pipeline(
    *,
    C: float = DEFAULT_C,
    n_features: int = DEFAULT_N_FEATURES,
    trusted_networks: tuple[str, ...] = (),
    limits: Limits | None = None,
    n_jobs: int = 1,
    progress: Callable[[int], None] | None = None,
) -> Pipeline:
    """The spamclf training pipeline: vectorizer, then a Platt-calibrated linear SVM."""
    return Pipeline(
        [
            (
                "vectorizer",
                MessageVectorizer(
                    n_features=n_features,
                    trusted_networks=trusted_networks,
                    limits=limits,
                    n_jobs=n_jobs,
                    progress=progress,
                ),
            ),
            ("classifier", make_classifier(C)),
        ]
    )


def make_classifier(C: float = DEFAULT_C) -> CalibratedClassifierCV:
    """A linear SVM whose decisions are Platt-scaled on 3-fold out-of-fold predictions.

    The folds are shuffled (with a fixed seed), so the model no longer depends on which corpus
    comes first: reversing the order of the bundled recipe's four corpora moved its slope from
    6.48 to 6.41 (and the share of trec06p's test spam scored 0.99 or more from 95.5% to
    95.2%). Unshuffled folds, used until 2026-11-27, follow the row order, and for rows stacked
    corpus by corpus each held-out fold was mostly one or two corpora scored by an SVM fitted
    mostly on the others: the slope depended on which corpus came first. The model trained
    without trec06p got a slope of 0.43 and called every trec06p message unsure; the bundled
    model's probabilities were off by 3.3 points on average on trec06p's test split.

    Measured with benchmarks/exploration/calibration_folds.py (benchmarks/model_selection.md,
    section 6), on the four test splits (a model of each corpus, and the bundled recipe) and
    in leave-one-out: shuffled folds had the lower expected calibration error in 11 of the 12
    cases, all but trec06c left out, whose Chinese mail that model declines to label. Being
    sharper, they marked more ham as spam at the old 0.98 cutoff (0.78% of trec06p's ham in
    leave-one-out), hence the 0.99 cutoff of :class:`~spamclf.model.ModelSettings`.
    """
    svm = LinearSVC(C=C, random_state=0)
    folds = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)
    return CalibratedClassifierCV(svm, method="sigmoid", cv=folds, ensemble=False)


def fit_model(
    X: Any,
    y: np.ndarray,
    *,
    C: float,
    settings: ModelSettings,
    card: dict[str, Any],
    groups: Sequence[object] | None = None,
    scripts: Sequence[str] | None = None,
) -> Model:
    """Fit the calibrated SVM on vectorized rows and wrap it as a NumPy-only :class:`Model`.

    ``scripts`` (the writing system of each row, ``Row.script``) are counted by class into
    the model, which labels only the writing systems it has seen enough of
    (:mod:`spamclf.scripts`); without them every writing system counts as familiar.

    ``groups`` names the source (corpus) of each row; each source then weighs the same in
    training, so that 65,000 Chinese messages do not drown 6,000 English ones. Balanced, the
    leave-one-corpus-out AUC on trec06p rose from 0.9791 to 0.9806 (benchmarks/accuracy.md).
    """
    weights = group_balance(groups) if groups is not None else None
    classifier = make_classifier(C).fit(X, y, sample_weight=weights)
    weights, intercept, calibration = linear_parts(classifier)
    counts = None if scripts is None else count_scripts(scripts, y)
    return Model(weights, intercept, calibration, settings, card, None, counts)


def group_balance(groups: Sequence[object]) -> np.ndarray:
    """Sample weights that give every group the same total weight (and average 1).

    >>> group_balance(["a", "a", "a", "b"]).tolist()
    [0.6666666666666666, 0.6666666666666666, 0.6666666666666666, 2.0]
    """
    names, inverse, counts = np.unique(np.asarray(groups), return_inverse=True, return_counts=True)
    return len(inverse) / (len(names) * counts[inverse])


def vectorizer_for(settings: ModelSettings, **kwargs: Any) -> MessageVectorizer:
    """The vectorizer that reads messages exactly as a model with ``settings`` will."""
    return MessageVectorizer(
        n_features=settings.n_features,
        trusted_networks=settings.trusted_networks,
        header_words=settings.header_words,
        limits=settings.limits,
        **kwargs,
    )


def linear_parts(
    classifier: CalibratedClassifierCV,
) -> tuple[np.ndarray, float, tuple[float, float]]:
    """Weights, intercept and (slope, offset) of the log-odds from a fitted classifier."""
    calibrated = classifier.calibrated_classifiers_[0]
    svm = calibrated.estimator
    sigmoid = calibrated.calibrators[0]
    # scikit-learn's sigmoid is P(spam) = 1 / (1 + exp(a * f + b)): log-odds are -a f - b.
    return svm.coef_.ravel(), float(svm.intercept_[0]), (-float(sigmoid.a_), -float(sigmoid.b_))
