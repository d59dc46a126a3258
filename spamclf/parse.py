"""Raw message bytes to a :class:`ParsedMessage`: decoded headers, body text, MIME structure.

Real mail lies about itself, so the parser trusts what the bytes show over what the headers
claim: a part labelled base64 that holds raw 8-bit text is read raw (2,618 trec06c test messages
do this), a multipart boundary that never appears leaves the whole body as text (4,040 do that),
and every charset goes through :func:`spamclf.charsets.decode`. Nothing here raises on bad input:
what cannot be read is recorded in ``defects`` and becomes a feature.
"""

from __future__ import annotations

import binascii
import email.errors
import email.header
import email.message
import email.parser
import email.policy
import re
from dataclasses import dataclass, field

from spamclf.charsets import decode
from spamclf.htmltext import HtmlSummary, summarize_html

__all__ = ["Limits", "ParsedMessage", "Part", "parse_bytes"]

_WS = re.compile(r"\s+")
# What the stdlib email package raises on hostile input, found by fuzzing: it is lenient about
# structure but not about every header value, encoded word or payload it decodes lazily.
_STDLIB_FAILURES = (
    ValueError,
    TypeError,
    IndexError,
    LookupError,
    AttributeError,
    AssertionError,
    UnicodeError,
    binascii.Error,
    email.errors.MessageError,
)
_NOT_BASE64 = re.compile(rb"[^A-Za-z0-9+/=\s]")
_HIGH_BYTE = re.compile(rb"[\x80-\xff]")
_INNER_SPACE = re.compile(rb"(?<=\S)[ \t]+(?=\S)")


@dataclass(frozen=True)
class Limits:
    """Caps that keep hostile messages cheap; what is cut off is not scored.

    Spam content is near the top of a message; past the first megabyte there are attachments
    whose bytes a word-based filter cannot use anyway.
    """

    max_message_bytes: int = 1_000_000
    max_parts: int = 100
    max_part_bytes: int = 500_000
    max_text_chars: int = 100_000
    max_headers: int = 500


@dataclass(frozen=True)
class Part:
    """One leaf of the MIME tree."""

    content_type: str
    charset: str | None
    codec: str | None
    filename: str | None
    size: int
    transfer_encoding: str | None


@dataclass(frozen=True)
class ParsedMessage:
    """A message as the feature extractors see it. Header names are lower case."""

    headers: tuple[tuple[str, str], ...]
    raw_headers: tuple[tuple[str, str], ...]
    text: str
    html: HtmlSummary | None
    parts: tuple[Part, ...]
    size: int
    defects: tuple[str, ...] = field(default=())

    def header(self, name: str) -> str | None:
        """The first decoded value of header ``name`` (case-insensitive), or ``None``."""
        name = name.lower()
        return next((value for key, value in self.headers if key == name), None)

    def headers_named(self, name: str, *, raw: bool = False) -> tuple[str, ...]:
        """Every value of header ``name``, top first; ``raw`` skips RFC 2047 decoding."""
        name = name.lower()
        source = self.raw_headers if raw else self.headers
        return tuple(value for key, value in source if key == name)

    @property
    def subject(self) -> str:
        return self.header("subject") or ""


def parse_bytes(data: bytes, limits: Limits | None = None) -> ParsedMessage:
    """Parse raw RFC 822 bytes. Never raises on malformed input.

    >>> msg = parse_bytes(b"Subject: =?gb2312?B?w+K30Q==?=\\n\\nhello")
    >>> msg.subject, msg.text
    ('免费', 'hello')
    """
    limits = limits or Limits()
    size = len(data)
    defects: list[str] = []
    if size > limits.max_message_bytes:
        data = data[: limits.max_message_bytes]
        defects.append("message_truncated")
    try:
        message = email.parser.BytesParser(policy=email.policy.compat32).parsebytes(data)
    except (RecursionError, *_STDLIB_FAILURES) as exc:
        # RecursionError: the stdlib parser recurses once per MIME level (1,000 levels do it).
        defects.append(f"unparseable:{type(exc).__name__}")
        return _unparsed(data, size, defects)
    raw_headers = tuple(
        (name.lower(), _unfold(value))
        for name, value in list(message.raw_items())[: limits.max_headers]
    )
    walker = _BodyWalker(limits, defects)
    try:
        walker.visit(message, depth=0)
    except RecursionError:
        defects.append("mime_too_deep")
    except _STDLIB_FAILURES as exc:
        # What was read before the failure stays; the failure itself becomes a clue.
        defects.append(f"unparseable_part:{type(exc).__name__}")
    hint = next((p.codec for p in walker.parts if p.codec and p.codec != "ascii"), None)
    headers = tuple((name, decode_header(value, hint)) for name, value in raw_headers)
    text = "\n".join(walker.texts)[: limits.max_text_chars]
    html = _merge_html(walker.htmls)
    return ParsedMessage(
        headers, raw_headers, text, html, tuple(walker.parts), size, tuple(defects)
    )


def decode_header(value: str, hint: str | None = None) -> str:
    """Decode RFC 2047 words and raw 8-bit bytes in a header value.

    ``hint`` is the body's charset: unlabelled 8-bit headers usually share it.
    """
    if "=?" in value:
        try:
            chunks = email.header.decode_header(value)
        except _STDLIB_FAILURES:
            chunks = [(value, None)]
        pieces = []
        for chunk, charset in chunks:
            if isinstance(chunk, str):
                pieces.append(_decode_8bit(chunk, hint))
            else:
                pieces.append(decode(chunk, charset or hint)[0])
        value = "".join(pieces)
    else:
        value = _decode_8bit(value, hint)
    return _WS.sub(" ", value).strip()


