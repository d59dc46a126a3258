"""Tests of spamclf.metrics on examples small enough to check by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from spamclf.errors import CorpusError, InputError
from spamclf.metrics import (
    Metrics,
    _WeightedMetrics,
    calibration,
    compare,
    evaluate,
    format_table,
    lam_from_counts,
    recall_at_fpr,
    threshold_for_fpr,
)


def _expit(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


@pytest.mark.parametrize(
    "labels", [["ham", "ham", "spam", "spam"], [0, 0, 1, 1], ["HAM", 0, "1", True]]
)
def test_perfect_separation(labels: list[object]) -> None:
    m = evaluate(labels, [0.1, 0.2, 0.8, 0.9])
    assert (m.n, m.n_spam, m.n_ham) == (4, 2, 2)
    assert m.roc_auc == 1.0
    assert m.one_minus_auc_pct == 0.0
    assert (m.fpr, m.fnr) == (0.0, 0.0)
    assert m.recall_at_0_1pct_fpr == 1.0
    # Smoothed rates are 0.5/2.5 = 0.2 on both sides, and the logit mean of equal rates is the rate.
    assert m.lam_pct == pytest.approx(20.0)


def test_hand_computed_rates_and_auc() -> None:
    labels = ["ham", "ham", "ham", "ham", "spam", "spam"]
    scores = [0.1, 0.4, 0.6, 0.7, 0.5, 0.9]
    m = evaluate(labels, scores, threshold=0.5)
    assert m.fpr == pytest.approx(2 / 4)  # 0.6 and 0.7 >= 0.5
    assert m.fnr == 0.0  # 0.5 is exactly at the threshold, so spam
    # Spam 0.5 beats 2 of 4 ham, spam 0.9 beats all 4: AUC = 6/8.
    assert m.roc_auc == pytest.approx(0.75)
    assert m.one_minus_auc_pct == pytest.approx(25.0)
    assert m.lam_pct == pytest.approx(lam_from_counts(2, 4, 0, 2))


def test_threshold_is_inclusive() -> None:
    m = evaluate([0, 1], [0.5, 0.5], threshold=0.5)
    assert (m.fpr, m.fnr) == (1.0, 0.0)
    assert m.lam_pct == 100.0


def test_lam_known_values() -> None:
    # Equal smoothed rates: lam is that rate. 2 errors of 10 -> 2.5/10.5.
    assert lam_from_counts(2, 10, 2, 10) == pytest.approx(100 * 2.5 / 10.5)
    # Written out: hm = 1.5/100.5, sm = 10.5/50.5, lam = expit(mean of logits).
    hm, sm = 1.5 / 100.5, 10.5 / 50.5
    expected = 100 * _expit((math.log(hm / (1 - hm)) + math.log(sm / (1 - sm))) / 2)
    assert lam_from_counts(1, 100, 10, 50) == pytest.approx(expected)
    # lam is the odds-space geometric mean: odds(lam) ** 2 == odds(hm) * odds(sm).
    lam = expected / 100
    assert (lam / (1 - lam)) ** 2 == pytest.approx(hm / (1 - hm) * sm / (1 - sm))
    assert lam_from_counts(1, 100, 10, 50) == pytest.approx(
        5.9324, abs=1e-4
    )  # odds: sqrt(1.5/99 * 10.5/40)


def test_lam_is_finite_without_errors() -> None:
    assert 0.0 < lam_from_counts(0, 10_000, 0, 10_000) < 0.01


@pytest.mark.parametrize(
    ("labels", "scores", "max_fpr", "threshold", "recall"),
    [
        # No ham may be flagged: the top ham is 0.9, so only the spam at 0.95 is above it.
        ([0, 0, 1, 1], [0.9, 0.2, 0.95, 0.5], 0.0, 0.95, 0.5),
        # A spam tied with the top ham is not caught: ties go against the filter.
        ([0, 0, 1, 1], [0.9, 0.2, 0.9, 0.5], 0.0, math.inf, 0.0),
        # One ham of two may be flagged: threshold must lie above the second ham (0.2).
        ([0, 0, 1, 1], [0.9, 0.2, 0.95, 0.5], 0.5, 0.5, 1.0),
        # Two tied ham, one allowed: both would be flagged together, so neither may be.
        ([0, 0, 1, 1], [0.7, 0.7, 0.8, 0.6], 0.5, 0.8, 0.5),
        # Everything may be flagged: the lowest score is the smallest threshold.
        ([0, 1, 1], [0.3, 0.1, 0.5], 1.0, 0.1, 1.0),
        # 0.29 * 100 is 28.999... in floating point; 29 ham must still be allowed.
        ([0] * 100 + [1], [i / 100 for i in range(100)] + [0.705], 0.29, 0.705, 1.0),
    ],
)
def test_threshold_and_recall_at_fpr(
    labels: list[int], scores: list[float], max_fpr: float, threshold: float, recall: float
) -> None:
    assert threshold_for_fpr(labels, scores, max_fpr) == threshold
    assert recall_at_fpr(labels, scores, max_fpr) == recall


def test_recall_at_0_1pct_fpr_in_evaluate() -> None:
    # 1000 ham at 0..0.999 and 10 spam; one ham (the top, 0.999) may be flagged at 0.1 % FPR.
    ham = [i / 1000 for i in range(1000)]
    spam = [0.9985, 0.9995, 0.5, 0.2, 0.999, 0.998, 0.9, 0.99, 0.95, 0.1]
    m = evaluate([0] * 1000 + [1] * 10, ham + spam)
    # The threshold must lie above the second highest ham (0.998): 0.9985, 0.9995 and 0.999.
    assert m.recall_at_0_1pct_fpr == pytest.approx(0.3)


@pytest.mark.parametrize(
    ("labels", "scores", "error", "match"),
    [
        ([0, 1], [0.5], InputError, "2 labels but 1 scores"),
        ([1, 1], [0.5, 0.6], InputError, "both spam and ham"),
        ([], [], InputError, "both spam and ham"),
        ([0, 1], [0.5, float("nan")], InputError, "NaN"),
        ([0, 2], [0.5, 0.6], CorpusError, "unrecognised label"),
        ([0, 1], ["low", "high"], InputError, "scores must be"),
        ([0, 1], (x for x in (0.5, 0.6)), InputError, "scores must be"),
    ],
)
def test_evaluate_rejects_bad_input(
    labels: list[object], scores: list[float], error: type, match: str
) -> None:
    with pytest.raises(error, match=match):
        evaluate(labels, scores)


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_infinite_scores_are_refused_everywhere(sign: float) -> None:
    # A spam and a ham both at +inf: no threshold flags the spam but not the ham, yet the
    # threshold came out as inf and "score >= inf" caught the spam, giving recall 1.0 at 0 FP;
    # evaluate() failed inside scikit-learn instead. Every metric now says why up front.
    labels, scores = [0, 0, 1, 1], [sign * math.inf, 0.1, sign * math.inf, 0.5]
    for metric in (
        lambda: recall_at_fpr(labels, scores, 0.0),
        lambda: threshold_for_fpr(labels, scores, 0.0),
        lambda: evaluate(labels, scores),
        lambda: compare(labels, scores, [0.2, 0.1, 0.9, 0.5], n_resamples=5),
    ):
        with pytest.raises(InputError, match="infinity"):
            metric()


@pytest.mark.parametrize(
    ("n_ham", "allowed"), [(999, 0), (1000, 1), (1999, 1), (2000, 2), (3873, 3)]
)
def test_recall_at_0_1pct_fpr_allows_floor_of_a_thousandth_of_the_ham(
    n_ham: int, allowed: int
) -> None:
    # Ham scored 0 .. n_ham-1, one spam just below each of the top four ham: the spam caught
    # are those above the (allowed+1)-th highest ham, so exactly `allowed` of the four.
    ham = [float(i) for i in range(n_ham)]
    spam = [n_ham - 1 - k - 0.5 for k in range(4)]
    m = evaluate([0] * n_ham + [1] * 4, ham + spam)
    assert m.recall_at_0_1pct_fpr == allowed / 4


@pytest.mark.parametrize("max_fpr", [-0.1, 1.5])
def test_max_fpr_out_of_range(max_fpr: float) -> None:
    with pytest.raises(InputError, match="max_fpr"):
        recall_at_fpr([0, 1], [0.1, 0.9], max_fpr)


def test_as_dict_and_format_table() -> None:
    m = evaluate(["ham", "spam", "ham", "spam"], [0.1, 0.9, 0.6, 0.4])
    d = m.as_dict()
    assert d["n"] == 4 and d["roc_auc"] == pytest.approx(0.75)
    assert list(d) == [f for f in Metrics.__dataclass_fields__]
    table = format_table({"model|a": m, "b": m})
    lines = table.splitlines()
    assert len(lines) == 4
    assert lines[0].startswith("|  | n | spam | ham |")
    assert lines[2].startswith("| model\\|a | 4 | 2 | 2 | 25.0000 |")
    assert all(line.count("|") == lines[0].count("|") for line in lines[:2])


@pytest.mark.parametrize(("fp", "fn"), [(10, 0), (0, 10), (10, 10)])
def test_lam_is_100_when_a_whole_class_is_misclassified(fp: int, fn: int) -> None:
    assert lam_from_counts(fp, 10, fn, 10) == 100.0


def test_calibration_of_perfect_and_of_overconfident_probabilities() -> None:
    labels = ["spam"] * 50 + ["ham"] * 50
    perfect = calibration(labels, [1.0] * 50 + [0.0] * 50)
    assert (perfect.brier, perfect.ece) == (0.0, 0.0) and perfect.log_loss < 1e-6
    # Every score says 0.95, but only half the mail is spam: off by 0.45.
    overconfident = calibration(labels, [0.95] * 100)
    assert overconfident.ece == pytest.approx(0.45)
    assert overconfident.brier == pytest.approx((0.05**2 + 0.95**2) / 2)


def test_calibration_refuses_scores_that_are_not_probabilities() -> None:
    with pytest.raises(InputError, match="within"):
        calibration(["spam", "ham"], [1.5, 0.2])


def _scored(n: int, separation: float, seed: int, decimals: int = 1) -> tuple[np.ndarray, ...]:
    """Labels and scores that separate spam from ham by ``separation``, rounded into ties."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3 == 0  # a third spam, both classes present
    return y, np.round(rng.normal(y * separation, 1.0), decimals)


