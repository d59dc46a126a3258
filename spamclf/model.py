"""A trained spamclf model: scores messages, explains them, learns from corrections.

The model is linear: a message's feature tokens are hashed into a row ``x`` of unit length
(shorter for a message of few features; ``vectorize``), and the spam log-odds are
``a * (w . x + b) + c`` where ``w, b`` come from a linear SVM and ``a, c`` from Platt scaling
on held-out decisions (so ``score`` is a calibrated probability). Scoring needs only NumPy,
which keeps ``import spamclf`` plus the first verdict under a second; scikit-learn is imported
only to train.

Because every token adds ``a * w[column] * x[token]`` to the log-odds, the reasons of a verdict
are exact contributions, not a post-hoc approximation.
"""

from __future__ import annotations

import copy
import dataclasses
import ipaddress
import math
import numbers
import os
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import BrokenExecutor, Future
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from spamclf.corpora import normalize_label
from spamclf.errors import InputError, SpamclfError
from spamclf.features import Features, FeatureSettings, extract_features
from spamclf.inputs import MessageInput, each_message, read_head, read_heads
from spamclf.parse import Limits, parse_bytes
from spamclf.scripts import NO_SCRIPT
from spamclf.vectorize import CHAR_NGRAM, DEFAULT_N_FEATURES, Row, hash_row
from spamclf.verdict import Label, Reason, Verdict

__all__ = ["DEFAULT_C", "MAX_WORKERS", "SHARED_MODEL_C", "Model", "ModelSettings"]

# The SVM's inverse regularization, chosen on the benchmark splits (benchmarks/model_selection.md
# section 4). A model of one's own mail judges mail like its training mail: there C=2 beat C=1
# in 6 of the 8 in-corpus cells ((1-AUC)% and recall at 0.1% FP on four corpora; the other two,
# (1-AUC)% on trec06c and trec06p, lost 1.4% and 0.4% of their value), and 3-fold
# cross-validation inside every training split also favoured a larger C. A model for mail
# from elsewhere, such as the bundled one, keeps C=1: C=2 took leave-one-corpus-out AUC on
# trec06p from 0.9806 to 0.9794 and lowered the recall of three of four cross-corpus pairs.
DEFAULT_C = 2.0
# 16 times the default's columns. The bound is what lets load_model refuse a model file that
# declares billions of weights before making room for them (a few kilobytes of compressed
# zeros can declare gigabytes): at 2**24 a model's weights and learning variances take 256 MB
# as they load, and hashing collides little enough long before it.
MAX_N_FEATURES = 2**24
SHARED_MODEL_C = 1.0
# learn() aims this far past the cutoff's decision value, so rounding cannot leave a learned
# message exactly on the cutoff, and so unsure.
_PAST_CUTOFF = 1e-6


