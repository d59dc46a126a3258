"""How should ``Model.learn()`` update, and what should a model that learns online read?

The TREC online protocol on the whole of trec06c and trec06p: messages in arrival order, each
scored, then learned with its true label, from an empty model. Every message is vectorized
once per feature setting (with and without ``header_words``); the update rules then run over
the same rows:

- passive-aggressive, PA-I with C = 1 (what ``learn()`` did before AROW);
- AROW (Crammer, Kulesza and Dredze, 2009) at several values of its regularization r;
- logistic regression with AdaGrad's per-weight rates, which learns from every message, as the
  byte 4-gram filter does, where AROW and PA learn only from those inside the margin;
- the two in one weight vector: a logistic step at AdaGrad's rates on every message, on the
  probability that ``Model.empty()``'s calibration gives its score, then AROW's step when the
  message is still inside the margin;
- the two as separate models, each learning as it does alone, scored by AROW's value plus 0.2
  times the logistic model's log-odds.

A last row runs the library itself (``Model.empty()`` then ``score``/``learn()`` per message)
over the same stream, to show that the table's AROW is the code users get.

Usage: python benchmarks/online_learning.py [--corpora DIR] [--messages N]
Writes benchmarks/online_learning.md and online_learning.json.
"""

from __future__ import annotations

import argparse
import functools
import json
import time
from collections.abc import Callable

import numpy as np
from common import ROOT, corpora_dir
from tqdm import tqdm

from spamclf.corpora import split_benchmark
from spamclf.metrics import Metrics, evaluate
from spamclf.model import Model, ModelSettings
from spamclf.pipeline import row_chunks
from spamclf.vectorize import DEFAULT_N_FEATURES, Row

CORPORA = ("trec06c", "trec06p")
AROW_R = (0.03, 0.1, 0.3, 1.0)
ADAGRAD_RATES = (0.5, 1.0, 2.0)
HYBRID_RATES = (0.1, 0.3)
SUMMED_RATES = (1.0, 2.0)
LOGISTIC_SHARE = 0.2
# Model.empty()'s calibration slope: a decision of 1 scores the spam cutoff (0.99 by default).
EMPTY_MODEL_SLOPE = Model.empty().calibration[0]


class PassiveAggressive:
    """PA-I, C = 1, margin 1: the update learn() used before AROW."""

    always = False  # learns only the messages inside its margin

    def __init__(self) -> None:
        self.weights, self.intercept = np.zeros(DEFAULT_N_FEATURES), 0.0

    def value(self, row: Row) -> float:
        return float(self.weights[row.columns] @ row.values) + self.intercept

    def learn(self, row: Row, target: float, loss: float) -> None:
        # The row's squared norm plus the intercept's 1 (a unit-length row: 2; less when short).
        step = min(1.0, loss / (float(row.values @ row.values) + 1.0)) * target
        self.weights[row.columns] += step * row.values
        self.intercept += step


class Arow(PassiveAggressive):
    """AROW with diagonal variances, margin 1: what learn() does (see Model.learn)."""

    def __init__(self, r: float) -> None:
        super().__init__()
        self.r = r
        self.variances, self.intercept_variance = np.ones(DEFAULT_N_FEATURES), 1.0

    def learn(self, row: Row, target: float, loss: float) -> None:
        spread = self.variances[row.columns] * row.values
        beta = 1.0 / (float(spread @ row.values) + self.intercept_variance + self.r)
        self.weights[row.columns] += loss * beta * target * spread
        self.intercept += loss * beta * target * self.intercept_variance
        self.variances[row.columns] -= beta * spread * spread
        self.intercept_variance -= beta * self.intercept_variance**2


class AdaGradLogistic(PassiveAggressive):
    """Logistic regression, one gradient step per message with AdaGrad's per-weight rates
    (``rate`` over the root of the weight's summed squared gradients, which start at 0.01), on
    the log loss of ``sigmoid(slope * value)``."""

    always = True  # log loss is never zero: every message is learned

    def __init__(self, rate: float, slope: float = 1.0) -> None:
        super().__init__()
        self.rate, self.slope = rate, slope
        self.squares, self.intercept_squares = np.full(DEFAULT_N_FEATURES, 0.01), 0.01

    def learn(self, row: Row, target: float, loss: float) -> None:
        value = target * (1.0 - loss)  # replay passes the margin loss 1 - target * value
        log_odds = np.clip(self.slope * value, -50, 50)
        error = (1.0 if target > 0 else 0.0) - 1.0 / (1.0 + np.exp(-log_odds))
        gradient = error * row.values
        self.squares[row.columns] += gradient * gradient
        self.intercept_squares += error * error
        self.weights[row.columns] += self.rate * gradient / np.sqrt(self.squares[row.columns])
        self.intercept += self.rate * error / np.sqrt(self.intercept_squares)


class ArowWithLogistic(Arow):
    """One weight vector, two steps: every message first takes AdaGradLogistic's step on the
    probability that ``Model.empty()``'s calibration gives its score; a message still inside
    the margin then takes AROW's step (r = 0.1)."""

    always = True

    def __init__(self, rate: float) -> None:
        super().__init__(0.1)
        self.logistic = AdaGradLogistic(rate, slope=EMPTY_MODEL_SLOPE)
        self.logistic.weights = self.weights  # the same array: both steps move it

    def learn(self, row: Row, target: float, loss: float) -> None:
        self.logistic.intercept = self.intercept  # a float, so shared by copying it across
        self.logistic.learn(row, target, loss)
        self.intercept = self.logistic.intercept
        loss = 1.0 - target * self.value(row)
        if loss > 0:
            super().learn(row, target, loss)