def test_weighted_metrics_equal_evaluate_on_the_resample_they_stand_for() -> None:
    # compare() weights each message by how often a resample drew it; that must give what
    # evaluate() gives on the resample written out, ties and the 0.1 % FP threshold included.
    rng = np.random.default_rng(0)
    for seed in range(20):
        y, s = _scored(int(rng.integers(20, 2500)), 2.0, seed, decimals=seed % 3)
        weights = rng.integers(0, 3, y.size).astype(float)
        weights[np.flatnonzero(y)[0]] = weights[np.flatnonzero(~y)[0]] = 1.0
        drawn = np.repeat(np.arange(y.size), weights.astype(int))
        expected = evaluate(y[drawn].astype(int), s[drawn])
        auc, recall = _WeightedMetrics(s, y).metrics(weights)
        assert auc == pytest.approx(expected.one_minus_auc_pct)
        assert recall == pytest.approx(expected.recall_at_0_1pct_fpr)


def test_compare_a_filter_with_itself_finds_no_difference() -> None:
    y, s = _scored(600, 1.5, seed=1)
    c = compare(y, s, s, n_resamples=100)
    for d in (c.one_minus_auc_pct, c.recall_at_0_1pct_fpr):
        assert (d.value, d.low, d.high, d.clear) == (0.0, 0.0, 0.0, False)


