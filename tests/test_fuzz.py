"""Property-based fuzzing: every stage answers whatever a sender writes.

Generated MIME trees (nested multiparts, message/rfc822, every transfer encoding), header
fields (encoded words, raw 8-bit bytes, folds, junk), charset labels real and invented, and raw
byte junk go through the parser, the charset decoder, every feature extractor and ``classify``.
The contract: a value of the promised type, or a :class:`spamclf.SpamclfError`; nothing else
escapes, and the time budget in :class:`spamclf.Limits` bounds every message.

The number of examples comes from the Hypothesis profile (``tests/conftest.py``): ``ci`` (the
default, a few seconds in all) or ``long`` (10,000 per target)::

    python -m pytest tests/test_fuzz.py --hypothesis-profile=long
    SPAMCLF_HYPOTHESIS_PROFILE=long python -m pytest tests/test_fuzz.py

The long run's counts and result are recorded in ``benchmarks/fuzzing.md``.
"""

from __future__ import annotations

import base64
import bz2
import gzip
import ipaddress
import lzma
import math
import quopri
import re
import unicodedata
import zlib
from collections.abc import Callable

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from spamclf import features, htmltext, stored
from spamclf.charsets import decode, normalize_charset
from spamclf.errors import InputError, SpamclfError
from spamclf.features import (
    Features,
    FeatureSettings,
    char_text,
    content_tokens,
    extract_features,
    header_tokens,
    header_word_tokens,
    origin_tokens,
    registered_domain,
    structure_tokens,
    url_tokens,
)
from spamclf.htmltext import HtmlSummary, summarize_html
from spamclf.inputs import read_head
from spamclf.model import Model
from spamclf.normalize import normalize_host, normalize_text
from spamclf.origin import Origin, parse_date, parse_received, trace_origin
from spamclf.parse import Limits, ParsedMessage, Part, decode_header, parse_bytes
from spamclf.scripts import SCRIPTS, main_script
from spamclf.server import _Incomplete, _Received
from spamclf.spamd import ProtocolError, read_request
from spamclf.tokenize import nfkc, segment_chinese, words
from spamclf.vectorize import SHORT_ROW, hash_row

_NAMESPACED = re.compile(r"^[a-z][a-z0-9-]*:", re.S)

# --- building blocks ---------------------------------------------------------------------------

CHARSETS = st.one_of(
    st.sampled_from(
        [
            "utf-8",
            "gb2312",
            "gbk",
            "big5",
            "euc-kr",
            "ks_c_5601-1987",
            "shift_jis",
            "iso-2022-jp",
            "iso-8859-1",
            "us-ascii",
            "utf-7",
            "utf-16",
            "utf-16le",
            "unicode",  # Outlook's label for UTF-16LE
            "hz-gb-2312",
            "iso-2022-kr",
            "windows-949",
            "x-euc-jp",
            "idna",
            "punycode",
            "undefined",
            "base64",
            "rot13",
            "x-unknown",
            "",
        ]
    ),
    st.text(max_size=12),
)
SAMPLE_TEXTS = st.sampled_from(
    [
        "免费发票代开",
        "무료 상담 고객님께서",
        "打ち合わせの件",
        "Cheap ＦＲＥＥ meds http://x.example/a?b=1",
        "fr\u200bee sof\u00adt w\u0430tch",  # zero width, soft hyphen, Cyrillic a
        "\u202eevil\u202c \x00\x1b[31m",
        "<html><a href='http://xn--80ak6aa92e.example'>x</a><!--c--></html>",
    ]
)
TEXTS = st.one_of(SAMPLE_TEXTS, st.text(max_size=200))
# What senders encode text in: besides the 8-bit codecs, the 7-bit ones (ISO-2022-KR, HZ) and
# UTF-16 with and without its byte-order mark, which the decoder must tell from ASCII.
SENDER_CODECS = [
    "utf-8",
    "gb18030",
    "cp949",
    "latin-1",
    "cp932",
    "iso2022_kr",
    "hz",
    "utf-16",
    "utf-16-le",
]


@st.composite
def encoded_bodies(draw: st.DrawFn) -> tuple[str, bytes]:
    """A transfer encoding and a body in it (or lying about it, or junk)."""
    text = draw(TEXTS)
    charset = draw(st.sampled_from(SENDER_CODECS))
    raw = text.encode(charset, "replace")
    encoding = draw(
        st.sampled_from(["7bit", "8bit", "base64", "quoted-printable", "x-uuencode", "binary", ""])
    )
    if encoding == "base64" and draw(st.booleans()):
        body = base64.encodebytes(raw)
    elif encoding == "quoted-printable" and draw(st.booleans()):
        body = quopri.encodestring(raw)
    else:
        body = raw
    if draw(st.booleans()):
        body += draw(st.binary(max_size=60))
    return encoding, body


