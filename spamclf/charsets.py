"""Turning message bytes into text when the charset label may be missing or lying.

Spam from China and Korea often carries no charset, a wrong one (``iso-8859-1`` over GB2312
bytes) or an alias Python does not know (``ks_c_5601-1987``). Trusting the label gives mojibake,
and mojibake gives a classifier nothing to learn. The strategy:

1. Map the label to the superset codec Python knows (GB2312 -> GB18030, EUC-KR -> cp949, ...).
2. If the label is a multi-byte codec or UTF-8 and the bytes decode strictly into *plausible*
   text, use it (the common case costs one decode).
3. Otherwise try the usual codecs and keep the one whose text is most plausible: GBK, Big5 and
   EUC-KR overlap byte for byte, so "decodes without error" is not enough. Real text concentrates
   on a few hundred characters (``_chartables``), a wrong decoding scatters over thousands.
"""

from __future__ import annotations

import codecs
import re
from functools import cache

import numpy as np

from spamclf._chartables import COMMON_HAN, COMMON_HANGUL

__all__ = ["decode", "normalize_charset"]

# Labels seen in real mail mapped to the widest codec Python ships for them: decoding GB2312
# as GB18030 and EUC-KR as cp949 loses nothing and rescues the extensions real senders use.
_ALIASES = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "euc-cn": "gb18030",
    "x-euc-cn": "gb18030",
    "chinese": "gb18030",
    "csgb2312": "gb18030",
    "gb_2312-80": "gb18030",
    "big5": "big5hkscs",
    "x-big5": "big5hkscs",
    "big5-hkscs": "big5hkscs",
    "cn-big5": "big5hkscs",
    "cp950": "big5hkscs",
    "euc-kr": "cp949",
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "ks_c_5601-1989": "cp949",
    "ksc5601": "cp949",
    "ksc_5601": "cp949",
    "korean": "cp949",
    "x-windows-949": "cp949",
    "uhc": "cp949",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "ms_kanji": "cp932",
    "windows-31j": "cp932",
    "iso-2022-jp": "iso2022_jp_ext",
    "csiso2022jp": "iso2022_jp_ext",
    # WHATWG practice: mail labelled Latin-1 or ASCII is in fact usually windows-1252.
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "iso8859-1": "cp1252",
    # Thai: Python knows windows-874 only as cp874.
    "windows-874": "cp874",
    "x-windows-874": "cp874",
    "unicode-1-1-utf-7": "utf-7",
    "utf8": "utf-8",
}

# Codecs whose correct decoding is checked for plausibility: all of them overlap one another.
_CJK_CODECS = frozenset({"gb18030", "big5hkscs", "cp949", "cp932", "euc_jp", "iso2022_jp_ext"})
# Tried in this order when the label is missing or wrong; ties go to the earlier one.
_NOT_CHARSETS = frozenset(
    {"idna", "punycode", "undefined", "unicode-escape", "raw-unicode-escape", "mbcs", "oem"}
)
_CANDIDATES = ("gb18030", "cp949", "big5hkscs", "cp932", "euc_jp")
_SAMPLE_BYTES = 4096
_SAMPLE_CHARS = 1500
_FIRST_WIDE = 0x3000  # CJK punctuation, kana, Han, Hangul and everything above count as CJK
# Characters that are ordinary in each language's text: frequent Han, CJK punctuation and
# full-width ASCII everywhere; kana in Japanese; frequent Hangul in Korean. Anything else
# (half-width katakana, rare Han, Hanja, rare Hangul) is what a wrong decoding produces.
_PUNCTUATION = frozenset(chr(c) for c in range(0x3000, 0x3040)) | frozenset(
    chr(c) for c in range(0xFF01, 0xFF5F)
)
_KANA = frozenset(chr(c) for c in range(0x3040, 0x3100))
_COMMON_CHINESE = COMMON_HAN | _PUNCTUATION
_COMMON_FOR = {
    "cp949": _COMMON_CHINESE | COMMON_HANGUL,
    "cp932": _COMMON_CHINESE | _KANA,
    "euc_jp": _COMMON_CHINESE | _KANA,
    "iso2022_jp_ext": _COMMON_CHINESE | _KANA,
}
_MIN_CJK_SAMPLE = 8
# Real Chinese or Korean text scores about 0.9 against the tables; a wrong CJK decoding of it
# scores well under 0.5. Between the two, the label is checked against the other codecs.
_PLAUSIBLE = 0.8
# No CJK decoding reaching this means the text is not CJK: Russian in windows-1251 comes in
# runs of high bytes as GB2312 does, and scores below 0 under every CJK codec.
_IMPLAUSIBLE = 0.5
_LABEL_BONUS = 0.05
_ISO2022_ESCAPE = re.compile(rb"\x1b\$[@B]|\x1b\(J")
_HIGH_RUN = re.compile(rb"[\x80-\xff]+")


def normalize_charset(label: str | None) -> str | None:
    """Return the Python codec name for a MIME charset label, or ``None`` if unknown.

    >>> normalize_charset('"KS_C_5601-1987"')
    'cp949'
    >>> normalize_charset("GB2312")
    'gb18030'
    >>> normalize_charset("x-no-such-charset") is None
    True
    """
    if not label:
        return None
    name = label.strip().strip("\"'").lower()
    name = _ALIASES.get(name, name)
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError):
        return None
    codec = info.name
    # Python also has codecs that are not charsets (idna, punycode, base64): refuse them.
    if not getattr(info, "_is_text_encoding", True) or codec in _NOT_CHARSETS:
        return None
    # codecs.lookup canonicalizes names ("iso8859-1" -> "latin-1"); map its results too.
    return _ALIASES.get(codec, codec)


