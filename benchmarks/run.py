"""spamclf side by side with bogofilter, SpamAssassin, TF-IDF + naive Bayes and byte 4-gram LR.

One command measures everything on the same splits in the same run and writes
``benchmarks/RESULTS.md``, ``benchmarks/RESULTS.json`` and the plots ``benchmarks/*.png``:

1. speed and cost (first, at normal priority, under the timing lock ``/tmp/spamclf-timing.lock``);
2. batch accuracy on the benchmark splits (70 % train → 30 % test, ../shared/corpora/README.md);
3. cross-corpus accuracy (train on one corpus's training split, test on another's test split);
4. the TREC online protocol: arrival order, classify then learn the true label, from nothing.

Everything after the timing runs at ``nice 19``. ``--quick`` uses fixed-seed samples (and
arrival-order prefixes for the online protocol) and takes a few minutes.

Usage: python benchmarks/run.py [--corpora DIR] [--quick]
"""

from __future__ import annotations

import argparse
import fcntl
import os
import random
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# First: puts this checkout on sys.path, before peers (through costs) imports spamclf.
import common  # noqa: F401
import costs
import numpy as np
import peers
import report
from common import (
    ROOT,
    THROUGHPUT_RUNS,
    cache_paths,
    commit,
    corpora_dir,
    familiar,
    feature_code_digest,
    split_matrices,
    split_scripts,
    uptime,
)
from tqdm import tqdm

from spamclf.api import training_card
from spamclf.corpora import LabelledMessage, split_benchmark
from spamclf.metrics import compare, evaluate
from spamclf.model import DEFAULT_C, Model, ModelSettings
from spamclf.pipeline import fit_model, model_matrix

BATCH_CORPORA = ("trec06c", "trec06p", "spamassassin", "enron-spam")
ONLINE_CORPORA = ("trec06p", "trec06c")
# Train on the first's training split, test on the second's test split.
CROSS_PAIRS = (
    ("trec06p", "spamassassin"),
    ("spamassassin", "trec06p"),
    ("trec06p", "trec06c"),
    ("trec06c", "trec06p"),
)
SPAMCLF, BOGOFILTER, SPAMASSASSIN, NB, LR = (
    "spamclf",
    "bogofilter",
    "SpamAssassin",
    "TF-IDF + naive Bayes",
    "byte 4-gram LR",
)
FILTERS = (SPAMCLF, BOGOFILTER, SPAMASSASSIN, NB, LR)
TIMING_LOCK = "/tmp/spamclf-timing.lock"


@dataclass(frozen=True)
class Plan:
    """How much of each corpus a mode uses (None: all of it)."""

    name: str
    train: int | None  # batch training messages per corpus (fixed-seed sample)
    test: int | None  # batch test messages per corpus
    sa_train: int  # SpamAssassin is slow: it learns from this many of each class (seed sample)
    sa_test: int  # ... and is scored on a seed sample of this many test messages
    online: int | None  # online protocol: the first N messages in arrival order
    bogofilter_online_budget_s: float  # two process runs per message: stopped at this budget
    speed_train: int  # costs: training messages (first of trec06p's training split)
    speed_test: int  # costs: test messages per TREC corpus
    speed_sa: int  # costs: SpamAssassin's training and test messages


QUICK = Plan("quick", 2000, 1000, 200, 100, 2000, 60, 1000, 200, 60)
# Speed on 10,000 test messages: fewer leave classify_many's worker start unamortized.
FULL = Plan("full", None, None, 1000, 1000, None, 1800, 10_000, 5000, 200)


def sample(messages: list[LabelledMessage], k: int | None, seed: int = 0) -> list[int]:
    """Indices of a fixed-seed sample of ``k`` messages, in their original order."""
    if k is None or k >= len(messages):
        return list(range(len(messages)))
    return sorted(random.Random(seed).sample(range(len(messages)), k))


def balanced_sample(messages: list[LabelledMessage], per_class: int, seed: int) -> list[int]:
    """Indices of a fixed-seed sample of ``per_class`` spam and as many ham, in order.

    SpamAssassin's Bayes stays silent until it has learned 200 of each class
    (``bayes_min_spam_num``/``bayes_min_ham_num``), so its training sample is balanced.
    """
    chosen: list[int] = []
    for label in ("spam", "ham"):
        pool = [i for i, m in enumerate(messages) if m.label == label]
        chosen += random.Random(seed).sample(pool, min(per_class, len(pool)))
    return sorted(chosen)