@st.composite
def header_values(draw: st.DrawFn) -> bytes:
    kind = draw(st.integers(0, 4))
    if kind == 0:  # an RFC 2047 encoded word, well formed or not
        charset = draw(CHARSETS).encode("utf-8", "replace")
        enc = draw(st.sampled_from([b"B", b"Q", b"b", b"x"]))
        data = draw(TEXTS).encode("utf-8")
        payload = base64.b64encode(data) if enc in (b"B", b"b") else quopri.encodestring(data)
        word = b"=?" + charset + b"?" + enc + b"?" + payload.replace(b"\n", b"")
        # Sometimes cut off inside the word, as archives truncate long subjects.
        cut = draw(st.none() | st.integers(0, len(word)))
        return word + b"?=" if cut is None else word[:cut]
    if kind == 1:  # raw 8-bit text in some charset
        charset = draw(st.sampled_from(["gb18030", "cp949", "big5hkscs", "utf-8", "cp1252"]))
        return draw(TEXTS).encode(charset, "replace")
    if kind == 2:  # folded
        return b"\n\t".join(draw(st.lists(st.binary(max_size=20), min_size=1, max_size=4)))
    if kind == 3:  # address-ish
        return draw(
            st.sampled_from(
                [
                    b'"Name" <a.b+c@mail.example.com.cn>',
                    b"<@>",
                    b"undisclosed-recipients:;",
                    b"a@" + b"x." * 50 + b"cn",
                    b"from pc (adsl-1-2.dyn.example.cn [218.79.1.2]) by mx; Mon, 2 Jan 2006",
                    b"<123@[1.2.3.4]>",
                    b"Mon, 32 Foo 99999 25:61:61 +9999",
                ]
            )
        )
    return draw(st.binary(max_size=80)).replace(b"\n", b" ")


HEADER_NAMES = st.one_of(
    st.sampled_from(
        [
            b"Subject",
            b"From",
            b"To",
            b"Reply-To",
            b"Date",
            b"Message-ID",
            b"Received",
            b"X-Mailer",
            b"User-Agent",
            b"X-Priority",
            b"Content-Type",
            b"Content-Transfer-Encoding",
            b"Content-Disposition",
        ]
    ),
    st.binary(min_size=1, max_size=12).filter(lambda b: b":" not in b and b"\n" not in b),
)


@st.composite
def header_blocks(draw: st.DrawFn) -> bytes:
    fields = draw(st.lists(st.tuples(HEADER_NAMES, header_values()), max_size=8))
    return b"".join(name + b": " + value + b"\n" for name, value in fields)


@st.composite
def leaf_parts(draw: st.DrawFn) -> bytes:
    maintype = draw(
        st.sampled_from(
            ["text/plain", "text/html", "application/octet-stream", "image/gif", "text/x-junk"]
        )
    )
    charset = draw(CHARSETS).encode("utf-8", "replace")
    encoding, body = draw(encoded_bodies())
    head = b"Content-Type: " + maintype.encode() + b"; charset=" + charset + b"\n"
    if encoding:
        head += b"Content-Transfer-Encoding: " + encoding.encode() + b"\n"
    if draw(st.booleans()):
        name = draw(st.text(max_size=10)).encode("utf-8", "replace").replace(b"\n", b"")
        head += b'Content-Disposition: attachment; filename="' + name + b'.exe"\n'
    return head + b"\n" + body


def _multipart(subtype: str, boundary: bytes, children: list[bytes], close: bool) -> bytes:
    head = b"Content-Type: multipart/" + subtype.encode() + b'; boundary="' + boundary + b'"\n\n'
    body = b"".join(b"--" + boundary + b"\n" + child + b"\n" for child in children)
    return head + b"preamble\n" + body + (b"--" + boundary + b"--\n" if close else b"")


def _rfc822(child: bytes) -> bytes:
    return b"Content-Type: message/rfc822\n\n" + child


