from abl import *


def Xb(name, part, core, blocks):
    A = normalize(X(name, part, core))
    for groups, w in blocks:
        A = A + w * normalize(X(name, part, groups))
    return normalize(A)


def run3(core, blocks, C=1.0):
    def fit_eval(trs, te):
        Xtr = sp.vstack([Xb(n, p, core, blocks) for n, p in trs])
        ytr = np.concatenate([y(n, p) for n, p in trs])
        s = LinearSVC(C=C).fit(Xtr, ytr).decision_function(Xb(*te, core, blocks))
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


core = [g for g in ALL if g not in ("w2", "zh2", "header", "message-id")]
for blocks, C in [
    ([(["c4"], 0.5), (["header", "message-id"], 0.3)], 1.0),
    ([(["c4"], 0.7), (["header", "message-id"], 0.3)], 1.0),
    ([(["c4"], 0.5), (["header", "message-id"], 0.3)], 2.0),
    ([(["c4"], 0.5), (["header", "message-id"], 0.5)], 1.0),
]:
    print([(b[0][0], b[1]) for b in blocks], C, fmt(run3(core, blocks, C)), flush=True)