@dataclass(frozen=True)
class ModelSettings:
    """Everything that shapes how a model reads and labels mail; saved with the model.

    ``spam_cutoff`` and ``ham_cutoff`` split the score into ``spam`` / ``unsure`` / ``ham``. The
    spam cutoff is high on purpose: losing real mail is the failure users never forgive.
    Trained on the other corpora (the bundled recipe), a model marked 0.70% of trec06p's
    held-out ham and 0.65% of spamassassin's as spam at 0.98, and 0.43% and 0.39% at 0.99
    (benchmarks/model_selection.md, section 6, at feature schema 7).

    ``min_script_examples``: a message is labelled spam or ham only if the model has learned at
    least this many ham and this many spam messages in its writing system; below that it is
    ``unsure``. Off (0) by default: in a model of one's own mail, a writing system that never
    came as ham is a fair sign of spam. The bundled model, which judges other people's mail,
    uses 200 (:data:`spamclf.scripts.SHARED_MODEL_MIN_EXAMPLES`, where the why is measured).

    ``n_features``, the hashed columns, is at most :data:`MAX_N_FEATURES` (2**24).
    """

    n_features: int = DEFAULT_N_FEATURES
    spam_cutoff: float = 0.99
    ham_cutoff: float = 0.2
    trusted_networks: tuple[str, ...] = ()
    n_reasons: int = 8
    learning_regularization: float = 0.1
    header_words: bool = False
    min_script_examples: int = 0
    limits: Limits = field(default_factory=Limits)

    def __post_init__(self) -> None:
        # Types first, each named: a wrong one would otherwise fail far from here (a cutoff of
        # "0.9" at the first message) or pass unnoticed (header_words="no" is true).
        for name, kinds, what in _SETTING_TYPES:
            value = getattr(self, name)
            if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
                raise SpamclfError(f"{name} must be {what}, got {value!r}")
            # NumPy's numbers as Python's: the settings are saved as JSON.
            if isinstance(value, bool):
                continue
            if isinstance(value, numbers.Integral):
                object.__setattr__(self, name, int(value))
            elif isinstance(value, numbers.Real):
                object.__setattr__(self, name, float(value))
        # Accept any iterable of CIDR strings; check them now, not at the first message.
        if isinstance(self.trusted_networks, str):  # one network, not its characters
            object.__setattr__(self, "trusted_networks", (self.trusted_networks,))
        object.__setattr__(self, "trusted_networks", tuple(self.trusted_networks))
        for network in self.trusted_networks:
            try:
                ipaddress.ip_network(network, strict=False)
            except (ValueError, TypeError) as exc:
                raise SpamclfError(f"trusted_networks: {network!r} is not a network") from exc
        if not self.learning_regularization > 0.0:  # also refuses NaN
            raise SpamclfError(
                f"learning_regularization must be positive, got {self.learning_regularization}"
            )
        for name, least in (("n_features", 1), ("n_reasons", 0)):
            value = getattr(self, name)
            if value < least:
                raise SpamclfError(
                    f"{name} must be a whole number of {least} or more, got {value!r}"
                )
        if self.n_features > MAX_N_FEATURES:
            raise SpamclfError(
                f"n_features must be at most {MAX_N_FEATURES:,} (2**24), got {self.n_features:,}"
            )
        _check_limits(self.limits)
        if self.min_script_examples < 0:
            raise SpamclfError(
                f"min_script_examples must be 0 or more, got {self.min_script_examples}"
            )
        if not 0.0 <= self.ham_cutoff <= self.spam_cutoff <= 1.0:
            raise SpamclfError(
                f"cutoffs must satisfy 0 <= ham_cutoff <= spam_cutoff <= 1, got "
                f"ham_cutoff={self.ham_cutoff}, spam_cutoff={self.spam_cutoff}"
            )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def feature_settings(self) -> FeatureSettings:
        """What a model with these settings reads of a message."""
        return FeatureSettings(self.trusted_networks, self.header_words)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelSettings:
        data = dict(data)
        # Models saved before learn() became AROW carry the retired passive-aggressive cap.
        data.pop("learning_aggressiveness", None)
        data["trusted_networks"] = tuple(data.get("trusted_networks", ()))
        data["limits"] = Limits(**data.get("limits", {}))
        return cls(**data)


# ModelSettings' fields with the types they must have (bool, an int to Python, is refused
# where a number is meant).
_SETTING_TYPES: tuple[tuple[str, tuple[type, ...], str], ...] = (
    ("n_features", (numbers.Integral,), "a whole number"),
    ("spam_cutoff", (numbers.Real,), "a number"),
    ("ham_cutoff", (numbers.Real,), "a number"),
    ("trusted_networks", (Iterable,), "a list of networks"),
    ("n_reasons", (numbers.Integral,), "a whole number"),
    ("learning_regularization", (numbers.Real,), "a number"),
    ("header_words", (bool,), "True or False"),
    ("min_script_examples", (numbers.Integral,), "a whole number"),
    ("limits", (Limits,), "a spamclf.Limits"),
)