def decode(data: bytes, declared: str | None = None) -> tuple[str, str]:
    """Decode ``data``; return ``(text, codec_used)``. Never raises.

    ``declared`` is the label from the message, trusted only when the bytes agree with it.

    >>> decode("免费发票".encode("gb2312"), "iso-8859-1")
    ('免费发票', 'gb18030')
    >>> decode(b"plain ascii")
    ('plain ascii', 'ascii')
    """
    if not data:
        return "", "ascii"
    if data.isascii():
        if _ISO2022_ESCAPE.search(data):
            return data.decode("iso2022_jp_ext", "replace"), "iso2022_jp_ext"
        if declared and normalize_charset(declared) == "utf-7":
            return _decode_or_replace(data, "utf-7"), "utf-7"
        return data.decode("ascii"), "ascii"
    codec = normalize_charset(declared)
    if codec in _CJK_CODECS or codec == "utf-8":
        text = _strict(data, codec)
        if text is not None and (codec == "utf-8" or _plausibility(text, codec) >= _PLAUSIBLE):
            return text, codec
    elif codec is not None and not _looks_multibyte(data):
        # A single-byte label over bytes that look single-byte: nothing better to guess.
        return _decode_or_replace(data, codec), codec
    text = _strict(data, "utf-8")
    if text is not None:
        return text, "utf-8"
    return _detect(data, codec)


def _strict(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except (UnicodeError, LookupError):
        return None


def _decode_or_replace(data: bytes, codec: str) -> str:
    try:
        return data.decode(codec, "replace")
    except (UnicodeError, LookupError):
        return data.decode("cp1252", "replace")


def _looks_multibyte(data: bytes) -> bool:
    """True when most high bytes come in pairs, as in GB, Big5, EUC-KR and Shift_JIS text."""
    sample = data[:_SAMPLE_BYTES]
    # Runs, not single bytes: a list of 4,000 one-byte matches cost 50 us a message.
    runs = _HIGH_RUN.findall(sample)
    high = sum(map(len, runs))
    paired = 2 * sum(len(run) // 2 for run in runs)  # a run of n high bytes holds n // 2 pairs
    # Big5 and Shift_JIS trail bytes may be ASCII, so dense high bytes count too; Latin text
    # has a few accented letters between plain ones (under 15% even in French or German).
    return high >= 4 and (paired >= 0.6 * high or high >= 0.3 * len(sample))


def _detect(data: bytes, declared: str | None) -> tuple[str, str]:
    # The label of the text when it names a single-byte charset (windows-1251, ISO-8859-7, ...).
    single_byte = (
        declared if declared not in _CJK_CODECS and declared not in (None, "utf-8") else None
    )
    if not _looks_multibyte(data):
        codec = single_byte or "cp1252"
        return _decode_or_replace(data, codec), codec
    # Judged from the first high byte on (a lead byte: the start of a character), not from the
    # start: an English letter whose Thai or Hebrew comes after 1,500 characters of ASCII
    # would otherwise show no CJK character to judge, and every codec would seem plausible.
    first_high = _HIGH_RUN.search(data)
    start = first_high.start() if first_high else 0
    sample = data[start : start + _SAMPLE_BYTES]
    # Under a single-byte label, even a few CJK characters are judged: a short Russian,
    # Hebrew or Thai subject ("В аренду офис" in windows-1251) read as GB18030 gives a few
    # rare Han characters, which would otherwise be too few to judge and win by default.
    # Genuine Chinese under a wrong label is mostly common characters, however short.
    minimum = 1 if single_byte else _MIN_CJK_SAMPLE
    best, best_score = "gb18030", -1.0
    for codec in _CANDIDATES:
        score = _plausibility(sample.decode(codec, "replace"), codec, minimum)
        # The sender's label breaks near-ties: it is right more often than not.
        score += _LABEL_BONUS if codec == declared else 0.0
        if score > best_score:
            best, best_score = codec, score
    if best_score < _IMPLAUSIBLE and single_byte:
        # A single-byte label over text that no CJK codec reads: the label was right.
        return _decode_or_replace(data, single_byte), single_byte
    return data.decode(best, "replace"), best


def _plausibility(text: str, codec: str, minimum: int = _MIN_CJK_SAMPLE) -> float:
    """Share of the CJK characters in ``text`` that are common for the codec's language.

    A replacement character counts against the codec. Text with fewer than ``minimum`` CJK
    characters, too few to judge, scores 1.0 (plausible).
    """
    # In NumPy: a Chinese message without a charset label is scored for five codecs, and
    # counting 1,500 characters in Python each time cost a tenth of classify() on trec06c.
    codes = np.frombuffer(
        text[:_SAMPLE_CHARS].encode("utf-32-le", "surrogatepass"), dtype=np.uint32
    )
    # NumPy's functions, not the operators (>=, <, ==): atheris's comparison hook, which the
    # fuzz target puts on every comparison in spamclf, leaked about 6 KB per message on
    # array operators (benchmarks/fuzzing.md).
    wide = codes[np.greater_equal(codes, _FIRST_WIDE)]
    if len(wide) < minimum:
        return 1.0
    common = int(np.count_nonzero(_common_table(codec)[wide[np.less(wide, 0x10000)]]))
    good = common - 2 * int(np.count_nonzero(np.equal(wide, 0xFFFD)))
    return good / len(wide)


@cache
def _common_table(codec: str) -> np.ndarray:
    """The codec's common characters as a lookup table over the Basic Multilingual Plane."""
    table = np.zeros(0x10000, dtype=bool)
    table[[ord(char) for char in _COMMON_FOR.get(codec, _COMMON_CHINESE)]] = True
    return table