def labels_of(messages: Sequence[LabelledMessage]) -> np.ndarray:
    return np.array([m.label == "spam" for m in messages], dtype=np.int8)


def versus_spamclf(y: np.ndarray, scores: dict[str, np.ndarray]) -> dict[str, dict[str, Any]]:
    """spamclf minus each peer on the same messages, with 95 % bootstrap intervals
    (``spamclf.metrics.compare``): whether "ahead" is more than which messages were drawn."""
    ours = scores[SPAMCLF]
    return {
        name: compare(y, ours, values).as_dict()
        for name, values in scores.items()
        if name != SPAMCLF
    }


class Run:
    """State shared by the stages of one benchmark run."""

    def __init__(self, root: Path, plan: Plan, bar: tqdm) -> None:
        self.root = root
        self.plan = plan
        self.bar = bar
        self.settings = ModelSettings()
        self.splits: dict[str, tuple[list[LabelledMessage], list[LabelledMessage]]] = {}
        self.missing: dict[str, str] = {}
        for peer in (peers.Bogofilter, peers.SpamAssassin):
            reason = peer.missing()
            if reason:
                self.missing[peer.name] = reason
        self.scratch = Path(peers.scratch_folder("run"))
        self.scratch.chmod(0o777)  # spamd runs as nobody and reads its Bayes files here
        self.results: dict[str, Any] = {"batch": {}, "cross": {}, "online": {}, "speed": {}}
        self.curves: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]] = {}

    def split(self, name: str) -> tuple[list[LabelledMessage], list[LabelledMessage]]:
        if name not in self.splits:
            self.bar.set_postfix_str(f"reading {name}")
            self.splits[name] = split_benchmark(name, self.root)
        return self.splits[name]

    def step(self, what: str) -> None:
        self.bar.set_postfix_str(what)
        self.bar.update(1)


# --- speed ----------------------------------------------------------------------------------