class Model:
    """A linear spam model over hashed message features.

    Build one with :func:`spamclf.train` or :func:`spamclf.load_model`; use
    :meth:`classify`, :meth:`classify_many`, :meth:`learn` and :meth:`save`.

    One model may be shared by many threads: :meth:`classify` and :meth:`learn` may run at
    the same time (a lock keeps every verdict and every saved or copied state from seeing half
    an update; parsing and feature extraction, the costly part, run outside it). A process
    pool gets its own copy of the model, so what a worker learns stays in that worker.
    """

    def __init__(
        self,
        weights: np.ndarray,
        intercept: float,
        calibration: tuple[float, float],
        settings: ModelSettings,
        card: dict[str, Any] | None = None,
        variances: np.ndarray | None = None,
        script_counts: dict[str, list[int]] | None = None,
    ) -> None:
        check_settings(settings)
        if weights.shape != (settings.n_features,):
            raise SpamclfError(
                f"weights have shape {weights.shape}, expected ({settings.n_features},)"
            )
        if variances is not None and variances.shape != (settings.n_features + 1,):
            raise SpamclfError(
                f"variances have shape {variances.shape}, expected ({settings.n_features + 1},)"
            )
        self.weights = np.asarray(weights, dtype=np.float64)
        # How unsure learn() still is of each weight (the last entry: of the intercept); made
        # at the first learn(), so a model that never learns online does not carry it.
        self.variances = None if variances is None else np.asarray(variances, dtype=np.float64)
        self.intercept = float(intercept)
        self.calibration = (float(calibration[0]), float(calibration[1]))
        self.settings = settings
        self.card: dict[str, Any] = dict(card or {})
        # {script: [ham, spam]} learned so far (spamclf.scripts); None for model files saved
        # before models counted them, which then label every script as they always did.
        self.script_counts = (
            None
            if script_counts is None
            else {str(k): [int(v[0]), int(v[1])] for k, v in script_counts.items()}
        )
        self._feature_settings = settings.feature_settings()
        # learn() changes weights in place; the lock keeps a verdict (its score and its reasons)
        # from reading half an update. Re-entrant: a verdict holds it across decision().
        self._lock = threading.RLock()
        self._start_pool_state()

    def _start_pool_state(self) -> None:
        # classify_many's worker processes, kept between calls for as long as what they hold
        # is what the model is: every learn() counts a new generation, which retires them.
        # The key also holds the process that started them (see _worker_pool).
        self._generation = 0
        self._pool: tuple[tuple[int, int, int], Any] | None = None

    @classmethod
    def empty(cls, settings: ModelSettings | None = None) -> Model:
        """A model that has learned nothing: every message scores 0.5 until :meth:`learn`
        teaches it, one message at a time (the TREC spam track's online protocol).

        With no held-out decisions to calibrate on, the calibration puts the SVM margin at the
        stricter cutoff (the spam cutoff, as shipped): a decision of +1 scores ``spam_cutoff``,
        -1 scores ``1 - spam_cutoff``, so :meth:`learn` works to margin 1 on both sides. (With
        the logistic of the raw decision, slope 1, the margins would have been 3.9 for spam
        (4.6 at today's 0.99) and 1.4 for ham at the 0.98 cutoff then shipped; on the first
        5,000 trec06p messages in arrival order that made (1-ROCA)% 0.113 against 0.097 with
        the passive-aggressive update learn() used before AROW.)

        Without ``settings`` it reads the words of every header too (``header_words``, see
        :func:`spamclf.features.header_word_tokens`): a model that learns one mailbox's own
        stream gains from that mailbox's relays and mailers, which mislead only across mailboxes.
        """
        if settings is not None:  # {} was taken as no settings: an empty dict is false
            check_settings(settings)
        settings = settings or ModelSettings(header_words=True)
        # At the stricter cutoff: with spam_cutoff 0.5 (and ham_cutoff 0.2) the margin went at
        # 0.5, the slope was 4e-6, and one learned message moved weights by 1e5.
        cutoff = min(max(settings.spam_cutoff, 1.0 - settings.ham_cutoff), 1 - 1e-6)
        if cutoff <= 0.5:
            raise SpamclfError(
                "Model.empty() puts its learning margin at its cutoffs, and with spam_cutoff "
                "and ham_cutoff both 0.5 there is none: set ham_cutoff below 0.5 (or change "
                "the cutoffs after, with with_settings())"
            )
        slope = math.log(cutoff / (1.0 - cutoff))
        card = {"training": {"description": "empty: learned online", "messages": 0}}
        return cls(np.zeros(settings.n_features), 0.0, (slope, 0.0), settings, card, None, {})

    def __getstate__(self) -> dict[str, Any]:
        # Process pools pickle the model to ship it to workers; a lock cannot travel. The
        # weights are copied under the lock so that a learn() in another thread cannot tear them.
        with self._lock:
            state = self.__dict__.copy()
            state["weights"] = self.weights.copy()
            state["variances"] = None if self.variances is None else self.variances.copy()
            state["card"] = copy.deepcopy(self.card)
            state["script_counts"] = copy.deepcopy(self.script_counts)
        for unpicklable in ("_lock", "_pool", "_generation"):
            del state[unpicklable]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.RLock()
        self._start_pool_state()

    def __repr__(self) -> str:
        # The card is the caller's (or a loaded file's) to fill: "training" may be anything.
        training = self.card.get("training")
        trained = training.get("messages", "?") if isinstance(training, dict) else "?"
        return f"<spamclf.Model n_features={self.settings.n_features} trained_on={trained}>"

    def with_settings(self, **changes: Any) -> Model:
        """A copy of this model with some settings changed, e.g. the cutoffs or the relays
        that count as ours: ``model.with_settings(trusted_networks=("203.0.113.0/24",))``."""
        unknown = sorted(set(changes) - {f.name for f in dataclasses.fields(ModelSettings)})
        if unknown:
            raise SpamclfError(f"unknown setting {', '.join(unknown)}: see spamclf.ModelSettings")
        settings = dataclasses.replace(self.settings, **changes)
        weights, intercept, calibration, card, variances, counts = self.parameters()
        return Model(weights, intercept, calibration, settings, card, variances, counts)

    def parameters(
        self,
    ) -> tuple[
        np.ndarray,
        float,
        tuple[float, float],
        dict[str, Any],
        np.ndarray | None,
        dict[str, list[int]] | None,
    ]:
        """A consistent copy of the weights, intercept, calibration, card, learning variances
        and script counts (taken under the lock, so never half of a concurrent :meth:`learn`).
        """
        with self._lock:
            variances = None if self.variances is None else self.variances.copy()
            card = copy.deepcopy(self.card)
            counts = copy.deepcopy(self.script_counts)
            return self.weights.copy(), self.intercept, self.calibration, card, variances, counts

    def classify(self, message: MessageInput) -> Verdict:
        """Score one message (bytes, text, path or ``email.message.Message``)."""
        return self.classify_head(*read_head(message, self.settings.limits.max_message_bytes))

    def classify_head(self, head: bytes, size: int) -> Verdict:
        """Score a message of ``size`` bytes from its first bytes, ``head``: what a caller
        reading a stream (a pipe, a socket) needs to keep of a message of any size. A model
        reads ``settings.limits.max_message_bytes`` of it; ``size`` counts toward its clues.
        """
        if (
            not isinstance(head, (bytes, bytearray, memoryview))
            or not isinstance(size, numbers.Integral)
            or isinstance(size, bool)
            or size < len(head)
        ):
            raise InputError(
                "classify_head takes bytes and their message's size in bytes (an int, at "
                f"least the bytes' length), got {type(head).__name__} and {size!r}"
            )
        return self._verdict(self.head_features(bytes(head), int(size)))

    def classify_many(
        self, messages: Iterable[MessageInput], *, n_jobs: int = 1, batch_size: int = 256
    ) -> Iterator[Verdict]:
        """Score messages lazily, in order; ``n_jobs > 1`` (or -1: all cores) uses processes.

        A message that cannot be read (a missing file, a type that is not a message) raises
        :class:`InputError` naming its position, once the verdicts of every message before it
        have been yielded, whatever ``n_jobs``; a caller that catches it can go on after it.
        What is no iterable, and a bad ``n_jobs`` or ``batch_size``, raise at the call.
        """
        heads = read_heads(each_message(messages), self.settings.limits.max_message_bytes)
        return self.classify_heads(heads, n_jobs=n_jobs, batch_size=batch_size)

    def classify_heads(
        self, heads: Iterable[tuple[bytes, int]], *, n_jobs: int = 1, batch_size: int = 256
    ) -> Iterator[Verdict]:
        """:meth:`classify_head` over ``(head, size)`` pairs, as :meth:`classify_many` does
        over messages: for a caller that reads the messages itself (``spamclf classify``)."""
        # Checked here, outside the generator: there they waited for the first next(), so
        # classify_many(messages, n_jobs=0) returned as if all was well.
        workers = check_jobs(n_jobs)
        if (
            not isinstance(batch_size, numbers.Integral)
            or isinstance(batch_size, bool)
            or batch_size < 1
        ):
            raise SpamclfError(f"batch_size must be a positive whole number, got {batch_size!r}")
        return self._classify_heads(iter(heads), workers, int(batch_size))

    def _classify_heads(
        self, heads: Iterator[tuple[bytes, int]], workers: int, batch_size: int
    ) -> Iterator[Verdict]:
        if workers == 1:
            for head, size in heads:
                yield self.classify_head(head, size)
            return
        pool = self._worker_pool(workers)
        failure: list[Exception] = []
        batches = _batched(_until_failure(heads, failure), batch_size)
        # Each worker receives the model once (initializer), then only message batches; at most
        # two batches per worker are in flight, each of batch_size messages or _BATCH_BYTES, so
        # a huge iterable is read as it is scored, in bounded memory.
        # Only each message's head travels (see read_heads): a file of gigabytes costs its first
        # megabyte. benchmarks/speed.md, 10,000 messages, 2 workers: 1.82-1.85x one core after
        # a warm-up call, 1.68-1.80x on a first call (joblib.Parallel, shipping the model with
        # every batch, reached 1.5x).
        pending: deque[Future[list[Verdict]]] = deque()
        try:
            for batch in batches:
                pending.append(pool.submit(_classify_in_worker, batch))
                if len(pending) >= 2 * workers:
                    yield from self._results(pool, pending.popleft())
            while pending:
                yield from self._results(pool, pending.popleft())
        finally:
            for future in pending:  # the caller stopped early: drop what it will not read
                future.cancel()
        if failure:
            raise failure[0]

    def _results(self, pool: Any, batch: Future[list[Verdict]]) -> list[Verdict]:
        """A batch's verdicts. A worker that died (the OOM killer, a signal) breaks its pool for
        good: the pool is dropped, so the next call starts new workers, and the caller gets a
        SpamclfError once. No retry here: a message that kills its worker would kill the next."""
        try:
            return batch.result()
        except BrokenExecutor as exc:
            with self._lock:
                if self._pool is not None and self._pool[1] is pool:
                    self._pool = None
            raise SpamclfError(
                f"a classify_many worker process died ({exc}); the next call starts new ones"
            ) from exc

    def _worker_pool(self, workers: int) -> Any:
        """classify_many's pool of ``workers`` processes, each holding this model as it is now.

        Started at the first call and kept for the next ones (starting two workers, each
        importing spamclf and loading the model and jieba's dictionary, takes about half a
        second); replaced when learn() has changed the model since, or another number of
        workers is asked for. A replaced pool serves the calls still reading from it, and its
        workers exit once nothing refers to it (loky stops the workers of a collected pool), as
        when the model itself goes; idle workers exit after ``_IDLE_WORKER_SECONDS`` and start
        again when needed.

        A process forked from one that holds a pool (a web server's workers, forked after a
        warm-up call) starts its own: the pool's workers and the thread that feeds them belong
        to the parent, and a batch handed to the parent's pool in the child waited forever.
        """
        # joblib's loky executor: its workers start cleanly from scripts without a main guard.
        from joblib.externals.loky import ProcessPoolExecutor

        with self._lock:
            key = (workers, self._generation, os.getpid())
            if self._pool is not None and self._pool[0] == key:
                return self._pool[1]
            pool = ProcessPoolExecutor(
                workers,
                initializer=_set_worker_model,
                initargs=(self,),
                timeout=_IDLE_WORKER_SECONDS,
            )
            self._pool = (key, pool)
            return pool

    def features(self, message: MessageInput) -> Features:
        """The features of a message (tokens, character text, origin), as the model reads it."""
        return self.head_features(*read_head(message, self.settings.limits.max_message_bytes))

    def head_features(self, head: bytes, size: int) -> Features:
        """The features of a message of ``size`` bytes read as far as ``head``, as
        :meth:`classify_head` reads it: the bytes as a client sent them, with no file-format
        check (a spamd TELL learns what its CHECK scored; pass them to :meth:`learn`)."""
        return read_features(head, self.settings.limits, self._feature_settings, size=size)

    def decision(self, features: Features) -> tuple[float, Row]:
        """The SVM decision value of a message's features, and their row."""
        row = self._row(features)
        with self._lock:
            return self._value(row), row

    def _row(self, features: Features) -> Row:
        # Hashing needs no weights, so it runs outside the lock: under 16 server threads,
        # hashing inside it made a quarter of the samples threads waiting for the lock.
        return features_row(features, self.settings.n_features)

    def _value(self, row: Row) -> float:
        """The decision value of ``row`` (the caller holds the lock)."""
        return float(self.weights[row.columns] @ row.values) + self.intercept

    def probability(self, decision: float) -> float:
        """Calibrated spam probability of an SVM decision value (Platt scaling)."""
        slope, offset = self.calibration
        return _logistic(slope * decision + offset)

    def _decision_at(self, probability: float) -> float:
        """The SVM decision value whose calibrated probability is ``probability``."""
        slope, offset = self.calibration
        if slope <= 0.0:  # a degenerate calibration (e.g. trained on separable toy data)
            return 0.0
        probability = min(max(probability, 1e-6), 1 - 1e-6)
        return (math.log(probability / (1.0 - probability)) - offset) / slope

    def score_rows(self, rows: Any) -> np.ndarray:
        """Calibrated spam probabilities of vectorized rows (a CSR matrix from the vectorizer)."""
        slope, offset = self.calibration
        log_odds = slope * (rows @ self.weights + self.intercept) + offset
        return 1.0 / (1.0 + np.exp(-np.clip(log_odds, -700, 700)))

    def label(self, score: float) -> Label:
        """The label of a score by the cutoffs alone (see also :meth:`is_familiar`)."""
        if score >= self.settings.spam_cutoff:
            return "spam"
        if score < self.settings.ham_cutoff:
            return "ham"
        return "unsure"

    def is_familiar(self, script: str) -> bool:
        """Whether the model has learned enough ham and spam in ``script`` to label it."""
        if script == NO_SCRIPT or self.script_counts is None:
            return True
        ham, spam = self.script_counts.get(script, (0, 0))
        return min(ham, spam) >= self.settings.min_script_examples

    def learn(
        self, message: MessageInput, label: object, *, features: Features | None = None
    ) -> bool:
        """Learn one labelled message in place (like ``sa-learn``); return whether it changed.

        AROW (Crammer, Kulesza and Dredze, 2009) on the SVM's hinge loss: nothing changes when
        the message is already past its margin; otherwise the weights move towards it, each in
        proportion to how unsure the model still is of it. Every weight starts with variance 1
        and each update shrinks the variance of the weights it used, so words seen in many
        learned messages settle while new ones move freely. ``learning_regularization`` (AROW's
        r) damps every step. In the TREC online protocol this more than halved the ranking
        errors of the passive-aggressive update it replaced ((1-ROCA)% on trec06p 0.074 to
        0.034, trec06c 0.0063 to 0.0035; benchmarks/online_learning.md). No retraining.
        Logistic regression with AdaGrad's rates, which learns from every message as the byte
        4-gram filter does, won on one corpus only: at rate 2 trec06c 0.0013 against AROW's 0.0015,
        but trec06p 0.041 against 0.026; no rate was ahead on both. Nor was a logistic step on
        every message followed by AROW's on the same weights (rate 0.3: trec06c 0.0013, trec06p
        0.029), or the two as separate models with their scores summed (rate 2: 0.0012, 0.030).

        The margin is the SVM's usual 1, or more where the calibration needs more for the
        message to clear its cutoff. An undamped step would reach it; AROW's r damps each step
        to a share confidence / (confidence + r) of the way, so a message, above all one whose
        words the model is already sure of, may take a few ``learn()`` calls before it is
        labelled as taught (``True`` means only that the model changed).
        A model trained without trec06p once had a flat sigmoid (slope 0.43, before the
        calibration folds were shuffled), and margin 1 alone left every message it learned
        from trec06p "unsure" (benchmarks/learn.md); its sigmoid now puts the 0.99 cutoff at
        a decision value of 0.76, inside the usual margin.

        ``features`` are the message's own ``self.features(message)`` when the caller has them
        already (it just scored the message), so the message is not read twice.
        """
        target = 1.0 if normalize_label(label) == "spam" else -1.0
        if features is None:
            features = self.features(message)  # the slow part, outside the lock
        cutoff = self.settings.spam_cutoff if target > 0 else self.settings.ham_cutoff
        margin = max(1.0, target * self._decision_at(cutoff) + _PAST_CUTOFF)
        # Read, step and count under one lock: learn() from many threads at once is then the
        # same as some serial order of the calls, and no update or count is lost.
        row = self._row(features)
        with self._lock:
            # Every change here retires classify_many's workers, which hold the model as it was.
            if self.script_counts is not None:
                self.script_counts.setdefault(features.script, [0, 0])[1 if target > 0 else 0] += 1
                self._generation += 1
            loss = margin - target * self._value(row)
            if loss <= 0.0:
                return False
            if self.variances is None:
                self.variances = np.ones(self.settings.n_features + 1)
            # The intercept is one more weight, whose feature is always 1.
            spread = self.variances[row.columns] * row.values
            intercept_variance = float(self.variances[-1])
            confidence = float(spread @ row.values) + intercept_variance
            beta = 1.0 / (confidence + self.settings.learning_regularization)
            step = loss * beta * target
            self.weights[row.columns] += step * spread
            self.intercept += step * intercept_variance
            self.variances[row.columns] -= beta * spread * spread
            self.variances[-1] -= beta * intercept_variance * intercept_variance
            self._generation += 1
            learned = self.card.setdefault("learned", {"spam": 0, "ham": 0})
            learned["spam" if target > 0 else "ham"] += 1
        return True

    def save(self, path: str | bytes | os.PathLike) -> None:  # type: ignore[type-arg]
        """Write the model and its card (``PATH`` and ``PATH.card.json``) atomically."""
        from spamclf.persist import save_model

        save_model(self, path)

    def _verdict(self, features: Features) -> Verdict:
        row = self._row(features)
        with self._lock:  # the score and its reasons come from the same weights
            value = self._value(row)
            intercept = self.intercept
            reasons = self._reasons(features, row)
            familiar = self.is_familiar(features.script)
        slope, offset = self.calibration
        log_odds = slope * value + offset
        score = _logistic(log_odds)
        label = self.label(score) if familiar else "unsure"
        return Verdict(
            label,
            score,
            reasons,
            features.origin,
            features.script,
            not familiar,
            log_odds=log_odds,
            baseline=slope * intercept + offset,
        )

    def _reasons(self, features: Features, row: Row) -> tuple[Reason, ...]:
        slope = self.calibration[0]
        words = self.weights[row.token_columns] * row.token_values * slope
        chars = self.weights[row.char_columns] * row.char_value * slope
        contributions = np.concatenate([words, chars])
        k = min(self.settings.n_reasons, len(contributions))
        if k == 0:
            return ()
        magnitude = np.abs(contributions)
        # The k-th largest in linear time (partition); every non-zero contribution at least
        # that large is then sorted by size, equal ones words first, each word and 4-gram in
        # the order it comes in the message. Taking argpartition's k alone left it to NumPy's
        # selection which of equal contributions (words that always come together weigh the
        # same) made the list, and in what order: not the message's order in 1,979 of 2,000
        # random cases, and free to change with NumPy's version.
        least = -np.partition(-magnitude, k - 1)[k - 1]
        # Compared through NumPy's functions, not operators: atheris (fuzz/) keeps every array
        # an instrumented comparison operator returns, and fuzzing grew by 1.3 MB a thousand
        # runs (benchmarks/fuzzing.md).
        candidates = np.flatnonzero(
            np.logical_and(np.greater_equal(magnitude, least), np.greater(magnitude, 0.0))
        )
        position = candidates.copy()
        is_char = np.greater_equal(candidates, len(words))
        position[is_char] = len(words) + row.char_positions[candidates[is_char] - len(words)]
        top = candidates[np.lexsort((position, -magnitude[candidates]))][:k]
        reasons = []
        for i in top:
            if i < len(words):
                name = features.tokens[i]
            else:
                start = int(row.char_positions[i - len(words)])
                name = "chars:" + features.chars[start : start + CHAR_NGRAM]
            reasons.append(Reason(name, float(contributions[i])))
        return tuple(reasons)


