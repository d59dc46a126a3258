"""Text to word tokens, in any script spam is written in.

- Latin, Cyrillic and other space-separated scripts: lower-cased words; NFKC first, so that
  full-width ``ＦＲＥＥ`` reads ``free``.
- Chinese (Han runs): jieba's dictionary and algorithm, through ``rjieba`` (the Rust port, 80x
  faster and token-for-token identical on trec06c; see benchmarks/cjk_tokenization.md).
- Korean (Hangul runs) and Japanese (runs of kana and kanji, in a text where kana are more than
  5% of the kana and Han, see ``JAPANESE_KANA_SHARE``):
  overlapping character bigrams, as Lucene's CJKAnalyzer does. Korean glues particles to words
  (``고객님께서``) and Japanese has no spaces, so whole runs are hapaxes; bigrams need no
  dictionary, and on real Korean spam they made 6.5 times fewer ranking errors than
  space-separated words (benchmarks/cjk_tokenization.md).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from spamclf.budget import load_once

__all__ = ["fold_case", "is_japanese", "segment_chinese", "words"]

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HANGUL = "\uac00-\ud7a3"
_KANA = "\u3040-\u30ff\u31f0-\u31ff"
# A letter or digit of a space-separated script: \w without "_" and the scripts above.
_LETTER = rf"[^\W_{_HAN}{_HANGUL}{_KANA}]"
# findall() gives one (han, hangul, kana, word) tuple per match, the matched group non-empty:
# building a match object per token cost a quarter of the tokenizing.
_RUNS = rf"(?P<han>[{_HAN}]+)|(?P<hangul>[{_HANGUL}]+)|(?P<kana>[{_KANA}]+)"
# In Japanese text kanji and kana alternate within words (打ち合わせ), so they form one run
# (and findall() gives (hangul, kana, word) tuples). So do the iteration marks 々 and 〆 and
# the kanji zero 〇, which are no Han characters to Unicode: 様々 and 人々 were cut at 々
# (様, 々, なサ), and 352 of the 1,470 Japanese spam in every third trec06p message have one.
# Chinese text hardly writes them (none of the first 6,000 trec06c messages beside a Han
# character), and jieba would not read them as Han, so its runs are left as they were.
_RUNS_JAPANESE = rf"(?P<hangul>[{_HANGUL}]+)|(?P<kana>[{_HAN}{_KANA}\u3005-\u3007]+)"
_HAS_KANA = re.compile(rf"[{_KANA}\uff66-\uff9d]")
# The kana that mark a text as Japanese: all but the middle dot U+30FB and the prolonged sound
# mark U+30FC, which Chinese writes too (迪士尼・乐园). Half-width katakana count too, for
# text not yet through NFKC (is_japanese of a subject and a body).
_KANA_LETTERS = re.compile("[\u3040-\u30fa\u30fd-\u30ff\u31f0-\u31ff\uff66-\uff9d]+")
_HAN_RUN = re.compile(f"[{_HAN}]+")
# A text is Japanese when kana are more than this share of its kana and Han characters. Chinese
# spam writes the odd の for 的, and wrong decodings scatter a few kana through Han text: of the
# 3,000 trec06c test messages 141 have kana, 138 of them under 2% (one to seven kana among 61 to
# 11,635 Han), the other three at 3.7% (a wrong decoding), 9.5% and 24% (ASCII art). Japanese
# is above 8%: in the trec06p, spamassassin and enron-spam samples every subject, body and From
# name with kana (611) is Japanese, the lowest shares in names and headlines, 8.3%
# (大人限定出会い事務管理局) and 14% (堀江、釈放の裏話); prose runs at 30-70%. There is no
# minimum count: a Japanese subject may hold a single kana (10000000円の秘密), and a text
# without Han tokenizes alike either way.
JAPANESE_KANA_SHARE = 0.05
# The word pattern (see _token_patterns) for ASCII text, where [^\W_] is [a-z0-9] once
# lower-cased and no combining mark can follow a letter.
_ASCII_WORD = re.compile(r"[a-z0-9]+(?:['.\-@][a-z0-9]+)*")
# Longer "words" are mostly base64 debris, hashes and URLs handled elsewhere. SpamBayes found
# that summarizing them (here as a length bucket) beats both dropping and keeping them.
MAX_WORD = 20


@load_once
def _jieba_cut() -> Callable[[str], list[str]]:
    """Load the segmenter on first use: importing it at startup would slow every cold start."""
    try:
        import rjieba

        return rjieba.cut  # type: ignore[no-any-return]
    except ImportError:  # pragma: no cover - rjieba is a dependency; jieba is the reference
        import jieba

        jieba.setLogLevel(60)
        return jieba.lcut  # type: ignore[no-any-return]


def segment_chinese(run: str) -> list[str]:
    """Segment a run of Han characters into words with jieba's dictionary.

    >>> segment_chinese("代开各类发票")
    ['代开', '各类', '发票']
    """
    return _jieba_cut()(run)


def _bigrams(run: str) -> list[str]:
    if len(run) == 1:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


def words(text: str, *, japanese: bool | None = None) -> list[str]:
    """The word tokens of ``text``, in order; its Han runs read as Japanese (bigrams) or Chinese
    (jieba) as ``japanese`` says, by default as :func:`is_japanese` finds ``text``.

    >>> words("ＦＲＥＥ offer! 免费发票 무료상담")
    ['free', 'offer', '免费', '发票', '무료', '료상', '상담']
    >>> words("打ち合わせ")
    ['打ち', 'ち合', '合わ', 'わせ']
    """
    if text.isascii():
        # Most mail is plain ASCII: one simpler pattern, three times faster than the full one.
        return [
            token if len(token) <= MAX_WORD else _long_word(token)
            for token in _ASCII_WORD.findall(text.lower())
            if len(token) > 1
        ]
    # The typographic apostrophe Word, Outlook and Apple Mail type joins a word as the ASCII
    # one does: "don’t" was "don" and "t", where "don't" is one word.
    text = fold_case(nfkc(text)).replace("\u2019", "'")
    token, token_japanese = _token_patterns()
    if is_japanese(text) if japanese is None else japanese:
        matches = [("", *groups) for groups in token_japanese.findall(text)]
    else:
        matches = token.findall(text)
    # jieba is called once for all the Han runs of the text: one call per run cost more than
    # the segmenting itself. Runs joined by a space segment exactly as they do one by one,
    # since jieba cuts its input into blocks at spaces first.
    segmented = iter(_segment_runs([han for han, _, _, _ in matches if han]))
    tokens: list[str] = []
    for han, hangul, kana, word in matches:  # one group of the four matched
        if word:
            if len(word) > 1 or not word.isascii():
                tokens.append(word if len(word) <= MAX_WORD else _long_word(word))
        elif han:
            tokens.extend(next(segmented))
        else:
            tokens.extend(_bigrams(hangul or kana))
    return tokens


@load_once
def _token_patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """The token patterns of Chinese or Korean text and of Japanese text, built on first use:
    listing the combining marks and compiling take about 30 ms, which every cold start (170 ms)
    would pay."""
    # A word carries the combining marks that follow its letters: \w has none (they are
    # categories Mn and Mc), and without them Thai สวัสดี and Hindi नमस्ते broke at each vowel sign.
    part = rf"{_LETTER}+(?:[{_combining_marks()}]+{_LETTER}*)*"
    word = rf"(?P<word>{part}(?:['.\-@]{part})*)"
    return re.compile(rf"{_RUNS}|{word}"), re.compile(rf"{_RUNS_JAPANESE}|{word}")


def _combining_marks() -> str:
    """The combining marks (Mn, Mc) of the Basic Multilingual Plane as ranges for a character
    class, less the kana voicing marks, which join kana runs, and the variation selectors, which
    pick how an emoji is drawn and spell nothing.

    The BMP only: it holds the marks of every living script, and a class reaching beyond it is
    matched range by range instead of by one table lookup, which made ``words`` 20% slower on
    non-ASCII text (trec06p 111 -> 137 us a message; with the BMP alone, 121)."""
    marks = [
        code
        for code in range(0x10000)
        if unicodedata.category(chr(code)) in ("Mn", "Mc")
        and not _HAS_KANA.match(chr(code))
        and not 0xFE00 <= code <= 0xFE0F
    ]
    ranges = []
    start = previous = marks[0]
    for code in [*marks[1:], -1]:  # -1 closes the last range
        if code != previous + 1:
            ranges.append(rf"\U{start:08x}-\U{previous:08x}")
            start = code
        previous = code
    return "".join(ranges)


def is_japanese(*texts: str) -> bool:
    """Whether kana are more than ``JAPANESE_KANA_SHARE`` of the kana and Han in ``texts``.

    A message's subject and body are judged together: a Japanese subject is often kanji alone
    (招待状, 女性開発倶楽部会員様宛: 137 of the 1,469 Japanese spam in every third trec06p
    message), and judged alone it read as Chinese, which jieba cut into the single characters
    of words its dictionary lacks (開, 発, 倶, 楽), where the same subject with one kana gave
    bigrams.

    >>> is_japanese("会議は打ち合わせ")
    True
    >>> is_japanese("我们公司代开各类发票の优惠，欢迎来电咨询合作")  # one kana, 20 Han
    False
    >>> is_japanese("招待状"), is_japanese("招待状", "ご招待のお知らせです")
    (False, True)
    """
    kana = sum(_characters(_KANA_LETTERS, text) for text in texts if _HAS_KANA.search(text))
    if not kana:  # the common case, in one scan of each text
        return False
    return kana > JAPANESE_KANA_SHARE * (kana + sum(_characters(_HAN_RUN, t) for t in texts))


def _characters(runs: re.Pattern[str], text: str) -> int:
    return sum(map(len, runs.findall(text)))


def fold_case(text: str) -> str:
    """``text.lower()``, with the Turkish capital ``İ`` as ``i``.

    ``İ`` is the one character whose lower case is two: ``i`` and a combining dot above, so
    ``İSTANBUL`` would read neither ``istanbul`` nor as one word.

    >>> fold_case("İSTANBUL İçin")
    'istanbul için'
    """
    return text.replace("\u0130", "i").lower()


def nfkc(text: str) -> str:
    """``unicodedata.normalize("NFKC", text)``, three times faster on Chinese text.

    Chinese mail is full of full-width punctuation, which makes NFKC rewrite the whole string
    (60 us for a typical trec06c body). Characters whose NFKC form is their compatibility
    decomposition are swapped for it first, which leaves the NFKC of the text unchanged; what
    remains is usually normalized already, and checking that is cheap.

    >>> nfkc("免费！ＦＲＥＥ\u3000ﬁne") == unicodedata.normalize("NFKC", "免费！ＦＲＥＥ\u3000ﬁne")
    True
    """
    pattern, forms = _compatibility_forms()
    text = pattern.sub(lambda match: forms[match.group()], text)
    return text if unicodedata.is_normalized("NFKC", text) else unicodedata.normalize("NFKC", text)


@load_once
def _compatibility_forms() -> tuple[re.Pattern[str], dict[str, str]]:
    """Basic Multilingual Plane characters that NFKC replaces without composing anything,
    and what it replaces each with (full-width forms, compatibility ideographs, ligatures)."""
    forms = {}
    for code in range(0x10000):
        char = chr(code)
        if 0xD800 <= code < 0xE000:  # surrogates: not characters
            continue
        decomposed = unicodedata.normalize("NFKD", char)
        if decomposed != char and unicodedata.normalize("NFKC", char) == decomposed:
            forms[char] = decomposed
    return re.compile("[" + "".join(map(re.escape, forms)) + "]"), forms


def _long_word(token: str) -> str:
    return f"long:{token[:3]}:{len(token) // 10 * 10}"


def _segment_runs(runs: list[str]) -> list[list[str]]:
    """Each Han run segmented, from one jieba call over them all."""
    if not runs:
        return []
    # The runs come back with a " " word between each two; split there with str methods, in
    # C (a loop over the words was a tenth of tokenizing a trec06c message). Han runs hold no
    # NUL, so it can mark where words meet.
    joined = "\0".join(segment_chinese(" ".join(runs)))
    return [run.split("\0") for run in joined.split("\0 \0")]
