"""C for a model of one mailbox and for a model of mail from elsewhere (model_selection.md §4).

python benchmarks/exploration/c_per_job.py grid|cv|loo|cross  (from the repository root; the
cached matrices of benchmarks/common.py). Each prints (1-AUC)% and recall at 0.1% FP:
grid: each corpus's test split, C in 0.5..10; cv: 3-fold out-of-fold inside each training
split, C in 0.5..8 (SVM decision values); loo: the bundled recipe at C=2, leave one corpus out;
cross: one corpus's model on another's test split, C=1 and C=8.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import EMAIL_CORPORA, fit_parts, load_corpora, measure, split_scripts, stack
from sklearn.model_selection import cross_val_predict
from sklearn.svm import LinearSVC

from spamclf.metrics import evaluate
from spamclf.scripts import SHARED_MODEL_MIN_EXAMPLES

CROSS = (
    ("trec06p", "spamassassin"),
    ("spamassassin", "trec06p"),
    ("trec06p", "trec06c"),
    ("trec06c", "trec06p"),
)


def show(*label: object, m) -> None:  # type: ignore[no-untyped-def]
    print(*label, f"{m.one_minus_auc_pct:.4f} / {m.recall_at_0_1pct_fpr:.4f}", flush=True)


def main(mode: str) -> None:
    _, settings, data = load_corpora(None)
    if mode == "grid":
        for name in EMAIL_CORPORA:
            Xt, yt = data[name]["test"]
            for C in (0.5, 1, 2, 3, 5, 10):
                model = fit_parts(data, [(name, "train")], settings, C=C)
                show(name, C, m=measure(model, Xt, yt, split_scripts(name, "test", settings)))
    elif mode == "cv":
        for name in EMAIL_CORPORA:
            X, y = data[name]["train"]
            for C in (0.5, 1, 2, 4, 8):
                svm = LinearSVC(C=C, random_state=0)
                decisions = cross_val_predict(svm, X, y, cv=3, method="decision_function")
                show(name, C, m=evaluate(y, decisions, 0.0))
    elif mode == "loo":
        shared = dataclasses.replace(settings, min_script_examples=SHARED_MODEL_MIN_EXAMPLES)
        for left_out, parts in (("spamassassin", ("train", "test")), ("trec06p", ("test",))):
            names = [(n, p) for n in EMAIL_CORPORA if n != left_out for p in ("train", "test")]
            Xt, yt = stack([data[left_out][p] for p in parts])
            scripts = np.concatenate([split_scripts(left_out, p, settings) for p in parts])
            model = fit_parts(data, names, shared, C=2.0)
            m = measure(model, Xt, yt, scripts)
            print(left_out, "AUC", round(m.roc_auc, 4), flush=True)
    elif mode == "cross":
        for source, target in CROSS:
            Xt, yt = data[target]["test"]
            for C in (1, 8):
                model = fit_parts(data, [(source, "train")], settings, C=C)
                scripts = split_scripts(target, "test", settings)
                show(source, "->", target, C, m=measure(model, Xt, yt, scripts))


if __name__ == "__main__":
    main(sys.argv[1])
