"""Scoring a spam filter the way the spam-filtering literature does.

A spam filter's costs are lopsided: a lost ham (false positive) can cost a job offer, a missed
spam costs a second of the reader's time. So besides ROC AUC (reported as ``(1-AUC)%``, which
stays readable when AUC is 0.999x) we report:

* ``lam%``, the TREC spam track's logistic average misclassification, a threshold-dependent
  summary that rewards a fixed-factor improvement of either error rate equally;
* spam recall at 0.1 % false positives, the operating point a mail provider actually runs at.

Scores are "spamminess": higher means more likely spam, and a threshold ``t`` marks a message as
spam when ``score >= t``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np
from sklearn.metrics import roc_auc_score

from spamclf.corpora import SPAM, normalize_label
from spamclf.errors import InputError

__all__ = [
    "Calibration",
    "Comparison",
    "Difference",
    "Metrics",
    "calibration",
    "compare",
    "evaluate",
    "format_table",
    "lam_from_counts",
    "recall_at_fpr",
    "threshold_for_fpr",
]

# Half a message added to error and total counts, as in the CEAS 2007 challenge's published lam
# formula (G. Cormack): it keeps lam finite when a filter makes no error of one kind.
_LAM_SMOOTHING = 0.5
# max_fpr * n_ham is a float; without slack 0.29 * 100 = 28.999... would allow 28 ham, not 29.
_COUNT_SLACK = 1e-9
REPORT_FPR = 0.001  # the 0.1 % operating point of Metrics.recall_at_0_1pct_fpr


@dataclass(frozen=True, slots=True)
class Metrics:
    """Evaluation of one filter on one test set; rates are fractions, ``*_pct`` are percents."""

    n: int
    n_spam: int
    n_ham: int
    threshold: float
    roc_auc: float
    one_minus_auc_pct: float
    lam_pct: float
    fpr: float
    fnr: float
    recall_at_0_1pct_fpr: float

    def as_dict(self) -> dict[str, float | int]:
        """Plain dict, for JSON benchmark reports."""
        return asdict(self)


def _prepare(labels: Sequence[object], scores: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """Labels as a 1 = spam / 0 = ham array and scores as floats, both checked.

    Both classes must be present: AUC and the two error rates are undefined otherwise, and a
    silent NaN in a benchmark table is worse than an error. Scores must be finite: a spam and a
    ham tied at +inf cannot be told apart by any threshold, yet ``score >= inf`` would catch the
    spam (recall 1.0 at no false positive); scikit-learn's AUC refuses infinity anyway.
    """
    y = np.fromiter((normalize_label(v) == SPAM for v in labels), dtype=bool).astype(np.int8)
    try:
        s = np.asarray(scores, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError) as exc:  # text, None, a generator: NumPy's own error
        raise InputError(f"scores must be a sequence of numbers: {exc}") from exc
    if y.shape != s.shape:
        raise InputError(f"{y.size} labels but {s.size} scores")
    if np.isnan(s).any():
        raise InputError("scores contain NaN")
    if np.isinf(s).any():
        raise InputError(
            "scores contain infinity; give finite scores (clip an overflowed log-odds)"
        )
    n_spam = int(y.sum())
    if n_spam == 0 or n_spam == y.size:
        raise InputError(f"need both spam and ham to evaluate; got {n_spam} spam of {y.size}")
    return y, s


def _check_fpr(max_fpr: float) -> None:
    # A string compared with a float was a bare TypeError; NaN fails the range check.
    if not isinstance(max_fpr, numbers.Real) or not 0.0 <= max_fpr <= 1.0:
        raise InputError(f"max_fpr must be within [0, 1], not {max_fpr!r}")


def _threshold(y: np.ndarray, s: np.ndarray, max_fpr: float) -> float:
    """Smallest score usable as a threshold that marks at most ``max_fpr`` of the ham as spam.

    With ``k`` ham allowed, the threshold must lie above the (k+1)-th highest ham score; the
    smallest observed score above it is returned (``inf`` if none, which marks nothing as spam).
    A spam tied with that ham is therefore not caught: ties are resolved against the filter.
    """
    ham = np.sort(s[y == 0])[::-1]
    allowed = math.floor(max_fpr * ham.size + _COUNT_SLACK)
    if allowed >= ham.size:
        return float(s.min())
    above = s[s > ham[allowed]]
    return float(above.min()) if above.size else math.inf


def threshold_for_fpr(labels: Sequence[object], scores: Sequence[float], max_fpr: float) -> float:
    """Return the smallest threshold whose false positive rate is at most ``max_fpr``.

    At most ``floor(max_fpr * n_ham)`` ham may score at or above it, a whole number of messages,
    not interpolated: at 0.1 %, 999 ham allow none and 1,000 to 1,999 allow one. The threshold
    is one of the scores (or ``inf`` when even the top score is a ham that may not be flagged),
    so using it on the same data reproduces the rates exactly.
    """
    _check_fpr(max_fpr)
    y, s = _prepare(labels, scores)
    return _threshold(y, s, max_fpr)


def recall_at_fpr(labels: Sequence[object], scores: Sequence[float], max_fpr: float) -> float:
    """Return the largest fraction of spam caught while flagging at most ``max_fpr`` of ham.

    The lowest admissible threshold catches the most spam, so this is the spam recall at
    :func:`threshold_for_fpr`; tied scores count against the filter (see there).
    """
    _check_fpr(max_fpr)
    y, s = _prepare(labels, scores)
    return _recall_at(y, s, _threshold(y, s, max_fpr))


def _recall_at(y: np.ndarray, s: np.ndarray, threshold: float) -> float:
    return float(np.mean(s[y == 1] >= threshold))


def _logit(p: float) -> float:
    # The smoothing keeps p above 0 but not below 1: every message of a class misclassified
    # gives p == 1, whose logit is +inf, and lam% then takes its limit value of 100.
    return math.inf if p >= 1.0 else math.log(p / (1.0 - p))


def lam_from_counts(false_positives: int, n_ham: int, false_negatives: int, n_spam: int) -> float:
    """Logistic average misclassification, in percent (Cormack & Lynam, TREC 2005 spam track).

    ``lam% = logit^-1((logit(hm%) + logit(sm%)) / 2)``, the mean of the ham and spam
    misclassification rates taken in log-odds space. Rates are smoothed as
    ``(errors + 0.5) / (n + 0.5)``, the CEAS 2007 form of the formula: an unsmoothed zero rate
    has logit ``-inf`` and would report a perfect filter for any error on the other side.
    A filter that misclassifies every message of one class scores the limit, 100.
    """
    hm = (false_positives + _LAM_SMOOTHING) / (n_ham + _LAM_SMOOTHING)
    sm = (false_negatives + _LAM_SMOOTHING) / (n_spam + _LAM_SMOOTHING)
    mean_logit = (_logit(hm) + _logit(sm)) / 2.0
    return 100.0 / (1.0 + math.exp(-mean_logit))


def evaluate(
    labels: Sequence[object],
    scores: Sequence[float],
    threshold: float = 0.5,
    *,
    labelled: Sequence[bool] | None = None,
) -> Metrics:
    """Compute every reported metric for one filter's ``scores`` on a test set.

    ``labels`` are ``"spam"``/``"ham"`` or 1/0; ``threshold`` fixes the operating point of
    ``fpr``, ``fnr`` and ``lam_pct`` (score >= threshold is spam). AUC and recall at 0.1 % FPR
    do not depend on it. ``labelled`` (default: all) marks the messages the filter labelled
    at all: the others (``Verdict.unfamiliar``) are never counted as called spam.
    """
    y, s = _prepare(labels, scores)
    is_spam, is_ham = y == 1, y == 0
    n_spam, n_ham = int(is_spam.sum()), int(is_ham.sum())
    called_spam = s >= threshold
    if labelled is not None:
        # Checked: one flag broadcast over every message unnoticed, and two raised NumPy's
        # ValueError about shapes.
        mask = np.asarray(labelled, dtype=bool).reshape(-1)
        if mask.shape != y.shape:
            raise InputError(f"{y.size} labels but {mask.size} labelled flags")
        called_spam &= mask
    false_positives = int(np.sum(called_spam[is_ham]))
    false_negatives = int(np.sum(~called_spam[is_spam]))
    auc = float(roc_auc_score(y, s))
    return Metrics(
        n=int(y.size),
        n_spam=n_spam,
        n_ham=n_ham,
        threshold=float(threshold),
        roc_auc=auc,
        one_minus_auc_pct=(1.0 - auc) * 100.0,
        lam_pct=lam_from_counts(false_positives, n_ham, false_negatives, n_spam),
        fpr=false_positives / n_ham,
        fnr=false_negatives / n_spam,
        recall_at_0_1pct_fpr=_recall_at(y, s, _threshold(y, s, REPORT_FPR)),
    )


@dataclass(frozen=True, slots=True)
class Calibration:
    """How far spam probabilities mean what they say, on one test set.

    ``log_loss`` and ``brier`` (the mean squared error of the probability) are lower for
    better probabilities; ``ece``, the expected calibration error, is the mean gap between the
    predicted probability and the share of spam, over ten equal-width bins of the probability,
    weighted by the messages in each bin: 0.01 means the scores are off by one point on average.
    """

    log_loss: float
    brier: float
    ece: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


CALIBRATION_BINS = 10
_CLIP = 1e-7  # log loss of a certain and wrong probability: finite, and large


def calibration(labels: Sequence[object], probabilities: Sequence[float]) -> Calibration:
    """Log loss, Brier score and expected calibration error of spam ``probabilities``.

    >>> c = calibration(["spam", "ham", "spam", "ham"], [0.9, 0.1, 0.8, 0.3])
    >>> round(c.brier, 4), round(c.ece, 4)
    (0.0375, 0.175)
    """
    y, p = _prepare(labels, probabilities)
    if (p < 0.0).any() or (p > 1.0).any():
        raise InputError("probabilities must lie within [0, 1]")
    clipped = np.clip(p, _CLIP, 1.0 - _CLIP)
    log_loss = -np.mean(y * np.log(clipped) + (1 - y) * np.log(1.0 - clipped))
    bins = np.minimum((p * CALIBRATION_BINS).astype(int), CALIBRATION_BINS - 1)
    counts = np.bincount(bins, minlength=CALIBRATION_BINS)
    gaps = np.abs(
        np.bincount(bins, weights=y, minlength=CALIBRATION_BINS)
        - np.bincount(bins, weights=p, minlength=CALIBRATION_BINS)
    )
    return Calibration(
        log_loss=float(log_loss),
        brier=float(np.mean((p - y) ** 2)),
        ece=float(gaps.sum() / counts.sum()),
    )


@dataclass(frozen=True, slots=True)
class Difference:
    """A metric of one filter minus the same metric of another, on the same messages, and the
    95 % interval of that difference over bootstrap resamples of the messages."""

    value: float
    low: float
    high: float

    @property
    def clear(self) -> bool:
        """The interval excludes zero: the two filters differ beyond resampling noise."""
        return self.low > 0.0 or self.high < 0.0


@dataclass(frozen=True, slots=True)
class Comparison:
    """Filter A minus filter B on (1-AUC)% (negative: A ranks better) and on spam recall at
    0.1 % false positives (positive: A catches more)."""

    one_minus_auc_pct: Difference
    recall_at_0_1pct_fpr: Difference
    n_resamples: int

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


COMPARE_RESAMPLES = 1000
_INTERVAL = (2.5, 97.5)  # percentiles of the resampled differences: a 95 % interval


def compare(
    labels: Sequence[object],
    scores_a: Sequence[float],
    scores_b: Sequence[float],
    *,
    n_resamples: int = COMPARE_RESAMPLES,
    seed: int = 0,
) -> Comparison:
    """How far filter A is ahead of filter B on the same messages, and whether that is more
    than the luck of which messages were in the test set.

    A paired, stratified bootstrap: each resample draws as many ham and as many spam as the
    test set has, with replacement, and scores both filters on the same draw, so what the two
    share (an easy or a hard test set) cancels out of their difference. At (1-AUC)% of 0.001
    a handful of messages decide the figure, and two filters' figures alone cannot say
    whether one is better.

    >>> labels = ["ham"] * 50 + ["spam"] * 50
    >>> a = [i / 100 for i in range(100)]  # every spam above every ham
    >>> c = compare(labels, a, a, n_resamples=200)
    >>> c.one_minus_auc_pct.value, c.one_minus_auc_pct.clear
    (0.0, False)
    """
    y, a = _prepare(labels, scores_a)
    _, b = _prepare(labels, scores_b)
    # A float (2.5, NaN) was a bare TypeError from NumPy, far into the work.
    if not isinstance(n_resamples, numbers.Integral) or n_resamples < 1:
        raise InputError(f"n_resamples must be a whole number of 1 or more, not {n_resamples!r}")
    is_spam = y == 1
    filters = [_WeightedMetrics(s, is_spam) for s in (a, b)]
    unit = np.ones(y.size)
    point = [f.metrics(unit) for f in filters]
    rng = np.random.default_rng(seed)
    ham, spam = np.flatnonzero(~is_spam), np.flatnonzero(is_spam)
    resampled = np.empty((n_resamples, 2))
    for i in range(n_resamples):
        # Resampling with replacement is the same as weighting each message by how often it
        # was drawn; the weights let each filter sort its scores once, not once per resample.
        weights = np.zeros(y.size)
        for members in (ham, spam):
            weights[members] = np.bincount(
                rng.integers(0, members.size, members.size), minlength=members.size
            )
        resampled[i] = np.subtract(filters[0].metrics(weights), filters[1].metrics(weights))
    low, high = np.percentile(resampled, _INTERVAL, axis=0)
    auc, recall = (
        Difference(float(point[0][k] - point[1][k]), float(low[k]), float(high[k]))
        for k in range(2)
    )
    return Comparison(auc, recall, n_resamples)


class _WeightedMetrics:
    """(1-AUC)% and recall at 0.1 % FP of one filter's scores, for any weights of the messages
    (a bootstrap resample), equal to :func:`evaluate`'s at unit weights."""

    def __init__(self, scores: np.ndarray, is_spam: np.ndarray) -> None:
        self.is_spam = is_spam
        # Tied scores form one group: a spam tied with a ham counts half a correct pair.
        _, self.groups = np.unique(scores, return_inverse=True)
        self.n_groups = int(self.groups.max()) + 1
        ham_scores = scores[~is_spam]
        self.ham_order = np.argsort(-ham_scores, kind="stable")
        self.ham_descending = ham_scores[self.ham_order]
        self.spam_scores = scores[is_spam]
        self.allowed = math.floor(REPORT_FPR * ham_scores.size + _COUNT_SLACK)

    def metrics(self, weights: np.ndarray) -> tuple[float, float]:
        ham_w, spam_w = weights[~self.is_spam], weights[self.is_spam]
        per_group = np.bincount(self.groups[~self.is_spam], ham_w, minlength=self.n_groups)
        below = np.cumsum(per_group) - per_group
        spam_groups = self.groups[self.is_spam]
        pairs = spam_w @ (below[spam_groups] + 0.5 * per_group[spam_groups])
        auc = pairs / (spam_w.sum() * ham_w.sum())
        # As _threshold: spam is caught above the score of the (allowed+1)-th highest ham,
        # counting each ham as often as it was drawn.
        drawn = np.cumsum(ham_w[self.ham_order])
        first_disallowed = int(np.searchsorted(drawn, self.allowed, side="right"))
        if first_disallowed >= drawn.size:
            recall = 1.0
        else:
            caught = self.spam_scores > self.ham_descending[first_disallowed]
            recall = spam_w[caught].sum() / spam_w.sum()
        return (1.0 - auc) * 100.0, float(recall)


# Column header and cell formatter of format_table, in order.
_COLUMNS = (
    ("n", lambda m: f"{m.n:,}"),
    ("spam", lambda m: f"{m.n_spam:,}"),
    ("ham", lambda m: f"{m.n_ham:,}"),
    ("(1-AUC) %", lambda m: f"{m.one_minus_auc_pct:.4f}"),
    ("lam %", lambda m: f"{m.lam_pct:.3f}"),
    ("FPR %", lambda m: f"{m.fpr * 100:.3f}"),
    ("FNR %", lambda m: f"{m.fnr * 100:.3f}"),
    ("recall @0.1% FPR", lambda m: f"{m.recall_at_0_1pct_fpr:.4f}"),
)


def format_table(rows: Mapping[str, Metrics]) -> str:
    """Render named results as a Markdown table, one row per name, in the mapping's order."""
    header = ["", *(title for title, _ in _COLUMNS)]
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join(["---"] + ["---:"] * len(_COLUMNS)) + "|",
    ]
    for name, metrics in rows.items():
        # A "|" in a name would start a new cell; Markdown escapes it with a backslash.
        cells = [name.replace("|", "\\|"), *(cell(metrics) for _, cell in _COLUMNS)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
