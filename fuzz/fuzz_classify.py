#!/usr/bin/env python3
"""Coverage-guided fuzzing of ``classify`` with atheris (libFuzzer for Python).

Every input is handed to the bundled model as raw message bytes. The contract under test: a
verdict (a label in spam/ham/unsure, a score in [0, 1]) or a :class:`spamclf.SpamclfError`;
any other exception is a finding, and libFuzzer's ``-timeout`` turns a hang into one too.

Run (from the repository root; ``pip install atheris`` first)::

    mkdir -p fuzz/corpus
    nice -n 19 .venv/bin/python fuzz/fuzz_classify.py fuzz/corpus fuzz/seeds tests/fixtures \\
        -timeout=10 -rss_limit_mb=2048 -max_len=65536 -runs=1000000 \\
        -max_total_time=14400 -print_final_stats=1

``fuzz/corpus`` (git-ignored) collects the inputs that reached new code; ``fuzz/seeds`` holds
messages written for this target, and ``tests/fixtures`` the hand-written test messages. The
run and its numbers are recorded in ``benchmarks/fuzzing.md``.
"""

from __future__ import annotations

import math
import sys

import atheris

with atheris.instrument_imports(include=["spamclf", "email"]):
    import spamclf
    from spamclf.errors import SpamclfError

MODEL = spamclf.default_model()


def test_one_input(data: bytes) -> None:
    try:
        verdict = MODEL.classify(data)
    except SpamclfError:
        return
    if verdict.label not in ("spam", "ham", "unsure"):
        raise AssertionError(f"bad label {verdict.label!r}")
    if not (0.0 <= verdict.score <= 1.0) or math.isnan(verdict.score):
        raise AssertionError(f"bad score {verdict.score!r}")


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
