"""Raw message bytes to a :class:`ParsedMessage`: decoded headers, body text, MIME structure.

Real mail lies about itself, so the parser trusts what the bytes show over what the headers
claim: a part labelled base64 that holds raw 8-bit text is read raw (2,618 trec06c test messages
do this), a multipart boundary that never appears leaves the whole body as text (4,040 do that),
and every charset goes through :func:`spamclf.charsets.decode`. Nothing here raises on bad input:
what cannot be read is recorded in ``defects`` and becomes a feature.
"""

from __future__ import annotations

import binascii
import codecs
import email.errors
import email.feedparser
import email.header
import email.message
import email.parser
import email.policy
import itertools
import re
from dataclasses import dataclass, field
from functools import cached_property

from spamclf.budget import clock
from spamclf.charsets import decode, normalize_charset
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
_ASCII_BYTES = bytes(range(128))
_ENCODED = ("base64", "quoted-printable")
_SPACED_SOFT_BREAK = re.compile(r"=[ \t]+(?=\r?\n|\Z)")
_BASE64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_NOT_BASE64_ALPHABET = bytes(sorted(set(range(256)) - set(_BASE64_ALPHABET)))
_BASE64_TEXT = _BASE64_ALPHABET + b"= \t\r\n"
# Padded chunks decoded one by one, at most: 5 ms of work. Past them the rest is dropped, as
# the stdlib drops all that follows the first padding.
_MAX_BASE64_CHUNKS = 10_000
# The base64 lines that open a part, before a footer that a list or gateway appended.
_BASE64_LINES = re.compile(rb"(?:[ \t]*[A-Za-z0-9+/]+=*[ \t]*\r?\n)+")
_LONG_BASE64_LINE = re.compile(rb"^[ \t]*[A-Za-z0-9+/]{16,}={0,2}[ \t]*\r?$", re.MULTILINE)
# An encoded word as email.header finds it (its ecre pattern).
_ENCODED_WORD = re.compile(r"=\?[^?]*?\?[qQbB]\?.*?\?=")
# An encoded word cut off at the end of a header, with no closing "?=": archives and mailing
# lists truncate long subjects (trec06c has hundreds), and the stdlib then keeps the base64.
_UNCLOSED_WORD = re.compile(r"=\?[^?\s]+\?([bBqQ])\?([^?\s]*)$")
_INNER_SPACE = re.compile(rb"(?<=\S)[ \t]+(?=\S)")
# The header that must open what follows the junk _unwrap skips: a known one, since text
# that does not start with a header block is a body whatever its first line says.
_KNOWN_NAMES = (
    rb"(?:received|return-path|delivered-to|x-[a-z0-9-]+|from|to|date|subject|message-id"
    rb"|mime-version|reply-to|sender|envelope-to|content-type|dkim-signature"
    rb"|authentication-results|arc-[a-z-]+)"
)
_KNOWN_HEADER = re.compile(_KNOWN_NAMES + rb":", re.IGNORECASE)
# A header line with white space before its colon (an RFC 5322 obs-optional field name), of
# the fields a header block opens with or a mailer writes (cc, content-transfer-encoding).
_SPACED_COLON = re.compile(
    rb"^(" + _KNOWN_NAMES + rb"|cc|content-[a-z-]+)[ \t]+:", re.MULTILINE | re.IGNORECASE
)
# A character of a header field's name: printable ASCII but the colon (RFC 5322 section 3.6.8).
# The readers that tell a header line from anything else (here, corpora, inputs, stored) share it.
FIELD_NAME_CHAR = rb"[!-9;-~]"
# A header line, or the continuation of one.
_HEADER_OR_FOLD = re.compile(FIELD_NAME_CHAR + rb"+:|[ \t]")
_BLANK_LINE = re.compile(rb"\n\r?\n")
_EMLX_COUNT = re.compile(rb"(\d{1,9})[ \t]*\r?\n")
_META_CHARSET = re.compile(
    rb"<meta\s[^<>]{0,1024}?charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:-]{1,40})", re.IGNORECASE
)
# Whole tags, not a bare "<br": that also opens an address (<brian@example.org>), and a plain
# part taken for HTML lost every <...> in it, <http://...> links included.
_HTML_TAG = re.compile(r"<(?:html|body)[\s>]|<(?:br|p)(?:\s[^<>@]*)?/?>", re.IGNORECASE)
# The stdlib parser is fed this many characters at a time (as its own BytesParser feeds it),
# and stops being fed once it has made _MESSAGES_PER_PART messages (leaves, multiparts, forwarded
# messages) for each part that Limits.max_parts lets the walker read: see _parse.
_FEED_CHARS = 8192
_MESSAGES_PER_PART = 4
# A file written into a text part, as mailers before MIME sent attachments and Usenet posters
# still do. Uuencoded: its "begin" line (mode and name), its encoded lines (each a length
# character and up to 60 characters, all between " " and "`"), the empty line that closes the
# data and "end" (the last line cut and the two after it missing where the message was cut
# short). yEnc: its "=ybegin" line (the name last), a "=ypart" line where the file is one of
# several posts, its lines of 8-bit bytes, and "=yend". The uuencoded name keeps the spaces
# after it, which the reader strips: with them matched apart, the spaces after "begin 644 "
# could be split among three runs every way (10,000 spaces: 0.36 s; 100,000 ran for minutes).
_ENCODED_FILE = re.compile(
    rb"^begin[ \t]+[0-7]{3,4}[ \t]++(?P<uuname>[^\r\n]*+)\r?\n"
    rb"(?P<uudata>(?:[!-`][ -`]*(?:\r?\n|\Z))+)"
    rb"(?:[ `]?[ \t]*\r?\n)?(?:end[ \t]*(?:\r?\n|\Z))?"
    rb"|^=ybegin[ \t][^\r\n]*?\bname=(?P<yname>[^\r\n]*)\r?\n"
    rb"(?:=ypart[ \t][^\r\n]*\r?\n)?"
    rb"(?P<ydata>(?:(?!=yend)[^\r\n]+(?:\r?\n|\Z)|\r?\n)*)"
    rb"(?:=yend[^\r\n]*(?:\r?\n|\Z))?",
    re.MULTILINE,
)


