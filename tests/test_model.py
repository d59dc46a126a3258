"""Tests of spamclf.model: verdicts, batch scoring, online learning, settings."""

from __future__ import annotations

import base64
import copy
import itertools
import math
import os
import pickle
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from conftest import ALL_FIXTURES, fixture_path
from hypothesis import given, settings
from hypothesis import strategies as st

from spamclf import model as model_module
from spamclf import stored
from spamclf.errors import CorpusError, InputError, SpamclfError
from spamclf.model import Model, ModelSettings, check_jobs
from spamclf.origin import Origin
from spamclf.parse import Limits
from spamclf.verdict import Verdict

Loader = Callable[[str], bytes]

NAMESPACE = r"^[a-z][a-z0-9-]*:\S"


def _confident_spam() -> bytes:
    """A message made of the synthetic corpus's spam clues: far past the SVM margin."""
    subject = base64.b64encode("代开各类发票，优惠多多".encode("gb2312")).decode()
    body = (
        "本公司在全国各大城市设有分公司，可为贵公司代开以下发票。\n"
        "增值税专用发票、普通发票、运输发票、广告发票、服务业发票等。\n"
        "所开发票均可上网查询或到税务局验证，保证真票！\n"
        "点数优惠，量大从优，欢迎来电免费咨询。\n"
        "名牌手表一律三折，免费送货上门，货到付款。\n"
        "如有打扰，敬请谅解。如不需要，请删除本邮件。\n"
    )
    head = (
        "Received: from adsl-218-79-1-2.dynamic.example.cn (unknown [218.79.1.2])\n"
        "\tby mx.ourdomain.example (Postfix)\n"
        "From: fapiao@example.cn\nTo: you@ourdomain.example\n"
        f"Subject: =?gb2312?B?{subject}?=\n"
        "X-Mailer: Foxmail 6, 2, 100, 11 [cn]\n"
        "Content-Type: text/plain; charset=gb2312\n\n"
    )
    return head.encode() + body.encode("gb2312")


@pytest.fixture
def model_copy(small_model: Model) -> Model:
    """A private copy of the session model, for tests that change weights."""
    return copy.deepcopy(small_model)


@pytest.mark.parametrize("name", (*ALL_FIXTURES, "examples/spam", "examples/ham"))
def test_classify_returns_a_well_formed_verdict(
    small_model: Model, fixture_bytes: Loader, name: str
) -> None:
    verdict = small_model.classify(fixture_bytes(name))
    assert isinstance(verdict, Verdict)
    assert verdict.label in {"spam", "ham", "unsure"}
    assert 0.0 <= verdict.score <= 1.0
    assert isinstance(verdict.origin, Origin)
    assert verdict.is_spam is (verdict.label == "spam")


@pytest.mark.parametrize("name", ["gb2312_spam", "english_ham", "html_only_spam"])
def test_classify_reasons_are_sorted_namespaced_and_capped(
    small_model: Model, fixture_bytes: Loader, name: str
) -> None:
    reasons = small_model.classify(fixture_bytes(name)).reasons
    assert 0 < len(reasons) <= small_model.settings.n_reasons
    sizes = [abs(r.contribution) for r in reasons]
    assert sizes == sorted(sizes, reverse=True)
    for reason in reasons:
        assert ":" in reason.feature
        assert reason.feature.split(":", 1)[0].islower()
        assert reason.contribution != 0.0


def test_classify_reasons_are_the_messages_own_tokens(
    small_model: Model, fixture_bytes: Loader
) -> None:
    data = fixture_bytes("gb2312_spam")
    features = small_model.features(data)
    grams = {"chars:" + features.chars[i : i + 4] for i in range(len(features.chars) - 3)}
    assert {r.feature for r in small_model.classify(data).reasons} <= set(features.tokens) | grams


