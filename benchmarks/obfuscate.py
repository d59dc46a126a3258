"""Seeded obfuscations of spam messages, as spammers apply them to dodge tokenizers.

Each obfuscation rewrites the text parts (text/plain, text/html, and the "multipart" leaves whose
boundary never appears, which trec06c reads as text) of one raw message and re-encodes them:
same transfer encoding as before (base64, quoted-printable or raw), same charset label when that
charset can encode the new text (GB labels are written as GB18030, which encodes every Unicode
character and which every GB decoder reads), else UTF-8, as a spammer would have to. Headers, other
parts and the MIME layout stay as they were. A part whose bytes do not decode strictly under its
label is left alone (it is counted: see :func:`obfuscate`'s return value).

The randomness (which letter, where) comes from ``random.Random`` seeded with the seed, the
obfuscation's name and a digest of the message, so a run is reproducible message by message.

This module depends on the standard library and on :func:`spamclf.charsets.decode` (to guess
the codec of undeclared 8-bit text), which the code before and after the normalization change
share, so both see byte-identical obfuscated messages.
"""

from __future__ import annotations

import base64
import binascii
import email
import email.generator
import email.message
import email.policy
import hashlib
import html
import io
import quopri
import random
import re
from collections.abc import Callable, Sequence

__all__ = ["HTML_OBFUSCATIONS", "OBFUSCATIONS", "obfuscate", "part_texts"]

_HAN = "\u4e00-\u9fff\u3400-\u4dbf"
# Runs of letters (any script but Han) and runs of Han: what a tokenizer reads as words.
_WORD = re.compile(rf"[^\W\d_{_HAN}]{{3,}}|[{_HAN}]{{2,}}")
_URL = re.compile(r"((?:https?://|www\.)[^\s<>\"'()]+)", re.I)
# What must not be rewritten in HTML: tags, comments, script and style blocks, entities, URLs.
_HTML_PROTECTED = re.compile(
    r"(<(script|style)\b.*?</\2\s*>|<!--.*?-->|<[^>]*>|&#?\w+;|(?:https?://|www\.)[^\s<>\"']+)",
    re.I | re.S,
)
_HOST = re.compile(r"^((?:[a-z]+://)?(?:[^@/]*@)?)([^/:?#\s]+)", re.I)
_HREF = re.compile(r"""((?:href|src|action)\s*=\s*["']?)([^"'\s>]+)""", re.I)
_BODY_END = re.compile(r"</body\s*>", re.I)
_BLOCK_END = re.compile(r"</(?:p|div|td|tr|table|li|h\d)\s*>|<br\s*/?>", re.I)

ZERO_WIDTH = ("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff")
SOFT_HYPHEN = "\u00ad"
# Latin letters and the Cyrillic or Greek letters that render the same (Unicode TR39 confusables).
HOMOGLYPHS = {
    "a": "\u0430", "c": "\u0441", "e": "\u0435", "o": "\u043e", "p": "\u0440", "x": "\u0445",
    "y": "\u0443", "i": "\u0456", "s": "\u0455", "j": "\u0458", "v": "\u03bd", "h": "\u04bb",
    "A": "\u0410", "B": "\u0412", "C": "\u0421", "E": "\u0415", "H": "\u041d", "K": "\u041a",
    "M": "\u041c", "O": "\u041e", "P": "\u0420", "T": "\u0422", "X": "\u0425", "Y": "\u04ae",
}  # fmt: skip
_HIDING_STYLES = (
    "display:none",
    "visibility:hidden",
    "font-size:0px",
    "color:#ffffff;background-color:#ffffff",
)
_EMPTY_TAGS = ("<b></b>", "<i></i>", "<span></span>", '<font color="#000000"></font>')


def _split_points(word: str, rng: random.Random) -> list[int]:
    """Where to cut a word: one inner point in a Latin word, every second character in Han."""
    if "\u4e00" <= word[0] <= "\u9fff" or "\u3400" <= word[0] <= "\u4dbf":
        return list(range(2, len(word), 2))
    return [rng.randrange(1, len(word))]


def _insert(word: str, points: list[int], make: Callable[[], str]) -> str:
    pieces, last = [], 0
    for point in points:
        pieces += [word[last:point], make()]
        last = point
    return "".join([*pieces, word[last:]])


def _splitter(make: Callable[[random.Random, bool], str]) -> Callable[..., str]:
    def apply(text: str, rng: random.Random, is_html: bool) -> str:
        return _WORD.sub(
            lambda m: _insert(m.group(), _split_points(m.group(), rng), lambda: make(rng, is_html)),
            text,
        )

    return apply


