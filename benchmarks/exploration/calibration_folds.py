"""Platt calibration folds for the bundled recipe: unshuffled (as shipped), shuffled, and
leave-one-corpus-out; log loss, FPR and FNR at the 0.98 cutoff on the bundled recipe's test
splits and on left-out corpora. Quoted in spamclf/pipeline.py make_classifier. Run from the
repository root: python benchmarks/exploration/calibration_folds.py
"""

import dataclasses, sys, time, numpy as np
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1]))
from common import load_corpora, stack, split_scripts, measure, EMAIL_CORPORA
from sklearn.calibration import CalibratedClassifierCV
from sklearn.svm import LinearSVC
from sklearn.model_selection import StratifiedKFold, LeaveOneGroupOut
from sklearn.metrics import log_loss
from spamclf.pipeline import group_balance, linear_parts
from spamclf.model import Model
from spamclf.scripts import SHARED_MODEL_MIN_EXAMPLES, count_scripts
_, settings, data = load_corpora(None)
shared = dataclasses.replace(settings, min_script_examples=SHARED_MODEL_MIN_EXAMPLES)

def fit(parts, scheme):
    X, y = stack([data[n][p] for n, p in parts])
    groups = np.array([n for n, p in parts for _ in data[n][p][1]])
    scripts = np.concatenate([split_scripts(n, p, settings) for n, p in parts])
    w = group_balance(groups)
    cv = {"ordered": 3,
          "shuffled": StratifiedKFold(3, shuffle=True, random_state=0),
          "logo": list(LeaveOneGroupOut().split(X, y, groups))}[scheme]
    clf = CalibratedClassifierCV(LinearSVC(C=1.0, random_state=0), method="sigmoid", cv=cv, ensemble=False)
    clf.fit(X, y, sample_weight=w)
    W, b, cal = linear_parts(clf)
    return Model(W, b, cal, shared, {}, None, count_scripts(scripts, y))

cases = [("bundled→" + n, [(m, "train") for m in EMAIL_CORPORA], [(n, "test")]) for n in EMAIL_CORPORA]
for left_out, test_parts in (("trec06p", ("test",)), ("spamassassin", ("train", "test")), ("enron-spam", ("train", "test"))):
    cases.append(("LOO→" + left_out, [(n, p) for n in EMAIL_CORPORA if n != left_out for p in ("train", "test")], [(left_out, p) for p in test_parts]))
bundled_models = {}
for label, train_parts, test_parts in cases:
    Xt, yt = stack([data[n][p] for n, p in test_parts])
    sc = np.concatenate([split_scripts(n, p, settings) for n, p in test_parts])
    for scheme in ("ordered", "shuffled", "logo"):
        key = (tuple(train_parts), scheme)
        if key not in bundled_models:
            bundled_models[key] = fit(train_parts, scheme)
        model = bundled_models[key]
        m = measure(model, Xt, yt, sc)
        p = np.clip(model.score_rows(Xt), 1e-6, 1 - 1e-6)
        print(f"{label:22s} {scheme:9s} slope {model.calibration[0]:6.2f} logloss {log_loss(yt, p):.4f} FPR {m.fpr*100:.3f}% FNR {m.fnr*100:.1f}%", flush=True)