@pytest.mark.parametrize("name", ["english_ham", "gb2312_spam", "html_only_spam"])
def test_equal_reasons_come_in_the_order_of_the_message(fixture_bytes: Loader, name: str) -> None:
    # Words of equal weight give equal contributions (4-grams give none here): which of them
    # made the list, and in what order, was left to NumPy's selection.
    data = fixture_bytes(name)
    model = Model.empty(ModelSettings(n_features=2**20, n_reasons=8))
    features = model.features(data)
    columns = model.decision(features)[1].token_columns
    assert len(set(columns)) == len(columns)  # no two words share a weight
    # Three sizes of weight, both signs: many words tie on each size.
    sizes = np.random.default_rng(0).choice([2.0, -2.0, 1.0, -1.0, 0.5], len(columns))
    weights = np.zeros(model.settings.n_features)
    weights[columns] = sizes
    tied = Model(weights, 0.0, model.calibration, model.settings)
    expected = [features.tokens[i] for i in np.argsort(-np.abs(sizes), kind="stable")[:8]]
    assert [r.feature for r in tied.classify(data).reasons] == expected


def test_classify_reasons_add_up_to_the_log_odds(small_model: Model) -> None:
    """The reasons are exact contributions: with all of them, they give back the score."""
    settings = ModelSettings(n_reasons=10_000)
    model = Model(small_model.weights, small_model.intercept, small_model.calibration, settings)
    verdict = model.classify(_confident_spam())
    slope, offset = model.calibration
    log_odds = sum(r.contribution for r in verdict.reasons) + slope * model.intercept + offset
    assert 1.0 / (1.0 + math.exp(-log_odds)) == pytest.approx(verdict.score)


def test_classify_fills_the_origin(small_model: Model, fixture_bytes: Loader) -> None:
    origin = small_model.classify(fixture_bytes("received_cn_kr")).origin
    assert (origin.relay_ip, origin.relay_country) == ("211.234.10.20", "KR")
    assert (origin.sender_ip, origin.sender_country) == ("61.152.3.4", "CN")
    assert origin.hops == 4


@pytest.mark.parametrize(
    ("spam", "ham"),
    [
        ("gb2312_spam", "gb2312_ham"),
        ("gb2312_spam", "english_ham"),
        ("examples/spam", "examples/ham"),
        ("lying_charset_gb_as_latin1", "english_ham"),
        ("html_only_spam", "nested_multipart"),
        ("euckr_spam", "utf8_crlf"),
    ],
)
def test_spam_fixture_scores_higher_than_ham_fixture(
    small_model: Model, fixture_bytes: Loader, spam: str, ham: str
) -> None:
    assert (
        small_model.classify(fixture_bytes(spam)).score
        > small_model.classify(fixture_bytes(ham)).score
    )


def test_classify_accepts_every_input_form(small_model: Model) -> None:
    path = fixture_path("examples/spam")
    data = path.read_bytes()
    expected = small_model.classify(data)
    for form in (path, str(path), bytearray(data), data.decode("ascii")):
        assert small_model.classify(form) == expected


MESSAGES = ("gb2312_spam", "english_ham", "empty", "binary_junk", "euckr_spam", "examples/ham")


@pytest.mark.parametrize("n_jobs", [1, 2, -1])
def test_classify_many_equals_classify_one_by_one(
    small_model: Model, fixture_bytes: Loader, n_jobs: int
) -> None:
    messages = [fixture_bytes(name) for name in MESSAGES]
    expected = [small_model.classify(m) for m in messages]
    got = list(small_model.classify_many(iter(messages), n_jobs=n_jobs, batch_size=2))
    assert got == expected