def _zero_width(rng: random.Random, is_html: bool) -> str:
    char = rng.choice(ZERO_WIDTH)
    return f"&#{ord(char)};" if is_html and rng.random() < 0.5 else char


def _soft_hyphen(rng: random.Random, is_html: bool) -> str:
    return "&shy;" if is_html else SOFT_HYPHEN


def _comment(rng: random.Random, is_html: bool) -> str:
    return f"<!-- {''.join(rng.choices('abcdefghijklmnopqrstuvwxyz', k=5))} -->"


def _empty_tag(rng: random.Random, is_html: bool) -> str:
    return rng.choice(_EMPTY_TAGS)


def _full_width(text: str, rng: random.Random, is_html: bool) -> str:
    return "".join(chr(ord(ch) + 0xFEE0) if ch.isascii() and ch.isalnum() else ch for ch in text)


def _homoglyph_word(word: str, rng: random.Random) -> str:
    spots = [i for i, ch in enumerate(word) if ch in HOMOGLYPHS]
    if not spots:
        return word
    chosen = {i for i in spots if rng.random() < 0.5} or {rng.choice(spots)}
    return "".join(HOMOGLYPHS[ch] if i in chosen else ch for i, ch in enumerate(word))


def _homoglyph(text: str, rng: random.Random, is_html: bool) -> str:
    return _WORD.sub(lambda m: _homoglyph_word(m.group(), rng), text)


def _entities(text: str, rng: random.Random, is_html: bool) -> str:
    """Half the letters of each word as numeric character references (HTML only)."""

    def word(match: re.Match[str]) -> str:
        return "".join(f"&#{ord(ch)};" if rng.random() < 0.5 else ch for ch in match.group())

    return _WORD.sub(word, text) if is_html else text


# What Chinese and Korean spam writes between the characters of a word it spells out.
SPACING_FILLERS = ("*", ".", "-", "★", " ")


def _spaced(text: str, rng: random.Random, is_html: bool) -> str:
    """Every Han word spelled one character at a time, one filler between (代*开*发*票, 联 系 人),
    the filler drawn for each word; Latin words stay."""

    def word(match: re.Match[str]) -> str:
        letters = match.group()
        if not ("\u4e00" <= letters[0] <= "\u9fff" or "\u3400" <= letters[0] <= "\u4dbf"):
            return letters
        return rng.choice(SPACING_FILLERS).join(letters)

    return _WORD.sub(word, text)


TextRewrite = Callable[[str, random.Random, bool], str]

# Rewrites of the words of a text (never inside tags, entities or URLs).
_WORD_REWRITES: dict[str, TextRewrite] = {
    "zero-width": _splitter(_zero_width),
    "soft-hyphen": _splitter(_soft_hyphen),
    "full-width": _full_width,
    "homoglyph": _homoglyph,
    "html-comment": _splitter(_comment),
    "tag-split": _splitter(_empty_tag),
    "html-entities": _entities,
    "cjk-spaced": _spaced,
}
# Obfuscations that need HTML: their messages' plain text parts are first rewritten as HTML
# (escaped, one <br> per line), so that every spam carries them, not only the HTML ones.
HTML_OBFUSCATIONS = frozenset(
    {"as-html", "html-comment", "tag-split", "html-entities", "hidden-filler"}
)
OBFUSCATIONS = (
    "reencoded",
    "as-html",
    "zero-width",
    "soft-hyphen",
    "full-width",
    "homoglyph",
    "html-comment",
    "tag-split",
    "html-entities",
    "hidden-filler",
    "punycode-host",
    "cjk-spaced",
)


def _map_free_text(text: str, is_html: bool, rewrite: Callable[[str], str]) -> str:
    """Apply ``rewrite`` to the text outside tags, entities and URLs."""
    protected = _HTML_PROTECTED if is_html else _URL
    pieces = protected.split(text)
    out = []
    # split() with groups interleaves free text, then every group of the match.
    step = 3 if is_html else 2
    for i in range(0, len(pieces), step):
        out.append(rewrite(pieces[i]))
        if i + 1 < len(pieces):
            out.append(pieces[i + 1])
    return "".join(out)


def _spoof_host(host: str, rng: random.Random) -> str:
    """One Latin letter of each label that has a twin swapped for it, written as punycode."""
    labels = []
    for label in host.split("."):
        lowered = label.lower()
        spots = [i for i, ch in enumerate(lowered) if ch in HOMOGLYPHS]
        if not spots or lowered.startswith("xn--") or not lowered.isascii():
            labels.append(label)
            continue
        i = rng.choice(spots)
        spoofed = lowered[:i] + HOMOGLYPHS[lowered[i]] + lowered[i + 1 :]
        labels.append("xn--" + spoofed.encode("punycode").decode("ascii"))
    # The last label is the TLD: spoofing it would leave no valid domain, so it stays.
    return ".".join([*labels[:-1], host.split(".")[-1]]) if len(labels) > 1 else host


