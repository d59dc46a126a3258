"""Undoing what spammers do to text to dodge tokenizers, and recording that they did it.

A word a filter has learned (``viagra``, ``发票``) stops being that word when a spammer slips
an invisible character into it (``vi\\u200bagra``), writes it in full-width or mathematical
letters (``ｖｉａｇｒａ``, ``𝐯𝐢𝐚𝐠𝐫𝐚``), swaps a letter for a Cyrillic or Greek twin that renders
the same (``vіagra``, with Cyrillic ``і``), or spells a Chinese, Korean or Japanese word one
character at a time (``건*강*검*진``, ``代.开.发.票``). A reader sees no difference, or reads
past it; a tokenizer sees a new word, or single characters, it has no weight for.
:func:`normalize_text` maps such text back to what a reader sees and names each trick it
undid, since the trick itself is evidence: ham has little reason to hide characters inside
words.

Homoglyphs are mapped only inside words that mix Latin letters with look-alikes from another
script, so Russian or Greek text is left as it is (an all-Cyrillic word is Russian, a Latin word
with one Cyrillic letter is a disguise). The table holds the Cyrillic, Greek and Armenian letters
whose Unicode TR39 skeleton (``confusables.txt``) is a single Latin letter; the libraries that
ship the whole TR39 table map far more (digits, symbols, whole scripts) than is safe to fold
inside words of real text, and would add a dependency for a few dozen pairs.

:func:`normalize_host` does the same for URL hosts: ``xn--`` labels are decoded from punycode
and mixed-script hosts are mapped to their Latin skeleton, so that ``раypal.com`` (Cyrillic
``р`` and ``а``) reads ``paypal.com``; a name written in another script under a Latin TLD
(``ουρανός.gr``) is kept as written.
"""

from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple

__all__ = [
    "CONFUSABLES",
    "NormalizedText",
    "normalize_host",
    "normalize_text",
    "remove_invisible",
]

# Characters that render as nothing (or nearly) and so can sit inside a word unseen: zero-width
# space, non-joiner and joiner, word joiner and its invisible operators, the byte-order mark
# (zero-width no-break space), the Mongolian vowel separator, the combining grapheme joiner,
# bidirectional controls, Hangul fillers and the variation selectors.
_INVISIBLE = re.compile(
    "[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\u180e\u034f"
    "\u115f\u1160\u3164\uffa0\ufe00-\ufe0f\U000e0000-\U000e007f]"
)
# Letters and digits of the scripts whose words never hold an invisible character: Latin,
# Greek, Cyrillic, Armenian, and Han, kana and Hangul. One sitting between two of them hides a
# word from a tokenizer (vi\u200bagra, 免\u200b费), and only that is named evasion; all are
# removed. Left out are the scripts that write them in words: joiners shape Arabic, Persian
# (ZWNJ in می\u200cخواهم) and Indic words, Thai and Khmer mark word breaks with a zero-width
# space, Hebrew and Arabic text carries direction marks. Emoji are no letters, so the joiner in
# a family emoji and the variation selector after ❤ do not count either.
_PLAIN_LETTER = (
    "0-9a-zA-Z\u00c0-\u024f\u1e00-\u1eff\u0370-\u03ff\u0400-\u052f\u0531-\u058f"
    "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7a3\uf900-\ufaff"
)
_INVISIBLE_IN_WORD = re.compile(f"[{_PLAIN_LETTER}]{_INVISIBLE.pattern}+[{_PLAIN_LETTER}]")
_SOFT_HYPHEN = "\u00ad"
# Full-width Latin letters and digits, mathematical alphanumerics, circled and parenthesized
# letters: NFKC maps each to its ASCII letter or digit. Only these are folded here; full-width
# CJK punctuation (，：) is ordinary in Chinese text and stays as written.
_WIDE_LATIN = re.compile(
    "[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a\U0001d400-\U0001d7ff\u24b6-\u24e9\u249c-\u24b5]+"
)
# Japanese, Chinese and Korean text writes digits and Latin letters in full width as a matter of
# course ("２０２４年", "株式会社ＮＴＴ", "３시"), so a full-width run among kana, Han or Hangul is
# no disguise; only one among Latin text ("buy ｖｉａｇｒａ") is. The context is the nearest
# letter on each side within a few characters, or, with none that near, the whole text.
_FULL_WIDTH_FORM = re.compile("[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]+")
_CJK_LETTER = re.compile(
    "[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7a3\uf900-\ufaff\uff66-\uff9f]"
)
_CONTEXT_REACH = 8
# A Chinese, Korean or Japanese word spelled one character at a time, the characters standing
# alone between fillers: a symbol (건*강*검*진, 통-지-서, 代.开) or spaces (질 병 관 리). Korean
# smishing does it to dodge filters: in the Korean SMS corpus 2,069 of 10,531 spam have such a
# word against 18 of 5,778 comments (mostly insults spelled out, 새 끼 야); in the bodies of the
# first 6,000 trec06c messages, 739 of 4,079 spam and 31 of 1,921 ham (letter-spaced headings,
# 联 系 人, and misdecoded bytes). Brackets and quotes mark a word ('개'의) and list and
# sentence punctuation (、，·ㆍ・！？。) separates words, so they are no fillers. Two characters
# with only spaces or a slash between are left apart: in Korean they are two words as often as
# not (할 수, 한 번), in Chinese labels aligned in columns (手  机, 标  题) or a price (元/件).
# (Kana less the middle dot and prolonged sound mark, which rule lines: ・ ・ ・, ー ー ー.)
_CJK_CHARACTER = "\u3041-\u30fa\u30fd-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7a3\uf900-\ufaff"
_FILLER = re.escape("*./_~|+^=#&@\\-") + "．－＊／＿～｜＋★☆♡♥♤♧●○◆◇■□▲△▼▽※◎♣♠┃│"
# Each gap is bounded, so that a search never backtracks through a long run of spaces.
_SPACE = r"[ \t]{0,2}\n?[ \t]{0,2}"
_SPACED_GAP = rf"{_SPACE}[{_FILLER}]{_SPACE}|[ \t\u3000]{{1,4}}"
# The first character is matched before the look behind, so that the search for it is a scan for
# a character class, in C (25 us on 900 characters of French the other way round, 2.4 now).
_SPACED_WORD = re.compile(
    rf"[{_CJK_CHARACTER}](?<!\w.)(?:(?:{_SPACED_GAP})[{_CJK_CHARACTER}](?!\w))+", re.DOTALL
)
# The second character of a spaced word: alone, after the last character of a gap, which is
# at most _LONGEST_GAP characters long. Searched for first, it is rare in Chinese text, where
# every character could start a word: a search for whole words cost 7 us on a trec06c body.
_LONE_AFTER_GAP = re.compile(rf"[{_FILLER} \t\n\u3000][{_CJK_CHARACTER}](?!\w)")
_LONGEST_GAP = 11
_CJK_CHARACTERS = re.compile(f"[{_CJK_CHARACTER}]")
# Two characters with only these between are left apart (see _SPACED_WORD); a slash writes
# "per" (5 元/件, 5 yuan a piece, where 元件 is "component").
_SPACES_AND_SLASHES = str.maketrans(dict.fromkeys(" \t\u3000/／"))