def test_classify_many_keeps_its_workers_until_learn_changes_the_model(
    small_model: Model, fixture_bytes: Loader
) -> None:
    model = small_model.with_settings()  # a copy: this test teaches it
    messages = [fixture_bytes(name) for name in MESSAGES]
    list(model.classify_many(messages, n_jobs=2))
    first = model._worker_pool(2)
    assert list(model.classify_many(messages, n_jobs=2)) and model._worker_pool(2) is first
    before = model.classify(messages[1]).score
    for _ in range(3):
        model.learn(messages[1], "spam")
    # The workers held the weights before learn(): new ones score as the model does now.
    after = list(model.classify_many(messages, n_jobs=2))
    assert model._worker_pool(2) is not first
    assert after == [model.classify(m) for m in messages] and after[1].score > before
    assert pickle.loads(pickle.dumps(model))._pool is None  # workers do not travel


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_forked_child_does_not_use_its_parents_workers(small_model: Model) -> None:
    # The child handed its batches to the parent's pool, whose feeding thread lives only in the
    # parent: classify_many in a process forked after a warm-up call waited forever. (No
    # worker starts here: which pool each process gets is what decides it.)
    model = small_model.with_settings()
    parent_pool = model._worker_pool(2)
    pid = os.fork()
    if pid == 0:  # the child: any way out but os._exit would run pytest's own teardown
        code = 1
        try:
            code = 0 if model._worker_pool(2) is not parent_pool else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert model._worker_pool(2) is parent_pool  # the parent keeps its own


def test_a_dead_worker_fails_one_call_and_the_next_starts_new_workers(
    small_model: Model, fixture_bytes: Loader
) -> None:
    model = small_model.with_settings()
    messages = [fixture_bytes(name) for name in MESSAGES]
    expected = list(model.classify_many(messages, n_jobs=2))
    for pid in model._worker_pool(2)._processes:  # as the OOM killer would
        os.kill(pid, signal.SIGKILL)
    with pytest.raises(SpamclfError, match="worker process died"):
        list(model.classify_many(messages * 50, n_jobs=2))
    assert list(model.classify_many(messages, n_jobs=2)) == expected


def test_a_call_in_flight_keeps_its_workers_when_learn_replaces_them(
    small_model: Model, fixture_bytes: Loader
) -> None:
    model = small_model.with_settings()
    messages = [fixture_bytes(name) for name in MESSAGES]
    running = model.classify_many(messages * 3, n_jobs=2, batch_size=1)
    first = next(running)
    model.learn(messages[0], "ham")
    assert len(list(model.classify_many(messages, n_jobs=2))) == len(messages)  # new workers
    assert len([first, *running]) == 3 * len(messages)  # the old ones finish their call


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_classify_many_yields_every_verdict_before_an_unreadable_message(
    small_model: Model, fixture_bytes: Loader, tmp_path: Path, n_jobs: int
) -> None:
    messages = [fixture_bytes(name) for name in MESSAGES]
    missing = tmp_path / "gone.eml"  # e.g. expunged between listing and scoring
    got: list[Verdict] = []
    with pytest.raises(InputError, match=rf"^message {len(messages)}: cannot read .*gone\.eml"):
        for verdict in small_model.classify_many(
            [*messages, missing, *messages], n_jobs=n_jobs, batch_size=2
        ):
            got.append(verdict)
    assert got == [small_model.classify(m) for m in messages]


def test_classify_many_sends_workers_only_what_a_model_reads_of_a_big_file(
    small_model: Model, fixture_bytes: Loader, tmp_path: Path
) -> None:
    model = small_model.with_settings(limits=Limits(max_message_bytes=2_000))
    big = tmp_path / "big.eml"
    big.write_bytes(fixture_bytes("english_ham") + b"filler line\n" * 10_000)
    verdicts = list(model.classify_many([big, big], n_jobs=2))
    assert verdicts == [model.classify(big)] * 2
    assert "limit:message_bytes" in model.features(big).tokens


