import sys

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, "/work/main")
from sklearn.preprocessing import normalize
from sklearn.svm import LinearSVC

from spamclf.metrics import evaluate


def load(n, part):
    return sp.load_npz(f"{n}_{part}.npz"), np.load(f"{n}_{part}_y.npy")


def both(n):
    a, ya = load(n, "train")
    b, yb = load(n, "test")
    return sp.vstack([a, b]), np.concatenate([ya, yb])


C = float(sys.argv[1]) if len(sys.argv) > 1 else 1
# leave spamassassin out
parts = [both("trec06c"), both("trec06p"), both("enron-spam")]
X = normalize(sp.vstack([p[0] for p in parts]))
y = np.concatenate([p[1] for p in parts])
Xs, ys = both("spamassassin")
s = LinearSVC(C=C).fit(X, y).decision_function(normalize(Xs))
m = evaluate(ys, s, 0)
print(
    "LOO spamassassin",
    C,
    f"AUC={m.roc_auc:.4f} rec@0.1={m.recall_at_0_1pct_fpr:.3f} fpr@0={m.fpr:.4f} fnr={m.fnr:.3f}",
)
parts = [both("trec06c"), both("spamassassin"), both("enron-spam")]
X = normalize(sp.vstack([p[0] for p in parts]))
y = np.concatenate([p[1] for p in parts])
Xt, yt = load("trec06p", "test")
s = LinearSVC(C=C).fit(X, y).decision_function(normalize(Xt))
m = evaluate(yt, s, 0)
print(
    "LOO trec06p-test",
    C,
    f"AUC={m.roc_auc:.4f} rec@0.1={m.recall_at_0_1pct_fpr:.3f} fpr@0={m.fpr:.4f} fnr={m.fnr:.3f}",
)
