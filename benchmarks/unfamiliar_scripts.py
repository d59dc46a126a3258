"""What the bundled model does with mail in a writing system it has seen only as spam.

The four email corpora hold about 560 Korean spam messages and not one Korean ham (trec06p:
Japanese 4,606 spam, 11 ham). There is no Korean email corpus to measure on, so this puts the real
Korean text of ../shared/corpora's Korean SMS set (class 1: news and portal comments, real
ham-like text; class 2: real smishing and spam SMS) into one plain, neutral envelope each
(the same headers for every message, no Received chain, UTF-8) and classifies it with two
bundled models: one built before models counted writing systems (``--before``, e.g. a model
file from git history) and the current one, which labels only writing systems it has seen at
least ``SHARED_MODEL_MIN_EXAMPLES`` ham and spam of (spamclf/scripts.py). The envelope is the
same for ham and spam, so what moves the verdict is the text.

A model file loads only into the feature schema it was built with, so ``--before`` takes only a
model of the current schema; the comparison with the last model without script counts (353e404,
schema 3) was measured at commit 96a6997 and stays in git history.

Usage: python benchmarks/unfamiliar_scripts.py [--before OLD.spamclf] [--corpora DIR]
    [--sample 2000]
Writes benchmarks/unfamiliar_scripts.md.
"""

from __future__ import annotations

import argparse
import random
from collections import Counter
from email.message import EmailMessage
from pathlib import Path

from cjk_tokenization import KOREAN_CSV, load_korean
from common import corpora_dir, write_report

import spamclf
from spamclf.persist import load_model

# Two envelopes: no relays at all, and the one hop a message from a Korean mail provider has
# (a Korean address: 211.234.0.0/16 is allocated to a Korean ISP), as a Korean user's mail has.
RELAYS = {
    "no Received chain": "",
    "one Korean relay": (
        "Received: from mail.example.kr (mail.example.kr [211.234.117.20])\n"
        "\tby mx.example.com (Postfix) with ESMTP id 4F1A2B3C\n"
        "\tfor <you@example.com>; Thu, 26 Nov 2026 10:00:01 +0900\n"
    ),
}


def envelope(text: str, received: str) -> bytes:
    message = EmailMessage()
    message["From"] = "Kim Minji <minji@example.kr>"
    message["To"] = "you@example.com"
    message["Subject"] = " ".join(text.split())[:40]
    message["Date"] = "Thu, 26 Nov 2026 10:00:00 +0900"
    message["Message-ID"] = "<20261126100000.1@example.kr>"
    message.set_content(text, charset="utf-8")
    return received.encode("ascii") + message.as_bytes()


def labels_of(model: spamclf.Model, messages: list[bytes]) -> Counter:
    return Counter(v.label for v in model.classify_many(messages))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", help="a bundled model without script counts")
    parser.add_argument("--corpora")
    parser.add_argument("--sample", type=int, default=2000)
    args = parser.parse_args()
    texts, y, _ = load_korean(corpora_dir(args.corpora) / KOREAN_CSV)
    by_class = {
        "ham-like (comments)": [t for t, label in zip(texts, y, strict=True) if label == 0],
        "spam (smishing, SMS spam)": [t for t, label in zip(texts, y, strict=True) if label == 1],
    }
    models = {}
    if args.before:
        models[f"before ({Path(args.before).name})"] = load_model(args.before, verify=False)
    bundled = models["now (models/default.spamclf)"] = spamclf.default_model()
    korean_ham, korean_spam = bundled.card["script_counts"].get("hangul", (0, 0))
    lines = [
        "# Korean text and the bundled model",
        "",
        "Reproduce: `python benchmarks/unfamiliar_scripts.py` (the script's docstring has the "
        f"set-up). {args.sample:,} texts of each class, sampled with seed 0, each in the same "
        f"plain UTF-8 envelope. The bundled model learned {korean_spam:,} Korean spam messages "
        f"and {korean_ham:,} Korean ham (its card's script counts). The same texts before "
        "models counted writing systems (the bundled model of 353e404, feature schema 3, which "
        "no longer loads): `git show "
        "96a6997:benchmarks/unfamiliar_scripts.md`.",
        "",
        "| model | envelope | Korean text | spam | unsure | ham |",
        "|---|---|---|---|---|---|",
    ]
    samples = {
        name: random.Random(0).sample(pool, min(args.sample, len(pool)))
        for name, pool in by_class.items()
    }
    for model_name, model in models.items():
        for relay_name, received in RELAYS.items():
            for class_name, sample in samples.items():
                counts = labels_of(model, [envelope(t, received) for t in sample])
                n = sum(counts.values())
                lines.append(
                    f"| {model_name} | {relay_name} | {class_name} | {counts['spam'] / n:.1%} "
                    f"| {counts['unsure'] / n:.1%} | {counts['ham'] / n:.1%} |"
                )
                print(lines[-1], flush=True)
    write_report("unfamiliar_scripts.md", lines)


if __name__ == "__main__":
    main()
