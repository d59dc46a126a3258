"""Accuracy of spamclf's training recipe on the benchmark splits and leave-one-corpus-out.

Protocol (../shared/corpora/README.md): TREC corpora split chronologically 70/30, SpamAssassin
and Enron-Spam shuffled with random.Random(0) then 70/30. Leave-one-out trains on every other
email corpus (all of it) and tests on the one left out: all of spamassassin and enron-spam, the
test split of trec06c and trec06p (the rows the peers were measured on).

Usage: python benchmarks/accuracy.py [--corpora DIR] [--C C (the split models' C, default 2.0)]
Writes benchmarks/accuracy.md and benchmarks/accuracy.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import numpy as np
from common import (
    EMAIL_CORPORA,
    ROOT,
    fit_parts,
    load_corpora,
    measure,
    split_scripts,
    stack,
    unsure_rate,
    write_json,
)

from spamclf.metrics import Calibration, Metrics, calibration
from spamclf.model import DEFAULT_C, SHARED_MODEL_C
from spamclf.scripts import SHARED_MODEL_MIN_EXAMPLES

TARGETS = {  # from the core issue: (1-AUC)% below, recall at 0.1% FP at least
    "trec06c": (0.003, 0.9985),
    "trec06p": (0.34, 0.88),
    "spamassassin": (0.016, 0.978),
}
LOO_TEST_PART = {"trec06c": "test", "trec06p": "test", "spamassassin": "all", "enron-spam": "all"}


def row(name: str, m: Metrics, unsure: float, seconds: float) -> str:
    return (
        f"| {name} | {m.n} ({m.n_spam}/{m.n_ham}) | {m.roc_auc:.6f} | {m.one_minus_auc_pct:.4f} "
        f"| {m.lam_pct:.3f} | {m.fpr:.4%} | {m.fnr:.2%} | {unsure:.2%} "
        f"| {m.recall_at_0_1pct_fpr:.4f} | {seconds:.0f} |"
    )


HEADER = (
    "| train → test | test messages (spam/ham) | ROC AUC | (1-AUC)% | lam% | FPR at cutoff "
    "| FNR at cutoff | unsure | recall @0.1% FP | train s |\n"
    "|---|---|---|---|---|---|---|---|---|---|"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora")
    parser.add_argument("--C", type=float, default=DEFAULT_C, help="C of the split models")
    args = parser.parse_args()
    _, settings, data = load_corpora(args.corpora)
    results: dict[str, dict[str, object]] = {}
    calibrations: dict[str, Calibration] = {}
    lines = ["## Benchmark splits (train 70% → test 30%)", "", HEADER]
    for name in ("trec06c", "trec06p", "spamassassin", "enron-spam"):
        start = time.perf_counter()
        model = fit_parts(data, [(name, "train")], settings, C=args.C)
        seconds = time.perf_counter() - start
        Xt, yt = data[name]["test"]
        scripts = split_scripts(name, "test", settings)
        m = measure(model, Xt, yt, scripts)
        lines.append(row(f"{name} → {name}", m, unsure_rate(model, Xt, scripts), seconds))
        results[f"split:{name}"] = m.as_dict()
        calibrations[f"{name} → {name}"] = calibration(yt, model.score_rows(Xt))
        print(lines[-1], flush=True)
    lines += [
        "",
        "## Leave one corpus out (train on all of the other three, each corpus weighing the same)",
        "",
        "The bundled model's recipe, as these rows stand for it (mail from mailboxes it never "
        f"saw): C={SHARED_MODEL_C}, and a message is labelled only if training had "
        f"{SHARED_MODEL_MIN_EXAMPLES} ham and {SHARED_MODEL_MIN_EXAMPLES} spam in its writing "
        "system (`min_script_examples`).",
        "",
        HEADER,
    ]
    shared = dataclasses.replace(settings, min_script_examples=SHARED_MODEL_MIN_EXAMPLES)
    for left_out, part in LOO_TEST_PART.items():
        names = [(n, p) for n in EMAIL_CORPORA if n != left_out for p in ("train", "test")]
        start = time.perf_counter()
        model = fit_parts(data, names, shared, C=SHARED_MODEL_C)
        seconds = time.perf_counter() - start
        test_parts = ("train", "test") if part == "all" else (part,)
        Xt, yt = stack([data[left_out][p] for p in test_parts])
        scripts = np.concatenate([split_scripts(left_out, p, settings) for p in test_parts])
        m = measure(model, Xt, yt, scripts)
        label = f"others → {left_out}{'-test' if part == 'test' else ''}"
        lines.append(row(label, m, unsure_rate(model, Xt, scripts), seconds))
        results[f"loo:{left_out}"] = m.as_dict()
        calibrations[label] = calibration(yt, model.score_rows(Xt))
        print(lines[-1], flush=True)
    lines += [
        "",
        "## Calibration: does the score mean what it says?",
        "",
        "Of every model above, on the same test messages, whatever their writing system: log "
        "loss and Brier score (lower is better) and the expected calibration error, the mean "
        "gap between the score and the share of spam over ten bins of the score (0.01: one "
        "point off on average; `spamclf.metrics.calibration`, also printed by "
        "`spamclf evaluate`).",
        "",
        "| train → test | log loss | Brier score | calibration error |",
        "|---|---|---|---|",
    ]
    for label, c in calibrations.items():
        lines.append(f"| {label} | {c.log_loss:.4f} | {c.brier:.4f} | {c.ece:.4f} |")
    lines += ["", "## Targets from the core issue", ""]
    for name, (max_auc, min_recall) in TARGETS.items():
        m = results[f"split:{name}"]
        ok = m["one_minus_auc_pct"] < max_auc and m["recall_at_0_1pct_fpr"] >= min_recall
        lines.append(
            f"- {name}: (1-AUC)% {m['one_minus_auc_pct']:.4f} (target < {max_auc}), recall "
            f"{m['recall_at_0_1pct_fpr']:.4f} (target ≥ {min_recall}): {'met' if ok else 'NOT met'}"
        )
    for name in ("spamassassin", "trec06p"):
        auc = results[f"loo:{name}"]["roc_auc"]
        lines.append(
            f"- leave-one-out {name}: AUC {auc:.4f} (target ≥ 0.98): "
            f"{'met' if auc >= 0.98 else 'NOT met'}"
        )
    worst = max(r["fpr"] for r in results.values())  # type: ignore[type-var]
    lines.append(
        f"- worst false-positive rate at the shipped cutoff {settings.spam_cutoff}: "
        f"{worst:.4%} (target < 0.5%): {'met' if worst < 0.005 else 'NOT met'}"
    )
    text = (
        "# spamclf accuracy\n\nReproduce: `python benchmarks/accuracy.py` (corpora from "
        "`SPAMCLF_CORPORA` or `--corpora`). Model: the default recipe (LinearSVC, "
        f"C={args.C} for a model of one corpus, Platt-calibrated), spam cutoff "
        f"{settings.spam_cutoff}, ham cutoff {settings.ham_cutoff}. FPR/FNR count only `spam` "
        "verdicts as positive; `unsure` is the share of messages between the cutoffs or in a "
        "writing system the model declines to label (`spamclf/scripts.py`).\n\n"
        + "\n".join(lines)
        + "\n"
    )
    (ROOT / "benchmarks" / "accuracy.md").write_text(text, encoding="utf-8")
    for label, c in calibrations.items():
        results[f"calibration:{label}"] = c.as_dict()
    write_json(ROOT / "benchmarks" / "accuracy.json", results)
    print(text)


if __name__ == "__main__":
    main()