@st.composite
def mime_trees(draw: st.DrawFn) -> bytes:
    """A MIME tree a few levels deep, with sometimes-missing closing boundaries."""
    counter = iter(range(1000))

    def extend(children: st.SearchStrategy[bytes]) -> st.SearchStrategy[bytes]:
        return st.one_of(
            st.builds(
                _multipart,
                st.sampled_from(["mixed", "alternative", "related", "report"]),
                st.builds(lambda: b"b%d" % next(counter)),
                st.lists(children, max_size=4),
                st.booleans(),
            ),
            st.builds(_rfc822, children),
        )

    return draw(st.recursive(leaf_parts(), extend, max_leaves=8))


@st.composite
def framed(draw: st.DrawFn, messages: st.SearchStrategy[bytes]) -> bytes:
    """A message as files and forms wrap it (see ``parse._unwrap``): after a byte-order mark,
    blank lines or indentation, behind an Apple Mail .emlx byte count (right or wrong, with
    a property list after it), or with every line end turned into CR CR LF."""
    message = draw(messages)
    frame = draw(st.sampled_from(["bom", "blank", "indent", "emlx", "crcrlf"]))
    if frame == "bom":
        return b"\xef\xbb\xbf" + message
    if frame == "blank":
        return b"\r\n" * draw(st.integers(1, 3)) + message
    if frame == "indent":
        return b" \t" + message
    if frame == "emlx":
        count = draw(st.integers(0, len(message) + 10) | st.just(len(message)))
        return b"%d    \n" % count + message + b'<?xml version="1.0"?>\n<plist/>\n'
    return message.replace(b"\n", b"\r\r\n")


_PLAIN_MESSAGES = st.one_of(
    st.builds(lambda h, t: h + t, header_blocks(), mime_trees()),
    st.builds(lambda h, b: h + b"\n" + b, header_blocks(), st.binary(max_size=500)),
)
MESSAGES = st.one_of(_PLAIN_MESSAGES, framed(_PLAIN_MESSAGES), st.binary(max_size=2000))
# Caps small enough that generated messages hit them, so the capped paths are fuzzed too.
TIGHT_LIMITS = Limits(
    max_message_bytes=1500,
    max_parts=3,
    max_part_bytes=200,
    max_text_chars=300,
    max_headers=4,
    max_depth=2,
    max_header_chars=40,
    max_tokens=20,
)
LIMITS = st.sampled_from([Limits(), TIGHT_LIMITS])


@st.composite
def parsed_messages(draw: st.DrawFn) -> ParsedMessage:
    """A ParsedMessage built directly: any text in any field, beyond what the parser makes."""
    names = st.sampled_from(
        [
            "subject",
            "from",
            "to",
            "reply-to",
            "date",
            "message-id",
            "received",
            "x-mailer",
            "content-type",
            "x-priority",
        ]
    )
    headers = tuple(draw(st.lists(st.tuples(names, TEXTS), max_size=8)))
    html = draw(
        st.none()
        | st.builds(
            HtmlSummary,
            TEXTS,
            st.lists(TEXTS, max_size=4).map(tuple),
            st.frozensets(st.sampled_from(["a", "img", "form", "script"])),
            st.integers(0, 10**6),
            st.integers(0, 100),
            st.integers(0, 100),
        )
    )
    parts = draw(
        st.lists(
            st.builds(
                Part,
                st.sampled_from(["text/plain", "text/html", "image/gif"]),
                st.none() | CHARSETS,
                st.none() | st.sampled_from(["ascii", "utf-8", "gb18030", "cp949"]),
                st.none() | TEXTS,
                st.integers(0, 10**9),
                st.none() | st.sampled_from(["base64", "7bit"]),
            ),
            max_size=4,
        )
    )
    return ParsedMessage(
        headers,
        headers,
        draw(TEXTS),
        html,
        tuple(parts),
        draw(st.integers(0, 10**10)),
        tuple(draw(st.lists(st.text(max_size=10), max_size=3))),
        tuple(draw(st.lists(st.sampled_from(["parts", "time", "depth"]), max_size=2))),
    )


def _check_tokens(tokens: object) -> None:
    tokens = list(tokens)  # type: ignore[call-overload]
    assert all(isinstance(t, str) and _NAMESPACED.match(t) for t in tokens), tokens


# --- the targets -------------------------------------------------------------------------------


@given(data=MESSAGES, limits=LIMITS)
def test_fuzz_parse_bytes_answers_any_message(data: bytes, limits: Limits) -> None:
    message = parse_bytes(data, limits)
    assert isinstance(message.text, str)
    assert len(message.text) <= limits.max_text_chars
    assert len(message.headers) <= limits.max_headers
    assert len(message.parts) <= limits.max_parts + 1
    assert all(part.size <= max(limits.max_part_bytes, len(data)) for part in message.parts)
    assert all(isinstance(v, str) for _, v in message.headers)