def test_classify_head_scores_as_classify_and_refuses_what_is_not_bytes(
    small_model: Model, fixture_bytes: Loader
) -> None:
    data = fixture_bytes("english_ham")
    assert small_model.classify_head(data, len(data)) == small_model.classify(data)
    assert small_model.classify_head(bytearray(data), len(data)) == small_model.classify(data)
    assert small_model.classify_head(data, np.int64(len(data))) == small_model.classify(data)
    # The size counts the whole message, so it is at least the head's length.
    bad = ((data.decode(), len(data)), (data, "big"), (None, 1), (data, -1), (data, True))
    for head, size in bad:
        with pytest.raises(InputError, match="classify_head takes bytes and their message"):
            small_model.classify_head(head, size)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("n_jobs", "batch_size"),
    [(0, 10), (2, 0), (1, 0), (2, True), (2**40, 10), (1.5, 10), ("2", 10), (None, 10), (True, 10)],
)
def test_classify_many_rejects_bad_parallel_settings_at_the_call(
    small_model: Model, n_jobs: int, batch_size: int
) -> None:
    # Not at the first next(): a call that returned had seemed to accept them.
    with pytest.raises(SpamclfError, match=r"n_jobs|batch_size"):
        small_model.classify_many([b"x"], n_jobs=n_jobs, batch_size=batch_size)


@pytest.mark.parametrize("messages", [42, None, b"Subject: one message\n\nbody"])
def test_classify_many_rejects_what_is_no_iterable_of_messages_at_the_call(
    small_model: Model, messages: object
) -> None:
    with pytest.raises(InputError, match="iterable of messages"):
        small_model.classify_many(messages)  # type: ignore[arg-type]


@pytest.mark.skipif(
    not hasattr(os, "sched_setaffinity") or (os.cpu_count() or 1) < 2,
    reason="needs CPU affinity and two cores",
)
def test_n_jobs_minus_one_counts_the_cores_this_process_may_use() -> None:
    # It counted the machine's cores: under taskset, or in a container given 2 CPUs of 64,
    # classify_many(n_jobs=-1) started a worker for each of the machine's.
    allowed = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(allowed)})
    try:
        assert check_jobs(-1) == 1
    finally:
        os.sched_setaffinity(0, allowed)


def test_classify_many_reads_a_generator_lazily(small_model: Model, fixture_bytes: Loader) -> None:
    data = fixture_bytes("examples/ham")
    pulled = 0

    def endless() -> Iterator[bytes]:
        nonlocal pulled
        for _ in itertools.count():
            pulled += 1
            yield data

    verdicts = small_model.classify_many(endless())
    assert pulled == 0
    first_three = list(itertools.islice(verdicts, 3))
    assert len(first_three) == 3
    assert pulled == 3


def test_classify_many_holds_few_big_messages_in_flight(small_model: Model) -> None:
    # Batches were 256 messages whatever their size: with two batches per worker in flight,
    # messages of a megabyte took the caller's memory up by a gigabyte (2 workers).
    model = small_model.with_settings()  # a copy: its workers go with it
    big = b"Subject: big\n\n" + b"word " * 200_000
    pulled = 0

    def messages() -> Iterator[bytes]:
        nonlocal pulled
        for _ in range(200):
            pulled += 1
            yield big

    verdicts = model.classify_many(messages(), n_jobs=2)
    next(verdicts)
    verdicts.close()
    assert pulled * len(big) <= 6 * model_module._BATCH_BYTES


@pytest.mark.parametrize("settings", [{}, {"n_features": 16}])
def test_a_model_refuses_settings_that_are_no_model_settings(settings: object) -> None:
    # Model.empty({}) learned with the defaults (an empty dict is false); Model(...) of a
    # dict failed with an AttributeError.
    with pytest.raises(SpamclfError, match=r"settings must be a spamclf\.ModelSettings"):
        Model.empty(settings)  # type: ignore[arg-type]
    with pytest.raises(SpamclfError, match=r"settings must be a spamclf\.ModelSettings"):
        Model(np.zeros(16), 0.0, (1.0, 0.0), settings)  # type: ignore[arg-type]


def test_model_survives_pickle_round_trip(small_model: Model, fixture_bytes: Loader) -> None:
    clone = pickle.loads(pickle.dumps(small_model))
    data = fixture_bytes("gb2312_spam")
    assert clone.classify(data) == small_model.classify(data)
    assert clone.settings == small_model.settings
    clone.learn(fixture_bytes("english_ham"), "spam")  # the lock was rebuilt


