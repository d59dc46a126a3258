"""The writing system a message is written in, and whether a model has seen enough of it.

A model that learned Chinese only from spam has learned that Chinese is spam. That is true of
the mailboxes it came from (trec06p holds 944 Chinese, 2,449 Japanese and 307 Korean spam
messages and not one such ham) and false of the mailbox it is shipped to: trained on the three
English corpora, the default recipe marked 13% of trec06c's Chinese ham as spam
(benchmarks/accuracy.md, leave one corpus out). So a model counts the ham and spam it learned
in each writing system, and labels a message spam or ham only when it has seen at least
``ModelSettings.min_script_examples`` of both in the message's writing system; otherwise it
says ``unsure`` and ``Verdict.unfamiliar`` says why. SpamAssassin's Bayes waits the same way
(``bayes_min_ham_num``, ``bayes_min_spam_num``: 200 each) before it votes at all.

The writing system is the one with the most letters in the text the character block reads
(subject and the start of the body). Japanese mixes kana with Han, often with more Han than
kana, so any real share of kana makes a text ``kana``. A text with fewer than
``_MIN_LETTERS`` letters has no writing system to judge (``none``): it is labelled on its
headers, which do not depend on the language, so it is never held back.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["NO_SCRIPT", "SCRIPTS", "count_scripts", "main_script"]

NO_SCRIPT = "none"
_LETTERS = {
    "latin": re.compile("[a-zA-Z\u00c0-\u024f]"),
    "cyrillic": re.compile("[\u0400-\u04ff]"),
    "greek": re.compile("[\u0370-\u03ff]"),
    "arabic": re.compile("[\u0600-\u06ff]"),
    "hebrew": re.compile("[\u0590-\u05ff]"),
    "thai": re.compile("[\u0e00-\u0e7f]"),
    "han": re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"),
    "hangul": re.compile("[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]"),
    "kana": re.compile("[\u3040-\u30ff\uff66-\uff9f]"),
}
SCRIPTS = (*_LETTERS, NO_SCRIPT)
_MIN_LETTERS = 20
# Japanese prose is about a third kana, headlines and lists less; Chinese text has none but
# for a stray symbol. A tenth of the Han count separates the two.
_KANA_SHARE = 0.1


def main_script(text: str) -> str:
    """The writing system with the most letters in ``text``, or ``"none"``.

    >>> main_script("免费发票，代开各地发票，欢迎来电咨询，联系人王先生")
    'han'
    >>> main_script("会議の資料を添付いたしますので、ご確認ください。")
    'kana'
    >>> main_script("hi")
    'none'
    """
    counts = {name: len(pattern.findall(text)) for name, pattern in _LETTERS.items()}
    if counts["kana"] and counts["kana"] >= _KANA_SHARE * counts["han"]:
        counts["kana"] += counts.pop("han")
    best = max(counts, key=counts.__getitem__)
    return best if counts[best] >= _MIN_LETTERS else NO_SCRIPT


def count_scripts(scripts: Iterable[str], is_spam: Iterable[object]) -> dict[str, list[int]]:
    """``{script: [ham, spam]}``: how many messages of each class were in each script.

    >>> count_scripts(["han", "latin", "han"], [1, 0, 0])
    {'han': [1, 1], 'latin': [1, 0]}
    """
    counts: dict[str, list[int]] = {}
    for script, spam in zip(scripts, is_spam, strict=True):
        counts.setdefault(script, [0, 0])[1 if spam else 0] += 1
    return dict(sorted(counts.items()))