class ArowAndLogistic(PassiveAggressive):
    """AROW (r = 0.1) and AdaGradLogistic as two models, each learning every message as it
    would alone; the score is AROW's value plus ``LOGISTIC_SHARE`` times the logistic log-odds."""

    always = True

    def __init__(self, rate: float) -> None:  # no weights of its own: value() is the sum
        self.arow, self.logistic = Arow(0.1), AdaGradLogistic(rate)

    def value(self, row: Row) -> float:
        return self.arow.value(row) + LOGISTIC_SHARE * self.logistic.value(row)

    def learn(self, row: Row, target: float, loss: float) -> None:
        for rule in (self.arow, self.logistic):
            own_loss = 1.0 - target * rule.value(row)
            if own_loss > 0 or rule.always:
                rule.learn(row, target, own_loss)


def replay(rule: PassiveAggressive, rows: list[Row], y: np.ndarray) -> np.ndarray:
    """Score each message with what ``rule`` has learned so far, then learn it (when it is
    inside its margin of 1, or always for a rule that says so); the scores, in order."""
    scores = np.empty(len(rows))
    for i, (row, target) in enumerate(zip(rows, y, strict=True)):
        value = rule.value(row)
        scores[i] = value
        loss = 1.0 - target * value
        if loss > 0 or rule.always:
            rule.learn(row, target, loss)
    return scores


def library(messages: list[bytes], y: np.ndarray) -> np.ndarray:
    """Model.empty() and learn(), message by message, as benchmarks/run.py runs spamclf."""
    model = Model.empty()
    scores = np.empty(len(messages))
    bar = tqdm(messages, desc="library", leave=False, mininterval=10)
    for i, (raw, target) in enumerate(zip(bar, y, strict=True)):
        features = model.features(raw)
        scores[i] = model.decision(features)[0]
        model.learn(raw, "spam" if target > 0 else "ham", features=features)
    return scores


def row_of(name: str, data: str, m: Metrics, seconds: float) -> dict[str, object]:
    return {"run": name, "data": data, "seconds": round(seconds, 1), **m.as_dict()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora")
    parser.add_argument("--messages", type=int, help="only the first N messages of each stream")
    args = parser.parse_args()
    root = corpora_dir(args.corpora)
    results = []
    for corpus in CORPORA:
        train, test = split_benchmark(corpus, root)
        stream = (train + test)[: args.messages]
        y = np.array([1.0 if m.label == "spam" else -1.0 for m in stream])
        labels = (y > 0).astype(int)
        data = f"{corpus}: first {len(stream):,} messages in arrival order"
        for header_words in (False, True):
            chunks = row_chunks(
                [m.raw for m in stream], ModelSettings(header_words=header_words), n_jobs=2
            )
            rows = [row for chunk in chunks for row in chunk]
            rules: dict[str, Callable[[], PassiveAggressive]] = {
                "passive-aggressive (C=1)": PassiveAggressive
            }
            rules.update({f"AROW r={r:g}": functools.partial(Arow, r) for r in AROW_R})
            rules.update(
                {
                    f"AdaGrad logistic, rate {rate:g}": functools.partial(AdaGradLogistic, rate)
                    for rate in ADAGRAD_RATES
                }
            )
            rules.update(
                {
                    f"AROW plus logistic steps, rate {rate:g}": functools.partial(
                        ArowWithLogistic, rate
                    )
                    for rate in HYBRID_RATES
                }
            )
            rules.update(
                {
                    f"AROW and logistic rate {rate:g} as two models, scores summed": (
                        functools.partial(ArowAndLogistic, rate)
                    )
                    for rate in SUMMED_RATES
                }
            )
            for name, make_rule in rules.items():
                start = time.perf_counter()
                scores = replay(make_rule(), rows, y)
                seconds = time.perf_counter() - start
                label = f"{name}, {'with' if header_words else 'without'} header words"
                results.append(row_of(label, data, evaluate(labels, scores, 0.0), seconds))
                print(corpus, label, f"{results[-1]['one_minus_auc_pct']:.4f}", flush=True)
        start = time.perf_counter()
        scores = library([m.raw for m in stream], y)
        seconds = time.perf_counter() - start
        m = evaluate(labels, scores, 0.0)
        results.append(row_of("library: Model.empty() + learn()", data, m, seconds))
    write(results, args)


def write(results: list[dict[str, object]], args: argparse.Namespace) -> None:
    command = "python benchmarks/online_learning.py" + (
        f" --messages {args.messages}" if args.messages else ""
    )
    lines = [
        "# Online learning: the update rule and the features of `Model.learn()`",
        "",
        f"Reproduce: `{command}`. TREC online protocol (arrival order, score then learn the",
        "true label, from an empty model); (1-ROCA)% and lam% as TREC reported them; recall at",
        "0.1% false positives. Update rules over the same hashed rows; seconds are the update",
        "loop alone, except the library row (reading every message included).",
        "",
        "`learn()` uses AROW with r = 0.1 (`ModelSettings.learning_regularization`), and",
        "`Model.empty()` reads header words (`ModelSettings.header_words`); the library rows are",
        "that configuration run through the public API.",
        "",
        "| data | run | (1-ROCA)% | lam% | recall @0.1% FP | seconds |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['data']} | {r['run']} | {r['one_minus_auc_pct']:.4f} | {r['lam_pct']:.3f} "
            f"| {r['recall_at_0_1pct_fpr']:.4f} | {r['seconds']} |"
        )
    (ROOT / "benchmarks" / "online_learning.md").write_text("\n".join(lines) + "\n")
    (ROOT / "benchmarks" / "online_learning.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
