"""Speed and cost of spamclf and its peers, measured in the same run on the same messages.

Every filter is trained on the same training messages (the first of trec06p's training split)
and timed classifying the same test messages (the first of the trec06p and trec06c test splits).
Throughput counts reading the message files (in the page cache) for every filter alike:
bogofilter reads them itself, spamclf's ``classify_many`` is given their paths, the Python
peers read them in the timed call. Latency is taken on bytes in memory (bogofilter: its file).

Throughput is the best of ``common.THROUGHPUT_RUNS`` runs for every filter alike (why: there).

* throughput, one core: one process scoring one message after another;
* throughput, all cores: spamclf's ``classify_many(n_jobs=-1)`` after a warm-up call, as for
  one core (a model keeps its workers between calls; speed.md also times a first call, worker
  start included); bogofilter as one bulk process per core on an equal share of the files,
  dealt out in turn (see ``_chunks``); spamd with one child per core fed by as many spamc
  clients; the Python peers through joblib, one process per core (worker start included);
* latency p50/p99: one message at a time, as a mail server would call the filter (bogofilter:
  one process per message, its normal use from a delivery agent; SpamAssassin: one spamc call);
* peak memory: the peak resident set of a fresh process classifying the test messages (spamd:
  its parent and children, summed); model size: the files a user would keep;
* cold start: a fresh process importing, loading and classifying one message (spamd: start until
  it answers).

The caller holds the timing lock and runs this at normal priority.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import peers
from bytes4_lr import Bytes4LogisticRegression
from common import THROUGHPUT_RUNS, best_rate

import spamclf
from spamclf.corpora import LabelledMessage

HERE = Path(__file__).resolve().parent
Row = dict[str, Any]


def _percentiles(times: Sequence[float]) -> tuple[float, float]:
    ordered = sorted(times)
    return ordered[len(ordered) // 2] * 1000, ordered[
        min(len(ordered) - 1, int(len(ordered) * 0.99))
    ] * 1000


def _latencies(score: Callable[[bytes], object], raws: Sequence[bytes]) -> tuple[float, float]:
    times = []
    for raw in raws:
        start = time.perf_counter()
        score(raw)
        times.append(time.perf_counter() - start)
    return _percentiles(times)


def _rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("nan")


def _probe(kind: str, model: Path, listing: Path) -> tuple[float, float]:
    """(cold start s, peak RSS MB) of a fresh process classifying the listed messages."""
    out = subprocess.run(
        [
            "/usr/bin/time",
            "-f",
            "MAXRSS %M",
            sys.executable,
            str(HERE / "probe.py"),
            kind,
            str(model),
            str(listing),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    rss_kb = int(out.stderr.rsplit("MAXRSS", 1)[1].split()[0])
    return json.loads(out.stdout.strip().splitlines()[-1])["cold_start_s"], rss_kb / 1024


def _chunks(items: Sequence[Any], n: int) -> list[list[Any]]:
    """``items`` dealt out to ``n`` workers in turn. Not cut into runs: the test messages are
    trec06p's then trec06c's, and contiguous halves gave one core all of trec06p, which
    bogofilter scores 3x slower (0.44 s against 0.15 s alone, 2,000 + 2,000 messages), so the
    run waited on one core and bogofilter's all-cores figure was capped near 1.35x."""
    return [list(items[i::n]) for i in range(n) if items[i::n]]


def _read(paths: Sequence[str]) -> list[bytes]:
    """The message files' bytes: every filter reads its files inside the timed region, as
    bogofilter and spamc do (from the page cache, 11-14 us a message here: 1 % of spamclf's
    time, 12 % of the byte 4-gram LR's)."""
    return [Path(path).read_bytes() for path in paths]


def _nb_chunk(pipeline: Any, paths: list[str]) -> np.ndarray:
    return pipeline.predict_proba([peers.notebook_text(raw) for raw in _read(paths)])[:, 1]


def _lr_chunk(model: Bytes4LogisticRegression, paths: list[str]) -> np.ndarray:
    return model.decision_function(_read(paths))


def _parallel_rate(function: Callable[..., object], model: object, paths: Sequence[str]) -> float:
    workers = os.cpu_count() or 1
    return best_rate(
        len(paths),
        lambda: joblib.Parallel(n_jobs=workers)(
            joblib.delayed(function)(model, chunk) for chunk in _chunks(paths, workers)
        ),
    )