def check_settings(settings: object) -> None:
    """:class:`InputError` unless ``settings`` is a :class:`ModelSettings`: a dict was taken as
    no settings when empty ({} is false) and failed deep in the work with an AttributeError
    when not."""
    if not isinstance(settings, ModelSettings):
        raise InputError(
            f"settings must be a spamclf.ModelSettings, got {type(settings).__name__} "
            "(ModelSettings(**your_dict) makes one)"
        )


def _check_limits(limits: Limits) -> None:
    """Refuse caps that would read nothing (0) or slice from the end (negative) when a model
    takes them, not at its first message."""
    for name, value in dataclasses.asdict(limits).items():
        if name == "max_seconds":
            if value is not None and not value > 0:  # also refuses NaN
                raise SpamclfError(f"Limits.max_seconds must be positive or None, got {value!r}")
        elif not isinstance(value, int) or value < 1:
            raise SpamclfError(f"Limits.{name} must be a whole number of 1 or more, got {value!r}")


def features_row(features: Features, n_features: int) -> Row:
    """The hashed row of a message's features, with their writing system: the one way both
    scoring and training (:func:`spamclf.pipeline.row_chunks`) turn features into rows."""
    row = hash_row(features.tokens, features.chars, n_features)
    return row._replace(script=features.script)


