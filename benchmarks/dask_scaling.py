"""spamclf.distributed on a LocalCluster: scoring throughput with 1 and 2 workers, and
out-of-core training against in-memory training.

``speed``: the bundled model scores the trec06p test split (11,347 messages) as a dask bag of
file paths, so the workers read the mail, not the client; partitions of 250 messages. Each
worker is a process with one thread. Workers are started and warmed up (imports, the jieba
dictionary) before timing; each timed run ships the model again. Runs alternate between the
two clusters; records (label, score) are gathered to the client (best of 3), and once the full
Verdicts.

``accuracy``: for spamassassin and trec06p, the training split is trained in memory
(``fit_model`` on the cached feature matrix: what ``spamclf.train`` runs after vectorizing)
and out of core (``spamclf.distributed.train`` on a bag of (path, label) items in partitions
of 2,000, parsed on 2 workers); both models score the test split.

Usage:
    flock /tmp/spamclf-timing.lock python benchmarks/dask_scaling.py speed
    nice -n 19 python benchmarks/dask_scaling.py accuracy
Each part updates benchmarks/dask_scaling.json, then benchmarks/dask_scaling.md is rewritten
from both parts.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import dask.bag as db
import numpy as np
from common import ROOT, corpora_dir, split_matrices, uptime, write_json
from distributed import Client, LocalCluster
from sklearn.metrics import roc_auc_score

import spamclf
from spamclf import distributed as sd
from spamclf.corpora import split_benchmark
from spamclf.model import ModelSettings
from spamclf.pipeline import fit_model
from spamclf.verdict import Verdict

HERE = ROOT / "benchmarks"
RESULTS = HERE / "dask_scaling.json"
REPORT = HERE / "dask_scaling.md"
SCORE_PARTITION = 250
TRAIN_PARTITION = 2000

# Both fits use the C of dask_scaling.md's run (spamclf's default then, 1.0), so that the
# report compares the out-of-core solver with the in-memory one, not two regularizations.
REPORT_C = 1.0


def _autogroup() -> str:
    try:
        return Path("/proc/sys/kernel/sched_autogroup_enabled").read_text().strip()
    except OSError:
        return "unknown"


def cluster(n_workers: int) -> LocalCluster:
    return LocalCluster(
        n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=":0"
    )


def label_and_score(verdict: Verdict) -> tuple[str, float]:
    return verdict.label, verdict.score


def speed(root: Path) -> dict:
    _, test = split_benchmark("trec06p", root)
    paths = [m.source for m in test]
    model = spamclf.default_model()
    serial_start = time.perf_counter()
    serial = [model.classify(p).score for p in paths[:1000]]
    serial_rate = len(serial) / (time.perf_counter() - serial_start)
    seconds: dict[str, dict[str, list[float]]] = {"1": {}, "2": {}}
    cpu: dict[str, list[dict[str, float]]] = {"1": [], "2": []}
    partitions = 0
    with cluster(1) as one, cluster(2) as two, Client(one) as c1, Client(two) as c2:
        clients = {"1": c1, "2": c2}
        for n, client in clients.items():  # warm up: imports, the jieba dictionary
            warm = db.from_sequence(paths[: 50 * int(n)], npartitions=2 * int(n))
            client.compute(sd.classify_bag(warm, model, client=client)).result()
        # Interleaved, so that a change in the machine's load hits both worker counts alike.
        for mode in ("records", "verdicts", "records", "records"):
            for n, client in clients.items():
                bag = db.from_sequence(paths, partition_size=SCORE_PARTITION)
                partitions = bag.npartitions
                verdicts = sd.classify_bag(bag, model, client=client)
                workers_cpu = sum(client.run(time.process_time).values())
                client_cpu = time.process_time()
                start = time.perf_counter()
                if mode == "records":
                    result = client.compute(verdicts.map(label_and_score)).result()
                    scores = [score for _, score in result[:1000]]
                else:
                    result = client.compute(verdicts).result()
                    scores = [v.score for v in result[:1000]]
                wall = time.perf_counter() - start
                seconds[n].setdefault(mode, []).append(round(wall, 2))
                if mode == "records":
                    # CPU the workers got, and what the client (and the scheduler in it) used:
                    # on a shared machine the wall time says as much about the others' load.
                    cpu[n].append(
                        {
                            "workers_cpu_s": round(
                                sum(client.run(time.process_time).values()) - workers_cpu, 2
                            ),
                            "client_cpu_s": round(time.process_time() - client_cpu, 2),
                            "wall_s": round(wall, 2),
                        }
                    )
                assert len(result) == len(paths) and scores == serial, "cluster and serial differ"
    rates = {
        n: {mode: round(len(paths) / min(times), 1) for mode, times in by_mode.items()}
        for n, by_mode in seconds.items()
    }
    return {
        "messages": len(paths),
        "partitions": partitions,
        "serial_messages_per_second_first_1000": round(serial_rate, 1),
        "seconds": seconds,
        "cpu": cpu,
        "messages_per_second": rates,
        "speedup": {
            mode: round(rates["2"][mode] / rates["1"][mode], 2) for mode in ("records", "verdicts")
        },
        "cpus": os.cpu_count(),
    }


def one_minus_auc_pct(y: np.ndarray, scores: np.ndarray) -> float:
    return round(100 * (1 - roc_auc_score(y, scores)), 4)


def accuracy(root: Path) -> dict:
    settings = ModelSettings()
    results = {}
    for corpus in ("spamassassin", "trec06p"):
        data = split_matrices(corpus, root, settings)
        (X_train, y_train), (X_test, y_test) = data["train"], data["test"]
        start = time.perf_counter()
        in_memory = fit_model(X_train, y_train, C=REPORT_C, settings=settings, card={})
        in_memory_seconds = time.perf_counter() - start
        train, _ = split_benchmark(corpus, root)
        items = [(m.source, m.label) for m in train]
        with cluster(2) as local, Client(local):
            bag = db.from_sequence(items, partition_size=TRAIN_PARTITION)
            start = time.perf_counter()
            out_of_core = sd.train(
                bag, C=REPORT_C, description=f"{corpus} train split, out of core"
            )
            out_of_core_seconds = time.perf_counter() - start
        # AUC from decision values: the calibrated score is the same ranking, but rounds to
        # exactly 1.0 for the spammiest messages, which would tie them.
        memory_decisions = X_test @ in_memory.weights + in_memory.intercept
        dask_decisions = X_test @ out_of_core.weights + out_of_core.intercept
        memory_scores = in_memory.score_rows(X_test)
        dask_scores = out_of_core.score_rows(X_test)
        results[corpus] = {
            "train": len(items),
            "test": len(y_test),
            "in_memory": {
                "one_minus_auc_pct": one_minus_auc_pct(y_test, memory_decisions),
                "seconds_fit_only": round(in_memory_seconds, 1),
                "calibration": [round(v, 4) for v in in_memory.calibration],
            },
            "out_of_core": {
                "one_minus_auc_pct": one_minus_auc_pct(y_test, dask_decisions),
                "seconds_parse_and_fit": round(out_of_core_seconds, 1),
                "calibration": [round(v, 4) for v in out_of_core.calibration],
                "partitions": out_of_core.card["training"]["partitions"],
                "passes": out_of_core.card["training"]["passes"],
                "iterations": out_of_core.card["training"]["iterations"],
                "columns_used": out_of_core.card["training"]["columns_used"],
            },
            "decision_correlation": round(
                float(np.corrcoef(memory_decisions, dask_decisions)[0, 1]), 6
            ),
            "label_agreement_pct": round(
                100
                * float(
                    np.mean(
                        [
                            in_memory.label(a) == out_of_core.label(b)
                            for a, b in zip(memory_scores, dask_scores, strict=True)
                        ]
                    )
                ),
                2,
            ),
        }
    return results


def render(results: dict) -> str:
    lines = [
        "# spamclf.distributed on a Dask LocalCluster",
        "",
        "Written by `benchmarks/dask_scaling.py` (its docstring says exactly what runs). Machine: "
        f"{results.get('speed', {}).get('cpus', os.cpu_count())} cores, shared with other jobs.",
        "",
    ]
    speed_part, acc = results.get("speed"), results.get("accuracy")
    summary = []
    if speed_part:
        speedup = speed_part["speedup"]["records"]
        summary.append(
            f"- 2 workers against 1: **{speedup}x** messages/s "
            f"({'met' if speedup >= 1.7 else 'not met'}: target 1.7x; see why below)."
        )
    if acc:
        for corpus in ("trec06p", "spamassassin"):
            if corpus in acc:
                mem = acc[corpus]["in_memory"]["one_minus_auc_pct"]
                ooc = acc[corpus]["out_of_core"]["one_minus_auc_pct"]
                met = ooc <= 1.1 * mem
                summary.append(
                    f"- {corpus}: out-of-core (1-AUC)% **{ooc}** against **{mem}** in memory "
                    f"({'met' if met else 'not met'}: target within 10% relative)."
                )
    if summary:
        lines += ["## Summary", "", *summary, ""]
    if speed_part:
        rates, seconds = speed_part["messages_per_second"], speed_part["seconds"]
        lines += [
            "## Scoring throughput, 1 worker against 2",
            "",
            "`flock /tmp/spamclf-timing.lock python benchmarks/dask_scaling.py speed` "
            f"(run {speed_part['when']}).",
            "",
            f"{speed_part['messages']:,} messages (the trec06p test split) as a bag of file paths "
            f"read on the workers, the bundled model, {speed_part['partitions']} partitions of "
            f"{SCORE_PARTITION}. *records*: `classify_bag(...).map(lambda v: (v.label, v.score))` "
            "gathered to the client (best of 3); *verdicts*: every full Verdict (reasons, origin) "
            "gathered (1 run). Both clusters are started and warmed up first, and the runs "
            "alternate between them.",
            "",
            "| workers (processes, 1 thread) | records: runs (s) | records: messages/s | "
            "verdicts: run (s) | verdicts: messages/s |",
            "|---|---|---|---|---|",
        ]
        for n in ("1", "2"):
            lines.append(
                f"| {n} | {', '.join(map(str, seconds[n]['records']))} | "
                f"{rates[n]['records']:,} | {', '.join(map(str, seconds[n]['verdicts']))} | "
                f"{rates[n]['verdicts']:,} |"
            )
        lines += [
            "",
            "Where the time went in the *records* runs: CPU seconds the workers got in total, "
            "CPU seconds of the client process (which runs the scheduler), and the cores the "
            "workers had on average (worker CPU / wall):",
            "",
            "| workers | worker CPU s | client CPU s | wall s | cores the workers got | "
            "messages per worker CPU second |",
            "|---|---|---|---|---|---|",
        ]
        for n in ("1", "2"):
            for run in speed_part.get("cpu", {}).get(n, []):
                lines.append(
                    f"| {n} | {run['workers_cpu_s']} | {run['client_cpu_s']} | {run['wall_s']} | "
                    f"{run['workers_cpu_s'] / run['wall_s']:.2f} | "
                    f"{speed_part['messages'] / run['workers_cpu_s']:.0f} |"
                )
        per_cpu = {
            n: statistics.mean(
                speed_part["messages"] / run["workers_cpu_s"] for run in speed_part["cpu"][n]
            )
            for n in ("1", "2")
            if speed_part.get("cpu", {}).get(n)
        }
        two = speed_part.get("cpu", {}).get("2", [])
        if two and max(r["workers_cpu_s"] / r["wall_s"] for r in two) < 1.5:
            lines += [
                "",
                "The two workers never had two cores between them (at most "
                f"{max(r['workers_cpu_s'] / r['wall_s'] for r in two):.2f}). The machine is "
                "shared with other sessions' jobs, and the kernel shares CPU between sessions "
                "before it looks at nice values (autogroup scheduling, "
                "`/proc/sys/kernel/sched_autogroup_enabled` = "
                f"{_autogroup()}), so other sessions' `nice -n 19` jobs still took the rest.",
            ]
        if len(per_cpu) == 2:
            lines += [
                "",
                "Per CPU second a worker gets, two workers score "
                f"{per_cpu['2'] / per_cpu['1']:.2f} times as many messages each as one worker "
                f"does, so with a core each they would reach about "
                f"{2 * per_cpu['2'] / per_cpu['1']:.2f}x one worker. That is an estimate from the "
                "CPU accounting above, not a measured wall-clock speed-up.",
            ]
        lines += [
            "",
            "**Measured speed-up with 2 workers: "
            f"{speed_part['speedup']['records']}x** for records, "
            f"{speed_part['speedup']['verdicts']}x for full verdicts (target 1.7x). For "
            "reference, `Model.classify` in one process without Dask: "
            f"{speed_part['serial_messages_per_second_first_1000']:,} messages/s on the first "
            "1,000 of these messages.",
            "",
            f"Load before: `{speed_part['uptime_before']}`  ",
            f"Load after: `{speed_part['uptime_after']}`",
            "",
        ]
    if acc:
        lines += [
            "## Out-of-core training against in-memory training",
            "",
            "`nice -n 19 python benchmarks/dask_scaling.py accuracy` "
            f"(run {acc['when']}). Benchmark splits (train split to test split); "
            "(1-AUC)% on the test split (rounded to 4 decimals), lower is better; target: out of "
            "core within 10% (relative) of in memory. In memory is the fit alone, on the cached "
            "feature matrix; out of core includes parsing the messages on 2 workers, at "
            "`nice -n 19` on the shared machine (during the trec06p run each worker got about a "
            "tenth of a core), and 4 L-BFGS fits (3 calibration folds, then all rows).",
            "",
            "| split | in memory (1-AUC)% | out of core (1-AUC)% | relative gap | "
            "out of core: partitions, L-BFGS iterations, passes over the blocks, seconds | "
            "decision correlation | same label |",
            "|---|---|---|---|---|---|---|",
        ]
        for corpus in ("trec06p", "spamassassin"):
            if corpus not in acc:
                continue
            r = acc[corpus]
            mem, ooc = r["in_memory"], r["out_of_core"]
            gap = (ooc["one_minus_auc_pct"] - mem["one_minus_auc_pct"]) / mem["one_minus_auc_pct"]
            lines.append(
                f"| {corpus} ({r['train']:,} → {r['test']:,}) | {mem['one_minus_auc_pct']} | "
                f"{ooc['one_minus_auc_pct']} | {100 * gap:+.1f}% | {ooc['partitions']}, "
                f"{ooc['iterations']}, {ooc['passes']}, {ooc['seconds_parse_and_fit']} | "
                f"{r['decision_correlation']} | {r['label_agreement_pct']}% |"
            )
        lines += [
            "",
            "Calibration (slope, offset of the log-odds), in memory / out of core: "
            + "; ".join(
                f"{c} {acc[c]['in_memory']['calibration']} / {acc[c]['out_of_core']['calibration']}"
                for c in ("trec06p", "spamassassin")
                if c in acc
            )
            + ". The folds differ (interleaved out of core, shuffled in scikit-learn), so the "
            "sigmoids differ a little; AUC does not depend on them.",
            "",
            f"Load before: `{acc['uptime_before']}`  ",
            f"Load after: `{acc['uptime_after']}`",
            "",
        ]
    lines.append(LEARNER_CHOICE)
    return "\n".join(lines)


# How the learner was chosen: benchmarks/exploration/dask_learners.py on the cached matrices of
# the same splits, partitions of 2,000 rows, run 2026-11-27 (its output, copied).
LEARNER_CHOICE = """## How the out-of-core learner was chosen

