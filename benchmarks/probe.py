"""Classify the messages listed in a file with one saved filter, in a fresh process.

Run by benchmarks/run.py under ``/usr/bin/time`` to measure what one process costs: the cold
start (imports, model load and the first verdict) and the peak resident memory while scoring.

Usage: python benchmarks/probe.py {spamclf,nb,lr} MODEL LIST
Prints JSON: {"cold_start_s": ..., "messages": ..., "seconds": ...}.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

START = time.perf_counter()
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def scorer(kind: str, model_path: str):  # type: ignore[no-untyped-def]
    if kind == "spamclf":
        import spamclf

        model = spamclf.load_model(model_path)
        return lambda raw: model.classify(raw).score
    if kind == "nb":
        import pickle

        from peers import notebook_text

        with open(model_path, "rb") as handle:
            pipeline = pickle.load(handle)
        return lambda raw: pipeline.predict_proba([notebook_text(raw)])[0, 1]
    if kind == "lr":
        from bytes4_lr import Bytes4LogisticRegression

        lr = Bytes4LogisticRegression.load(Path(model_path))
        return lambda raw: lr.decision_function([raw])[0]
    raise SystemExit(f"unknown filter {kind!r}")


def main() -> None:
    kind, model_path, listing = sys.argv[1:4]
    paths = Path(listing).read_text().split("\n")
    paths = [p for p in paths if p]
    score = scorer(kind, model_path)
    score(Path(paths[0]).read_bytes())
    cold = time.perf_counter() - START
    start = time.perf_counter()
    for path in paths:
        score(Path(path).read_bytes())
    seconds = time.perf_counter() - start
    print(json.dumps({"cold_start_s": cold, "messages": len(paths), "seconds": seconds}))


if __name__ == "__main__":
    main()