def read_features(
    raw: bytes, limits: Limits, settings: FeatureSettings, *, size: int | None = None
) -> Features:
    """Raw bytes to features: the one reading that training and scoring share, so a model
    always scores messages exactly as its training data was read.

    ``size`` is the full size of a message of which ``raw`` is the head. One time budget
    (``limits.max_seconds``) covers parsing and extraction together.
    """
    deadline = limits.deadline()
    message = parse_bytes(raw, limits, size=size, deadline=deadline)
    return extract_features(message, settings, limits=limits, deadline=deadline)


# A classify_many batch is cut short once its messages hold this many bytes. By count alone,
# 256 messages of a megabyte each made batches of 256 MB, and with two batches per worker in
# flight, 2 workers took the caller's process from 250 MB to 1.48 GB (all cores of a large
# machine: gigabytes more). Cut at 8 MB, it grew by 40 MB, and 1,200 such messages took 12.4 s
# instead of 15.8 (one run each). Mail of 10 kB still goes 256 messages a batch.
_BATCH_BYTES = 8 << 20

# classify_many's idle workers exit after this long (and start again when needed).
_IDLE_WORKER_SECONDS = 300
# More worker processes than this is a typo, not a machine: the pool would fail to start them
# with an OverflowError or exhaust the process table.
MAX_WORKERS = 1024
# Set once in each worker process of classify_many (never in the caller's process).
_worker_model: Model | None = None


