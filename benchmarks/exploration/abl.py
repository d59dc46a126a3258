import functools
import sys

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, "/work/main")
from sklearn.preprocessing import normalize
from sklearn.svm import LinearSVC

from spamclf.metrics import evaluate

ALL = [
    "body",
    "charset",
    "date",
    "defect",
    "from",
    "header",
    "html",
    "message-id",
    "mime",
    "received",
    "reply-to",
    "size",
    "subject",
    "to",
    "url",
    "user-agent",
    "w2",
    "x-mailer",
    "x-priority",
    "zh2",
]


@functools.cache
def mat(name, part, g):
    f = f"g_{name}_{part}__{g}.npz"
    try:
        return sp.load_npz(f)
    except FileNotFoundError:
        y = np.load(f"g_{name}_{part}_y.npy")
        return sp.csr_matrix((len(y), 2**20), dtype=np.float32)


def X(name, part, groups):
    M = mat(name, part, groups[0]).copy()
    for g in groups[1:]:
        M = M + mat(name, part, g)
    M.data[:] = 1
    return M


def y(name, part):
    return np.load(f"g_{name}_{part}_y.npy")


def run(groups, C=1.0, which=("sa", "p", "c", "loo_sa", "loo_p")):
    out = []

    def fit_eval(trs, te):
        Xtr = normalize(sp.vstack([X(n, p, groups) for n, p in trs]))
        ytr = np.concatenate([y(n, p) for n, p in trs])
        s = LinearSVC(C=C).fit(Xtr, ytr).decision_function(normalize(X(*te, groups)))
        m = evaluate(y(*te), s, 0)
        return m

    res = {}
    if "sa" in which:
        res["sa"] = fit_eval([("spamassassin", "train")], ("spamassassin", "test"))
    if "p" in which:
        res["p"] = fit_eval([("trec06p", "train")], ("trec06p", "test"))
    if "c" in which:
        res["c"] = fit_eval([("trec06c", "train")], ("trec06c", "test"))
    if "loo_sa" in which:
        m1 = fit_eval(
            [(n, p) for n in ("trec06c", "trec06p", "enron-spam") for p in ("train", "test")],
            ("spamassassin", "test"),
        )
        res["loo_sa"] = m1
    if "loo_p" in which:
        res["loo_p"] = fit_eval(
            [(n, p) for n in ("trec06c", "spamassassin", "enron-spam") for p in ("train", "test")],
            ("trec06p", "test"),
        )
    return res


def fmt(res):
    parts = []
    for k, m in res.items():
        if k.startswith("loo"):
            parts.append(f"{k}: AUC {m.roc_auc:.4f} r{m.recall_at_0_1pct_fpr:.3f}")
        else:
            parts.append(f"{k}: {m.one_minus_auc_pct:.4f}/{m.recall_at_0_1pct_fpr:.4f}")
    return " | ".join(parts)


if __name__ == "__main__":
    mode = sys.argv[1]
    base = [g for g in ALL if g not in ("w2", "zh2")]
    C = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
    if mode == "add":
        for extra in ([], ["w2"], ["zh2"], ["w2", "zh2"]):
            print("base +", extra, C, fmt(run(base + extra, C)), flush=True)
    elif mode == "drop":
        for g in base:
            print(
                "drop",
                g,
                fmt(run([x for x in base if x != g], C, which=("loo_sa", "loo_p"))),
                flush=True,
            )
