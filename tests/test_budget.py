"""The time budget's clock leaves out one-time loads (spamclf.budget)."""

from __future__ import annotations

import os
import threading
import time
import warnings

import pytest

from spamclf import tokenize
from spamclf.budget import clock, load_once
from spamclf.features import extract_features
from spamclf.parse import Limits, parse_bytes


def test_a_load_once_loader_runs_once_per_argument_and_stops_the_clock() -> None:
    calls = []

    @load_once
    def slow_table(name: str) -> str:
        calls.append(name)
        time.sleep(0.3)
        return name.upper()

    start = clock()
    assert slow_table("a") == "A"
    assert slow_table("a") == "A"
    assert calls == ["a"]
    assert clock() - start < 0.2  # the 0.3 s load is not counted


def test_a_slow_first_load_does_not_cost_the_first_message_its_words(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # As on a loaded machine, where jieba's dictionary took the whole one-second budget of
    # the first Chinese message and it was scored without its words (limit:time).
    real_cut = tokenize._jieba_cut()

    @load_once
    def slow_cut():  # type: ignore[no-untyped-def]
        time.sleep(0.6)
        return real_cut

    monkeypatch.setattr(tokenize, "_jieba_cut", slow_cut)
    limits = Limits(max_seconds=0.5)
    message = parse_bytes("Subject: 代开发票\n\n我们公司代开各类发票".encode(), limits)
    tokens = extract_features(message, limits=limits).tokens
    assert "limit:time" not in tokens
    assert "body:发票" in tokens


def test_the_clock_stops_in_every_thread_while_a_load_runs() -> None:
    # Another thread's clock ran on during the load and jumped back after it: a message
    # scored beside a slow load ran out of its budget, and loads in two threads at once were
    # taken off twice, so the clock went backwards.
    started, finish = threading.Event(), threading.Event()

    @load_once
    def slow_table(name: str) -> str:
        started.set()
        finish.wait(5)
        return name

    before = clock()
    loaders = [threading.Thread(target=slow_table, args=("a",)) for _ in range(2)]
    for loader in loaders:
        loader.start()
    assert started.wait(5)
    time.sleep(0.2)  # in another thread, while the loads run
    during = clock()
    finish.set()
    for loader in loaders:
        loader.join(5)
    after = clock()
    assert during - before < 0.1
    assert before <= during <= after


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_child_forked_during_a_load_has_a_running_clock() -> None:
    started, finish = threading.Event(), threading.Event()

    @load_once
    def slow_table() -> str:
        started.set()
        finish.wait(5)
        return "table"

    loader = threading.Thread(target=slow_table)
    loader.start()
    assert started.wait(5)
    read, write = os.pipe()
    with warnings.catch_warnings():  # Python 3.12 warns of forking with threads: this test's point
        warnings.simplefilter("ignore", DeprecationWarning)
        child = os.fork()
    if child == 0:  # pragma: no cover - the child
        before = clock()
        time.sleep(0.1)
        os.write(write, b"1" if clock() - before > 0.05 else b"0")
        os._exit(0)
    finish.set()
    loader.join(5)
    os.close(write)
    runs = os.read(read, 1)
    os.close(read)
    os.waitpid(child, 0)
    assert runs == b"1"
