"""Does ``Model.learn()`` adapt a model to new mail without retraining?

Start from the leave-one-out model for trec06p (trained on trec06c, spamassassin and
enron-spam, each weighing the same), then feed it trec06p's training split in arrival order
through ``learn()`` (each message once, with its true label, as sa-learn would), and measure the
trec06p test split before and after. For reference, the same recipe retrained from scratch with
trec06p's training split added.

Usage: python benchmarks/learn.py [--corpora DIR]
Writes benchmarks/learn.md.
"""

from __future__ import annotations

import argparse
import time

import common
from common import EMAIL_CORPORA, fit_parts, load_corpora, split_scripts, write_report

from spamclf.corpora import split_benchmark
from spamclf.metrics import Metrics
from spamclf.model import SHARED_MODEL_C, Model


def line(name: str, m: Metrics, extra: str = "") -> str:
    return (
        f"| {name} | {m.roc_auc:.5f} | {m.one_minus_auc_pct:.4f} | {m.fpr:.3%} | {m.fnr:.2%} "
        f"| {m.recall_at_0_1pct_fpr:.4f} | {extra} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora")
    args = parser.parse_args()
    root, settings, data = load_corpora(args.corpora)
    others = [(n, p) for n in EMAIL_CORPORA if n != "trec06p" for p in ("train", "test")]
    Xt, yt = data["trec06p"]["test"]
    scripts = split_scripts("trec06p", "test", settings)

    def measure(model: Model) -> Metrics:
        return common.measure(model, Xt, yt, scripts)

    # Models of mail from elsewhere, as the bundled one: its C (spamclf/model.py).
    model = fit_parts(data, others, settings, C=SHARED_MODEL_C)
    before = measure(model)
    train, _ = split_benchmark("trec06p", root)
    start = time.perf_counter()
    updates = sum(model.learn(message.raw, message.label) for message in train)
    seconds = time.perf_counter() - start
    after = measure(model)
    retrained = measure(
        fit_parts(data, [*others, ("trec06p", "train")], settings, C=SHARED_MODEL_C)
    )
    lines = [
        "# Incremental learning with Model.learn()",
        "",
        "Reproduce: `python benchmarks/learn.py`. Test set: trec06p test split "
        f"({len(yt)} messages). Spam cutoff {settings.spam_cutoff}.",
        "",
        "| model | ROC AUC | (1-AUC)% | FPR at cutoff | FNR at cutoff | recall @0.1% FP | notes |",
        "|---|---|---|---|---|---|---|",
        line("trained without trec06p", before),
        line(
            "… then learn() on trec06p's training split",
            after,
            f"{len(train)} messages learned in {seconds:.0f} s "
            f"({len(train) / seconds:.0f}/s), {updates} changed the model",
        ),
        line("retrained from scratch with trec06p's training split", retrained),
    ]
    write_report("learn.md", lines)


if __name__ == "__main__":
    main()