@dataclass(frozen=True)
class Limits:
    """Caps that keep hostile messages cheap; what is cut off is not scored.

    Spam content is near the top of a message; past the first megabyte there are attachments
    whose bytes a word-based filter cannot use anyway. Every cap that a message hits becomes a
    feature (``limit:parts``, ``limit:time``, ...), and the message is still scored on what was
    read within the caps. ``benchmarks/hostile.md`` measures the bounds they give.

    - ``max_message_bytes``: bytes read; the rest of the message is never looked at (a path is
      not even read past it).
    - ``max_depth``: MIME nesting; deeper parts are skipped.
    - ``max_parts``, ``max_headers``: leaf parts and header fields read. The stdlib parser
      builds no more than four MIME parts (leaves, multiparts, forwarded messages) for each
      leaf read, so that a message of 100,000 tiny parts costs what its first ones do.
    - ``max_header_chars``: characters kept of one header field (after unfolding).
    - ``max_part_bytes``: decoded bytes of one part; a larger base64 or quoted-printable part is
      decoded only as far as needed, never whole.
    - ``max_text_chars``: characters of body text tokenized.
    - ``max_tokens``: body and URL tokens taken (the text cap alone keeps them under it by
      default; it binds when ``max_text_chars`` is raised).
    - ``max_seconds``: wall-clock budget for reading one message; past it no more parts are
      decoded and no more tokens taken, and the verdict comes from what was read. ``None``: no
      budget. It makes a verdict depend on the machine's load, so it is set far above the
      normal cost (a few milliseconds a message) and only stops pathological input. One-time
      loads (jieba's dictionary, on the first Chinese message) are not counted
      (:mod:`spamclf.budget`).
    """

    max_message_bytes: int = 1_000_000
    max_parts: int = 100
    max_part_bytes: int = 500_000
    max_text_chars: int = 100_000
    max_headers: int = 500
    max_depth: int = 30
    max_header_chars: int = 16_384
    max_tokens: int = 100_000
    max_seconds: float | None = 1.0

    def deadline(self) -> float | None:
        """The :func:`spamclf.budget.clock` time past which a message started now is over its
        budget."""
        return None if self.max_seconds is None else clock() + self.max_seconds


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
    limits_hit: tuple[str, ...] = field(default=())

    def header(self, name: str) -> str | None:
        """The first decoded value of header ``name`` (case-insensitive), or ``None``."""
        return self._first_values.get(name.lower())

    @cached_property
    def _first_values(self) -> dict[str, str]:
        # The extractors ask for a dozen headers; a scan of all of them per question cost more.
        first: dict[str, str] = {}
        for key, value in self.headers:
            first.setdefault(key, value)
        return first

    def headers_named(self, name: str, *, raw: bool = False) -> tuple[str, ...]:
        """Every value of header ``name``, top first; ``raw`` skips RFC 2047 decoding."""
        name = name.lower()
        source = self.raw_headers if raw else self.headers
        return tuple(value for key, value in source if key == name)

    @property
    def subject(self) -> str:
        return self.header("subject") or ""


def parse_bytes(
    data: bytes,
    limits: Limits | None = None,
    *,
    size: int | None = None,
    deadline: float | None = None,
) -> ParsedMessage:
    """Parse raw RFC 822 bytes. Never raises on malformed input.

    ``size`` is the message's full size when ``data`` is only its head (a file read up to
    ``limits.max_message_bytes``); ``deadline`` (a :func:`spamclf.budget.clock` value, by default
    ``limits.deadline()``) stops decoding further parts.

    >>> msg = parse_bytes(b"Subject: =?gb2312?B?w+K30Q==?=\\n\\nhello")
    >>> msg.subject, msg.text
    ('免费', 'hello')
    """
    limits = limits or Limits()
    deadline = limits.deadline() if deadline is None else deadline
    size = max(len(data), size or 0)
    defects: list[str] = []
    hit: list[str] = []
    if size > limits.max_message_bytes:
        data = data[: limits.max_message_bytes]
        hit.append("message_bytes")
    data = _unwrap(data)
    try:
        message = _parse(data, limits, hit)
    except RecursionError:
        # The stdlib parser recurses once per MIME level, and 1,000 levels exhaust Python's
        # stack: keep the headers (parsed alone, flat) and read the body as plain text.
        hit.append("depth")
        return _unparsed(data, size, defects, hit, limits)
    except _STDLIB_FAILURES as exc:
        defects.append(f"unparseable:{type(exc).__name__}")
        return _unparsed(data, size, defects, hit, limits)
    raw_headers = _raw_headers(message, limits, hit)
    walker = _BodyWalker(limits, defects, hit, deadline)
    try:
        walker.visit(message, depth=0)
    except RecursionError:
        _note(hit, "depth")
    except _STDLIB_FAILURES as exc:
        # What was read before the failure stays; the failure itself becomes a clue.
        defects.append(f"unparseable_part:{type(exc).__name__}")
    hint = _header_hint(walker.parts)
    headers = tuple((name, decode_header(value, hint)) for name, value in raw_headers)
    text = "\n".join(walker.texts)
    if len(text) > limits.max_text_chars:
        text = text[: limits.max_text_chars]
        hit.append("text")
    html = _merge_html(walker.htmls)
    return ParsedMessage(
        headers, raw_headers, text, html, tuple(walker.parts), size, tuple(defects), tuple(hit)
    )


