"""The writing system of a message, and the models that decline to label what they never saw."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

import spamclf
from spamclf.model import Model, ModelSettings
from spamclf.persist import load_model
from spamclf.scripts import main_script

Loader = Callable[[str], bytes]


@pytest.mark.parametrize(
    ("name", "script"),
    [
        ("gb2312_ham", "han"),
        ("big5_ham", "han"),
        ("euckr_spam", "hangul"),
        ("iso2022jp_ham", "kana"),
        ("shift_jis_spam", "kana"),
        ("english_ham", "latin"),
        ("empty", "none"),
    ],
)
def test_features_name_the_writing_system(
    small_model: Model, fixture_bytes: Loader, name: str, script: str
) -> None:
    assert small_model.features(fixture_bytes(name)).script == script


def test_short_or_letterless_text_has_no_script() -> None:
    assert main_script("12345 !!! $$$ 67890 ??? ... 1234567890") == "none"
    assert main_script("Привет, как дела? Давно не виделись, напиши мне") == "cyrillic"
    # Half-width katakana is what junk read as Shift_JIS becomes, not Japanese mail.
    assert main_script("ｱｲｳｴｵｶｷｸｹｺ" * 5) == "none"


def _chinese_only_as_spam(corpus: tuple[list[bytes], list[str]]) -> tuple[list, list, list]:
    """The synthetic corpus without its Chinese ham, and that ham held out."""
    messages, labels = corpus
    kept, kept_labels, chinese_ham = [], [], []
    for message, label in zip(messages, labels, strict=True):
        if label == "ham" and b"gb2312" in message:
            chinese_ham.append(message)
        else:
            kept.append(message)
            kept_labels.append(label)
    return kept, kept_labels, chinese_ham


def test_a_model_that_saw_chinese_only_as_spam_is_unsure_of_chinese_ham(
    corpus: tuple[list[bytes], list[str]],
) -> None:
    messages, labels, chinese_ham = _chinese_only_as_spam(corpus)
    # The synthetic ham's own relays pull its score down; at cutoff 0.7 Chinese ham is spam.
    settings = ModelSettings(min_script_examples=5, spam_cutoff=0.7)
    model = spamclf.train(messages, labels, settings=settings)
    assert model.script_counts == {"han": [0, 20], "latin": [30, 20]}
    verdicts = [model.classify(m) for m in chinese_ham]
    # The score still says what the weights say (Chinese was only ever spam) ...
    assert all(v.score >= 0.7 for v in verdicts)
    # ... but the label does not act on it, and says why.
    assert all(v.label == "unsure" and v.unfamiliar and v.script == "han" for v in verdicts)
    unchecked = model.with_settings(min_script_examples=0)
    assert all(unchecked.classify(m).label == "spam" for m in chinese_ham)


def test_familiar_scripts_and_letterless_mail_are_labelled(small_model: Model) -> None:
    assert small_model.is_familiar("han") and small_model.is_familiar("latin")
    assert not small_model.is_familiar("hangul")
    assert small_model.is_familiar("none")  # no text: judged on headers, never held back


def test_learn_counts_every_message_by_script(corpus: tuple[list[bytes], list[str]]) -> None:
    model = Model.empty(ModelSettings(min_script_examples=3))
    messages, labels = corpus
    assert not model.is_familiar("han")
    for message, label in zip(messages[:12], labels[:12], strict=True):
        model.learn(message, label)
    # Counted whether or not the update changed a weight: 12 seen, 6 of each class.
    assert sum(map(sum, (model.script_counts or {}).values())) == 12
    assert model.is_familiar("latin") and model.script_counts["latin"][0] >= 3  # type: ignore[index]


def test_script_counts_survive_save_and_load(small_model: Model, tmp_path: Path) -> None:
    path = tmp_path / "m.spamclf"
    small_model.save(path)
    loaded = load_model(path)
    assert loaded.script_counts == small_model.script_counts == {"han": [10, 20], "latin": [30, 20]}
    assert loaded.with_settings(n_reasons=3).script_counts == small_model.script_counts


def test_a_model_without_counts_labels_every_script(small_model: Model) -> None:
    # Model files saved before models counted scripts load with script_counts None.
    weights, intercept, calibration, card, variances, _ = small_model.parameters()
    old = Model(weights, intercept, calibration, small_model.settings, card, variances, None)
    assert old.is_familiar("hangul")