def _decode_8bit(value: str, hint: str | None) -> str:
    if value.isascii():
        return value
    return decode(_original_bytes(value), hint)[0]


def _original_bytes(value: str) -> bytes:
    """The bytes behind a string the stdlib parser made with ``surrogateescape``."""
    try:
        return value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a lone surrogate that did not come from a byte
        return value.encode("utf-8", "replace")


def _unfold(value: str) -> str:
    return _WS.sub(" ", value).strip() if ("\n" in value or "\r" in value) else value.strip()


class _BodyWalker:
    """Collects text, HTML and leaf parts of a MIME tree, within the limits."""

    def __init__(self, limits: Limits, defects: list[str]) -> None:
        self.limits = limits
        self.defects = defects
        self.parts: list[Part] = []
        self.texts: list[str] = []
        self.htmls: list[HtmlSummary] = []

    def visit(self, part: email.message.Message, depth: int) -> None:
        if len(self.parts) >= self.limits.max_parts:
            if "too_many_parts" not in self.defects:
                self.defects.append("too_many_parts")
            return
        try:
            payload = part.get_payload()
        except _STDLIB_FAILURES:
            # get_payload() decodes 8-bit text with the part's charset label, and some labels
            # (idna, punycode) raise; the stored payload is what it would have returned.
            payload = part._payload  # type: ignore[attr-defined]
        if isinstance(payload, list):
            self.defects.extend(type(d).__name__ for d in part.defects)
            for child in payload:
                if isinstance(child, email.message.Message):
                    self.visit(child, depth + 1)
            return
        self._leaf(part, payload if isinstance(payload, str) else "")

    def _leaf(self, part: email.message.Message, payload: str) -> None:
        content_type = part.get_content_type()
        charset = _param(part, "charset")
        # compat32 returns a Header object, not a str, for a value with 8-bit bytes.
        encoding = str(part.get("content-transfer-encoding") or "").strip().lower() or None
        data = _payload_bytes(part, payload, encoding)[: self.limits.max_part_bytes]
        # Decoding the payload is what finds bad base64: collect the defects afterwards.
        self.defects.extend(type(d).__name__ for d in part.defects)
        filename = _filename(part)
        maintype = content_type.split("/")[0]
        # A multipart whose boundary never appears arrives here as one leaf: read it as text.
        is_text = filename is None and maintype in ("text", "multipart", "message")
        codec = None
        if is_text:
            text, codec = decode(data, charset)
            if content_type == "text/html" or _looks_like_html(text):
                summary = summarize_html(text)
                self.htmls.append(summary)
                text = summary.text
            self.texts.append(text)
        self.parts.append(Part(content_type, charset, codec, filename, len(data), encoding))


def _payload_bytes(part: email.message.Message, payload: str, encoding: str | None) -> bytes:
    raw = _original_bytes(payload)
    if encoding == "base64" and _not_base64(raw[:2000]):
        # Declared base64 but holding raw text (already decoded by an earlier gateway).
        return raw
    try:
        decoded = part.get_payload(decode=True)
    except _STDLIB_FAILURES:
        return raw
    return decoded if isinstance(decoded, bytes) else raw


def _not_base64(sample: bytes) -> bool:
    """True for text under a base64 label, false for base64 with a few corrupted characters.

    Text has 8-bit bytes (raw GB or EUC-KR) or spaces between words; base64 lines have neither.
    """
    size = max(len(sample), 1)
    if len(_HIGH_BYTE.findall(sample)) > 0.01 * size:
        return True
    foreign = len(_NOT_BASE64.findall(sample)) + len(_INNER_SPACE.findall(sample))
    return foreign > 0.15 * size


def _param(part: email.message.Message, name: str) -> str | None:
    try:
        value = part.get_param(name)
    except _STDLIB_FAILURES:
        return None
    if isinstance(value, tuple):  # RFC 2231 (charset, language, value)
        value = value[2]
    return str(value) if value else None


def _filename(part: email.message.Message) -> str | None:
    try:
        name = part.get_filename()
    except _STDLIB_FAILURES:
        return None
    return decode_header(name) if name else None


def _looks_like_html(text: str) -> bool:
    head = text[:1000].lower()
    return "<html" in head or "<body" in head or "<br" in head or "<p>" in head


def _merge_html(summaries: list[HtmlSummary]) -> HtmlSummary | None:
    if not summaries:
        return None
    if len(summaries) == 1:
        return summaries[0]
    return HtmlSummary(
        text="\n".join(s.text for s in summaries),
        links=tuple(link for s in summaries for link in s.links),
        tags=frozenset().union(*(s.tags for s in summaries)),
        images=sum(s.images for s in summaries),
        comments=sum(s.comments for s in summaries),
        hidden_styles=sum(s.hidden_styles for s in summaries),
        hidden_chars=sum(s.hidden_chars for s in summaries),
    )


def _unparsed(data: bytes, size: int, defects: list[str]) -> ParsedMessage:
    text, codec = decode(data)
    part = Part("text/plain", None, codec, None, len(data), None)
    return ParsedMessage((), (), text, None, (part,), size, tuple(defects))