def _spoof_url(url: str, rng: random.Random) -> str:
    match = _HOST.match(url)
    if not match or re.fullmatch(r"[\d.]+", match.group(2)):
        return url
    return match.group(1) + _spoof_host(match.group(2), rng) + url[match.end() :]


def _punycode_hosts(text: str, rng: random.Random, is_html: bool) -> str:
    text = _URL.sub(lambda m: _spoof_url(m.group(), rng), text)
    if is_html:
        text = _HREF.sub(lambda m: m.group(1) + _spoof_url(m.group(2), rng), text)
    return text


def _to_html(text: str) -> str:
    lines = html.escape(text, quote=False).split("\n")
    return "<html><body>\n" + "<br>\n".join(lines) + "\n</body></html>\n"


def _hide(filler: str, rng: random.Random) -> str:
    return f'<div style="{rng.choice(_HIDING_STYLES)}">{html.escape(filler)}</div>'


def _hidden_filler(text: str, rng: random.Random, fillers: Sequence[str]) -> str:
    """Three hidden blocks of ham text: one at the top, one between blocks, one at the end."""
    blocks = [_hide(rng.choice(fillers), rng) for _ in range(3)]
    ends = [m.end() for m in _BLOCK_END.finditer(text)]
    middle = rng.choice(ends) if ends else len(text) // 2
    body_end = _BODY_END.search(text)
    end = body_end.start() if body_end else len(text)
    start = text.lower().find("<body")
    start = text.find(">", start) + 1 if start >= 0 else 0
    cuts = sorted({start, middle, end})
    pieces, last = [], 0
    for cut, block in zip(cuts, blocks, strict=False):
        pieces += [text[last:cut], block]
        last = cut
    return "".join([*pieces, text[last:]])


def rewrite_text(
    text: str, is_html: bool, name: str, rng: random.Random, fillers: Sequence[str]
) -> str:
    """One text part's text, obfuscated."""
    if name in _WORD_REWRITES:
        rewrite = _WORD_REWRITES[name]
        return _map_free_text(text, is_html, lambda t: rewrite(t, rng, is_html))
    if name == "punycode-host":
        return _punycode_hosts(text, rng, is_html)
    if name == "hidden-filler" and is_html:
        return _hidden_filler(text, rng, fillers)
    return text  # reencoded, as-html


# --- reading and writing a part's text ----------------------------------------------------

_GB_LABELS = frozenset({"gb2312", "gbk", "gb18030", "x-gbk", "cp936", "euc-cn", "x-euc-cn"})
_LATIN_LABELS = frozenset({"us-ascii", "ascii", "iso-8859-1", "latin1", "latin-1", "iso8859-1"})


def _codec(label: str | None, data: bytes) -> str | None:
    """The codec to read a part with (a superset of its label), or ``None`` to leave it."""
    if label is None:
        if data.isascii():
            return "ascii"
        # Undeclared 8-bit text: the codec spamclf's charset detection finds (GB, Shift_JIS,
        # EUC-KR, ...); charsets.py is the same before and after the normalization change.
        from spamclf.charsets import decode

        return decode(data)[1]
    label = label.lower().strip("\"' ")
    if label in _GB_LABELS:
        return "gb18030"
    if label in _LATIN_LABELS:
        return "cp1252" if not data.isascii() else "ascii"
    try:
        return __import__("codecs").lookup(label).name
    except LookupError:
        return None


def _looks_base64(raw: bytes) -> bool:
    sample = raw[:2000]
    return sample.isascii() and len(re.findall(rb"(?<=\S)[ \t]+(?=\S)", sample)) < 3


def _decoded_bytes(part: email.message.Message) -> tuple[bytes, str | None]:
    """The part's bytes after its transfer encoding, and that encoding (base64, qp or None)."""
    # The stored payload: get_payload() would decode 8-bit text with the label, lossily.
    payload = part._payload  # type: ignore[attr-defined]
    raw = payload.encode("utf-8", "surrogateescape") if isinstance(payload, str) else b""
    encoding = str(part.get("content-transfer-encoding") or "").strip().lower()
    if encoding == "base64" and _looks_base64(raw):
        try:
            return base64.b64decode(raw, validate=False), "base64"
        except (binascii.Error, ValueError):
            return raw, None
    if encoding == "quoted-printable":
        return quopri.decodestring(raw), "quoted-printable"
    return raw, None


