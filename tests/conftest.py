"""Shared fixtures: the hand-written fixture messages and a small model trained in code.

The synthetic corpus is built from templates with ``random.Random(0)``, so every run trains the
same model. It is small on purpose (80 messages, about a second to train): the unit tests check
contracts (types, ranges, ordering, round trips), not accuracy, which lives in ``benchmarks/``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

import spamclf
from spamclf.model import Model, ModelSettings
from spamclf.parse import Limits
from spamclf.persist import card_path

FIXTURES = Path(__file__).parent / "fixtures"
EXAMPLES = Path(__file__).parent.parent / "examples"

# Fixture names (without .eml) by the role tests/fixtures/README.md gives them.
SPAM_FIXTURES = (
    "gb2312_spam",
    "euckr_spam",
    "shift_jis_spam",
    "received_cn_kr",
    "malformed_mime",
    "lying_charset_gb_as_latin1",
    "bad_base64",
    "missing_charset_gbk",
    "html_only_spam",
)
HAM_FIXTURES = (
    "gb2312_ham",
    "big5_ham",
    "iso2022jp_ham",
    "english_ham",
    "nested_multipart",
    "utf8_crlf",
    "headers_only",
)
ROBUSTNESS_FIXTURES = ("empty", "binary_junk")
ALL_FIXTURES = SPAM_FIXTURES + HAM_FIXTURES + ROBUSTNESS_FIXTURES


def fixture_path(name: str) -> Path:
    """Path of a fixture: ``"gb2312_spam"`` or ``"examples/ham"`` (``.eml`` optional)."""
    if not name.endswith(".eml"):
        name += ".eml"
    if name.startswith("examples/"):
        return EXAMPLES / name.removeprefix("examples/")
    return FIXTURES / name


def rewrite_model_header(path: Path, **changes: object) -> None:
    """Rewrite a saved model with ``changes`` in its JSON header, then fix the card's sha256."""
    with np.load(path, allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}
    header = json.loads(bytes(arrays["header"]).decode("utf-8"))
    header.update(changes)
    arrays["header"] = np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8)
    with path.open("wb") as f:
        np.savez(f, **arrays)
    card = json.loads(card_path(path).read_text(encoding="utf-8"))
    card["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    card_path(path).write_text(json.dumps(card), encoding="utf-8")


@pytest.fixture
def fixture_bytes() -> Callable[[str], bytes]:
    """A loader: ``fixture_bytes("gb2312_spam")`` is the raw bytes of that fixture."""

    def load(name: str) -> bytes:
        return fixture_path(name).read_bytes()

    return load


# --- the synthetic training corpus -------------------------------------------------------------

_CN_SPAM_SUBJECTS = (
    "代开各类发票，优惠多多",
    "免费咨询代开发票",
    "正规发票代开，点数优惠",
    "本公司代开增值税发票",
    "特价促销，免费送货上门",
)
_CN_SPAM_LINES = (
    "本公司在全国各大城市设有分公司，可为贵公司代开以下发票。",
    "增值税专用发票、普通发票、运输发票、广告发票、服务业发票等。",
    "所开发票均可上网查询或到税务局验证，保证真票！",
    "点数优惠，量大从优，欢迎来电免费咨询。",
    "名牌手表一律三折，免费送货上门，货到付款。",
    "如有打扰，敬请谅解。如不需要，请删除本邮件。",
)
_CN_HAM_SUBJECTS = ("关于下周的项目会议", "测试报告已经发给你了", "服务器采购预算", "会议记录")
_CN_HAM_LINES = (
    "下周三下午两点在三楼会议室开项目进度会。",
    "请你把测试报告提前一天发给我，谢谢。",
    "服务器采购的预算和时间表已经更新。",
    "如果时间上有冲突，请尽快告诉我，我再和其他同事协调。",
    "第一阶段测试结果和遗留问题需要讨论。",
)
_EN_SPAM_SUBJECTS = (
    "Save 80% on prescription meds!!!",
    "You have WON a FREE prize - claim now",
    "Cheap watches and instant loans, bad credit OK",
    "Your account has been suspended - verify now",
    "Lose weight fast with this one trick",
)
_EN_SPAM_LINES = (
    "BEST PRICES ON THE NET - SAVE UP TO 80%!",
    "No prescription required, discreet overnight shipping worldwide.",
    "Click here to claim your FREE prize before it expires!",
    "Low-interest instant loans available, bad credit OK!",
    "Verify your account password now or it will be closed.",
    "To be removed from our list reply with REMOVE in the subject.",
)
_EN_HAM_SUBJECTS = (
    "Re: notes from the planning meeting",
    "Release candidate moved to Thursday",
    "Re: [devel] patch review for the parser",
    "Lunch on Friday?",
    "Updated deployment checklist",
)
_EN_HAM_LINES = (
    "Thanks for the review, I pushed a fixed version of the patch.",
    "The release candidate moves to Thursday; QA needs one more day.",
    "Tom will update the deployment checklist before the sync.",
    "Let me know if I missed anything from the meeting.",
    "Could we move the design discussion to Monday afternoon?",
    "The test suite passes on all three platforms now.",
)
_NAMES = ("maria", "tom", "erin", "ben", "priya", "zoe", "omar", "lena")


def _spam_received(rng: random.Random) -> str:
    net = rng.choice(("218.79", "61.152", "222.66", "121.128"))
    ip = f"{net}.{rng.randrange(1, 255)}.{rng.randrange(1, 255)}"
    helo = f"adsl-{ip.replace('.', '-')}.dynamic.example.cn"
    return f"Received: from {helo} (unknown [{ip}])\n\tby mx.ourdomain.example (Postfix)\n"


def _ham_received(rng: random.Random) -> str:
    ip = f"{rng.choice(('64.233', '209.85'))}.{rng.randrange(1, 255)}.{rng.randrange(1, 255)}"
    host = rng.choice(("mail-out.example.com", "smtp.example.org", "lists.example.net"))
    return f"Received: from {host} ({host} [{ip}])\n\tby mx.ourdomain.example (Postfix)\n"


def _message(received: str, headers: str, body: bytes) -> bytes:
    return received.encode() + headers.encode() + b"\n" + body


def _cn_message(rng: random.Random, spam: bool) -> bytes:
    subjects, lines = (
        (_CN_SPAM_SUBJECTS, _CN_SPAM_LINES) if spam else (_CN_HAM_SUBJECTS, _CN_HAM_LINES)
    )
    subject = base64.b64encode(rng.choice(subjects).encode("gb2312")).decode()
    body = "\n".join(rng.sample(lines, 3)) + "\n"
    sender = "fapiao@example.cn" if spam else f"{rng.choice(_NAMES)}@partner-corp.example.cn"
    headers = (
        f"From: {sender}\nTo: you@ourdomain.example\nSubject: =?gb2312?B?{subject}?=\n"
        "MIME-Version: 1.0\nContent-Type: text/plain; charset=gb2312\n"
        "Content-Transfer-Encoding: 8bit\n"
    )
    if spam:
        headers += "X-Mailer: Foxmail 6, 2, 100, 11 [cn]\n"
    received = _spam_received(rng) if spam else _ham_received(rng)
    return _message(received, headers, body.encode("gb2312"))


def _en_message(rng: random.Random, spam: bool) -> bytes:
    subjects, lines = (
        (_EN_SPAM_SUBJECTS, _EN_SPAM_LINES) if spam else (_EN_HAM_SUBJECTS, _EN_HAM_LINES)
    )
    body = "\n".join(rng.sample(lines, 3))
    name = rng.choice(_NAMES)
    if spam:
        body += f"\nhttp://{rng.choice(('cheap-meds', 'win-prize', 'fast-loan'))}.example/?id="
        body += str(rng.randrange(1000, 9999))
        sender = f"deals{rng.randrange(100, 999)}@offers.example"
    else:
        body += f"\n\nThanks,\n{name.title()}"
        sender = f"{name.title()} <{name}@example.com>"
    headers = (
        f"From: {sender}\nTo: you@ourdomain.example\nSubject: {rng.choice(subjects)}\n"
        "MIME-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\n"
    )
    received = _spam_received(rng) if spam else _ham_received(rng)
    return _message(received, headers, body.encode("ascii") + b"\n")


def synthetic_corpus(seed: int = 0) -> tuple[list[bytes], list[str]]:
    """40 spam (20 Chinese, 20 English) and 40 ham (10 Chinese, 30 English), interleaved."""
    rng = random.Random(seed)
    messages: list[bytes] = []
    labels: list[str] = []
    for i in range(40):
        messages.append(_cn_message(rng, spam=True) if i % 2 else _en_message(rng, spam=True))
        labels.append("spam")
        messages.append(
            _cn_message(rng, spam=False) if i % 4 == 0 else _en_message(rng, spam=False)
        )
        labels.append("ham")
    return messages, labels


@pytest.fixture(scope="session")
def corpus() -> tuple[list[bytes], list[str]]:
    return synthetic_corpus()


@pytest.fixture(scope="session")
def small_model(corpus: tuple[list[bytes], list[str]]) -> Model:
    """A model trained on the synthetic corpus. Shared: tests must not mutate it (copy first).

    The corpus has 10 Chinese ham: under the default ``min_script_examples`` (200) every
    Chinese message would be "unsure", so this model asks for 5 of each class per script.

    It has no time budget (``Limits.max_seconds``): many tests compare its verdicts across
    processes and threads, and a budget makes a verdict depend on the machine's load. Under
    a concurrent benchmark, a classify_bag worker's message ran past its second and was scored
    without its words (``limit:time``), failing 2 runs in about 13. The budget has its own
    tests, which set it.
    """
    messages, labels = corpus
    settings = ModelSettings(min_script_examples=5, limits=Limits(max_seconds=None))
    return spamclf.train(messages, labels, settings=settings, description="synthetic test corpus")


@pytest.fixture
def tmp_model_path(small_model: Model, tmp_path: Path) -> Path:
    """``small_model`` saved (with its card) to a fresh temporary folder."""
    path = tmp_path / "small.spamclf"
    small_model.save(path)
    return path


# --- Hypothesis profiles -----------------------------------------------------------------------
# Fuzz targets (tests/test_fuzz.py) take their example counts from the profile: "ci", the
# default, keeps the whole suite fast; "long" is the 10,000-example run recorded in
# benchmarks/fuzzing.md. Choose with --hypothesis-profile=long or SPAMCLF_HYPOTHESIS_PROFILE.
settings.register_profile("ci", max_examples=25, deadline=None)
settings.register_profile(
    "long", max_examples=10_000, deadline=None, suppress_health_check=list(HealthCheck)
)
settings.load_profile(os.environ.get("SPAMCLF_HYPOTHESIS_PROFILE", "ci"))