def run_speed(run: Run) -> None:
    plan = run.plan
    train = run.split("trec06p")[0][: plan.speed_train]
    test = [m for name in ("trec06p", "trec06c") for m in run.split(name)[1][: plan.speed_test]]
    sa_train = [train[i] for i in balanced_sample(train, 250, seed=1)]  # Bayes needs 200 each
    sa_test = [
        m for name in ("trec06p", "trec06c") for m in run.split(name)[1][: plan.speed_sa // 2]
    ]
    with open(TIMING_LOCK, "w") as lock:
        run.bar.set_postfix_str("waiting for the timing lock")
        fcntl.flock(lock, fcntl.LOCK_EX)
        before = uptime()
        rows = costs.measure_all(
            train, test, sa_train, sa_test, run.missing, run.bar.set_postfix_str
        )
        after = uptime()
    run.results["speed"] = {
        "rows": rows,
        "uptime_before": before,
        "uptime_after": after,
        "throughput_runs": THROUGHPUT_RUNS,
    }
    run.step("speed measured")


# --- batch accuracy ----------------------------------------------------------------------------


@dataclass
class Trained:
    """Every filter trained on one corpus's training part, for the cross-corpus rows."""

    spamclf: Model
    bogofilter: peers.Bogofilter | None
    nb: peers.TfidfNaiveBayes
    lr: peers.Bytes4LR


def spamclf_rows(run: Run, name: str, part: str, idx: list[int]):  # type: ignore[no-untyped-def]
    """Feature rows, labels and writing systems of the sampled messages of a split: from the
    feature cache in a full run (which fills it if needed) or when it is filled already, else
    vectorized now."""
    paths = cache_paths(name, run.settings).values()
    if run.plan.train is None or all(p.with_suffix(".scripts.npy").exists() for p in paths):
        X, y = split_matrices(name, run.root, run.settings)[part]
        return X[idx], y[idx], split_scripts(name, part, run.settings)[idx]
    messages = run.split(name)[0 if part == "train" else 1]
    X, scripts = model_matrix([messages[i].raw for i in idx], run.settings, n_jobs=2)
    return X, labels_of([messages[i] for i in idx]), np.array(scripts)


def run_batch(
    run: Run, name: str, trained: dict[str, Trained], test_rows: dict, texts: dict
) -> None:  # type: ignore[type-arg]
    plan = run.plan
    train_all, test_all = run.split(name)
    train_idx, test_idx = sample(train_all, plan.train), sample(test_all, plan.test)
    train = [train_all[i] for i in train_idx]
    test = [test_all[i] for i in test_idx]
    y = labels_of(test)
    scores: dict[str, np.ndarray] = {}
    data = f"{name}: {len(train):,} train → {len(test):,} test"
    if plan.train is not None:
        data += " (seed-0 samples of the 70/30 split)"

    run.bar.set_postfix_str(f"{name}: spamclf")
    X, ytrain, train_scripts = spamclf_rows(run, name, "train", train_idx)
    Xt, yt, test_scripts = spamclf_rows(run, name, "test", test_idx)
    assert (yt == y).all(), "feature cache and corpus disagree on labels"
    card = training_card(name, ytrain, DEFAULT_C)
    model = fit_model(
        X, ytrain, C=DEFAULT_C, settings=run.settings, card=card, scripts=list(train_scripts)
    )
    scores[SPAMCLF] = model.score_rows(Xt)
    test_rows[name] = (Xt, test_scripts)
    thresholds = {SPAMCLF: run.settings.spam_cutoff}
    # spamclf labels only the writing systems its model has seen enough ham and spam of.
    labelled = {SPAMCLF: familiar(model, test_scripts)}

    bogo = None
    if BOGOFILTER not in run.missing:
        run.bar.set_postfix_str(f"{name}: bogofilter")
        bogo = peers.Bogofilter(run.scratch / f"bogofilter-{name}")
        bogo.train(train)
        scores[BOGOFILTER] = bogo.scores(test)
        thresholds[BOGOFILTER] = bogo.threshold

    run.bar.set_postfix_str(f"{name}: decoding text for naive Bayes")
    nb = peers.TfidfNaiveBayes()
    nb.train_texts(peers.notebook_texts([m.raw for m in train]), labels_of(train))
    texts[name] = peers.notebook_texts([m.raw for m in test])
    scores[NB] = nb.scores_texts(texts[name])
    thresholds[NB] = nb.threshold

    run.bar.set_postfix_str(f"{name}: byte 4-gram LR")
    lr = peers.Bytes4LR()
    lr.train(train)
    scores[LR] = lr.scores(test)
    thresholds[LR] = lr.threshold
    trained[name] = Trained(model, bogo, nb, lr)

    rows: dict[str, Any] = {}
    for filter_name, values in scores.items():
        rows[filter_name] = {
            "data": data,
            "metrics": evaluate(
                y, values, thresholds[filter_name], labelled=labelled.get(filter_name)
            ).as_dict(),
        }
    for filter_name, comparison in versus_spamclf(y, scores).items():
        rows[filter_name]["vs_spamclf"] = comparison
    run.curves[name] = {f: (y, s) for f, s in scores.items()}

    sa_rows = run_spamassassin(run, name, train, test, y, scores, thresholds, labelled)
    rows.update(sa_rows)
    run.results["batch"][name] = rows
    run.step(f"{name} batch done")


def run_spamassassin(
    run: Run,
    name: str,
    train: list[LabelledMessage],
    test: list[LabelledMessage],
    y: np.ndarray,
    scores: dict[str, np.ndarray],
    thresholds: dict[str, float],
    labelled: dict[str, np.ndarray],
) -> dict[str, Any]:
    """SpamAssassin on fixed-seed samples, and every other filter on the same test sample."""
    if SPAMASSASSIN in run.missing:
        return {SPAMASSASSIN: {"not_run": run.missing[SPAMASSASSIN]}}
    plan = run.plan
    train_idx = balanced_sample(train, plan.sa_train, seed=1)
    test_idx = sample(test, plan.sa_test, seed=2)
    sa = peers.SpamAssassin(run.scratch / f"spamassassin-{name}")
    run.bar.set_postfix_str(f"{name}: sa-learn on {len(train_idx)}")
    sa.train([train[i] for i in train_idx])
    sa.start()
    try:
        run.bar.set_postfix_str(f"{name}: spamd on {len(test_idx)}")
        sa_scores = sa.scores([test[i] for i in test_idx])
    finally:
        sa.stop()
    y_sample = y[test_idx]
    n_spam = sum(train[i].label == "spam" for i in train_idx)
    data = (
        f"{name}: seed samples, {n_spam:,} spam + {len(train_idx) - n_spam:,} ham of the "
        f"training split → {len(test_idx):,} of the test split"
    )
    rows: dict[str, Any] = {
        SPAMASSASSIN: {
            "data": data,
            "metrics": evaluate(y_sample, sa_scores, sa.threshold).as_dict(),
        }
    }
    # The others on exactly SpamAssassin's test messages (trained on the full training part).
    same = {}
    for filter_name, values in scores.items():
        mask = labelled[filter_name][test_idx] if filter_name in labelled else None
        same[filter_name] = evaluate(
            y_sample, values[test_idx], thresholds[filter_name], labelled=mask
        ).as_dict()
    same[SPAMASSASSIN] = rows[SPAMASSASSIN]["metrics"]
    sample_scores = {f: values[test_idx] for f, values in scores.items()}
    sample_scores[SPAMASSASSIN] = np.asarray(sa_scores)
    run.results.setdefault("sa_sample", {})[name] = {
        "data": data,
        # The others were trained on all the training messages, not on SpamAssassin's sample.
        "others_data": f"{name}: {len(train):,} train → the same {len(test_idx):,} test messages",
        "rows": same,
        "vs_spamclf": versus_spamclf(y_sample, sample_scores),
    }
    run.curves[name][SPAMASSASSIN] = (y_sample, sa_scores)
    return rows


def run_cross(run: Run, trained: dict[str, Trained], test_rows: dict, texts: dict) -> None:  # type: ignore[type-arg]
    for source, target in CROSS_PAIRS:
        if source not in trained or target not in trained:
            continue
        run.bar.set_postfix_str(f"cross {source} → {target}")
        models = trained[source]
        test = [run.split(target)[1][i] for i in sample(run.split(target)[1], run.plan.test)]
        y = labels_of(test)
        rows: dict[str, Any] = {}
        part = "sample" if run.plan.train else "training split"
        data = f"train {source} ({part}) → test {target} ({len(test):,})"
        Xt, scripts = test_rows[target]
        labelled = {SPAMCLF: familiar(models.spamclf, scripts)}
        candidates = {
            SPAMCLF: (models.spamclf.score_rows(Xt), run.settings.spam_cutoff),
            NB: (models.nb.scores_texts(texts[target]), models.nb.threshold),
            LR: (models.lr.scores(test), models.lr.threshold),
        }
        if models.bogofilter is not None:
            candidates[BOGOFILTER] = (models.bogofilter.scores(test), models.bogofilter.threshold)
        for filter_name, (values, threshold) in candidates.items():
            metrics = evaluate(y, values, threshold, labelled=labelled.get(filter_name))
            rows[filter_name] = {"data": data, "metrics": metrics.as_dict()}
        versus = versus_spamclf(y, {f: values for f, (values, _) in candidates.items()})
        for filter_name, comparison in versus.items():
            rows[filter_name]["vs_spamclf"] = comparison
        rows[SPAMASSASSIN] = {
            "not_run": run.missing.get(
                SPAMASSASSIN, "spamd is too slow for another sample per pair"
            )
        }
        run.results["cross"][f"{source} → {target}"] = rows
    run.step("cross-corpus done")


# --- online protocol -----------------------------------------------------------------------------


class BogofilterOnline(threading.Thread):
    """bogofilter through the online protocol, in the background (it mostly waits on its own
    processes), stopped when the run's budget for it is spent."""

    def __init__(self, run: Run, streams: dict[str, list[LabelledMessage]]) -> None:
        super().__init__(daemon=True)
        self.run_ = run
        self.streams = streams
        self.stop = threading.Event()
        self.scores: dict[str, list[float]] = {name: [] for name in streams}
        self.threshold: float | None = None  # its installed spam_cutoff, read when it starts
        self.error: str | None = None

    def run(self) -> None:
        try:
            for name, messages in self.streams.items():
                bogo = peers.Bogofilter(self.run_.scratch / f"bogofilter-online-{name}")
                self.threshold = bogo.threshold
                for i, message in enumerate(messages):
                    if self.stop.is_set():
                        return
                    score = bogo.online([message])[0] if i == 0 else _bogo_step(bogo, message)
                    self.scores[name].append(score)
        except Exception as exc:  # reported in RESULTS.md rather than lost in a thread
            self.error = f"{type(exc).__name__}: {exc}"


def _bogo_step(bogo: peers.Bogofilter, message: LabelledMessage) -> float:
    score = float(bogo._run("-TT", "-I", message.source).split()[-1])
    bogo._run("-s" if message.label == "spam" else "-n", "-I", message.source)
    return score


def online_stream(run: Run, name: str) -> list[LabelledMessage]:
    train, test = run.split(name)
    stream = train + test  # TREC corpora are split in index (= arrival) order
    return stream[: run.plan.online] if run.plan.online else stream


def run_online(run: Run) -> None:
    for name in ONLINE_CORPORA:
        stream = online_stream(run, name)
        y = labels_of(stream)
        scores: dict[str, np.ndarray] = {}
        seconds: dict[str, float] = {}
        # The library's own configuration for learning one mailbox from nothing (it reads the
        # words of every header, which the batch models leave out); cutoffs as run.settings.
        model = Model.empty()
        assert model.settings.spam_cutoff == run.settings.spam_cutoff
        bar = tqdm(stream, desc=f"online {name} spamclf", unit="msg", leave=False, mininterval=2)
        start = time.perf_counter()
        values = np.empty(len(stream))
        known = np.empty(len(stream), dtype=bool)
        for i, message in enumerate(bar):
            # classify() and learn() in one reading of the message (the score is classify's).
            features = model.features(message.raw)
            values[i] = model.probability(model.decision(features)[0])
            known[i] = model.is_familiar(features.script)
            model.learn(message.raw, message.label, features=features)
        seconds[SPAMCLF] = time.perf_counter() - start
        scores[SPAMCLF] = values
        start = time.perf_counter()
        scores[LR] = peers.Bytes4LR().online(stream)
        seconds[LR] = time.perf_counter() - start
        thresholds = {SPAMCLF: run.settings.spam_cutoff, LR: 0.0}
        labelled = {SPAMCLF: known}
        rows: dict[str, Any] = {}
        for filter_name, values in scores.items():
            mask = labelled.get(filter_name)
            metrics = evaluate(y, values, thresholds[filter_name], labelled=mask)
            rows[filter_name] = {
                "data": f"{name}: first {len(stream):,} messages in arrival order",
                "metrics": metrics.as_dict(),
                "messages_per_s": len(stream) / seconds[filter_name],
            }
        rows[LR]["vs_spamclf"] = versus_spamclf(y, scores)[LR]
        run.results["online"][name] = {"rows": rows, "scores": scores, "y": y, "known": known}
        run.step(f"online {name} done")


def finish_bogofilter_online(run: Run, thread: BogofilterOnline | None, deadline: float) -> None:
    """Wait for bogofilter's online run until the deadline; score the prefix it reached, and
    every other filter on that same prefix (online scores depend only on earlier messages)."""
    if thread is None:
        for name in ONLINE_CORPORA:
            if name in run.results["online"]:
                run.results["online"][name]["rows"][BOGOFILTER] = {
                    "not_run": run.missing[BOGOFILTER]
                }
        return
    run.bar.set_postfix_str("waiting for bogofilter's online run")
    thread.join(max(0.0, deadline - time.time()))
    thread.stop.set()
    thread.join()
    for name in ONLINE_CORPORA:
        entry = run.results["online"].get(name)
        if entry is None:
            continue
        done = len(thread.scores[name])
        total = len(entry["y"])
        if thread.error and done < total:
            entry["rows"][BOGOFILTER] = {"not_run": f"failed after {done} messages: {thread.error}"}
            continue
        if done < 100 or entry["y"][:done].min() == entry["y"][:done].max():
            entry["rows"][BOGOFILTER] = {
                "not_run": f"only {done:,} of {total:,} messages within the run's budget of "
                f"{run.plan.bogofilter_online_budget_s:.0f} s (two processes per message)"
            }
            continue
        y = entry["y"][:done]
        data = f"{name}: first {done:,} messages in arrival order"
        if done < total:
            data += f" (budget of {run.plan.bogofilter_online_budget_s:.0f} s reached)"
        entry["scores"][BOGOFILTER] = np.array(thread.scores[name])  # for the ROC plot
        assert thread.threshold is not None  # set before its first score
        entry["rows"][BOGOFILTER] = {
            "data": data,
            "metrics": evaluate(y, entry["scores"][BOGOFILTER], thread.threshold).as_dict(),
            # on the prefix bogofilter reached, so that both saw the same messages
            "vs_spamclf": compare(
                y, entry["scores"][SPAMCLF][:done], entry["scores"][BOGOFILTER]
            ).as_dict(),
        }
        if done < total:
            prefix = {}
            for filter_name in (SPAMCLF, LR):
                threshold = run.settings.spam_cutoff if filter_name == SPAMCLF else 0.0
                known = entry["known"][:done] if filter_name == SPAMCLF else None
                prefix[filter_name] = evaluate(
                    y, entry["scores"][filter_name][:done], threshold, labelled=known
                ).as_dict()
            entry["bogofilter_prefix"] = {"messages": done, "rows": prefix}
    run.step("bogofilter online done")


# --- main ---------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", help="corpus folder (default $SPAMCLF_CORPORA)")
    parser.add_argument("--quick", action="store_true", help="fixed-seed samples, a few minutes")
    parser.add_argument("--out", default=str(ROOT / "benchmarks"), help="where RESULTS.md goes")
    args = parser.parse_args()
    plan = QUICK if args.quick else FULL
    root = corpora_dir(args.corpora)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)  # now, not after an hour of measuring
    started = time.time()
    steps = 1 + len(BATCH_CORPORA) + 1 + len(ONLINE_CORPORA) + 1 + 1
    bar = tqdm(total=steps, desc=f"benchmark ({plan.name})", unit="stage")
    run = Run(root, plan, bar)
    try:
        run_speed(run)
        os.nice(19)  # timing is over; everything else yields to the other users of the machine
        bogofilter = None
        if BOGOFILTER not in run.missing:
            streams = {name: online_stream(run, name) for name in ONLINE_CORPORA}
            bogofilter = BogofilterOnline(run, streams)
            bogofilter.start()
        trained: dict[str, Trained] = {}
        test_rows: dict[str, Any] = {}
        texts: dict[str, list[str]] = {}
        for name in BATCH_CORPORA:
            run_batch(run, name, trained, test_rows, texts)
        run_cross(run, trained, test_rows, texts)
        run_online(run)
        finish_bogofilter_online(run, bogofilter, started + plan.bogofilter_online_budget_s)
        run.results["meta"] = {
            "mode": plan.name,
            "plan": plan.__dict__,
            "command": "python benchmarks/run.py" + (" --quick" if args.quick else ""),
            "seconds": time.time() - started,
            "finished": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "commit": commit(),
            "feature_digest": feature_code_digest(),
            "cpus": os.cpu_count(),
            "missing": run.missing,
            "versions": _versions(),
        }
        report.plots(run.curves, run.results, out)
        report.write(run.results, out)
        bar.update(1)
    finally:
        bar.close()
        shutil.rmtree(run.scratch, ignore_errors=True)
    print(f"wrote {out / 'RESULTS.md'} in {time.time() - started:.0f} s")


def _versions() -> dict[str, str]:
    def first_line(command: list[str]) -> str:
        if not shutil.which(command[0]):
            return "not installed"
        out = subprocess.run(command, capture_output=True, text=True)
        return (out.stdout or out.stderr).strip().splitlines()[0]

    import sklearn

    return {
        "bogofilter": first_line(["bogofilter", "-V"]),
        "SpamAssassin": first_line(["spamassassin", "-V"]),
        "scikit-learn": sklearn.__version__,
        "python": sys.version.split()[0],
    }


if __name__ == "__main__":
    main()
