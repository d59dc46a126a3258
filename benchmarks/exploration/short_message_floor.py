"""Damping short messages: each unit-length row scaled by min(1, sqrt(nnz / N0)), so that a
message of few features is not as confident as a long one (a lead, not shipped). Prints
(1-AUC)% / recall at 0.1% FP of the split models and leave-one-out. Run from the repository
root: python benchmarks/exploration/short_message_floor.py N0 C  (N0=0: as shipped)
"""

import sys, dataclasses, numpy as np, scipy.sparse as sp
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1]))
from common import load_corpora, fit_parts, measure, split_scripts, stack, EMAIL_CORPORA
from spamclf.scripts import SHARED_MODEL_MIN_EXAMPLES
_, settings, data = load_corpora(None)
def damp(X, n0):
    nnz = np.diff(X.indptr)
    s = np.minimum(1.0, np.sqrt(nnz / n0))
    return sp.diags(s) @ X
n0 = float(sys.argv[1])
C = float(sys.argv[2])
if n0 > 0:
    data = {k: {p: (damp(X, n0).tocsr(), y) for p, (X, y) in v.items()} for k, v in data.items()}
for name in EMAIL_CORPORA:
    Xt, yt = data[name]["test"]
    m = fit_parts(data, [(name, "train")], settings, C=C)
    r = measure(m, Xt, yt, split_scripts(name, "test", settings))
    print(n0, C, name, round(r.one_minus_auc_pct, 4), round(r.recall_at_0_1pct_fpr, 4), flush=True)
shared = dataclasses.replace(settings, min_script_examples=SHARED_MODEL_MIN_EXAMPLES)
for left_out, parts in (("spamassassin", ("train", "test")), ("trec06p", ("test",))):
    names = [(n, p) for n in EMAIL_CORPORA if n != left_out for p in ("train", "test")]
    Xt, yt = stack([data[left_out][p] for p in parts])
    sc = np.concatenate([split_scripts(left_out, p, settings) for p in parts])
    m = measure(fit_parts(data, names, shared, C=1.0), Xt, yt, sc)
    print(n0, "LOO", left_out, round(m.roc_auc, 4), round(m.recall_at_0_1pct_fpr, 4), flush=True)
