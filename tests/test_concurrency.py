"""One model, many threads and processes: the same verdicts as one by one, and no lost update."""

from __future__ import annotations

import concurrent.futures
import copy
import math
import multiprocessing
from collections.abc import Callable

from conftest import ALL_FIXTURES, synthetic_corpus

from spamclf.model import Model
from spamclf.verdict import Verdict

Loader = Callable[[str], bytes]
THREADS = 8


def _messages(fixture_bytes: Loader) -> list[bytes]:
    corpus, _ = synthetic_corpus(seed=1)
    return [fixture_bytes(name) for name in ALL_FIXTURES] + corpus[:40]


def _classify(model: Model, message: bytes) -> Verdict:
    return model.classify(message)


def test_classify_from_8_threads_equals_serial(small_model: Model, fixture_bytes: Loader) -> None:
    messages = _messages(fixture_bytes) * 3
    serial = [small_model.classify(m) for m in messages]
    with concurrent.futures.ThreadPoolExecutor(THREADS) as pool:
        threaded = list(pool.map(small_model.classify, messages))
    assert threaded == serial  # labels, scores, reasons and origins, exactly


def test_classify_in_a_process_pool_equals_serial(
    small_model: Model, fixture_bytes: Loader
) -> None:
    messages = _messages(fixture_bytes)
    serial = [small_model.classify(m) for m in messages]
    # The standard library's pool, the model pickled with every task; classify_many's own pool
    # (loky, two and all cores) is tested in test_model.py. Forked workers start in
    # milliseconds where spawned ones import spamclf again (5 s on a busy machine).
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(method)
    with concurrent.futures.ProcessPoolExecutor(2, mp_context=context) as pool:
        # One chunk per worker: pickle sends the model once per chunk, not once per message.
        chunk = (len(messages) + 1) // 2
        pooled = list(pool.map(_classify, [small_model] * len(messages), messages, chunksize=chunk))
    assert pooled == serial


def test_learn_and_classify_from_8_threads_at_once(
    small_model: Model, fixture_bytes: Loader
) -> None:
    model = copy.deepcopy(small_model)
    messages = _messages(fixture_bytes)
    corpus, labels = synthetic_corpus(seed=2)
    # Flipped labels: every one is a correction, so most learn() calls change the weights.
    lessons = [
        (m, "ham" if label == "spam" else "spam") for m, label in zip(corpus, labels, strict=True)
    ]
    chunks = [lessons[i::4] for i in range(4)]

    def learn(chunk: list[tuple[bytes, str]]) -> int:
        return sum(model.learn(message, label) for message, label in chunk)

    def classify(offset: int) -> list[Verdict]:
        return [model.classify(m) for m in messages[offset:] + messages[:offset]]

    with concurrent.futures.ThreadPoolExecutor(THREADS) as pool:
        learners = [pool.submit(learn, chunk) for chunk in chunks]
        readers = [pool.submit(classify, offset) for offset in range(4)]
        changed = sum(f.result() for f in learners)  # re-raises any exception in a thread
        verdicts = [v for f in readers for v in f.result()]
    assert changed > 0
    learned = model.card["learned"]
    assert learned["spam"] + learned["ham"] == changed  # no count lost
    assert all(0.0 <= v.score <= 1.0 and v.label in ("spam", "ham", "unsure") for v in verdicts)
    assert all(math.isfinite(w) for w in model.weights[model.weights != 0][:1000])
    assert math.isfinite(model.intercept)
    # The final state is one model: scoring from it again gives what a fresh copy gives.
    frozen = copy.deepcopy(model)
    assert [model.classify(m) for m in messages] == [frozen.classify(m) for m in messages]


def test_concurrent_learning_loses_no_update(small_model: Model, fixture_bytes: Loader) -> None:
    """Learning the same corrections from 8 threads moves the intercept as far as the serial
    run did, to the last bit: every update learns the same message, so every serial order of
    them ends in the same state."""
    spam = fixture_bytes("gb2312_spam")
    serial = copy.deepcopy(small_model).with_settings(learning_regularization=1e4)
    threaded = copy.deepcopy(serial)
    steps = 64
    for _ in range(steps):
        serial.learn(spam, "ham")
    with concurrent.futures.ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(lambda _: threaded.learn(spam, "ham"), range(steps)))
    assert threaded.card["learned"] == serial.card["learned"] == {"spam": 0, "ham": steps}
    assert math.isclose(threaded.intercept, serial.intercept, rel_tol=0, abs_tol=1e-12)