def _unwrap(data: bytes) -> bytes:
    """The message in ``data``, from where its header block starts, past what files and forms
    put before it: a UTF-8 byte-order mark (a message saved by a Windows editor), blank lines
    or indentation (a message pasted into a form), or the byte count that opens an Apple Mail
    ``.emlx`` file, whose message then ends at that count, before Mail's property list; with
    CRLF line ends where every one became CR CR LF (a CRLF file written in text mode, which
    adds a CR), since the parser takes CR CR LF for a line and a blank line. Each hid the
    headers (all of them, or all after the first): the parser read them as body. Only where a
    known header follows.

    >>> _unwrap(b"\\xef\\xbb\\xbf\\r\\nFrom: a@example.com\\n\\nhi")
    b'From: a@example.com\\n\\nhi'
    >>> _unwrap(b"12\\nSubject: hi\\n<?xml version=")
    b'Subject: hi\\n'
    >>> _unwrap(b"\\nNote: a body, not a header\\n")
    b'\\nNote: a body, not a header\\n'
    """
    rest = data.removeprefix(codecs.BOM_UTF8).lstrip(b" \t\r\n")
    count = _EMLX_COUNT.match(rest)
    if count:
        rest = rest[count.end() :]
    if len(rest) < len(data) and _KNOWN_HEADER.match(rest):
        data = rest[: int(count.group(1))] if count else rest
    first_line_end = data.find(b"\n")
    if first_line_end >= 2 and data[first_line_end - 2 : first_line_end] == b"\r\r":
        data = data.replace(b"\r\r\n", b"\r\n")
    return data


def _parse(data: bytes, limits: Limits, hit: list[str]) -> email.message.Message:
    """The stdlib's parse of ``data``, with header lines written ``Subject : ...`` read, and no
    more of its MIME tree built than the walker can read.

    RFC 5322 section 4.5.3 keeps white space before the colon as obsolete syntax that must be
    read, and old spamware writes it; the stdlib parser ends the header block at such a line,
    so its Subject, From and Content-Type (and every header after it) were read as body. Only
    a message whose header block ended so is parsed again: looking at every one for such
    lines cost 2.0 us a message (3% of parsing a short one).
    """
    message = _feed(data, limits, hit)
    if any(isinstance(d, email.errors.MissingHeaderBodySeparatorDefect) for d in message.defects):
        closed = _close_spaced_colons(data)
        if closed is not data:
            message = _feed(closed, limits, hit)
    return message


def _feed(data: bytes, limits: Limits, hit: list[str]) -> email.message.Message:
    """``email.parser.BytesParser(policy=compat32).parsebytes(data)``, fed no further once it
    has made ``_MESSAGES_PER_PART * limits.max_parts`` messages (noted as ``parts``).

    The stdlib builds the whole tree before the walker reads its first ``max_parts`` leaves,
    at 10 us a part, and compiles a regex for each multipart's boundary (60 us each, past
    ``re``'s cache of 512). A megabyte of 140,000 tiny parts took 1.4 s, and one of 20,000
    empty multiparts with their own boundaries 2.2 s: the time budget was spent before one
    part was read, and such a message was scored on its headers alone, its text lost (now
    18 ms and 85 ms). The messages are made in the order their parts appear, so every leaf
    the walker reads is among the first ones unless the message holds multiparts with no
    leaves (hostile); of 2,100 corpus messages sampled, the most made 8. What the parser was
    fed is then closed as a message cut short is (a missing final boundary is a defect).
    """
    made = 0

    def counted(policy: email.policy.Policy = email.policy.compat32) -> email.message.Message:
        nonlocal made
        made += 1
        return email.message.Message(policy)

    # The stdlib's BytesParser reads bytes as ASCII with every 8-bit byte surrogate-escaped.
    text = data.decode("ascii", "surrogateescape")
    parser = email.feedparser.FeedParser(counted, policy=email.policy.compat32)
    for start in range(0, len(text), _FEED_CHARS):
        if made > _MESSAGES_PER_PART * limits.max_parts:
            _note(hit, "parts")
            break
        parser.feed(text[start : start + _FEED_CHARS])
    return parser.close()