@pytest.mark.parametrize(
    ("name", "label", "direction"),
    [("english_ham", "spam", 1), ("gb2312_spam", "ham", -1), ("examples/ham", 1, 1)],
)
def test_learn_moves_the_score_toward_the_label(
    model_copy: Model, fixture_bytes: Loader, name: str, label: object, direction: int
) -> None:
    data = fixture_bytes(name)
    before = model_copy.classify(data).score
    assert model_copy.learn(data, label) is True
    after = model_copy.classify(data).score
    assert (after - before) * direction > 0


@pytest.mark.parametrize(("name", "label"), [("english_ham", "spam"), ("gb2312_spam", "ham")])
def test_learn_puts_the_message_past_its_cutoff(
    small_model: Model, fixture_bytes: Loader, name: str, label: str
) -> None:
    # Undamped, one AROW step reaches the margin, which is at least the decision value of
    # the label's cutoff: the message is then labelled as learned.
    settings = ModelSettings(learning_regularization=1e-9)
    model = Model(
        small_model.weights.copy(), small_model.intercept, small_model.calibration, settings
    )
    data = fixture_bytes(name)
    assert model.classify(data).label != label
    model.learn(data, label)
    assert model.classify(data).label == label


def test_learn_counts_corrections_in_the_card(model_copy: Model, fixture_bytes: Loader) -> None:
    model_copy.learn(fixture_bytes("english_ham"), "spam")
    model_copy.learn(fixture_bytes("gb2312_spam"), 0)
    assert model_copy.card["learned"] == {"spam": 1, "ham": 1}


def test_learn_returns_false_when_already_confidently_right(model_copy: Model) -> None:
    data = _confident_spam()
    assert model_copy.decision(model_copy.features(data))[0] > 1.0  # past the margin
    weights = model_copy.weights.copy()
    assert model_copy.learn(data, "spam") is False
    assert (model_copy.weights == weights).all()
    assert "learned" not in model_copy.card


def test_learn_does_not_touch_the_shared_model(small_model: Model, model_copy: Model) -> None:
    model_copy.learn(_confident_spam(), "ham")
    assert not (model_copy.weights == small_model.weights).all()


@pytest.mark.parametrize("label", ["spam", "SPAM", " ham ", 1, 0, True, False, "1", "0"])
def test_learn_accepts_label_spellings(model_copy: Model, label: object) -> None:
    assert isinstance(model_copy.learn(b"Subject: x\n\ny", label), bool)


@pytest.mark.parametrize("label", ["yes", 2, 0.7, None, "", "spammy"])
def test_learn_rejects_bad_label(model_copy: Model, label: object) -> None:
    with pytest.raises(CorpusError):
        model_copy.learn(b"Subject: x\n\ny", label)


@pytest.mark.parametrize(
    ("spam_cutoff", "ham_cutoff"), [(0.5, 0.6), (1.5, 0.2), (0.9, -0.1), (-0.1, -0.2)]
)
def test_settings_reject_bad_cutoffs(spam_cutoff: float, ham_cutoff: float) -> None:
    with pytest.raises(SpamclfError, match="cutoffs"):
        ModelSettings(spam_cutoff=spam_cutoff, ham_cutoff=ham_cutoff)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"n_reasons": -1}, "n_reasons must be a whole number of 0 or more"),
        ({"n_reasons": 2.5}, "n_reasons"),
        ({"n_features": 0}, "n_features must be a whole number of 1 or more"),
        ({"n_features": 2**24 + 1}, "n_features must be at most 16,777,216"),
        ({"limits": Limits(max_message_bytes=-5)}, "Limits.max_message_bytes"),
        ({"limits": Limits(max_parts=0)}, "Limits.max_parts"),
        ({"limits": Limits(max_seconds=0.0)}, "Limits.max_seconds must be positive or None"),
        ({"limits": Limits(max_seconds=float("nan"))}, "Limits.max_seconds"),
    ],
)
def test_settings_reject_sizes_and_caps_that_read_nothing(
    changes: dict[str, object], message: str
) -> None:
    # A negative cap sliced from the end of a message; a fractional n_reasons crashed.
    with pytest.raises(SpamclfError, match=message):
        ModelSettings(**changes)  # type: ignore[arg-type]


