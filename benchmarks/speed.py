"""Speed and cost of the bundled model: cold start, load time, size, throughput, latency.

Throughput is classify_many over the message files' paths (it reads them, from the page cache,
as bogofilter beside it reads its files), on the first N messages of the trec06c and trec06p
test splits; one core is n_jobs=1, all cores is
n_jobs=-1, after a warm-up call (as for one core: caches, and classify_many's workers, which a
model keeps between calls); "first call" is all cores on a fresh copy of the model, its
workers' start included. Each throughput is the best of three runs. Latency is classify() on
single messages. Cold start is a fresh interpreter doing `import spamclf`
plus the first classify() of examples/spam.eml (median of 5).

Beside them, bogofilter as the core issue measures it: trained on the corpus's whole training
split (``-s -b`` / ``-n -b``), then ``bogofilter -v -B FILES...`` over the same test messages'
files, one process on one core (the files in the page cache; the best of three runs). Not run,
and said so, where bogofilter is not installed.

Usage: python benchmarks/speed.py [--corpora DIR] [--messages 10000]
Writes benchmarks/speed.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Sequence
from pathlib import Path

# First: puts this checkout on sys.path, before peers imports spamclf.
import common  # noqa: F401
import peers
from common import ROOT, THROUGHPUT_RUNS, best_rate, corpora_dir, write_report

import spamclf
from spamclf.api import default_model_path
from spamclf.corpora import LabelledMessage, split_benchmark
from spamclf.persist import load_model

COLD_START = (
    "import time; t = time.perf_counter(); import spamclf; "
    "spamclf.classify('examples/spam.eml'); print(time.perf_counter() - t)"
)


def cold_start() -> float:
    times = []
    for _ in range(5):
        out = subprocess.run(
            [sys.executable, "-c", COLD_START],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        )
        times.append(float(out.stdout.strip()))
    return statistics.median(times)


def throughput(messages: list[Path], n_jobs: int, warm: bool = True) -> float:
    """Messages per second, the best of ``THROUGHPUT_RUNS`` runs, each on a fresh copy of the
    model."""
    models: list[spamclf.Model] = []

    def fresh_model() -> None:
        models.clear()  # the last run's model goes, and its workers with it
        model = spamclf.default_model().with_settings()  # a copy: no workers from earlier calls
        if warm:  # caches, and workers: 1,000 messages give every worker batches (256)
            list(model.classify_many(messages[:1000], n_jobs=n_jobs))
        models.append(model)

    def score() -> None:
        deque(models[-1].classify_many(messages, n_jobs=n_jobs), maxlen=0)

    return best_rate(len(messages), score, prepare=fresh_model)


def latency(messages: list[bytes]) -> tuple[float, float]:
    model = spamclf.default_model()
    times = []
    for message in messages:
        start = time.perf_counter()
        model.classify(message)
        times.append(time.perf_counter() - start)
    times.sort()
    return times[len(times) // 2] * 1000, times[int(len(times) * 0.99)] * 1000


def bogofilter_rate(train: Sequence[LabelledMessage], test: Sequence[LabelledMessage]) -> str:
    """bogofilter's bulk messages per second on ``test``, trained on ``train``, or why not."""
    missing = peers.Bogofilter.missing()
    if missing:
        return f"not run: {missing}"
    with tempfile.TemporaryDirectory() as folder:
        bogo = peers.Bogofilter(Path(folder) / "wordlist")
        bogo.train(train)
        command = ["bogofilter", "-d", str(bogo.folder), "-v", "-B", *(m.source for m in test)]

        def bulk() -> None:
            out = subprocess.run(command, capture_output=True)
            if out.returncode not in (0, 1, 2):  # the last message's class; 3 is an error
                raise RuntimeError(f"bogofilter failed: {out.stderr.decode(errors='replace')}")

        bulk()  # the word list and the files into the page cache
        return f"{best_rate(len(test), bulk):.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora")
    parser.add_argument("--messages", type=int, default=10000)
    args = parser.parse_args()
    root = corpora_dir(args.corpora)
    path = default_model_path()
    start = time.perf_counter()
    load_model(path)
    load_seconds = time.perf_counter() - start
    lines = [
        "# spamclf speed",
        "",
        f"Reproduce: `python benchmarks/speed.py --messages {args.messages}`. Machine: "
        f"{os.cpu_count()} cores. Model: {path.name}, {path.stat().st_size / 1e6:.1f} MB on "
        f"disk, loads in {load_seconds:.2f} s. Cold start (import + first classify, median "
        f"of 5): {cold_start():.2f} s. Throughput: the best of {THROUGHPUT_RUNS} runs; load "
        f"average before the runs: {os.getloadavg()[0]:.2f}.",
        "",
        "| messages | one core msg/s | all cores msg/s | speed-up | all cores, first call msg/s "
        "| p50 ms | p99 ms | bogofilter one core msg/s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name in ("trec06c", "trec06p"):
        train, test = split_benchmark(name, root)
        test = test[: args.messages]
        messages = [m.raw for m in test]
        # Files, not bytes in memory: bogofilter's column reads its files too.
        files = [Path(m.source) for m in test]
        one = throughput(files, 1)
        many = throughput(files, -1)
        first = throughput(files, -1, warm=False)
        p50, p99 = latency(messages[:1000])
        lines.append(
            f"| {name} test, first {len(messages)} | {one:.0f} | {many:.0f} | {many / one:.2f}x "
            f"| {first:.0f} ({first / one:.2f}x) | {p50:.2f} | {p99:.2f} "
            f"| {bogofilter_rate(train, test)} |"
        )
        print(lines[-1], flush=True)
    write_report("speed.md", lines)


if __name__ == "__main__":
    main()