def measure_spamclf(
    train: Sequence[LabelledMessage], test: Sequence[LabelledMessage], folder: Path
) -> Row:
    raws = [m.raw for m in test]
    paths = [Path(m.source) for m in test]  # read by classify_many, as bogofilter reads its own
    start = time.perf_counter()
    model = spamclf.train([m.raw for m in train], [m.label for m in train], n_jobs=1)
    train_s = time.perf_counter() - start
    path = folder / "speed.spamclf"
    model.save(path)
    list(model.classify_many(raws[:200], n_jobs=1))  # warm caches (jieba dictionary)
    one = best_rate(len(paths), lambda: deque(model.classify_many(paths, n_jobs=1), maxlen=0))
    # Start the workers and warm their caches: 1,000 messages give every worker batches (256).
    list(model.classify_many(raws[:1000], n_jobs=-1))
    many = best_rate(len(paths), lambda: deque(model.classify_many(paths, n_jobs=-1), maxlen=0))
    p50, p99 = _latencies(model.classify, raws[:1000])
    cold, rss = _probe("spamclf", path, _listing(folder, test))
    size = path.stat().st_size + Path(f"{path}.card.json").stat().st_size
    return {
        "train_s": train_s,
        "one_core": one,
        "all_cores": many,
        "p50_ms": p50,
        "p99_ms": p99,
        "peak_mb": rss,
        "size_mb": size / 1e6,
        "cold_s": cold,
    }


def _listing(folder: Path, messages: Sequence[LabelledMessage]) -> Path:
    path = folder / "speed.list"
    path.write_text("\n".join(m.source for m in messages) + "\n")
    return path


def measure_bogofilter(
    train: Sequence[LabelledMessage], test: Sequence[LabelledMessage], folder: Path
) -> Row:
    bogo = peers.Bogofilter(folder / "bogofilter")
    start = time.perf_counter()
    bogo.train(train)
    train_s = time.perf_counter() - start
    listing = _listing(folder, test)
    command = ["bogofilter", "-d", str(bogo.folder), "-TT", "-b"]
    bogo.scores(test[:200])  # warm the page cache for the word list
    outputs = []

    def bulk() -> None:
        with listing.open() as names:
            out = subprocess.run(
                ["/usr/bin/time", "-f", "MAXRSS %M", *command],
                stdin=names,
                capture_output=True,
                text=True,
            )
        # Its exit code is the last message's class (0 spam, 1 ham, 2 unsure); 3 is an error.
        if out.returncode not in (0, 1, 2):
            raise RuntimeError(f"bogofilter failed: {out.stderr.strip()}")
        outputs.append(out)

    one = best_rate(len(test), bulk)
    rss_mb = max(int(out.stderr.rsplit("MAXRSS", 1)[1].split()[0]) for out in outputs) / 1024
    shares = _chunks([m.source for m in test], os.cpu_count() or 1)

    def bulk_per_core() -> None:
        running = [
            subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
            for _ in shares
        ]
        for process, share in zip(running, shares, strict=True):
            assert process.stdin is not None
            process.stdin.write("\n".join(share) + "\n")
            process.stdin.close()
        for process in running:
            process.wait()

    many = best_rate(len(test), bulk_per_core)
    times = []
    for message in test[:300]:
        start = time.perf_counter()
        subprocess.run([*command[:-1], "-I", message.source], capture_output=True)
        times.append(time.perf_counter() - start)
    p50, p99 = _percentiles(times)
    return {
        "train_s": train_s,
        "one_core": one,
        "all_cores": many,
        "p50_ms": p50,
        "p99_ms": p99,
        "peak_mb": rss_mb,
        "size_mb": bogo.size_bytes() / 1e6,
        "cold_s": p50 / 1000,
        "note": "latency and cold start: one bogofilter process per message",
    }


