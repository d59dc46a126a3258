"""Out-of-core learners for spamclf.distributed, compared on cached benchmark matrices.

Simulates partitions of 2,000 rows of a benchmark training split and measures test (1-AUC)%:
averaged SGD (hinge and log loss) with partial_fit over shuffled partitions, and one-shot
parameter mixing (a LinearSVC per partition, weights averaged), against the in-memory
LinearSVC. The exact-objective L-BFGS that spamclf.distributed uses is measured end to end by
benchmarks/dask_scaling.py. Usage: python benchmarks/exploration/dask_learners.py CORPUS...
"""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
from common import corpora_dir, split_matrices
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import roc_auc_score
from sklearn.svm import LinearSVC

from spamclf.model import ModelSettings
from spamclf.pipeline import fit_model

PART = 2000
settings = ModelSettings()
for corpus in sys.argv[1:]:
    data = split_matrices(corpus, corpora_dir(None), settings)
    (Xtr, ytr), (Xte, yte) = data["train"], data["test"]
    parts = [(Xtr[i : i + PART], ytr[i : i + PART]) for i in range(0, Xtr.shape[0], PART)]

    def report(name, w, b, seconds):
        auc = roc_auc_score(yte, Xte @ w + b)
        print(f"{corpus} | {name} | {100 * (1 - auc):.4f} | {seconds:.1f}", flush=True)

    t = time.perf_counter()
    m = fit_model(Xtr, ytr, C=1.0, settings=settings, card={})
    report(
        "in-memory LinearSVC C=1 (spamclf.train)", m.weights, m.intercept, time.perf_counter() - t
    )
    t = time.perf_counter()
    svms = [LinearSVC(C=1.0, random_state=0).fit(X, y) for X, y in parts if len(set(y)) == 2]
    w = np.mean([s.coef_.ravel() for s in svms], axis=0)
    b = np.mean([s.intercept_[0] for s in svms])
    report(f"parameter mixing, {len(svms)} LinearSVCs averaged", w, b, time.perf_counter() - t)
    for loss in ("hinge", "log_loss"):
        for alpha in (1e-5, 3e-6, 1e-6):
            clf = SGDClassifier(loss=loss, alpha=alpha, average=True, random_state=0)
            rng = np.random.default_rng(0)
            t = time.perf_counter()
            for epoch in range(10):
                for k in rng.permutation(len(parts)):
                    clf.partial_fit(*parts[k], classes=[0, 1])
                if epoch + 1 in (3, 10):
                    report(
                        f"averaged SGD {loss} alpha={alpha}, {epoch + 1} passes",
                        clf.coef_.ravel(),
                        clf.intercept_[0],
                        time.perf_counter() - t,
                    )