def _text_leaves(message: email.message.Message) -> list[email.message.Message]:
    leaves = []
    for part in message.walk():
        if isinstance(part.get_payload(), list):
            continue
        maintype = part.get_content_maintype()
        subtype = part.get_content_subtype()
        if part.get_filename() is None and (
            maintype == "multipart" or (maintype == "text" and subtype in ("plain", "html"))
        ):
            leaves.append(part)
    return leaves


def _read_part(part: email.message.Message) -> tuple[str, str, str | None] | None:
    data, encoding = _decoded_bytes(part)
    codec = _codec(part.get_content_charset(), data)
    if codec is None:
        return None
    try:
        # Stray bytes (a Big5 line in GB mail) pass through unchanged as surrogates.
        return data.decode(codec, "surrogateescape"), codec, encoding
    except (UnicodeDecodeError, LookupError):
        return None


def _write_part(
    part: email.message.Message, text: str, codec: str, encoding: str | None, as_html: bool
) -> None:
    try:
        data = text.encode(codec, "surrogateescape")
    except UnicodeEncodeError:
        codec, data = "utf-8", text.encode("utf-8", "surrogateescape")
        part.set_param("charset", "utf-8")
    if as_html:
        part.set_type("text/html")
    del part["content-transfer-encoding"]
    if encoding == "base64":
        part["Content-Transfer-Encoding"] = "base64"
        payload = base64.encodebytes(data).decode("ascii")
    elif encoding == "quoted-printable":
        part["Content-Transfer-Encoding"] = "quoted-printable"
        payload = quopri.encodestring(data).decode("ascii")
    else:
        if not data.isascii():
            part["Content-Transfer-Encoding"] = "8bit"
        payload = data.decode("ascii", "surrogateescape")
    # Stored as is: set_payload() and get_payload() would re-encode 8-bit text by the label.
    part._payload = payload  # type: ignore[attr-defined]


class _Generator(email.generator.BytesGenerator):
    """Writes a "multipart" whose boundary never appears as the text it is, byte for byte."""

    def _handle_multipart(self, msg: email.message.Message) -> None:
        if isinstance(msg._payload, str):  # type: ignore[attr-defined]
            self._handle_text(msg)  # type: ignore[attr-defined]
        else:
            super()._handle_multipart(msg)  # type: ignore[misc]


def part_texts(raw: bytes) -> list[str]:
    """The decoded text of every text part of a message (for filler pools)."""
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    texts = []
    for part in _text_leaves(message):
        read = _read_part(part)
        if read:
            texts.append(read[0])
    return texts


def obfuscate(raw: bytes, name: str, seed: int, fillers: Sequence[str] = ()) -> tuple[bytes, int]:
    """``raw`` with obfuscation ``name`` applied, and how many text parts were rewritten.

    ``fillers`` are the ham texts that ``hidden-filler`` hides in the message.
    """
    if name not in OBFUSCATIONS:
        raise ValueError(f"unknown obfuscation {name!r}; known: {', '.join(OBFUSCATIONS)}")
    digest = hashlib.sha256(raw).hexdigest()[:16]
    rng = random.Random(f"{seed}:{name}:{digest}")
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    rewritten = 0
    for part in _text_leaves(message):
        read = _read_part(part)
        if read is None:
            continue
        text, codec, encoding = read
        is_html = part.get_content_subtype() == "html" or "<html" in text[:1000].lower()
        to_html = name in HTML_OBFUSCATIONS and not is_html
        if to_html:
            text, is_html = _to_html(text), True
        new = rewrite_text(text, is_html, name, rng, fillers)
        _write_part(part, new, codec, encoding, to_html)
        rewritten += 1
    out = io.BytesIO()
    generator = _Generator(out, mangle_from_=False, policy=email.policy.compat32)
    try:
        generator.flatten(message)
    except (UnicodeError, ValueError, TypeError, LookupError):
        return raw, 0
    return out.getvalue(), rewritten


def ham_fillers(texts: Sequence[str], rng: random.Random, count: int = 300) -> list[str]:
    """Excerpts of ham text (60 words, or 150 characters of Chinese) to hide in spam."""
    fillers = []
    clean = [re.sub(r"<[^>]*>|&#?\w+;", " ", t) for t in texts]
    clean = [" ".join(t.split()) for t in clean if len(t.split()) >= 5]
    for text in rng.sample(clean, min(count, len(clean))):
        if len(re.findall(f"[{_HAN}]", text)) > len(text) // 3:
            start = rng.randrange(max(1, len(text) - 150))
            fillers.append(text[start : start + 150])
        else:
            words = text.split()
            start = rng.randrange(max(1, len(words) - 60))
            fillers.append(" ".join(words[start : start + 60]))
    return fillers