def _close_spaced_colons(data: bytes) -> bytes:
    """``data`` with the space before the colon taken out of its header block's lines; ``data``
    itself where there is none.

    >>> _close_spaced_colons(b"Subject : hi\\nFrom: a : b\\n\\nX : body")
    b'Subject: hi\\nFrom: a : b\\n\\nX : body'
    >>> _close_spaced_colons(b"Subject: re : plans\\ncc : dawn\\nthe body, no blank line before it")
    b'Subject: re : plans\\ncc : dawn\\nthe body, no blank line before it'
    """
    blank = _BLANK_LINE.search(data)
    if blank is None:  # no header block ends here: what follows the headers is a body
        return data
    head, closed = _SPACED_COLON.subn(rb"\1:", data[: blank.start()])
    # Every line before the blank one must then be a header line. Enron's messages are a
    # Subject line and then their body, with no blank line between, and without these checks
    # body lines such as "cc : ..." and "http : / / ..." became headers, their text lost
    # (in 11 of 3,000 enron-spam messages sampled whose features changed).
    lines = (line for line in head.split(b"\n") if line.strip(b"\r"))
    if not closed or not all(_HEADER_OR_FOLD.match(line) for line in lines):
        return data
    return head + data[blank.start() :]


def _header_hint(parts: list[Part]) -> str | None:
    """The charset to read unlabelled 8-bit headers in: the body's, as decoded; or, when the
    body is all ASCII, as labelled (a Hebrew subject over an ASCII body in windows-1255)."""
    decoded = next((p.codec for p in parts if p.codec and p.codec != "ascii"), None)
    if decoded:
        return decoded
    # A us-ascii or iso-8859-1 label says nothing about the subject: both are mailer defaults.
    labels = (p.charset for p in parts if normalize_charset(p.charset) not in (None, "cp1252"))
    return next(labels, None)


def _raw_headers(
    message: email.message.Message, limits: Limits, hit: list[str]
) -> tuple[tuple[str, str], ...]:
    """Header fields, lower-case names and unfolded values, within the header caps."""
    items = message.raw_items()
    fields = list(itertools.islice(items, limits.max_headers))
    if next(items, None) is not None:
        hit.append("headers")
    raw_headers = []
    for name, value in fields:
        if len(value) > limits.max_header_chars:
            # Cut before unfolding: a megabyte of folds costs a regex pass over all of it.
            value = value[: limits.max_header_chars]
            _note(hit, "header_chars")
        raw_headers.append((str(name).lower(), _unfold(value)))
    return tuple(raw_headers)


def _note(hit: list[str], name: str) -> None:
    if name not in hit:
        hit.append(name)


def decode_header(value: str, hint: str | None = None) -> str:
    """Decode RFC 2047 words and raw 8-bit bytes in a header value.

    ``hint`` is the body's charset: unlabelled 8-bit headers usually share it.
    """
    if "=?" in value:
        value = _close_encoded_word(value)
        pieces = []
        for chunk, charset in _header_chunks(value):
            if isinstance(chunk, str):
                pieces.append(_decode_8bit(chunk, hint))
            elif charset is None:
                pieces.append(_decode_8bit(_unescape(chunk), hint))
            else:
                pieces.append(decode(chunk, charset)[0])
        value = "".join(pieces)
    else:
        value = _decode_8bit(value, hint)
    return _WS.sub(" ", value).strip()


def _header_chunks(value: str) -> list[tuple[bytes | str, str | None]]:
    """``email.header.decode_header(value)``, or where one encoded word in ``value`` is
    malformed (bad base64), which makes the stdlib refuse the whole value, the same for the
    stretches between such words, each of which stays as it is (its charset ``None``)."""
    try:
        return email.header.decode_header(value)
    except _STDLIB_FAILURES:
        pass
    chunks: list[tuple[bytes | str, str | None]] = []
    start = 0
    for word in _ENCODED_WORD.finditer(value):
        try:
            email.header.decode_header(word.group())
        except _STDLIB_FAILURES:
            chunks += _stretch_chunks(value[start : word.start()])
            chunks.append((word.group(), None))
            start = word.end()
    return chunks + _stretch_chunks(value[start:])


def _stretch_chunks(stretch: str) -> list[tuple[bytes | str, str | None]]:
    # Its leading space kept apart: the stdlib strips it, gluing the stretch to the bad word.
    words = stretch.lstrip()
    chunks: list[tuple[bytes | str, str | None]] = [(stretch[: len(stretch) - len(words)], None)]
    try:
        return chunks + email.header.decode_header(words)
    except _STDLIB_FAILURES:  # not expected: each of its words decoded alone
        return [(stretch, None)]


def _unescape(chunk: bytes) -> str:
    """The text between encoded words as it was before the stdlib returned it as
    ``bytes(text, "raw-unicode-escape")``: that writes each surrogate-escaped 8-bit byte as the
    six characters ``\\udcb7``, which read as ASCII gave ``subject:udcb7`` tokens."""
    try:
        return chunk.decode("raw-unicode-escape")
    except UnicodeDecodeError:  # a literal "\\u" not followed by four hex digits
        return chunk.decode("latin-1")