def _logistic(log_odds: float) -> float:
    return 1.0 / (1.0 + math.exp(-log_odds)) if log_odds > -700 else 0.0


def check_jobs(n_jobs: object) -> int:
    """How many processes ``n_jobs`` asks for: a whole number from 1 to :data:`MAX_WORKERS`,
    or a negative one for one per core; anything else raises :class:`SpamclfError`."""
    jobs = int(n_jobs) if isinstance(n_jobs, numbers.Integral) else 0
    if isinstance(n_jobs, bool) or jobs == 0 or jobs > MAX_WORKERS:
        raise SpamclfError(
            f"n_jobs must be 1 to {MAX_WORKERS}, or negative for one per core, got {n_jobs!r}"
        )
    if jobs > 0:
        return jobs
    # The cores this process may use, not the machine's (os.cpu_count()): a container allowed
    # 2 CPUs of a 64-core host, or a process pinned with taskset, started 64 workers, each
    # holding the model. loky counts CPU affinity and cgroup quotas, as joblib does in train().
    from joblib.externals.loky import cpu_count

    return max(1, cpu_count())


def _set_worker_model(model: Model) -> None:
    global _worker_model
    _worker_model = model


def _classify_in_worker(batch: list[tuple[bytes, int]]) -> list[Verdict]:
    assert _worker_model is not None, "worker started without a model"
    return [_worker_model.classify_head(head, size) for head, size in batch]


def _until_failure(
    heads: Iterator[tuple[bytes, int]], failure: list[Exception]
) -> Iterator[tuple[bytes, int]]:
    """``heads`` up to the first unreadable message, whose error goes into ``failure`` (so the
    verdicts already under way are yielded before it is raised). Any error: one raised by the
    caller's own iterable must not cost the verdicts before it either."""
    try:
        yield from heads
    except Exception as exc:
        failure.append(exc)


def _batched(
    items: Iterable[tuple[bytes, int]], size: int, max_bytes: int = _BATCH_BYTES
) -> Iterator[list[tuple[bytes, int]]]:
    """``items`` in lists of ``size``, or fewer once their heads hold ``max_bytes``."""
    batch: list[tuple[bytes, int]] = []
    held = 0
    for item in items:
        batch.append(item)
        held += len(item[0])
        if len(batch) == size or held >= max_bytes:
            yield batch
            batch = []
            held = 0
    if batch:
        yield batch