# Look-alikes of Latin letters in other scripts (TR39 confusables.txt, single-letter skeletons).
CONFUSABLES = {
    # Cyrillic lower case
    "а": "a", "в": "b", "с": "c", "ԁ": "d", "е": "e", "һ": "h", "і": "i", "ј": "j", "к": "k",
    "ӏ": "l", "м": "m", "п": "n", "о": "o", "р": "p", "ԛ": "q", "г": "r", "ѕ": "s", "т": "t",
    "ѵ": "v", "ԝ": "w", "х": "x", "у": "y", "ү": "y", "ё": "e", "ї": "i",
    # Cyrillic upper case
    "А": "A", "В": "B", "С": "C", "Е": "E", "Н": "H", "І": "I", "Ј": "J", "К": "K", "М": "M",
    "О": "O", "Р": "P", "Ѕ": "S", "Т": "T", "Х": "X", "У": "Y", "Ү": "Y", "Ԛ": "Q", "Ԝ": "W",
    # Greek
    "α": "a", "β": "b", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t",
    "υ": "u", "χ": "x", "γ": "y", "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I",
    "Κ": "K", "Μ": "M", "Ν": "N", "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
    # Armenian
    "օ": "o", "ս": "u", "ց": "g", "հ": "h", "ո": "n", "ք": "q", "զ": "q",
    # Letter-like symbols
    "ℓ": "l",
}  # fmt: skip
_SKELETON = str.maketrans(CONFUSABLES)
_LOOKALIKE = "".join(sorted(CONFUSABLES))
_LATIN = "a-zA-Z\u00c0-\u024f"
_HAS_LOOKALIKE = re.compile(f"[{_LOOKALIKE}]")
# A Latin letter touching a look-alike from another script: the mark of a mixed-script word.
_MIXED_PAIR = re.compile(f"[{_LATIN}][{_LOOKALIKE}]|[{_LOOKALIKE}][{_LATIN}]")
_PUNYCODE_LABEL = re.compile(r"(?<![\w-])xn--[a-z0-9-]{1,59}", re.I)
# Searched for, rather than looked up in a lower-cased copy of a whole body, per message.
_PUNYCODE_PREFIX = re.compile("xn--", re.I)
_HAS_LATIN = re.compile(f"[{_LATIN}]")
_NON_LATIN_LETTER = re.compile(f"[^\\W\\d_{_LATIN}]")
# A letter that is neither Latin nor a look-alike of a Latin one (ό, ς, и, 中).
_UNLIKE_LATIN = re.compile(f"[^\\W\\d_{_LATIN}{_LOOKALIKE}]")
# A host label holding a Latin letter and a letter of another script. Only a label's start is
# tried, and its two lookaheads read that label once each, so a search is linear: looked at
# label by label, a megabyte of Greek labels took 38 ms, this way 18.
_MIXED_LABEL = re.compile(f"(?:^|\\.)(?=[^.]*?[{_LATIN}])(?=[^.]*?{_NON_LATIN_LETTER.pattern})")


