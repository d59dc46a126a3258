"""Scoring and training on a Dask cluster (``pip install 'spamclf[dask]'``).

Scoring: :func:`classify_bag` and :func:`classify_series` turn a ``dask.bag`` of messages or a
dask dataframe column into verdicts, partition by partition, lazily and in order. The model
travels to each worker once (``Client.scatter(..., broadcast=True)``), then only messages
travel; a bag of file paths is read on the workers, so the client never holds the mail.

Training: :func:`train` fits the same model as :func:`spamclf.train` on more mail than one
machine holds. Workers parse and hash their partitions into sparse blocks and keep them (Dask
spills them to disk under memory pressure); the learner holds the weights and their L-BFGS
history, never the rows. It
minimizes LinearSVC's own objective, the L2-regularized squared hinge loss

    0.5 * (|w|^2 + b^2) + C * sum_i s_i * max(0, 1 - y_i (w . x_i + b))^2

with L-BFGS, each step summing the loss and gradient of every block where the block lies, so
one pass over the partitions is one incremental update of the learner. Because the objective
is the one the in-memory LinearSVC solves, out-of-core training converges to the same model,
not an approximation of it: on the trec06p and spamassassin benchmark splits its test
(1-AUC)% equalled the in-memory one (0.160 and 0.014; the two models' decision values had a
correlation of 1.000000 to six places), while no averaged-SGD setting came within 10% on both
corpora and per-partition SVMs averaged lost 2-3 times the ranking errors
(benchmarks/dask_scaling.md). The price is passes: about 150 per fit, each moving the weight
vector to the workers and a gradient back. The Platt
calibration follows the in-memory recipe: a sigmoid fitted on 3-fold out-of-fold decisions
(interleaved folds here, shuffled ones in memory: either way every source is spread over all
three), each group weighing the same.

This module imports Dask; ``import spamclf`` never does.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

try:
    import dask
    import dask.bag
    from distributed import Client, Future, default_client, wait
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "spamclf.distributed needs Dask: install it with pip install 'spamclf[dask]'"
    ) from exc

from spamclf.corpora import normalize_label
from spamclf.errors import InputError, SpamclfError
from spamclf.inputs import MessageInput
from spamclf.model import DEFAULT_C, Model, ModelSettings
from spamclf.verdict import Verdict

__all__ = ["classify_bag", "classify_series", "ship_model", "train"]

REASONS_IN_FRAME = 3

_log = logging.getLogger(__name__)


# --- scoring -----------------------------------------------------------------------------------


def ship_model(model: Model | None = None, client: Client | None = None) -> Any:
    """The model as a graph argument that reaches every worker once.

    With a ``distributed`` client (``client`` or the current default), the model is scattered
    to all workers now and tasks refer to it by key; without one (Dask's local schedulers) it
    is one node of the graph. ``model`` defaults to the bundled model.
    """
    from spamclf.api import default_model

    model = model or default_model()
    client = client or _current_client()
    if client is None:
        return dask.delayed(model, pure=True)
    # hash=False: tokenizing 8 MB of weights to name the key costs more than shipping it.
    future = client.scatter(model, broadcast=True, hash=False)
    return dask.delayed(future)


def classify_bag(
    messages: dask.bag.Bag, model: Model | None = None, *, client: Client | None = None
) -> dask.bag.Bag:
    """A bag of :class:`~spamclf.Verdict`, one per message, in the bag's order. Lazy.

    ``messages`` holds what :meth:`Model.classify` takes: raw bytes, message text, or paths
    (read on the worker that scores them).
    """
    return messages.map_partitions(_classify_partition, ship_model(model, client))


def classify_series(
    messages: Any,
    model: Model | None = None,
    *,
    client: Client | None = None,
    n_reasons: int = REASONS_IN_FRAME,
) -> Any:
    """A dask dataframe with ``label``, ``score`` and ``reasons`` for a column of messages.

    The result has the column's index and partitions. ``reasons`` is JSON text of the top
    ``n_reasons`` clues, ``[[feature, contribution], ...]``. A column of raw ``bytes`` needs
    ``dask.config.set({"dataframe.convert-string": False})`` when it is built: otherwise Dask
    converts it to UTF-8 strings and fails on the GB2312 or Latin-1 bytes real mail holds.
    """
    meta = {"label": "object", "score": "float64", "reasons": "object"}
    return messages.map_partitions(_classify_frame, ship_model(model, client), n_reasons, meta=meta)


def _classify_partition(messages: Iterable[MessageInput], model: Model) -> list[Verdict]:
    return [model.classify(message) for message in messages]


def _classify_frame(messages: Any, model: Model, n_reasons: int) -> Any:
    import pandas as pd

    verdicts = [model.classify(message) for message in messages]
    reasons = [
        json.dumps([[r.feature, r.contribution] for r in v.reasons[:n_reasons]]) for v in verdicts
    ]
    # Plain arrays, not Series: a Series would be aligned on its own index, not the column's.
    return pd.DataFrame(
        {
            "label": np.array([v.label for v in verdicts], dtype=object),
            "score": np.array([v.score for v in verdicts], dtype=np.float64),
            "reasons": np.array(reasons, dtype=object),
        },
        index=messages.index,
    )


def _current_client() -> Client | None:
    try:
        return default_client()
    except ValueError:  # no distributed client in this process
        return None


# --- training ----------------------------------------------------------------------------------

# Out-of-fold decisions for the Platt sigmoid, as in the in-memory CalibratedClassifierCV.
CALIBRATION_FOLDS = 3
# L-BFGS stops when a step lowers the objective by less than this fraction. In memory, the test
# (1-AUC)% on spamassassin stopped moving after 60 iterations; this tolerance took 81 per fit on
# spamassassin and 147 on trec06p (benchmarks/dask_scaling.md), and matched LinearSVC on both.
DEFAULT_TOLERANCE = 1e-9
DEFAULT_MAX_ITER = 300
# L-BFGS history: 10 pairs of weight-sized vectors (160 MB at 2**20 features) on the learner.
_LBFGS_MEMORY = 10


@dataclass
class _Block:
    """One partition of the training mail as the learner reads it: hashed rows (``hash_row``),
    targets (+1 spam, -1 ham), sample weights, groups, calibration folds, writing systems."""

    X: Any  # scipy.sparse.csr_matrix, float32, as the in-memory vectorizer makes it
    y: np.ndarray
    weights: np.ndarray
    groups: np.ndarray
    folds: np.ndarray
    scripts: np.ndarray


@dataclass
class _Progress:
    iterations: int = 0
    passes: int = 0


def train(
    items: dask.bag.Bag,
    *,
    C: float = DEFAULT_C,
    settings: ModelSettings | None = None,
    description: str = "",
    client: Client | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
    max_iter: int = DEFAULT_MAX_ITER,
) -> Model:
    """Train a model on a bag of ``(message, label)`` or ``(message, label, group)`` items.

    The same recipe as :func:`spamclf.train`, out of core: messages (bytes, text or paths,
    read on the workers) are parsed and hashed where they lie and stay there as sparse
    blocks; the learner holds the weights and never all rows. Labels are ``"spam"``/``"ham"``
    or 1/0; a ``group`` (e.g. the corpus) makes every group weigh the same. Needs a
    ``distributed`` client (``client`` or the current default). ``tolerance`` and
    ``max_iter`` bound the L-BFGS runs (four of them: three calibration folds and the final
    fit, each pass over the blocks counted in ``model.card["training"]["passes"]``).
    """
    from spamclf.api import check_c, training_card

    C = check_c(C)  # before the cluster's work, not in the middle of L-BFGS
    client = client or _current_client()
    if client is None:
        raise SpamclfError(
            "spamclf.distributed.train needs a dask.distributed Client: "
            "start one with distributed.Client() (or pass client=...)"
        )
    settings = settings or ModelSettings()
    start = time.perf_counter()
    parts = items.to_delayed()
    vectorized = [
        dask.delayed(_vectorize_partition)(part, settings, index)
        for index, part in enumerate(parts)
    ]
    blocks: list[Future] = client.compute(vectorized)
    counts = _count(client.gather(client.map(_block_counts, blocks, pure=False)))
    by_script = _count(client.gather(client.map(_block_counts, blocks, by="scripts", pure=False)))
    script_counts: dict[str, list[int]] = {}  # {script: [ham, spam]}, as spamclf.train counts
    for (script, label), n in sorted(by_script.items()):
        script_counts.setdefault(script, [0, 0])[1 if label > 0 else 0] += n
    n_spam = sum(n for (_, label), n in counts.items() if label > 0)
    n_total = sum(counts.values())
    if min(n_spam, n_total - n_spam) < 3:
        raise InputError(
            f"need at least 3 spam and 3 ham to train, got {n_spam} and {n_total - n_spam}"
        )
    # Only columns some message uses can become non-zero (elsewhere the gradient is just the
    # regularizer's, and they start at zero), so the learner works on those alone: 501,487 of
    # 2**20 on trec06p's training split, a few thousand on a small corpus.
    used = client.gather(client.map(_block_columns, blocks, pure=False))
    columns = np.unique(np.concatenate(used)) if used else np.zeros(0, dtype=np.int64)
    shared_columns = client.scatter(columns, broadcast=True, hash=False)
    blocks = client.map(
        _compact_block,
        blocks,
        columns=shared_columns,
        group_weights=_group_weights(counts),
        pure=False,
    )
    by_worker = _blocks_by_worker(client, blocks)
    _log.info(
        "%d messages (%d spam) hashed in %d partitions on %d workers, %.1f s; %d columns used",
        n_total,
        n_spam,
        len(parts),
        len(by_worker),
        time.perf_counter() - start,
        len(columns),
    )
    progress = _Progress()

    def fit(exclude_fold: int, start_at: np.ndarray) -> np.ndarray:
        return _minimize(
            client, by_worker, C, exclude_fold, start_at, tolerance, max_iter, progress
        )

    # Three fits leaving out one fold each give out-of-fold decisions for the Platt sigmoid;
    # each starts from the last, and the final fit on all rows from their mean.
    solution = np.zeros(len(columns) + 1)  # the weights of the used columns, then the intercept
    fold_solutions = []
    decisions, targets, weights = [], [], []
    for fold in range(CALIBRATION_FOLDS):
        solution = fit(fold, solution)
        fold_solutions.append(solution)
        shared = client.scatter(solution, broadcast=True, hash=False)
        for d, y, s in client.gather(
            client.map(_fold_decisions, blocks, wb=shared, fold=fold, pure=False)
        ):
            decisions.append(d)
            targets.append(y)
            weights.append(s)
    solution = fit(-1, np.mean(fold_solutions, axis=0))
    calibration = _platt(
        np.concatenate(decisions), np.concatenate(targets), np.concatenate(weights)
    )
    client.cancel(blocks)
    model_weights = np.zeros(settings.n_features)
    model_weights[columns] = solution[:-1]

    y_summary = np.array([1] * n_spam + [0] * (n_total - n_spam), dtype=np.int8)
    card = training_card(description, y_summary, C)
    card["classifier"]["kind"] = (
        "LinearSVC's squared-hinge objective by distributed L-BFGS + Platt sigmoid (3-fold)"
    )
    card["training"].update(
        out_of_core=True,
        partitions=len(parts),
        passes=progress.passes,
        iterations=progress.iterations,
        seconds=round(time.perf_counter() - start, 1),
    )
    groups = sorted({group for group, _ in counts})
    if len(groups) > 1:
        card["training"]["balanced_groups"] = groups
    card["training"]["columns_used"] = len(columns)
    return Model(
        model_weights, float(solution[-1]), calibration, settings, card, None, script_counts
    )


def _vectorize_partition(items: Iterable[Any], settings: ModelSettings, index: int) -> _Block:
    """Parse and hash one partition's labelled messages (runs on a worker)."""
    from spamclf.pipeline import model_matrix

    messages: list[MessageInput] = []
    targets: list[float] = []
    groups: list[str] = []
    for item in items:
        if not isinstance(item, (tuple, list)) or len(item) not in (2, 3):
            raise InputError(
                "training items must be (message, label) or (message, label, group) tuples, "
                f"got {type(item).__name__}"
            )
        messages.append(item[0])
        targets.append(1.0 if normalize_label(item[1]) == "spam" else -1.0)
        groups.append(str(item[2]) if len(item) == 3 else "")
    X, scripts = model_matrix(messages, settings)
    y = np.array(targets, dtype=np.float64)
    return _Block(
        X=X,
        y=y,
        weights=np.ones(len(y)),
        groups=np.array(groups, dtype=object),
        # Interleaved folds, offset by partition so short partitions still fill every fold.
        folds=((np.arange(len(y)) + index) % CALIBRATION_FOLDS).astype(np.int8),
        scripts=np.array(scripts, dtype=object),
    )


def _block_counts(block: _Block, by: str = "groups") -> dict[tuple[str, int], int]:
    """Messages per (group, label), or per (script, label) with ``by="scripts"``."""
    counts: dict[tuple[str, int], int] = {}
    for group, target in zip(getattr(block, by), block.y, strict=True):
        key = (str(group), 1 if target > 0 else -1)
        counts[key] = counts.get(key, 0) + 1
    return counts


def _count(parts: Sequence[dict[tuple[str, int], int]]) -> dict[tuple[str, int], int]:
    total: dict[tuple[str, int], int] = {}
    for part in parts:
        for key, n in part.items():
            total[key] = total.get(key, 0) + n
    return total


def _group_weights(counts: dict[tuple[str, int], int]) -> dict[str, float]:
    """Per-group sample weight giving each group the same total weight, averaging 1 (as
    :func:`spamclf.pipeline.group_balance` does in memory)."""
    per_group: dict[str, int] = {}
    for (group, _), n in counts.items():
        per_group[group] = per_group.get(group, 0) + n
    n_total = sum(per_group.values())
    return {group: n_total / (len(per_group) * n) for group, n in per_group.items()}


def _block_columns(block: _Block) -> np.ndarray:
    return np.unique(block.X.indices)


def _compact_block(block: _Block, columns: np.ndarray, group_weights: dict[str, float]) -> _Block:
    """The block over the used ``columns`` only, with each row's group weight."""
    import scipy.sparse

    X = block.X
    compact = scipy.sparse.csr_matrix(
        (X.data, np.searchsorted(columns, X.indices).astype(np.int32), X.indptr),
        shape=(X.shape[0], len(columns)),
    )
    weights = np.array([group_weights[str(g)] for g in block.groups], dtype=np.float64)
    return _Block(compact, block.y, weights, block.groups, block.folds, block.scripts)


def _blocks_by_worker(client: Client, blocks: list[Future]) -> dict[str, list[Future]]:
    """Blocks grouped by the worker holding them, so each worker sums its own gradients and
    sends back one vector per step instead of one per block."""
    wait(blocks)
    holders = client.who_has(blocks)
    by_worker: dict[str, list[Future]] = {}
    for block in blocks:
        workers = holders.get(block.key) or ("",)
        by_worker.setdefault(workers[0], []).append(block)
    return by_worker


def _minimize(
    client: Client,
    by_worker: dict[str, list[Future]],
    C: float,
    exclude_fold: int,
    start_at: np.ndarray,
    tolerance: float,
    max_iter: int,
    progress: _Progress,
) -> np.ndarray:
    """Minimize the squared-hinge SVM objective over the blocks, leaving out one fold (or none:
    ``exclude_fold=-1``), from ``start_at``."""
    from scipy.optimize import minimize

    def objective(wb: np.ndarray) -> tuple[float, np.ndarray]:
        progress.passes += 1
        shared = client.scatter(wb, broadcast=True, hash=False)
        tasks = [
            client.submit(
                _loss_and_gradient,
                shared,
                C,
                exclude_fold,
                *blocks,
                workers=[worker] if worker else None,
                allow_other_workers=True,
                pure=False,
            )
            for worker, blocks in by_worker.items()
        ]
        loss = 0.5 * float(wb @ wb)
        gradient = wb.copy()
        for part_loss, part_gradient in client.gather(tasks):
            loss += part_loss
            gradient += part_gradient
        return loss, gradient

    started, passes_before = time.perf_counter(), progress.passes
    result = minimize(
        objective,
        start_at,
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": max_iter, "ftol": tolerance, "gtol": 0.0, "maxcor": _LBFGS_MEMORY},
    )
    progress.iterations += int(result.nit)
    _log.info(
        "fit %s: %d L-BFGS iterations, %d passes, %.1f s (%s)",
        f"without fold {exclude_fold}" if exclude_fold >= 0 else "on all rows",
        result.nit,
        progress.passes - passes_before,
        time.perf_counter() - started,
        result.message,
    )
    return np.asarray(result.x, dtype=np.float64)


def _loss_and_gradient(
    wb: np.ndarray, C: float, exclude_fold: int, *blocks: _Block
) -> tuple[float, np.ndarray]:
    """The data part of the objective and its gradient, summed over some blocks (on a worker)."""
    w, b = wb[:-1], wb[-1]
    loss = 0.0
    gradient = np.zeros_like(wb)
    for block in blocks:
        shortfall = 1.0 - block.y * (block.X @ w + b)
        active = shortfall > 0.0
        if exclude_fold >= 0:
            active &= block.folds != exclude_fold
        # d/df of C s (1 - y f)^2 is -2 C s y (1 - y f), on the rows inside the margin.
        coefficient = np.where(active, -2.0 * C * block.weights * block.y * shortfall, 0.0)
        loss += C * float(np.sum(block.weights[active] * shortfall[active] ** 2))
        gradient[:-1] += block.X.T @ coefficient
        gradient[-1] += float(coefficient.sum())
    return loss, gradient


def _fold_decisions(
    block: _Block, wb: np.ndarray, fold: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Decision values, targets and weights of one fold's rows (out-of-fold for ``wb``)."""
    rows = block.folds == fold
    decisions = block.X[rows] @ wb[:-1] + wb[-1]
    return np.asarray(decisions, dtype=np.float64), block.y[rows], block.weights[rows]


def _platt(decisions: np.ndarray, targets: np.ndarray, weights: np.ndarray) -> tuple[float, float]:
    """(slope, offset) of the spam log-odds fitted to decision values: Platt (1999) with his
    smoothed targets and sample weights, as scikit-learn's sigmoid calibration does."""
    from scipy.optimize import minimize

    n_spam = float(np.sum(targets > 0))
    n_ham = float(len(targets) - n_spam)
    soft = np.where(targets > 0, (n_spam + 1.0) / (n_spam + 2.0), 1.0 / (n_ham + 2.0))

    def loss(params: np.ndarray) -> tuple[float, np.ndarray]:
        log_odds = params[0] * decisions + params[1]
        # log(1 + e^z) - t z, the cross-entropy of sigmoid(z) against the soft target t.
        value = np.logaddexp(0.0, log_odds) - soft * log_odds
        residual = weights * (1.0 / (1.0 + np.exp(-log_odds)) - soft)
        return float(np.sum(weights * value)), np.array(
            [float(residual @ decisions), float(residual.sum())]
        )

    start = np.array([1.0, math.log((n_spam + 1.0) / (n_ham + 1.0))])
    result = minimize(loss, start, jac=True, method="L-BFGS-B")
    return float(result.x[0]), float(result.x[1])