`python benchmarks/exploration/dask_learners.py spamassassin trec06p` (partitions of 2,000 rows
of the cached feature matrices; test (1-AUC)%, lower is better):

| learner | spamassassin | trec06p |
|---|---|---|
| in-memory LinearSVC, C=1 (what `spamclf.train` fitted by default then) | 0.0140 | 0.1600 |
| parameter mixing: a LinearSVC per partition, weights averaged | 0.0438 | 0.3483 |
| averaged SGD, hinge, alpha=1e-5, 10 passes | 0.0175 | 0.1732 |
| averaged SGD, hinge, alpha=1e-6, 10 passes | 0.0195 | 0.2061 |
| averaged SGD, log loss, alpha=3e-6, 10 passes | 0.0141 | 0.1883 |
| averaged SGD, log loss, alpha=1e-6, 10 passes | 0.0199 | 0.1799 |

No SGD setting came within 10% of the in-memory SVM on both corpora (the best for one was
25% or 18% worse on the other), and one-shot parameter mixing lost 2-3 times the ranking errors.
So `spamclf.distributed.train` does not approximate the SVM: it minimizes LinearSVC's own
objective (L2-regularized squared hinge, C=1, regularized intercept, the same group sample
weights) by L-BFGS, each objective evaluation one pass in which every worker sums the loss and
gradient of the blocks it holds. Only the weight vector (the columns the data uses) and the
L-BFGS history live on the learner.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=("speed", "accuracy", "report"))
    parser.add_argument("--corpora")
    args = parser.parse_args()
    if args.part != "report":
        root = corpora_dir(args.corpora)
        before = uptime()
        part = speed(root) if args.part == "speed" else accuracy(root)
        part.update(
            uptime_before=before,
            uptime_after=uptime(),
            when=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        )
        print(json.dumps({args.part: part}, indent=1))
        # Read now, not at the start: the other part may have finished meanwhile.
        results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
        results[args.part] = part
        write_json(RESULTS, results)
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    REPORT.write_text(render(results), encoding="utf-8")


if __name__ == "__main__":
    main()