def measure_spamassassin(
    train: Sequence[LabelledMessage], test: Sequence[LabelledMessage], folder: Path
) -> Row:
    sa = peers.SpamAssassin(folder / "spamassassin", children=os.cpu_count() or 1)
    start = time.perf_counter()
    sa.train(train)
    train_s = time.perf_counter() - start
    cold = sa.start()
    try:
        sa.scores(test[:20])  # children warm
        runs = []  # one spamc at a time: per-message times of each run
        for _ in range(THROUGHPUT_RUNS):
            times = []
            for message in test:
                begin = time.perf_counter()
                sa.score_one(message)
                times.append(time.perf_counter() - begin)
            runs.append(times)
        p50, p99 = _percentiles(runs[0])
        one = _rate(len(test), min(sum(times) for times in runs))
        many = best_rate(len(test), lambda: sa.scores(test))
        rss_mb = sa.spamd_peak_rss_bytes() / 2**20
    finally:
        sa.stop()
    return {
        "train_s": train_s,
        "one_core": one,
        "all_cores": many,
        "p50_ms": p50,
        "p99_ms": p99,
        "peak_mb": rss_mb,
        "size_mb": sa.size_bytes() / 1e6,
        "cold_s": cold,
        "note": "sa-learn on a balanced sample; one core = one spamc at a time; "
        "cold start = spamd until it answers",
    }


def measure_nb(
    train: Sequence[LabelledMessage], test: Sequence[LabelledMessage], folder: Path
) -> Row:
    nb = peers.TfidfNaiveBayes()
    start = time.perf_counter()
    texts = [peers.notebook_text(m.raw) for m in train]
    nb.train_texts(texts, np.array([m.label == "spam" for m in train]))
    train_s = time.perf_counter() - start
    path = folder / "nb.pickle"
    nb.save(path)
    return _in_process_row("nb", train_s, path, nb.scores_raw, _nb_chunk, nb.pipeline, test)


def measure_lr(
    train: Sequence[LabelledMessage], test: Sequence[LabelledMessage], folder: Path
) -> Row:
    lr = peers.Bytes4LR()
    start = time.perf_counter()
    lr.train(train)
    train_s = time.perf_counter() - start
    path = folder / "lr.npy"
    lr.model.save(path)
    score = lr.model.decision_function
    return _in_process_row("lr", train_s, path, score, _lr_chunk, lr.model, test)


def _in_process_row(
    kind: str,
    train_s: float,
    path: Path,
    score: Callable[[list[bytes]], object],
    chunk: Callable[..., object],
    model: object,
    test: Sequence[LabelledMessage],
) -> Row:
    """Throughput, latency, memory, size and cold start of a peer that scores in Python, from
    its saved model at ``path``."""
    raws = [m.raw for m in test]
    paths = [m.source for m in test]
    one = best_rate(len(paths), lambda: score(_read(paths)))
    many = _parallel_rate(chunk, model, paths)
    p50, p99 = _latencies(lambda raw: score([raw]), raws[:1000])
    cold, rss = _probe(kind, path, _listing(path.parent, test))
    return {
        "train_s": train_s,
        "one_core": one,
        "all_cores": many,
        "p50_ms": p50,
        "p99_ms": p99,
        "peak_mb": rss,
        "size_mb": path.stat().st_size / 1e6,
        "cold_s": cold,
    }


def measure_all(
    train: Sequence[LabelledMessage],
    test: Sequence[LabelledMessage],
    sa_train: Sequence[LabelledMessage],
    sa_test: Sequence[LabelledMessage],
    missing: dict[str, str],
    progress: Callable[[str], None],
) -> dict[str, Row]:
    """Every filter's costs; a peer listed in ``missing`` gets its reason instead."""
    rows: dict[str, Row] = {}
    with tempfile.TemporaryDirectory(prefix="spamclf-bench-speed-") as tmp:
        folder = Path(tmp)
        folder.chmod(0o777)  # spamd runs as nobody
        plan: list[
            tuple[str, Callable[..., Row], Sequence[LabelledMessage], Sequence[LabelledMessage]]
        ] = [
            ("spamclf", measure_spamclf, train, test),
            ("bogofilter", measure_bogofilter, train, test),
            ("SpamAssassin", measure_spamassassin, sa_train, sa_test),
            ("TF-IDF + naive Bayes", measure_nb, train, test),
            ("byte 4-gram LR", measure_lr, train, test),
        ]
        for name, measure, train_part, test_part in plan:
            progress(f"speed: {name}")
            if name in missing:
                rows[name] = {"not_run": missing[name]}
                continue
            row = measure(train_part, test_part, folder)
            row["train_s_per_10k"] = row.pop("train_s") * 10_000 / len(train_part)
            row["train_messages"] = len(train_part)
            row["test_messages"] = len(test_part)
            rows[name] = row
    return rows