class NormalizedText(NamedTuple):
    """Text as a reader sees it, and the names of the tricks undone to get it (sorted)."""

    text: str
    evasions: tuple[str, ...]


def normalize_text(text: str) -> NormalizedText:
    """Remove invisible characters and soft hyphens, fold full-width and styled Latin letters,
    decode punycode labels, join Chinese, Korean and Japanese words spelled one character at a
    time, and map look-alike letters inside mixed-script words. Invisible
    characters count as evasion only inside words of scripts that never need them.

    >>> normalize_text("vi\\u200bagra ｆｒｅｅ vіagra")
    NormalizedText(text='viagra free viagra', evasions=('full-width', 'invisible', 'mixed-script'))
    >>> normalize_text("Привет, мир").evasions  # Russian is Russian
    ()
    """
    if text.isascii() and not _PUNYCODE_PREFIX.search(text):
        return NormalizedText(text, ())
    evasions = []
    stripped = _INVISIBLE.sub("", text)
    if len(stripped) != len(text) and _INVISIBLE_IN_WORD.search(text):
        evasions.append("invisible")
    if _SOFT_HYPHEN in stripped:
        stripped = stripped.replace(_SOFT_HYPHEN, "")
        evasions.append("soft-hyphen")
    text = stripped
    folded = _fold_wide(text)
    if folded != text:
        if _has_disguising_wide_run(text):
            evasions.append("full-width")
        text = folded
    if _PUNYCODE_PREFIX.search(text):
        decoded = _PUNYCODE_LABEL.sub(lambda m: _decode_label(m.group()), text)
        if decoded != text:
            evasions.append("punycode")
            text = decoded
    spaced = _join_spaced_words(text)
    if spaced != text:
        evasions.append("spaced")
        text = spaced
    if _HAS_LOOKALIKE.search(text):
        mapped = _unmix(text)
        if mapped != text:
            evasions.append("mixed-script")
            text = mapped
    return NormalizedText(text, tuple(sorted(evasions)))


class NormalizedHost(NamedTuple):
    """A URL host as a reader would read it, and whether it was punycode or mixed scripts."""

    host: str
    punycode: bool
    mixed_script: bool


def normalize_host(host: str) -> NormalizedHost:
    """Decode ``xn--`` labels, drop invisible characters and soft hyphens, and map a host that
    mixes Latin and look-alike letters to Latin, unless its non-Latin labels are written in
    their own script (see ``_written_in_its_script``).

    >>> normalize_host("www.xn--pypal-4ve.com")  # "pаypal" with a Cyrillic а
    NormalizedHost(host='www.paypal.com', punycode=True, mixed_script=True)
    >>> normalize_host("пример.рф")  # all Cyrillic: a real Russian domain
    NormalizedHost(host='пример.рф', punycode=False, mixed_script=False)
    >>> normalize_host("ουρανός.gr")  # Greek under a Latin TLD: mixed, but no disguise
    NormalizedHost(host='ουρανός.gr', punycode=False, mixed_script=True)
    """
    host = host.lower()
    punycode = "xn--" in host
    if punycode:
        host = ".".join(
            _decode_label(label) if label.startswith("xn--") else label for label in host.split(".")
        )
    if host.isascii():
        return NormalizedHost(host, punycode, False)
    host = remove_invisible(host)
    host = _fold_wide(host)
    # Mixed: Latin letters (in any label, the TLD included) beside letters of another script.
    mixed = bool(_HAS_LATIN.search(host)) and bool(_NON_LATIN_LETTER.search(host))
    if mixed and _HAS_LOOKALIKE.search(host) and not _written_in_its_script(host):
        host = host.translate(_SKELETON).lower()
    return NormalizedHost(host, punycode, mixed)


def remove_invisible(text: str) -> str:
    """``text`` without its invisible characters and soft hyphens, and nothing else changed:
    what a reader sees of it, with the look of its letters kept.

    >>> remove_invisible("ht\\u200btp://pay\\u00adpal.example")
    'http://paypal.example'
    """
    if text.isascii():
        return text
    return _INVISIBLE.sub("", text).replace(_SOFT_HYPHEN, "")