def test_with_settings_names_an_unknown_setting(small_model: Model) -> None:
    with pytest.raises(SpamclfError, match="unknown setting spam_cutof: see"):
        small_model.with_settings(spam_cutof=0.9)


def test_settings_accept_no_time_budget() -> None:
    assert ModelSettings(limits=Limits(max_seconds=None)).limits.max_seconds is None


@pytest.mark.parametrize(
    ("score", "label"),
    [(0.0, "ham"), (0.19, "ham"), (0.2, "unsure"), (0.98, "unsure"), (0.99, "spam"), (1.0, "spam")],
)
def test_label_uses_the_cutoffs(small_model: Model, score: float, label: str) -> None:
    assert small_model.label(score) == label


def test_settings_round_trip_through_a_dict() -> None:
    settings = ModelSettings(n_features=2**10, trusted_networks=("10.0.0.0/8",), n_reasons=3)
    assert ModelSettings.from_dict(settings.as_dict()) == settings


def test_model_rejects_weights_of_the_wrong_shape(small_model: Model) -> None:
    with pytest.raises(SpamclfError, match="shape"):
        Model(small_model.weights[:10], 0.0, (1.0, 0.0), ModelSettings())


def test_model_repr_names_the_training_size(small_model: Model) -> None:
    assert "trained_on=80" in repr(small_model)


@pytest.mark.parametrize("training", ["80 messages", None, [80]])
def test_model_repr_of_a_card_with_training_of_another_form(
    small_model: Model, training: object
) -> None:
    # An AttributeError: a card loaded from a file edited by hand, or filled by the caller.
    model = small_model.with_settings()
    model.card["training"] = training
    assert "trained_on=?" in repr(model)


def test_verdict_as_dict(small_model: Model, fixture_bytes: Loader) -> None:
    data = small_model.classify(fixture_bytes("received_cn_kr")).as_dict()
    assert set(data) == {
        "label",
        "score",
        "reasons",
        "origin",
        "script",
        "unfamiliar",
        "log_odds",
        "baseline",
    }
    assert data["origin"]["relay_country"] == "KR"  # type: ignore[index]


def test_verdict_as_dict_score_agrees_with_the_label() -> None:
    # Rounded to 6 places, a score just under the spam cutoff read as the cutoff itself.
    verdict = Verdict("unsure", 0.9899996, (), Origin(None, None, None, None, None, None, 0, ()))
    assert verdict.as_dict()["score"] < ModelSettings().spam_cutoff


@pytest.mark.parametrize("name", ["gb2312_spam", "received_cn_kr", "empty"])
def test_verdict_explanation_adds_up(small_model: Model, fixture_bytes: Loader, name: str) -> None:
    # Every contribution, not only the top reasons: the baseline plus all of them is the
    # log-odds, whose logistic function is the score.
    model = small_model.with_settings(n_reasons=1_000_000)
    verdict = model.classify(fixture_bytes(name))
    contributions = sum(reason.contribution for reason in verdict.reasons)
    assert verdict.baseline + contributions == pytest.approx(verdict.log_odds, abs=1e-6)
    assert 1 / (1 + math.exp(-verdict.log_odds)) == pytest.approx(verdict.score)
    assert small_model.classify(fixture_bytes(name)).log_odds == pytest.approx(verdict.log_odds)