def test_compare_tells_a_clearly_better_filter_from_noise() -> None:
    y, good = _scored(3000, 3.0, seed=2)
    _, poor = _scored(3000, 1.0, seed=3)
    c = compare(y, good, poor, n_resamples=200)
    point_good, point_poor = evaluate(y, good), evaluate(y, poor)
    assert c.one_minus_auc_pct.value == pytest.approx(
        point_good.one_minus_auc_pct - point_poor.one_minus_auc_pct
    )
    assert c.one_minus_auc_pct.high < 0 and c.one_minus_auc_pct.clear
    assert c.recall_at_0_1pct_fpr.low > 0 and c.recall_at_0_1pct_fpr.clear
    # Two filters as good as each other: whatever the point difference, the interval spans 0.
    _, twin = _scored(3000, 3.0, seed=4)
    close = compare(y, good, twin, n_resamples=200).one_minus_auc_pct
    assert close.low <= 0.0 <= close.high and not close.clear


def test_compare_is_reproducible_and_checks_its_input() -> None:
    y, a = _scored(300, 1.0, seed=5)
    _, b = _scored(300, 1.0, seed=6)
    assert compare(y, a, b, n_resamples=50) == compare(y, a, b, n_resamples=50)
    assert compare(y, a, b, n_resamples=50, seed=1) != compare(y, a, b, n_resamples=50)
    with pytest.raises(InputError):
        compare(y, a, b[:-1])
    with pytest.raises(InputError):
        compare(y, a, b, n_resamples=0)


def test_evaluate_never_counts_an_unlabelled_message_as_called_spam() -> None:
    labels, scores = ["spam", "ham", "spam", "ham"], [0.9, 0.8, 0.7, 0.1]
    assert evaluate(labels, scores).fpr == 0.5
    flagged = evaluate(labels, scores, labelled=[True, False, False, True])
    assert (flagged.fpr, flagged.fnr) == (0.0, 0.5)


@pytest.mark.parametrize("labelled", [[False], [True, False], [True] * 5])
def test_evaluate_rejects_labelled_flags_of_another_length(labelled: list[bool]) -> None:
    # [False] was broadcast over all four messages: a filter that labelled nothing.
    with pytest.raises(InputError, match="4 labels but"):
        evaluate(["spam", "ham", "spam", "ham"], [0.9, 0.8, 0.7, 0.1], labelled=labelled)


@pytest.mark.parametrize("max_fpr", ["0.1", None])
def test_max_fpr_that_is_no_number_raises_input_error(max_fpr: object) -> None:
    with pytest.raises(InputError, match="max_fpr"):
        recall_at_fpr([0, 1], [0.1, 0.9], max_fpr)  # type: ignore[arg-type]


@pytest.mark.parametrize("n_resamples", [2.5, float("nan"), "10"])
def test_compare_rejects_n_resamples_that_is_no_whole_number(n_resamples: object) -> None:
    with pytest.raises(InputError, match="n_resamples"):
        compare([0, 1], [0.1, 0.9], [0.2, 0.8], n_resamples=n_resamples)  # type: ignore[arg-type]