@given(
    data=MESSAGES,
    compress=st.sampled_from([gzip.compress, bz2.compress, lzma.compress]),
    cut=st.none() | st.integers(0, 200),
    max_bytes=st.integers(1, 3000),
)
def test_fuzz_a_compressed_message_reads_as_the_message_or_raises_input_error(
    data: bytes, compress: Callable[[bytes], bytes], cut: int | None, max_bytes: int
) -> None:
    packed = compress(data)
    if cut is None:  # decompressed once: a message that is itself compressed stays so
        assert read_head(packed, max_bytes) == (data[:max_bytes], len(data))
        return
    damaged = packed[:cut] + packed[cut + 1 :]  # one byte lost: cut short or corrupt
    if not stored.is_stored(damaged[:16]):  # the signature is gone: read as it is
        assert read_head(damaged, max_bytes) == (damaged, len(damaged))  # bytes as they are
        return
    try:  # an error that says so, or (the byte was not needed) the message
        head, size = read_head(damaged, max_bytes)
    except InputError:
        return
    assert head == data[:max_bytes] and size == len(data)


@given(data=MESSAGES, limits=LIMITS)
def test_fuzz_classify_gives_a_verdict_or_a_spamclf_error(
    small_model: Model, data: bytes, limits: Limits
) -> None:
    model = small_model.with_settings(limits=limits)
    try:
        verdict = model.classify(data)
    except SpamclfError:
        return
    assert verdict.label in ("spam", "ham", "unsure")
    assert 0.0 <= verdict.score <= 1.0


@given(
    data=st.one_of(
        st.binary(max_size=2000),
        st.builds(lambda t, c: t.encode(c, "replace"), TEXTS, st.sampled_from(SENDER_CODECS)),
    ),
    label=st.none() | CHARSETS,
)
def test_fuzz_decode_any_bytes_under_any_label(data: bytes, label: str | None) -> None:
    text, codec = decode(data, label)
    assert isinstance(text, str)
    assert normalize_charset(codec) is not None or codec in ("ascii", "utf-7")


@given(value=header_values(), hint=st.none() | st.sampled_from(["gb18030", "cp949", "utf-8"]))
def test_fuzz_decode_header(value: bytes, hint: str | None) -> None:
    decoded = decode_header(value.decode("utf-8", "surrogateescape"), hint)
    assert isinstance(decoded, str)
    assert "\n" not in decoded


@given(message=parsed_messages())
def test_fuzz_every_feature_extractor(message: ParsedMessage) -> None:
    origin = trace_origin(message.headers_named("received", raw=True))
    subject, body = normalize_text(message.subject), normalize_text(message.text)
    for tokens in (
        content_tokens(subject, body),
        url_tokens(message),
        header_tokens(message),
        origin_tokens(message, origin),
        structure_tokens(message),
        header_word_tokens(message),
    ):
        _check_tokens(tokens)
    assert len(char_text(subject.text, body.text)) <= 3000
    for feature_settings in (FeatureSettings(), FeatureSettings(header_words=True)):
        features = extract_features(message, feature_settings, limits=TIGHT_LIMITS)
        assert isinstance(features, Features)
        _check_tokens(features.tokens)


@given(data=MESSAGES)
def test_fuzz_features_of_parsed_messages(data: bytes) -> None:
    features = extract_features(parse_bytes(data))
    _check_tokens(features.tokens)
    assert len(features.tokens) == len(set(features.tokens))


@given(value=st.one_of(header_values().map(lambda b: b.decode("utf-8", "replace")), TEXTS))
def test_fuzz_parse_received(value: str) -> None:
    hop = parse_received(value)
    if hop.ip is not None:
        ipaddress.ip_address(hop.ip)


_NETWORKS = st.lists(
    st.sampled_from(["10.0.0.0/8", "218.79.0.0/16", "2001:db8::/32", "0.0.0.0/0"]), max_size=2
)


@given(
    received=st.lists(
        st.one_of(header_values().map(lambda b: b.decode("latin-1")), TEXTS), max_size=6
    ),
    trusted=_NETWORKS,
)
def test_fuzz_trace_origin(received: list[str], trusted: list[str]) -> None:
    origin = trace_origin(received, trusted)
    assert isinstance(origin, Origin)
    assert origin.hops == len(received)
    assert origin.as_dict()["hops"] == len(received)


