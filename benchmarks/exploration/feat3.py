import sys
import time

import joblib
import scipy.sparse as sp

sys.path.insert(0, "/work/main")
from spamclf.corpora import split_benchmark
from spamclf.parse import parse_bytes
from spamclf.vectorize import hash_tokens, rows_to_csr

N = 2**20


def vec(raws):
    out = []
    for r in raws:
        p = parse_bytes(r)
        t = (p.subject + " " + p.text)[:3000].lower()
        t = " ".join(t.split())
        out.append(hash_tokens({"c4:" + t[i : i + 4] for i in range(len(t) - 3)}, N))
    return out


root = "/root/.cache/spamclf/corpora"
for name in sys.argv[1:]:
    train, test = split_benchmark(name, root)
    for part, msgs in (("train", train), ("test", test)):
        raws = [m.raw for m in msgs]
        chunks = [raws[i : i + 500] for i in range(0, len(raws), 500)]
        t1 = time.time()
        rows = [
            r for c in joblib.Parallel(n_jobs=2)(joblib.delayed(vec)(c) for c in chunks) for r in c
        ]
        sp.save_npz(f"./g_{name}_{part}__c4.npz", rows_to_csr(rows, N))
        print(name, part, f"{time.time() - t1:.0f}s", flush=True)
