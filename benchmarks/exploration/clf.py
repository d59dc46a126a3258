import sys
import time

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, "/work/main")
from sklearn.linear_model import LogisticRegression, SGDClassifier

from spamclf.metrics import evaluate

name = sys.argv[1]
Xtr = sp.load_npz(f"./{name}_train.npz")
ytr = np.load(f"./{name}_train_y.npy")
Xte = sp.load_npz(f"./{name}_test.npz")
yte = np.load(f"./{name}_test_y.npy")


def report(tag, s, t):
    m = evaluate(yte, s, threshold=0.5)
    print(
        f"{name:12s} {tag:28s} 1-AUC%={m.one_minus_auc_pct:.4f} recall@0.1%={m.recall_at_0_1pct_fpr:.4f} fpr={m.fpr:.4f} fnr={m.fnr:.4f} {t:.1f}s",
        flush=True,
    )


for C in [float(c) for c in sys.argv[2:]] or [1, 10]:
    t = time.time()
    clf = LogisticRegression(C=C, solver="liblinear", max_iter=200).fit(Xtr, ytr)
    report(f"LR liblinear C={C}", clf.predict_proba(Xte)[:, 1], time.time() - t)
for alpha in [1e-6, 1e-5]:
    t = time.time()
    clf = SGDClassifier(loss="log_loss", alpha=alpha, max_iter=30, tol=None, random_state=0).fit(
        Xtr, ytr
    )
    report(f"SGD log a={alpha}", clf.decision_function(Xte), time.time() - t)
    t = time.time()
    clf = SGDClassifier(
        loss="modified_huber", alpha=alpha, max_iter=30, tol=None, random_state=0
    ).fit(Xtr, ytr)
    report(f"SGD mhuber a={alpha}", clf.decision_function(Xte), time.time() - t)