@st.composite
def spamc_requests(draw: st.DrawFn) -> bytes:
    """A request as spamc sends it, or with its length, headers or end broken."""
    newline = draw(st.sampled_from([b"\r\n", b"\n"]))
    method = draw(st.sampled_from([b"CHECK", b"PROCESS", b"HEADERS", b"PING", b"SKIP", b"TELL"]))
    version = draw(st.sampled_from([b"1.0", b"1.2", b"1.5", b"9"]))
    body = draw(st.binary(max_size=150))  # the parser's max_size below is 100
    headers = [b"User: u"]
    if draw(st.booleans()):
        body = zlib.compress(body)
        headers.append(b"Compress: zlib")
    length = draw(st.sampled_from(["exact", "none", "short", "long", "junk"]))
    sizes = {"exact": len(body), "short": max(len(body) - 3, 0), "long": len(body) + 3}
    if length in sizes:
        headers.append(b"Content-length: %d" % sizes[length])
    elif length == "junk":
        headers.append(b"Content-length: 1x")
    if draw(st.booleans()):
        headers.append(draw(st.binary(max_size=12)))
    head = newline.join([method + b" SPAMC/" + version, *headers]) + newline + newline
    return head + body + draw(st.binary(max_size=10))


# Cheap (1 ms an example), and a broken stream shows only on some cuts: more than the ci
# profile's 25 examples.
@settings(max_examples=max(500, settings.default.max_examples))
@given(
    data=st.one_of(spamc_requests(), st.binary(max_size=200)),
    cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=8),
)
def test_fuzz_a_request_received_in_pieces_parses_as_it_does_whole(
    data: bytes, cuts: list[int]
) -> None:
    # The server parses again from the start whenever bytes arrive: whatever it answers
    # before the client's end of stream must be what the whole request gives.
    whole = _received_outcome(data, at_eof=True)
    for cut in sorted({min(c, len(data)) for c in cuts}):
        early = _received_outcome(data[:cut], at_eof=False)
        assert early is None or early == whole


def _received_outcome(data: bytes, at_eof: bool) -> object:
    """read_request over ``data`` as the server receives it: the request, the error reply,
    or None while more is to come."""
    try:
        return read_request(_Received(data, at_eof), max_size=100)
    except _Incomplete:
        return None
    except ProtocolError as exc:
        return exc.reply


@given(stamp=st.none() | TEXTS | header_values().map(lambda b: b.decode("latin-1")))
def test_fuzz_parse_date(stamp: str | None) -> None:
    parse_date(stamp)


_HTML_PIECES = st.sampled_from(
    [
        "<p>",
        "</p>",
        "<a href=",
        "'http://x.example/'",
        ">",
        "<!--",
        "-->",
        "<script>",
        "</script",
        "<style>",
        "&amp;",
        "&#x41;",
        "&#99999999;",
        "<img src=x>",
        "style='display:none'",
        "<",
    ]
)


# The patterns that run over whole pages and bodies, written with re.IGNORECASE as they were
# before they were rewritten to let the regex engine skip ahead; both must find the same.
_CASE_BLIND_PATTERNS = {
    htmltext._HREF: (
        r"""(?:href|src|action)\s*=\s*"""
        r"""(?:["']\s*([^"'\s>]+(?:[\t\n\r]+[^"'\s>]+)*)|([^"'\s>]+))"""
    ),
    htmltext._HIDDEN: (
        r"display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*[01](?:px|pt)?\b"
    ),
    htmltext._ANY_BACKGROUND: r"bgcolor\s*=|background(?:-color)?\s*:",
    features._URL: (
        r"(?:[hｈ][tｔ][tｔ][pｐ][sｓ]?[:：][/／][/／]"
        r"|(?<![a-z0-9_.．ａ-ｚ０-９])[wｗ][wｗ][wｗ][.．](?=[^\W_]))"
        rf"(?-i:{features._LINK_REST})"  # the rest of a link is not case-blind
    ),
}
_ATTRIBUTE_PIECES = st.sampled_from(
    [
        "HREF",
        "Src",
        "\u017frc",
        "aCtIoN",
        "=",
        " = ",
        "'x'",
        '" ',
        "DISPLAY",
        ":",
        "None",
        "visib",
        "ility",
        "hiDDen",
        "font-size",
        "FONT-SIZE",
        "0",
        "1px",
        "pT",
        "BgColor",
        "background",
        "-color",
        "\u0130",
        "\u212a",
        " ",
        "\n",
        "HTTP",
        "s://",
        "\u017f://",
        "wWw.",
        "x.example",
        "ｈＴｔｐ",
        "：／／",
        "ＷｗＷ．",
        "。立即",
        "手机.com",
    ]
)