def _written_in_its_script(host: str) -> bool:
    """Whether a host's non-Latin labels are written in their own script, not spelling Latin:
    none holds a Latin letter, and some letter in them looks like no Latin one.

    ``ουρανός.gr`` and ``www.пример.com`` are Greek and Russian names under Latin labels (mapped,
    they read ``oupavός.gr`` and ``www.npиmep.com``); ``pаypal.com`` mixes within a label and
    ``аррӏе.com`` is all look-alikes, a whole-script spoof that browsers show as punycode. A
    short Russian or Greek word made only of look-alikes under a Latin TLD is read as one too
    (``сок.com`` reads ``cok.com``), as Chrome shows it as punycode too.
    """
    return bool(_UNLIKE_LATIN.search(host)) and not _MIXED_LABEL.search(host)


def _fold_wide(text: str) -> str:
    """Full-width and styled Latin letters and digits as plain ASCII (NFKC on those runs only)."""
    return _WIDE_LATIN.sub(lambda m: unicodedata.normalize("NFKC", m.group()), text)


def _has_disguising_wide_run(text: str) -> bool:
    """Whether a run of wide or styled letters and digits stands where CJK typography would not
    put it: styled letters anywhere, full-width forms outside Japanese, Chinese or Korean text."""
    text_is_cjk: bool | None = None
    for run in _WIDE_LATIN.finditer(text):
        if not _FULL_WIDTH_FORM.fullmatch(run.group()):
            return True
        near = _nearest_letters(text, run.start(), run.end())
        if near:
            in_cjk = any(_CJK_LETTER.match(letter) for letter in near)
        else:
            if text_is_cjk is None:
                text_is_cjk = bool(_CJK_LETTER.search(text))
            in_cjk = text_is_cjk
        if not in_cjk:
            return True
    return False


def _nearest_letters(text: str, start: int, end: int) -> list[str]:
    """The letter nearest before ``start`` and after ``end``, within a few characters, skipping
    punctuation, digits and other wide characters (as in "２月の", "ＱＱ：１２３")."""
    near = []
    for index in range(start - 1, max(start - _CONTEXT_REACH, 0) - 1, -1):
        if text[index].isalpha() and not _WIDE_LATIN.match(text[index]):
            near.append(text[index])
            break
    for index in range(end, min(end + _CONTEXT_REACH, len(text))):
        if text[index].isalpha() and not _WIDE_LATIN.match(text[index]):
            near.append(text[index])
            break
    return near


def _unmix(text: str) -> str:
    """Map the look-alikes in every word that has a mixed-script pair to Latin.

    The words are grown from the pairs outwards rather than matched with a pattern such as
    ``\\w*pair\\w*``, which backtracks quadratically through a long run of Han characters.
    """
    pieces = []
    last = 0
    for pair in _MIXED_PAIR.finditer(text):
        if pair.start() < last:
            continue
        start, end = pair.start(), pair.end()
        while start > last and text[start - 1].isalpha():
            start -= 1
        while end < len(text) and text[end].isalpha():
            end += 1
        pieces += [text[last:start], text[start:end].translate(_SKELETON)]
        last = end
    pieces.append(text[last:])
    return "".join(pieces)


def _join_spaced_words(text: str) -> str:
    """``text`` with the Chinese, Korean and Japanese words spelled one character at a time
    written whole (see ``_SPACED_WORD``)."""
    # Text with no CJK character, looked for in one scan, is most text, and the search for one
    # alone after a gap stops at every space of it (on 900 characters of French, 2.6 us against
    # 5.9).
    cjk = _CJK_CHARACTERS.search(text)
    lone = cjk and _LONE_AFTER_GAP.search(text, cjk.start())
    if not lone:
        return text
    first = _SPACED_WORD.search(text, max(lone.start() - _LONGEST_GAP, 0))
    if not first:
        return text
    # Sliced at the first word's start, the look behinds of the later ones still see their text.
    return text[: first.start()] + _SPACED_WORD.sub(_join_characters, text[first.start() :])


def _join_characters(word: re.Match[str]) -> str:
    characters = "".join(_CJK_CHARACTERS.findall(word.group()))
    if len(characters) == 2 and word.group().translate(_SPACES_AND_SLASHES) == characters:
        return word.group()
    return characters


def _decode_label(label: str) -> str:
    """One ``xn--`` label in Unicode; left as it is when it is not valid, printable punycode."""
    try:
        decoded = label[4:].encode("ascii").decode("punycode").lower()
    except (UnicodeError, ValueError):
        return label.lower()
    # A label that decodes to control characters or spaces is no name a reader would see.
    return (
        decoded
        if decoded.isprintable() and not any(ch.isspace() for ch in decoded)
        else label.lower()
    )