# The first bytes of compressed files (gzip, bzip2, xz, zstd, lz4), an Outlook .msg, a ZIP, a PDF.
STORED = [
    b"\x1f\x8b\x08",
    b"BZh9",
    b"\xfd7zXZ\x00",
    b"\x28\xb5\x2f\xfd",
    b"\x04\x22\x4d\x18",
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
    b"PK\x03\x04",
    b"%PDF-",
]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=3000) | st.builds(bytes.__add__, st.sampled_from(STORED), st.binary()))
def test_classify_answers_any_bytes_with_a_verdict(small_model: Model, data: bytes) -> None:
    # But bytes that open like a compressed file (decompressed, or found corrupt) or an Outlook
    # .msg: a message never starts so, and those raise InputError (spamclf.stored).
    try:
        verdict = small_model.classify(data)
    except InputError:
        assert stored.is_stored(data[:16])
        return
    assert verdict.label in ("spam", "ham", "unsure")
    assert 0.0 <= verdict.score <= 1.0


def test_with_settings_changes_only_the_copy(small_model: Model, fixture_bytes: Loader) -> None:
    data = fixture_bytes("received_cn_kr")
    trusting = small_model.with_settings(trusted_networks=("211.234.0.0/16",), spam_cutoff=0.995)
    assert trusting.classify(data).origin.relay_ip == "61.152.3.4"
    assert small_model.classify(data).origin.relay_ip == "211.234.10.20"
    assert (trusting.settings.spam_cutoff, small_model.settings.spam_cutoff) == (0.995, 0.99)


def test_settings_take_trusted_networks_as_any_iterable_and_check_them() -> None:
    assert ModelSettings(trusted_networks=["10.0.0.0/8"]).trusted_networks == ("10.0.0.0/8",)
    with pytest.raises(SpamclfError, match="not a network"):
        ModelSettings(trusted_networks=("mx.example.com",))


def test_classify_reads_a_huge_file_only_up_to_the_cap(small_model: Model, tmp_path: Path) -> None:
    model = small_model.with_settings(limits=Limits(max_message_bytes=10_000))
    path = tmp_path / "huge.eml"
    with path.open("wb") as f:
        f.write(b"Subject: big\nContent-Transfer-Encoding: base64\n\n")
        f.truncate(50_000_000)  # sparse: 50 MB on paper, nothing on disk
    features = model.features(path)
    assert "limit:message_bytes" in features.tokens
    assert "size:131072" in features.tokens  # the size feature sees the whole file
    assert model.classify(path).label in ("spam", "ham", "unsure")


def test_empty_model_scores_everything_one_half(fixture_bytes: Loader) -> None:
    model = Model.empty()
    assert model.classify(fixture_bytes("gb2312_spam")).score == 0.5
    assert model.classify(fixture_bytes("english_ham")).label == "unsure"
    assert model.card["training"]["messages"] == 0


@pytest.mark.parametrize(
    "changes",
    [
        {"spam_cutoff": "0.9"},
        {"ham_cutoff": None},
        {"spam_cutoff": True},
        {"min_script_examples": "5"},
        {"min_script_examples": 1.5},
        {"learning_regularization": "x"},
        {"trusted_networks": None},
        {"limits": {"max_message_bytes": 5}},
        {"header_words": "no"},  # a true value that means no
        {"n_reasons": 2.0},
    ],
)
def test_settings_of_the_wrong_type_are_refused_by_name(changes: dict[str, object]) -> None:
    (name,) = changes
    with pytest.raises(SpamclfError, match=f"^{name} must be"):
        ModelSettings(**changes)  # type: ignore[arg-type]


def test_settings_take_numpy_numbers_and_one_network_as_python_values() -> None:
    settings = ModelSettings(
        spam_cutoff=np.float32(0.95), n_reasons=np.int64(3), trusted_networks="10.0.0.0/8"
    )
    assert type(settings.spam_cutoff) is float and type(settings.n_reasons) is int
    assert settings.trusted_networks == ("10.0.0.0/8",)  # not its characters


@pytest.mark.parametrize("value", [0.0, -1.0, float("nan")])
def test_learning_regularization_must_be_positive(value: float) -> None:
    with pytest.raises(SpamclfError, match="learning_regularization"):
        ModelSettings(learning_regularization=value)


