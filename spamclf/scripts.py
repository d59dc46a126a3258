"""The writing system a message is written in, and whether a model has seen enough of it.

A model that learned Chinese only from spam has learned that Chinese is spam. That is true of
the mailboxes it came from (trec06p holds 1,478 Chinese, 4,549 Japanese and 530 Korean spam
messages, 6 Chinese ham and no Japanese or Korean ham) and false of the mailbox it is shipped
to: trained on the three English corpora, the default recipe marked 13% of trec06c's Chinese
ham as spam (benchmarks/accuracy.md, leave one corpus out). So a model counts the ham and
spam it learned in each writing system, and can label a message spam or ham only when it has
seen at least ``ModelSettings.min_script_examples`` of both in the message's writing system;
otherwise it says ``unsure`` and ``Verdict.unfamiliar`` says why. SpamAssassin's Bayes waits
the same way (``bayes_min_ham_num``, ``bayes_min_spam_num``: 200 each) before it votes at all.

The check is for a model that judges mail from mailboxes it was not trained on, such as the
bundled one (``SHARED_MODEL_MIN_EXAMPLES``). It is off by default: in a model of one's own
mail, "Japanese only ever came as spam" is knowledge, not an accident of the training data
(with the check on, trec06p's own model left 20% of its Japanese, Korean and Chinese spam
unsure, FNR at the cutoff 3.9% -> 24.4%).

The writing system is the one with the most letters in the text the character block reads
(subject and the start of the body), a CJK character counting as three letters. Japanese mixes
kana with Han, often with more Han than kana, so any real share of kana makes a text ``kana``.
A text with fewer than ``_MIN_LETTERS`` letters has no writing system to judge (``none``): it
is labelled on its headers, which do not depend on the language, so it is never held back.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

__all__ = ["NO_SCRIPT", "SCRIPTS", "SHARED_MODEL_MIN_EXAMPLES", "count_scripts", "main_script"]

NO_SCRIPT = "none"
SHARED_MODEL_MIN_EXAMPLES = 200
# Letters of each writing system (BMP code point ranges, end exclusive).
_RANGES = {
    "latin": ((0x41, 0x5B), (0x61, 0x7B), (0xC0, 0x250)),
    "cyrillic": ((0x400, 0x500),),
    "greek": ((0x370, 0x400),),
    "arabic": ((0x600, 0x700),),
    "hebrew": ((0x590, 0x600),),
    "thai": ((0xE00, 0xE80),),
    "han": ((0x3400, 0x4DC0), (0x4E00, 0xA000), (0xF900, 0xFB00)),
    "hangul": ((0xAC00, 0xD7A4), (0x1100, 0x1200), (0x3130, 0x3190)),
    # Not half-width katakana (U+FF66-FF9F): mail hardly uses it (ISO-2022-JP cannot even
    # carry it), and it is what binary junk read as Shift_JIS turns into.
    "kana": ((0x3040, 0x3100),),
}
_NAMES = (NO_SCRIPT, *_RANGES)
SCRIPTS = (*_RANGES, NO_SCRIPT)
# The writing system of every BMP code point, as an index into _NAMES (0: not a letter), so a
# text is counted in one NumPy pass: 15 microseconds for 3,000 characters, where one regular
# expression pass per writing system took 250.
_SCRIPT_OF = np.zeros(0x10000, dtype=np.uint8)
for _index, _name in enumerate(_NAMES[1:], start=1):
    for _start, _end in _RANGES[_name]:
        _SCRIPT_OF[_start:_end] = _index
# A Han, Hangul or kana character carries about what three Latin letters do (a Chinese word
# is one to two characters, an English one about five letters): counted alike, a Chinese
# message with an English signature or a link or two came out "latin".
_WEIGHT = np.ones(len(_NAMES))
_WEIGHT[[_NAMES.index(name) for name in ("han", "hangul", "kana")]] = 3.0
_MIN_LETTERS = 20
# Japanese prose is about a third kana, headlines and lists less; Chinese text has none but
# for a stray symbol. A tenth of the Han count separates the two.
_KANA_SHARE = 0.1
_HAN, _KANA = _NAMES.index("han"), _NAMES.index("kana")
# Deleting these from ASCII text leaves its letters (the "latin" ranges below 0x80).
_ASCII_NOT_LETTERS = bytes(
    code for code in range(0x80) if not (0x41 <= code < 0x5B or 0x61 <= code < 0x7B)
)


def main_script(text: str) -> str:
    """The writing system with the most (weighted) letters in ``text``, or ``"none"``.

    >>> main_script("免费发票，代开各地发票，欢迎来电咨询，联系人王先生")
    'han'
    >>> main_script("会議の資料を添付いたしますので、ご確認ください。")
    'kana'
    >>> main_script("hi")
    'none'
    """
    if text.isascii():  # most mail: its letters are Latin, counted in one C pass
        letters = len(text.encode("ascii").translate(None, _ASCII_NOT_LETTERS))
        return "latin" if letters >= _MIN_LETTERS else NO_SCRIPT
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    counts = np.bincount(_SCRIPT_OF[np.minimum(codes, 0xFFFF)], minlength=len(_NAMES))
    if counts[_KANA] and counts[_KANA] >= _KANA_SHARE * counts[_HAN]:
        counts[_KANA] += counts[_HAN]
        counts[_HAN] = 0
    counts[0] = 0
    if counts.sum() < _MIN_LETTERS:
        return NO_SCRIPT
    return _NAMES[int(np.argmax(counts * _WEIGHT))]


def count_scripts(scripts: Iterable[str], is_spam: Iterable[object]) -> dict[str, list[int]]:
    """``{script: [ham, spam]}``: how many messages of each class were in each script.

    >>> count_scripts(["han", "latin", "han"], [1, 0, 0])
    {'han': [1, 1], 'latin': [1, 0]}
    """
    counts: dict[str, list[int]] = {}
    for script, spam in zip(scripts, is_spam, strict=True):
        counts.setdefault(script, [0, 0])[1 if spam else 0] += 1
    return dict(sorted(counts.items()))
