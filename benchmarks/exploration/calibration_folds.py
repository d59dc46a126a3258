"""Platt calibration folds: unshuffled (as shipped until 2026-11-27) against shuffled (as
shipped since). For a model of each corpus (C=2), the bundled recipe (C=1, four training
splits) and leave-one-corpus-out (C=1), on the test splits (all of a left-out corpus, but the
test split of trec06c and trec06p): the sigmoid's slope and offset, log loss, Brier score,
expected calibration error, and FPR, FNR and unsure at spam cutoffs 0.98 to 0.998 (the
writing-system check applied). Its output is section 6 of benchmarks/model_selection.md.
Run from the repository root: python benchmarks/exploration/calibration_folds.py [CASE...]
"""

import dataclasses
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import EMAIL_CORPORA, familiar, load_corpora, split_scripts, stack
from sklearn.calibration import CalibratedClassifierCV
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

from spamclf.metrics import calibration
from spamclf.model import DEFAULT_C, SHARED_MODEL_C, Model
from spamclf.pipeline import group_balance, linear_parts
from spamclf.scripts import SHARED_MODEL_MIN_EXAMPLES, count_scripts

CUTOFFS = (0.98, 0.99, 0.995, 0.998)
_, settings, data = load_corpora(None)
shared = dataclasses.replace(settings, min_script_examples=SHARED_MODEL_MIN_EXAMPLES)


def fit(parts, scheme, C, model_settings):
    X, y = stack([data[n][p] for n, p in parts])
    groups = np.array([n for n, p in parts for _ in data[n][p][1]])
    scripts = np.concatenate([split_scripts(n, p, settings) for n, p in parts])
    folds = 3 if scheme == "ordered" else StratifiedKFold(3, shuffle=True, random_state=0)
    classifier = CalibratedClassifierCV(
        LinearSVC(C=C, random_state=0), method="sigmoid", cv=folds, ensemble=False
    )
    classifier.fit(X, y, sample_weight=group_balance(groups))
    weights, intercept, sigmoid = linear_parts(classifier)
    return Model(weights, intercept, sigmoid, model_settings, {}, None, count_scripts(scripts, y))


cases = [(f"split {n}", [(n, "train")], [(n, "test")], DEFAULT_C, settings) for n in EMAIL_CORPORA]
cases += [
    (f"bundled→{n}", [(m, "train") for m in EMAIL_CORPORA], [(n, "test")], SHARED_MODEL_C, shared)
    for n in EMAIL_CORPORA
]
for left in EMAIL_CORPORA:
    tests = ("test",) if left.startswith("trec") else ("train", "test")
    others = [(n, p) for n in EMAIL_CORPORA if n != left for p in ("train", "test")]
    cases.append((f"LOO→{left}", others, [(left, p) for p in tests], SHARED_MODEL_C, shared))
models = {}
for label, train_parts, test_parts, C, model_settings in cases:
    if sys.argv[1:] and not any(wanted in label for wanted in sys.argv[1:]):
        continue
    Xt, yt = stack([data[n][p] for n, p in test_parts])
    scripts = np.concatenate([split_scripts(n, p, settings) for n, p in test_parts])
    for scheme in ("ordered", "shuffled"):
        key = (tuple(train_parts), scheme, C)
        if key not in models:
            models[key] = fit(train_parts, scheme, C, model_settings)
        model = models[key]
        p = model.score_rows(Xt)
        labelled = familiar(model, scripts)
        c = calibration(yt, p)
        cells = []
        for cutoff in CUTOFFS:
            spam = (p >= cutoff) & labelled
            ham = (p < model_settings.ham_cutoff) & labelled
            cells.append(
                f"{cutoff}: FPR {spam[yt == 0].mean() * 100:.3f} FNR "
                f"{(~spam[yt == 1]).mean() * 100:.1f} unsure {(~(spam | ham)).mean() * 100:.1f}"
            )
        slope, offset = model.calibration
        print(
            f"{label:20s} {scheme:8s} slope {slope:5.2f} offset {offset:+.2f} "
            f"log loss {c.log_loss:.4f} Brier {c.brier:.4f} ECE {c.ece:.4f} | " + " | ".join(cells),
            flush=True,
        )
