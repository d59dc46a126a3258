import sys
import time

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, "/work/main")
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import normalize
from sklearn.svm import LinearSVC

from spamclf.metrics import evaluate

name = sys.argv[1]
Xtr = sp.load_npz(f"./{name}_train.npz")
ytr = np.load(f"./{name}_train_y.npy")
Xte = sp.load_npz(f"./{name}_test.npz")
yte = np.load(f"./{name}_test_y.npy")


def report(tag, s, t):
    m = evaluate(yte, s, threshold=0.5)
    print(
        f"{name:12s} {tag:28s} 1-AUC%={m.one_minus_auc_pct:.4f} recall@0.1%={m.recall_at_0_1pct_fpr:.4f} {t:.1f}s",
        flush=True,
    )


Ntr, Nte = normalize(Xtr), normalize(Xte)
for C in [float(c) for c in sys.argv[2:]]:
    t = time.time()
    clf = LinearSVC(C=C).fit(Ntr, ytr)
    report(f"SVC l2norm C={C}", clf.decision_function(Nte), time.time() - t)
t = time.time()
clf = LogisticRegression(C=100, solver="liblinear").fit(Ntr, ytr)
report("LR l2norm C=100", clf.decision_function(Nte), time.time() - t)
