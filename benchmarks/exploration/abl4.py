from abl import *


def Xb(name, part, groups, alpha):
    A = normalize(X(name, part, groups))
    if alpha == 0:
        return A
    return normalize(A + alpha * normalize(mat(name, part, "c4")))


def run2(groups, alpha, C=1.0):
    def fit_eval(trs, te):
        Xtr = sp.vstack([Xb(n, p, groups, alpha) for n, p in trs])
        ytr = np.concatenate([y(n, p) for n, p in trs])
        s = LinearSVC(C=C).fit(Xtr, ytr).decision_function(Xb(*te, groups, alpha))
        return evaluate(y(*te), s, 0)

    res = {}
    res["sa"] = fit_eval([("spamassassin", "train")], ("spamassassin", "test"))
    res["p"] = fit_eval([("trec06p", "train")], ("trec06p", "test"))
    res["c"] = fit_eval([("trec06c", "train")], ("trec06c", "test"))
    res["loo_sa"] = fit_eval(
        [(n, p) for n in ("trec06c", "trec06p", "enron-spam") for p in ("train", "test")],
        ("spamassassin", "test"),
    )
    res["loo_p"] = fit_eval(
        [(n, p) for n in ("trec06c", "spamassassin", "enron-spam") for p in ("train", "test")],
        ("trec06p", "test"),
    )
    return res


nohdr = [g for g in ALL if g not in ("w2", "zh2", "header", "message-id")]
allg = [g for g in ALL if g not in ("w2", "zh2")]
for groups, gname in ((nohdr, "nohdr"), (allg, "all")):
    for alpha, C in ((0.5, 1.0), (0.5, 3.0), (1.0, 1.0)):
        print(gname, "alpha", alpha, "C", C, fmt(run2(groups, alpha, C)), flush=True)