def _close_encoded_word(value: str) -> str:
    """Close an encoded word the header was cut off in, dropping a partial base64 group.

    >>> _close_encoded_word("Re: =?gb2312?B?w+K30bei?= =?gb2312?B?xrHX")
    'Re: =?gb2312?B?w+K30bei?= =?gb2312?B?xrHX?='
    >>> _close_encoded_word("=?utf-8?B?w6l2w6k?=")
    '=?utf-8?B?w6l2w6k?='
    """
    match = _UNCLOSED_WORD.search(value)
    if match is None:
        return value
    payload = match.group(2)
    if match.group(1) in "bB":
        payload = payload[: len(payload) // 4 * 4]
    return value[: match.start(2)] + payload + "?="


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

    def __init__(
        self, limits: Limits, defects: list[str], hit: list[str], deadline: float | None
    ) -> None:
        self.limits = limits
        self.defects = defects
        self.hit = hit
        self.deadline = deadline
        self.parts: list[Part] = []
        self.texts: list[str] = []
        self.htmls: list[HtmlSummary] = []
        self.reparsed = 0  # bytes of encoded message/rfc822 parts parsed again

    def visit(self, part: email.message.Message, depth: int) -> None:
        if len(self.parts) >= self.limits.max_parts:
            _note(self.hit, "parts")
            return
        if depth > self.limits.max_depth:
            _note(self.hit, "depth")
            return
        if self.deadline is not None and clock() > self.deadline:
            _note(self.hit, "time")
            return
        # The stored payload: the child parts, or the text as it arrived (8-bit bytes kept
        # surrogate-escaped). get_payload() would decode those bytes with the part's charset
        # label, or as ASCII when there is none, replacing every byte of an unlabelled GB2312
        # body with U+FFFD; and some labels (idna, punycode) make it raise.
        payload = part._payload  # type: ignore[attr-defined]
        if isinstance(payload, list):
            self.defects.extend(type(d).__name__ for d in part.defects)
            encoding = _transfer_encoding(part)
            if encoding in _ENCODED and part.get_content_maintype() == "message":
                payload = self._decoded_messages(payload, encoding)
            for child in payload:
                if isinstance(child, email.message.Message):
                    self.visit(child, depth + 1)
            return
        self._leaf(part, payload if isinstance(payload, str) else "")

    def _decoded_messages(self, payload: list[object], encoding: str) -> list[object]:
        """The message in a message/rfc822 part sent base64 or quoted-printable (RFC 2046
        forbids it; forwarding and abuse-report tools do it), which the stdlib parsed from the
        encoded text: base64 gave one headerless message whose body was base64, then tokenized.
        It is serialized back, decoded and parsed again, within ``max_message_bytes`` for all
        of a message's such parts together (each level of a nest of them would otherwise parse
        all the levels below again); where that fails, the stdlib's reading stays.

        A multipart the stdlib found in quoted-printable had its parts' text left encoded
        (words cut at soft line breaks, "=3D" and "=E9" in them); it is read so too, once the
        size of what it holds says that serializing it stays within that bound: each level
        of a nest of them would otherwise serialize all the levels below.
        """
        if len(payload) != 1:
            return payload
        (child,) = payload
        if not isinstance(child, email.message.Message):
            return payload
        if child.is_multipart() and self.reparsed + _stored_size(child) > (
            self.limits.max_message_bytes
        ):
            _note(self.hit, "decoded")
            return payload
        try:
            text = child.as_bytes(policy=email.policy.compat32).lstrip(b"\r\n")
            if encoding == "quoted-printable" and b"=" not in text:
                return payload  # nothing to decode: the stdlib read it right
            if self.reparsed + len(text) > self.limits.max_message_bytes:
                _note(self.hit, "decoded")
                return payload
            self.reparsed += len(text)
            carrier = email.message.Message()
            carrier["Content-Transfer-Encoding"] = encoding
            stored = text.decode("ascii", "surrogateescape")
            carrier.set_payload(stored)
            data = _payload_bytes(carrier, stored, encoding, self.limits.max_part_bytes)
            if len(data) > self.limits.max_part_bytes:
                data = data[: self.limits.max_part_bytes]
                _note(self.hit, "decoded")
            return [_parse(data, self.limits, self.hit)]
        except _STDLIB_FAILURES:
            return payload

    def _leaf(self, part: email.message.Message, payload: str) -> None:
        content_type = part.get_content_type()
        charset = _param(part, "charset")
        encoding = _transfer_encoding(part)
        data = _payload_bytes(part, payload, encoding, self.limits.max_part_bytes)
        if len(data) > self.limits.max_part_bytes:
            data = data[: self.limits.max_part_bytes]
            _note(self.hit, "decoded")
        # Decoding the payload is what finds bad base64: collect the defects afterwards.
        self.defects.extend(type(d).__name__ for d in part.defects)
        filename = _filename(part)
        maintype = content_type.split("/")[0]
        # A multipart whose boundary never appears arrives here as one leaf: read it as text.
        is_text = maintype in ("text", "multipart", "message") and (
            filename is None or _is_inline_text(part, content_type)
        )
        codec = None
        files: list[Part] = []
        if is_text:
            data, files = _cut_encoded_files(data, charset)
            text, codec = decode(data, charset or _meta_charset(data))
            if content_type == "text/plain" and _deletes_flowed_spaces(part):
                text = _unflow(text)
            if content_type == "text/html" or _looks_like_html(text):
                summary = summarize_html(text)
                self.htmls.append(summary)
                text = summary.text
            self.texts.append(text)
        self.parts.append(Part(content_type, charset, codec, filename, len(data), encoding))
        for file in files:
            if len(self.parts) >= self.limits.max_parts:
                _note(self.hit, "parts")
                break
            self.parts.append(file)


def _cut_encoded_files(data: bytes, charset: str | None) -> tuple[bytes, list[Part]]:
    """``data`` without the uuencoded and yEncoded files in it, and a part for each, as MIME
    gives an attachment: its name, ``application/octet-stream``, its decoded size.

    Mailers before MIME, and old spamware after them, wrote a file into the text itself
    ("begin 644 invoice.exe" and lines of "M4V%L92!P..."), and each of its lines was read as
    junk words (``body:p0``, ``body:2xo``, ``body:s0u-c``) while its name, the strongest clue,
    was a word of text (``body:invoice.exe``), not ``mime:attachment:exe``. A yEnc file's
    8-bit bytes were junk words too, and weighed in the guess of the text's charset.

    >>> text, files = _cut_encoded_files(b"See:\\nbegin 644 a.exe\\n#86)C\\n`\\nend\\nBye\\n", None)
    >>> text, [(f.filename, f.size, f.transfer_encoding) for f in files]
    (b'See:\\nBye\\n', [('a.exe', 3, 'x-uuencode')])
    """
    files: list[Part] = []
    # The regex runs from the first line that can open a file: run over all of 96 KB of text
    # whose lines hold "begin" but never start with it, it cost 300 us, these finds 90 us.
    starts = [at + 1 for at in (data.find(b"\nbegin "), data.find(b"\n=ybegin ")) if at >= 0]
    if data.startswith((b"begin ", b"=ybegin ")):
        starts.append(0)
    if not starts:
        return data, files
    first = min(starts)

    def cut(block: re.Match[bytes]) -> bytes:
        if not _holds_a_file(block):
            return block[0]
        if block["uudata"] is not None:
            name, encoding = block["uuname"], "x-uuencode"
            # Each line's first character gives its count of bytes (" " and "`" are 0).
            size = sum((line[0] - 32) & 63 for line in block["uudata"].splitlines())
        else:
            name, encoding = block["yname"], "x-yenc"
            lines = block["ydata"]  # a byte each, but "=" and the next are one (an escape)
            size = len(lines) - lines.count(b"\n") - lines.count(b"\r") - lines.count(b"=")
        filename = decode(name, charset)[0].strip() or None
        files.append(Part("application/octet-stream", None, None, filename, size, encoding))
        return b""

    return data[:first] + _ENCODED_FILE.sub(cut, data[first:]), files


def _holds_a_file(block: re.Match[bytes]) -> bool:
    """Whether the lines after a ``begin`` or ``=ybegin`` line are a file's, not text that a
    reader sees and the filter must read.

    The pattern takes any line of the characters from " " to "`" as uuencoded, as lines of
    capitals are, and every line up to "=yend" as yEnc, which is all that follows where none
    comes: a spammer's "=ybegin name=x" line hid the whole text after it. But an encoder
    writes 45 bytes to each uuencoded line ("M") but the last (and the "`" that ends them),
    and yEnc writes a file's bytes shifted by 42, 8-bit bytes in every line but the last
    (which may be short), that read as no UTF-8.
    """
    if block["uudata"] is not None:
        lines = [line for line in block["uudata"].splitlines() if not line.startswith(b"`")]
        return all(line.startswith(b"M") for line in lines[:-1])
    data = block["ydata"]
    if any(line.isascii() for line in data.splitlines()[:-1]):
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def _deletes_flowed_spaces(part: email.message.Message) -> bool:
    """True for ``format=flowed; delsp=yes`` text (RFC 3676), which Apple Mail sends."""
    # Parsing the parameters cost 8 us a part; most parts do not name delsp at all.
    if "delsp" not in str(part.get("content-type", "")).lower():
        return False
    return (_param(part, "format") or "").lower() == "flowed" and (
        _param(part, "delsp") or ""
    ).lower() == "yes"


def _unflow(text: str) -> str:
    """``format=flowed; delsp=yes`` text with its flowed lines joined (RFC 3676 section 4.2).

    Such a mailer (Apple Mail) wraps a line after a hyphen or inside CJK text, which has no
    spaces, ending the line with a space that is not the text's: "constant- " and "sized"
    are "constant-sized". Read as written, the word was two (``body:constant``,
    ``body:sized``), as was a long link; in 11 of the 91 corpus messages (all ham) that
    have such parts. Without delsp, that space is the text's, and the line break that
    follows it reads as the same space.

    >>> _unflow("cheap pi \\nlls\\n> quoted wo \\n> rd\\n-- \\nsig")
    'cheap pills\\n> quoted word\\n-- \\nsig'
    """
    out: list[str] = []
    joined: str | None = None  # the flowed line being continued, without its quote marks
    depth = 0

    def quoted(quotes: int, body: str) -> str:
        return ">" * quotes + " " + body if quotes else body

    for line in text.split("\n"):
        line = line.removesuffix("\r")
        body = line.lstrip(">")
        quotes = len(line) - len(body)
        body = body.removeprefix(" ")  # space-stuffing
        if joined is not None and quotes != depth:  # a flowed line the quote depth ends
            out.append(quoted(depth, joined))
            joined = None
        if body.endswith(" ") and body != "-- ":
            joined = (joined or "") + body[:-1]
            depth = quotes
            continue
        if joined is not None:
            body, joined = joined + body, None
        out.append(quoted(quotes, body))
    if joined is not None:
        out.append(quoted(depth, joined))
    return "\n".join(out)


def _stored_size(message: email.message.Message) -> int:
    """The characters of the payloads stored in ``message``'s leaves: what serializing it
    writes, less its headers and boundary lines."""
    leaves = (part._payload for part in message.walk())  # type: ignore[attr-defined]
    return sum(len(payload) for payload in leaves if isinstance(payload, str))


def _transfer_encoding(part: email.message.Message) -> str | None:
    # compat32 returns a Header object, not a str, for a value with 8-bit bytes.
    return str(part.get("content-transfer-encoding") or "").strip().lower() or None


def _payload_bytes(
    part: email.message.Message, payload: str, encoding: str | None, max_bytes: int
) -> bytes:
    """The decoded bytes of a leaf part whose stored ``payload`` is given: at least
    ``max_bytes`` of them when it has that many, not necessarily all. A part far larger than
    that is decoded only from its head, so that a base64 part worth gigabytes never becomes
    gigabytes in memory."""
    # No transfer encoding expands data more than 3 times (quoted-printable's "=XX").
    span = 3 * max_bytes + 4096
    raw = _original_bytes(payload[:span])
    if encoding == "base64":
        text = _not_base64(raw[:2000])
        # Base64 with a text footer after it (a list's footer, an AV or disclaimer gateway's
        # note) made a short part look like text, and a longer one decoded to junk at its end.
        if text or _foreign_tail(raw):
            footed = _base64_then_text(raw)
            if footed is not None:
                return footed
        if text:
            # Declared base64 but holding raw text (already decoded by an earlier gateway).
            return raw
        if _padded_inside(raw):
            return _decode_base64_chunks(raw)
    source = part
    head = payload[:span]
    soft_breaks = 0
    if encoding == "quoted-printable":
        # RFC 2045 section 6.7: white space after a soft line break's "=" was added in
        # transport and is deleted; the stdlib kept the "=" and the line break ("fr=  ").
        head, soft_breaks = _SPACED_SOFT_BREAK.subn("=", head)
    if len(payload) > span:
        # Decode the head only, cut at a line end (whole base64 quanta).
        head = head[: head.rfind("\n") + 1] or head
    if len(payload) > span or soft_breaks:
        source = email.message.Message()  # a copy holding what to decode
        source["Content-Transfer-Encoding"] = encoding or "7bit"
        source.set_payload(head)
    try:
        decoded = source.get_payload(decode=True)
    except _STDLIB_FAILURES:
        return raw
    if source is not part:
        part.defects.extend(source.defects)
    return decoded if isinstance(decoded, bytes) else raw


def _foreign_tail(raw: bytes) -> bool:
    """True where the last 1,024 bytes of ``raw`` hold what base64 lines do not: a character
    outside its alphabet, or a space between two words."""
    tail = raw[-1024:]
    if tail.translate(None, _BASE64_TEXT):
        return True
    # Base64 lines seldom hold a space at all; the regex alone cost 12 us for 1 KB.
    spaced = b" " in tail or b"\t" in tail
    return spaced and _INNER_SPACE.search(tail) is not None


def _base64_then_text(raw: bytes) -> bytes | None:
    """The leading run of base64 lines in ``raw`` decoded, then the text after it as it is; or
    ``None`` where ``raw`` does not open with such a run, or where more base64 lines follow
    what broke it (a line with a few corrupted characters, which the stdlib decodes past)."""
    run = _BASE64_LINES.match(raw)
    if run is None or not _is_base64_run(run.group()):
        return None
    rest = raw[run.end() :]
    if _LONG_BASE64_LINE.search(rest) is not None:
        return None
    decoded = _decode_base64_chunks(run.group())
    return decoded + rest if decoded.endswith(b"\n") else decoded + b"\n" + rest


def _is_base64_run(lines: bytes) -> bool:
    """True for lines that are base64 as an encoder writes it, not a few words of text that
    happen to use only base64's letters: whole 4-character quanta, one line of 16 or more.

    >>> _is_base64_run(b"SGVsbG8g\\nY2hlYXAgbWVkcyA=\\n"), _is_base64_run(b"Dear\\nJohn\\n")
    (True, False)
    """
    lengths = [len(line.strip()) for line in lines.splitlines()]
    return max(lengths) >= 16 and all(length % 4 == 0 for length in lengths)


def _padded_inside(raw: bytes) -> bool:
    """True for base64 with padding before its end: chunks encoded and padded one by one,
    which the stdlib decodes only up to the first padding."""
    pad = raw.find(b"=")
    return pad >= 0 and bool(raw[pad:].translate(None, b"= \t\r\n"))


def _decode_base64_chunks(data: bytes) -> bytes:
    """Base64 decoded chunk by chunk, each ending at its padding; characters outside the
    alphabet are dropped, and a chunk's missing padding is added.

    >>> _decode_base64_chunks(b"SGVsbG8g\\nY2hlYXAgbWVkcyA=\\nYnV5IG5vdw==\\n")
    b'Hello cheap meds buy now'
    """
    decoded = []
    for chunk in data.split(b"=", _MAX_BASE64_CHUNKS)[:_MAX_BASE64_CHUNKS]:
        chunk = chunk.translate(None, _NOT_BASE64_ALPHABET)
        chunk = chunk[: len(chunk) - 1] if len(chunk) % 4 == 1 else chunk  # 6 bits: no byte
        decoded.append(binascii.a2b_base64(chunk + b"=" * (-len(chunk) % 4)))
    return b"".join(decoded)


def _not_base64(sample: bytes) -> bool:
    """True for text under a base64 label, false for base64 with a few corrupted characters.

    Text has 8-bit bytes (raw GB or EUC-KR) or spaces between words; base64 lines have neither.
    """
    size = max(len(sample), 1)
    if len(sample.translate(None, _ASCII_BYTES)) > 0.01 * size:  # the 8-bit bytes
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
    # get_filename() parses the parameters of two headers to find a "filename" or "name"; most
    # parts have neither, which a look for "name" in those headers tells first, cheaply.
    headers = (part.get("content-disposition", ""), part.get("content-type", ""))
    if not any("name" in str(value).lower() for value in headers):
        return None
    try:
        name = part.get_filename()
    except _STDLIB_FAILURES:
        return None
    return decode_header(name) if name else None


def _is_inline_text(part: email.message.Message, content_type: str) -> bool:
    """True for a plain or HTML text part that names a file but is not an attachment: some
    mailers write ``name="note.txt"`` on the text they show inline, and readers show it. It
    keeps its filename (an attachment to the structure features); a ``.txt`` file sent with
    ``Content-Disposition: attachment`` stays unread. Rare in the corpora: of the 11,814
    sample messages, one has such a part (an inline patch) and three attach text/plain."""
    if content_type not in ("text/plain", "text/html"):
        return False
    disposition = str(part.get("content-disposition", "")).split(";", 1)[0]
    return disposition.strip().lower() != "attachment"


def _meta_charset(data: bytes) -> str | None:
    """The charset an HTML ``<meta>`` in the first 4 KB of ``data`` declares, as the WHATWG
    prescan finds it: what mail clients read where the MIME header names none, as much
    HTML-only mail does (short Russian or Czech text was misread as CJK or Turkish).

    >>> _meta_charset(b'<HTML><META http-equiv=Content-Type content="text/html; charset=koi8-r">')
    'koi8-r'
    >>> _meta_charset(b'<meta charset="UTF-16">'), _meta_charset(b"charset=koi8-r")
    ('utf-8', None)
    """
    # 1.2 us for a part of 4 KB or more that holds no <meta>, the common case.
    declared = _META_CHARSET.search(data, 0, 4096)
    if declared is None:
        return None
    label = declared.group(1).decode("ascii")
    # A page whose <meta> could be read as ASCII is not UTF-16, whatever it says (WHATWG).
    return "utf-8" if (normalize_charset(label) or "").startswith("utf-16") else label


def _looks_like_html(text: str) -> bool:
    """True for text that holds HTML tags in its first 1,000 characters, whatever its label.

    Only there: a browser sniffs a page by its start (WHATWG MIME Sniffing reads 1,445 bytes),
    and no mail client renders a text/plain part as HTML at all, so tags further on are
    quoted or discussed, not shown. Searched for in the whole text, they made 84 ham that
    quote a spam's source or discuss markup HTML (78 trec06p, 6 spamassassin), against 92
    spam.

    >>> _looks_like_html("Hi<br/>there"), _looks_like_html("Brian <brian@example.org> wrote")
    (True, False)
    """
    return _HTML_TAG.search(text, 0, 1000) is not None


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


def _unparsed(
    data: bytes, size: int, defects: list[str], hit: list[str], limits: Limits
) -> ParsedMessage:
    """A message the stdlib parser cannot build: its header block if that parses flat, and the
    rest as one text part."""
    raw_headers: tuple[tuple[str, str], ...] = ()
    body = data
    try:
        message = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(
            _close_spaced_colons(data)
        )
        raw_headers = _raw_headers(message, limits, hit)
        payload = message._payload  # type: ignore[attr-defined]  # as it arrived: see visit()
        body = _original_bytes(payload) if raw_headers and isinstance(payload, str) else data
    except (RecursionError, *_STDLIB_FAILURES):
        pass
    if len(body) > limits.max_part_bytes:
        _note(hit, "decoded")
    text, codec = decode(body[: limits.max_part_bytes])
    if len(text) > limits.max_text_chars:
        text = text[: limits.max_text_chars]
        _note(hit, "text")
    headers = tuple((name, decode_header(value, codec)) for name, value in raw_headers)
    part = Part("text/plain", None, codec, None, len(body), None)
    return ParsedMessage(
        headers, raw_headers, text, None, (part,), size, tuple(defects), tuple(hit)
    )