def test_empty_model_reads_header_words_unless_told_otherwise(fixture_bytes: Loader) -> None:
    data = fixture_bytes("received_cn_kr")
    assert Model.empty().settings.header_words
    assert "hdr:received" in Model.empty().features(data).tokens
    plain = Model.empty(ModelSettings())
    assert not any(t.startswith("hdr:") for t in plain.features(data).tokens)


def test_empty_model_learns_online_from_nothing(corpus: tuple[list[bytes], list[str]]) -> None:
    # The TREC online protocol: classify, then learn the true label, message after message.
    messages, labels = corpus
    model = Model.empty()
    for message, label in zip(messages, labels, strict=True):
        model.learn(message, label)
    scores: dict[str, list[float]] = {"spam": [], "ham": []}
    for message, label in zip(messages, labels, strict=True):
        scores[label].append(model.classify(message).score)
    assert min(scores["spam"]) > max(scores["ham"])


def test_empty_model_with_an_even_spam_cutoff_learns_as_usual(
    corpus: tuple[list[bytes], list[str]],
) -> None:
    # At spam_cutoff 0.5 the margin went at 0.5: slope 4e-6, weights of 1e5 after one message.
    messages, labels = corpus
    model = Model.empty(ModelSettings(spam_cutoff=0.5, header_words=True))
    for message, label in zip(messages, labels, strict=True):
        model.learn(message, label)
    assert np.abs(model.weights).max() < 100
    scores = [model.classify(m).score for m in messages]
    spam = [s for s, label in zip(scores, labels, strict=True) if label == "spam"]
    ham = [s for s, label in zip(scores, labels, strict=True) if label == "ham"]
    assert min(spam) > max(ham)
    with pytest.raises(SpamclfError, match=r"both 0\.5"):
        Model.empty(ModelSettings(spam_cutoff=0.5, ham_cutoff=0.5))


def test_learn_grows_surer_of_the_weights_it_uses(model_copy: Model, fixture_bytes: Loader) -> None:
    # AROW: each update shrinks the variance of the weights it moved, and the weights it never
    # used stay as unsure as ever; teaching the same correction again moves them less.
    data = fixture_bytes("english_ham")
    assert model_copy.variances is None  # made at the first learn(), not before
    start = model_copy.weights.copy()
    model_copy.learn(data, "spam")
    columns = model_copy.decision(model_copy.features(data))[1].columns
    first = np.abs(model_copy.weights - start)[columns].sum()
    assert model_copy.variances is not None
    assert (model_copy.variances[columns] < 1.0).all()
    unused = np.setdiff1d(np.arange(model_copy.settings.n_features), columns)
    assert (model_copy.variances[unused] == 1.0).all()
    moved = model_copy.weights.copy()
    model_copy.learn(data, "spam")
    second = np.abs(model_copy.weights - moved)[columns].sum()
    assert 0.0 <= second < first


def test_learn_with_features_read_once_matches_learn(
    model_copy: Model, small_model: Model, fixture_bytes: Loader
) -> None:
    data = fixture_bytes("english_ham")
    other = copy.deepcopy(small_model)
    model_copy.learn(data, "spam")
    other.learn(data, "spam", features=other.features(data))
    assert (model_copy.weights == other.weights).all()
    assert model_copy.intercept == other.intercept


def test_classify_many_yields_every_verdict_before_its_iterable_fails(
    small_model: Model, fixture_bytes: Loader
) -> None:
    # Not only an unreadable message: whatever the caller's own iterable raises comes after
    # the verdicts of what it gave before, with workers as without.
    messages = [fixture_bytes(name) for name in MESSAGES]

    def failing() -> Iterator[bytes]:
        yield from messages
        raise KeyError("the caller's own failure")

    got: list[Verdict] = []
    with pytest.raises(KeyError):
        for verdict in small_model.classify_many(failing(), n_jobs=2, batch_size=2):
            got.append(verdict)
    assert got == [small_model.classify(m) for m in messages]
