import collections
import sys
import time

import joblib
import numpy as np
import scipy.sparse as sp

sys.path.insert(0, "/work/main")
from spamclf.corpora import split_benchmark
from spamclf.features import extract_features
from spamclf.parse import parse_bytes
from spamclf.tokenize import words
from spamclf.vectorize import hash_tokens, rows_to_csr

N = 2**20


def extra(parsed):
    # candidate: han char bigrams and latin word bigrams
    text = parsed.text[:20000]
    import re

    for run in re.findall(r"[\u4e00-\u9fff]{2,}", text):
        for i in range(len(run) - 1):
            yield "zh2:" + run[i : i + 2]
    prev = None
    for w in words(text):
        if w.isascii() and prev is not None:
            yield f"w2:{prev}_{w}"
        prev = w if w.isascii() else None


def vec(raws):
    out = []
    for r in raws:
        p = parse_bytes(r)
        toks, _ = extract_features(p)
        toks = list(dict.fromkeys(toks + list(extra(p))))
        groups = collections.defaultdict(list)
        for t in toks:
            groups[t.split(":", 1)[0]].append(t)
        out.append({g: hash_tokens(ts, N) for g, ts in groups.items()})
    return out


root = "/root/.cache/spamclf/corpora"
for name in sys.argv[1:]:
    train, test = split_benchmark(name, root)
    for part, msgs in (("train", train), ("test", test)):
        raws = [m.raw for m in msgs]
        y = np.array([m.label == "spam" for m in msgs], dtype=np.int8)
        chunks = [raws[i : i + 500] for i in range(0, len(raws), 500)]
        t1 = time.time()
        rows = [
            r for c in joblib.Parallel(n_jobs=2)(joblib.delayed(vec)(c) for c in chunks) for r in c
        ]
        groups = sorted({g for r in rows for g in r})
        empty = np.zeros(0, dtype=np.int32)
        mats = {g: rows_to_csr([r.get(g, empty) for r in rows], N) for g in groups}
        np.savez(f"./g_{name}_{part}.npz", **{g: 0 for g in groups})
        for g, X in mats.items():
            sp.save_npz(f"./g_{name}_{part}__{g.replace('/', '_')}.npz", X)
        np.save(f"./g_{name}_{part}_y.npy", y)
        print(name, part, len(rows), groups, f"{time.time() - t1:.0f}s", flush=True)
