"""Should a model trained on one mailbox read the words of every header?

The bundled model leaves them out: they name each mail system's relays and mailers and mislead
across corpora (benchmarks/model_selection.md). A model of one mailbox is scored on more mail
of that mailbox, where they are evidence. Here each corpus's 70% training split trains a model
with and without ``ModelSettings(header_words=True)``; both are scored on its 30% test split.

Usage: python benchmarks/header_words.py [--corpora DIR]
Writes benchmarks/header_words.md.
"""

from __future__ import annotations

import argparse
import time

from common import EMAIL_CORPORA, ROOT, corpora_dir

import spamclf
from spamclf.corpora import split_benchmark
from spamclf.metrics import evaluate
from spamclf.model import ModelSettings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora")
    args = parser.parse_args()
    root = corpora_dir(args.corpora)
    lines = [
        "# Header words for a model of one mailbox",
        "",
        "Reproduce: `python benchmarks/header_words.py`. Each corpus: the benchmark split "
        "(70% train, 30% test), the default recipe (`spamclf.train`) with and without "
        "`ModelSettings(header_words=True)`; FPR at the shipped spam cutoff "
        f"({ModelSettings().spam_cutoff}).",
        "",
        "| corpus | header words | (1-AUC)% | recall @0.1% FP | FPR at cutoff | train + score s |",
        "|---|---|---|---|---|---|",
    ]
    for name in EMAIL_CORPORA:
        train, test = split_benchmark(name, root)
        for header_words in (False, True):
            start = time.perf_counter()
            model = spamclf.train(
                [m.raw for m in train],
                [m.label for m in train],
                settings=ModelSettings(header_words=header_words),
                n_jobs=2,
            )
            verdicts = model.classify_many([m.raw for m in test], n_jobs=2)
            scores = [v.score for v in verdicts]
            m = evaluate([t.label for t in test], scores, model.settings.spam_cutoff)
            seconds = time.perf_counter() - start
            lines.append(
                f"| {name} | {'yes' if header_words else 'no'} | {m.one_minus_auc_pct:.4f} "
                f"| {m.recall_at_0_1pct_fpr:.4f} | {m.fpr:.3%} | {seconds:.0f} |"
            )
            print(lines[-1], flush=True)
    (ROOT / "benchmarks" / "header_words.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
