"""Builds the bundled default model, models/default.spamclf, and its card.

Trains the default recipe on every message of the four email corpora in ../shared/corpora
(trec06c, trec06p, spamassassin, enron-spam). Before that, the same recipe is trained on their
training splits only and measured on their test splits; those held-out metrics go in the card.
Seeds are fixed (LinearSVC random_state=0, deterministic folds), so the model is reproducible.

Usage: python benchmarks/build_default_model.py [--corpora DIR]
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import numpy as np
from common import EMAIL_CORPORA, ROOT, fit_parts, load_corpora, measure, split_scripts

from spamclf.api import DEFAULT_MODEL_NAME, training_card
from spamclf.metrics import calibration
from spamclf.model import SHARED_MODEL_C
from spamclf.persist import card_path, load_model
from spamclf.scripts import SHARED_MODEL_MIN_EXAMPLES


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora")
    args = parser.parse_args()
    _, settings, data = load_corpora(args.corpora)
    # It judges mail from mailboxes it never saw: it labels only the writing systems it has
    # seen enough ham and spam of (spamclf/scripts.py), and fits with the C that generalizes.
    settings = dataclasses.replace(settings, min_script_examples=SHARED_MODEL_MIN_EXAMPLES)

    train_parts = [(name, "train") for name in EMAIL_CORPORA]
    held_out_model = fit_parts(data, train_parts, settings, C=SHARED_MODEL_C)
    held_out = {}
    for name in EMAIL_CORPORA:
        Xt, yt = data[name]["test"]
        scripts = split_scripts(name, "test", settings)
        held_out[name] = {
            **measure(held_out_model, Xt, yt, scripts).as_dict(),
            "calibration": calibration(yt, held_out_model.score_rows(Xt)).as_dict(),
        }
        print(name, held_out[name], flush=True)

    parts = [(name, part) for name in EMAIL_CORPORA for part in ("train", "test")]
    y = np.concatenate([data[name][part][1] for name, part in parts])
    start = time.perf_counter()
    description = "all of " + ", ".join(EMAIL_CORPORA) + " (../shared/corpora)"
    card = training_card(description, y, SHARED_MODEL_C)
    model = fit_parts(data, parts, settings, C=SHARED_MODEL_C, card=card)
    model.card["training"]["balanced_groups"] = list(EMAIL_CORPORA)
    model.card["training"]["seconds_classifier"] = round(time.perf_counter() - start, 1)
    model.card["training"]["corpora"] = {
        name: {
            part: {
                "spam": int(data[name][part][1].sum()),
                "ham": int((data[name][part][1] == 0).sum()),
            }
            for part in ("train", "test")
        }
        for name in EMAIL_CORPORA
    }
    model.card["metrics"] = {
        "held_out": held_out,
        "held_out_protocol": "same recipe trained on the four training splits, measured on "
        "each test split (benchmark protocol in ../shared/corpora/README.md); "
        "leave-one-corpus-out results are in benchmarks/accuracy.md",
    }
    model.card["rebuild"] = "python benchmarks/build_default_model.py"
    path = ROOT / "models" / DEFAULT_MODEL_NAME
    model.save(path)
    start = time.perf_counter()
    load_model(path)
    print(
        f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB, loads in "
        f"{time.perf_counter() - start:.2f} s) and {card_path(path).name}"
    )


if __name__ == "__main__":
    main()