@given(source=st.lists(st.one_of(_ATTRIBUTE_PIECES, TEXTS), max_size=30).map("".join))
def test_fuzz_page_patterns_match_as_with_ignorecase(source: str) -> None:
    for fast, pattern in _CASE_BLIND_PATTERNS.items():
        assert fast.findall(source) == re.compile(pattern, re.I).findall(source), pattern


@given(source=st.lists(st.one_of(_HTML_PIECES, TEXTS), max_size=30).map("".join))
def test_fuzz_summarize_html(source: str) -> None:
    summary = summarize_html(source)
    assert isinstance(summary.text, str)
    assert summary.images >= 0


@given(text=st.lists(TEXTS, max_size=6).map("".join))
def test_fuzz_words(text: str) -> None:
    tokens = words(text)
    for word in tokens:
        assert isinstance(word, str)
        assert word
    # The ASCII fast path and jieba's one call per text give what the slow path gives
    # piece by piece: the text with a non-ASCII space appended takes the full pattern.
    assert words(text + "\u3000") == tokens


# Characters NFKC rewrites, composes or reorders, to mix into random text.
_NFKC_PIECES = st.sampled_from(
    ["！", "ＡＢ", "\u3000", "ﬁ", "\uf900", "가", "\u1100\u1161", "e\u0301"]
)


@given(text=st.lists(st.one_of(TEXTS, _NFKC_PIECES, st.just("\u0323")), max_size=12).map("".join))
def test_fuzz_nfkc_is_unicodedata_nfkc(text: str) -> None:
    # The shortcut must give exactly what the standard library gives, combining marks,
    # Hangul jamo, astral characters and lone surrogates included.
    assert nfkc(text) == unicodedata.normalize("NFKC", text)


HAN_RUNS = st.lists(
    st.text(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), min_size=1, max_size=12),
    max_size=8,
)


@given(runs=HAN_RUNS)
def test_fuzz_han_runs_segment_in_one_call_as_one_by_one(runs: list[str]) -> None:
    expected = [word for run in runs for word in segment_chinese(run)]
    assert words(" ".join(runs)) == expected


@given(
    text=st.lists(
        st.one_of(TEXTS, st.sampled_from(["http://", "www.", "@", ".", "/"])), max_size=10
    ).map("".join)
)
def test_fuzz_url_extraction(text: str) -> None:
    message = ParsedMessage((), (), text, summarize_html(text), (), len(text))
    _check_tokens(url_tokens(message))


@given(text=st.one_of(TEXTS, st.text(alphabet="xn-.аоіvіagra\u200b\u00adａ1 ", max_size=60)))
def test_fuzz_normalize_text_and_host(text: str) -> None:
    normalized = normalize_text(text)
    assert isinstance(normalized.text, str)
    assert len(normalized.text) <= len(text) * 4  # a punycode label decodes to fewer chars
    host = normalize_host("".join(text.split()))
    assert not any(ch.isspace() for ch in host.host)  # a decoded label brings in no space


@given(host=TEXTS)
def test_fuzz_registered_domain(host: str) -> None:
    assert isinstance(registered_domain(host), str)


@given(tokens=st.lists(TEXTS, max_size=20), chars=TEXTS)
def test_fuzz_hash_row(tokens: list[str], chars: str) -> None:
    row = hash_row(tokens, chars, 2**10)
    assert len(row.columns) == len(row.values)
    assert (row.columns >= 0).all() and (row.columns < 2**10).all()
    # Unit length, shortened by sqrt(columns / SHORT_ROW) below SHORT_ROW columns.
    expected = min(1.0, math.sqrt(len(row.columns) / SHORT_ROW)) if len(row.columns) else 0.0
    assert math.isclose(float(np.linalg.norm(row.values)), expected, rel_tol=1e-9, abs_tol=1e-12)


@given(text=st.one_of(TEXTS, st.text(max_size=200), st.text(st.characters(max_codepoint=0x7F))))
def test_fuzz_main_script(text: str) -> None:
    assert main_script(text) in SCRIPTS
    # ASCII text takes a shortcut; with an ideographic space (no letter) it takes the table.
    assert main_script(text + "\u3000") == main_script(text)
