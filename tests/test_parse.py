"""Tests of spamclf.parse, fixture by fixture (facts from tests/fixtures/README.md)."""

from __future__ import annotations

import base64
import binascii
import email
import quopri
import time
from collections.abc import Callable

import pytest
from conftest import ALL_FIXTURES
from hypothesis import given, settings
from hypothesis import strategies as st

from spamclf.budget import clock
from spamclf.features import extract_features
from spamclf.parse import Limits, ParsedMessage, Part, decode_header, parse_bytes

Loader = Callable[[str], bytes]


@pytest.mark.parametrize(
    ("name", "subject"),
    [
        ("gb2312_spam", "代开各类发票，优惠多多，免费咨询！"),
        ("gb2312_ham", "关于下周三的项目会议安排"),
        ("big5_ham", "會議記錄與下週行程確認"),
        ("euckr_spam", "(광고) 무담보 당일대출 승인! 카지노 첫충전 보너스 100%"),
        ("iso2022jp_ham", "来週の打ち合わせについて"),
        ("shift_jis_spam", "【無料】今だけ！高収入副業のご案内"),
        ("received_cn_kr", "Re: your account statement for March"),
        ("malformed_mime", "special offer"),
        ("lying_charset_gb_as_latin1", "special offer"),
        ("bad_base64", "claim your prize"),
        ("missing_charset_gbk", "喆镕商贸：年终大促，全场五折"),  # raw 8-bit GBK, no RFC 2047
        ("headers_only", "(no body)"),
        ("html_only_spam", "Your account has been suspended - action required"),
        ("english_ham", "Re: [libtoaster-devel] Proposal: drop Python 2.3 support in 0.9"),
        ("nested_multipart", "Quote 2006-031 and updated invoice"),
        ("utf8_crlf", "Café résumé — naïve façade ✓"),
        ("examples/spam", "Save 80% on prescription meds - no doctor needed!!!"),
        ("examples/ham", "Notes from today's planning meeting"),
    ],
)
def test_parse_decodes_subject_exactly(fixture_bytes: Loader, name: str, subject: str) -> None:
    assert parse_bytes(fixture_bytes(name)).subject == subject


@pytest.mark.parametrize(
    ("name", "sender"),
    [
        ("euckr_spam", "대출상담센터 <vip@vip-casino-loan.example.kr>"),
        ("gb2312_ham", "张伟 <zhang.wei@partner-corp.example.cn>"),
        ("big5_ham", "林美玲 <meiling.lin@tw-isp.example.net.tw>"),
        ("iso2022jp_ham", "鈴木 一郎 <suzuki@jp-company.example.co.jp>"),
    ],
)
def test_parse_decodes_cjk_from_header(fixture_bytes: Loader, name: str, sender: str) -> None:
    assert parse_bytes(fixture_bytes(name)).header("from") == sender


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("gb2312_spam", ["代开以下发票", "增值税专用发票", "免费咨询"]),
        ("gb2312_ham", ["下周三", "会议室", "测试报告"]),
        ("big5_ham", ["會議的重點記錄", "台中辦公室"]),  # 會 has the ASCII trail byte 0x7C
        ("euckr_spam", ["무담보 신용대출", "카지노", "http://vip-casino-loan.example.kr/"]),
        ("iso2022jp_ham", ["いつもお世話になっております", "打ち合わせ"]),
        ("shift_jis_spam", ["収入表", "専用ソフト", "高収入副業"]),  # 表, ソ: 0x5C trail bytes
        ("lying_charset_gb_as_latin1", ["特价促销：名牌手表一律三折，免费送货上门！"]),
        ("missing_charset_gbk", ["喆镕商贸有限公司年终大促销活动开始啦！"]),
        ("html_only_spam", ["suspended your account", "verify your identity"]),
        ("english_ham", ["drop 2.3 support", "Debian"]),
        ("nested_multipart", ["Prices are in €", "Zürich office", "José"]),
        ("utf8_crlf", ["€", "£", "¥", "日本語", "Ελληνικά", "✓"]),
        ("received_cn_kr", ["account statement for March"]),
    ],
)
def test_parse_text_contains_expected_words(
    fixture_bytes: Loader, name: str, expected: list[str]
) -> None:
    text = parse_bytes(fixture_bytes(name)).text
    for words in expected:
        assert words in text


def test_parse_lying_latin1_label_gives_no_mojibake(fixture_bytes: Loader) -> None:
    message = parse_bytes(fixture_bytes("lying_charset_gb_as_latin1"))
    assert "ÌØ¼Û" not in message.text
    assert message.parts[0].charset == "iso-8859-1"
    assert message.parts[0].codec == "gb18030"


@pytest.mark.parametrize(
    ("name", "charset", "codec", "encoding"),
    [
        ("gb2312_spam", "gb2312", "gb18030", "8bit"),
        ("gb2312_ham", "GB2312", "gb18030", "quoted-printable"),
        ("big5_ham", "big5", "big5hkscs", "base64"),
        ("iso2022jp_ham", "ISO-2022-JP", "iso2022_jp_ext", "7bit"),
        ("shift_jis_spam", "Shift_JIS", "cp932", "8bit"),
        ("missing_charset_gbk", None, "gb18030", "8bit"),
        ("utf8_crlf", "UTF-8", "utf-8", "8bit"),
    ],
)
def test_parse_records_declared_charset_and_codec_used(
    fixture_bytes: Loader, name: str, charset: str | None, codec: str, encoding: str
) -> None:
    (part,) = parse_bytes(fixture_bytes(name)).parts
    assert (part.charset, part.codec, part.transfer_encoding) == (charset, codec, encoding)


def test_parse_euckr_alternative_gives_plain_and_html_parts(fixture_bytes: Loader) -> None:
    message = parse_bytes(fixture_bytes("euckr_spam"))
    assert [p.content_type for p in message.parts] == ["text/plain", "text/html"]
    assert {p.codec for p in message.parts} == {"cp949"}
    assert message.html is not None
    assert "http://vip-casino-loan.example.kr/unsubscribe" in message.html.links


def test_parse_malformed_mime_yields_text_and_defects(fixture_bytes: Loader) -> None:
    message = parse_bytes(fixture_bytes("malformed_mime"))
    assert "promo-2006 broken continuation line" in message.text
    assert "特价促销：名牌手表一律三折，免费送货上门！" in message.text
    assert {
        "MissingHeaderBodySeparatorDefect",
        "StartBoundaryNotFoundDefect",
        "MultipartInvariantViolationDefect",
    } <= set(message.defects)
    assert [p.content_type for p in message.parts] == ["multipart/mixed"]


# The bytes as they arrived, not get_payload()'s text: that is decoded with the label (then read
# back as UTF-8, a codec the message never used) or, with no label, as ASCII: all U+FFFD.
@pytest.mark.parametrize("content_type", [b"text/plain; charset=gb2312", b"text/plain"])
def test_parse_reads_base64_that_holds_raw_text_raw(content_type: bytes) -> None:
    body = "免费代开发票，欢迎来电咨询！我们的价格最低，服务最好。\n"
    raw = (
        b"Subject: hi\nContent-Type: " + content_type + b"\n"
        b"Content-Transfer-Encoding: base64\n\n" + body.encode("gb2312")
    )
    message = parse_bytes(raw)
    assert message.text == body
    assert message.parts[0].transfer_encoding == "base64"
    assert message.parts[0].codec == "gb18030"


def test_parse_reads_base64_that_holds_ascii_sentence_raw() -> None:
    raw = b"Subject: hi\nContent-Transfer-Encoding: base64\n\nHello there, buy cheap watches now!\n"
    assert parse_bytes(raw).text == "Hello there, buy cheap watches now!\n"


def test_parse_decodes_real_base64() -> None:
    raw = b"Subject: hi\nContent-Transfer-Encoding: base64\n\nSGVsbG8sIHdvcmxkIQ==\n"
    assert parse_bytes(raw).text == "Hello, world!"


def test_parse_reads_iso_2022_kr_and_hz_mail() -> None:
    """The 7-bit encodings of older Korean and Chinese mailers, in the body and in RFC 2047
    subjects; read as ASCII they gave words like "9+7a"."""
    korean, chinese = "무료 상담 신청", "免费发票"
    subject = base64.b64encode(korean.encode("iso2022_kr")).decode()
    raw = (
        (
            f"Subject: =?ISO-2022-KR?B?{subject}?=\n"
            "Content-Type: text/plain; charset=ISO-2022-KR\n\n"
        ).encode()
        + korean.encode("iso2022_kr")
        + b"\n"
    )
    message = parse_bytes(raw)
    assert (message.subject, message.text.strip()) == (korean, korean)
    assert message.parts[0].codec == "iso2022_kr"
    raw = b"Subject: hz\nContent-Type: text/plain; charset=HZ-GB-2312\n\n" + chinese.encode("hz")
    assert parse_bytes(raw).text == chinese


def test_parse_reads_a_utf16_body() -> None:
    body = base64.encodebytes("Lunch tomorrow? 明天见".encode("utf-16-le"))
    raw = b"Content-Type: text/plain; charset=unicode\nContent-Transfer-Encoding: base64\n\n"
    message = parse_bytes(raw + body)
    assert (message.text, message.parts[0].codec) == ("Lunch tomorrow? 明天见", "utf-16-le")


HEADED = b"Received: from a.example.cn ([218.79.1.2]) by mx.example.com\nSubject: hello\n\nbody\n"


@pytest.mark.parametrize(
    "raw",
    [
        b"\xef\xbb\xbf" + HEADED,  # saved by a Windows editor
        b"\n\r\n" + HEADED,  # pasted into a form
        b"  " + HEADED,  # indented
        HEADED.replace(b"\n", b"\r\r\n"),  # a CRLF file written in text mode
        b"%d\n" % len(HEADED) + HEADED + b'<?xml version="1.0"?>\n<plist><dict/></plist>\n',
    ],
    ids=["utf8-mark", "blank-lines", "indented", "cr-cr-lf", "apple-mail-emlx"],
)
def test_parse_finds_the_headers_behind_what_files_put_first(raw: bytes) -> None:
    message = parse_bytes(raw)
    assert message.subject == "hello"
    assert message.text.strip() == "body"  # no plist in the body
    assert message.headers_named("received")


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        (b"\nNote: a body, not a header\n", "Note: a body, not a header\n"),  # no headers
        (b"12\nthirteen ducks\n", "12\nthirteen ducks\n"),
    ],
)
def test_parse_keeps_a_body_that_only_starts_like_something_before_headers(
    raw: bytes, text: str
) -> None:
    message = parse_bytes(raw)
    assert (message.headers, message.text) == ((), text)


# bad_base64.eml holds base64 with a few junk characters (!@#, $$$) and bad padding. A few
# corrupted characters do not make it raw text: it decodes as the stdlib does and records both
# defects (tests/fixtures/README.md).
def test_parse_decodes_base64_with_junk_characters(fixture_bytes: Loader) -> None:
    message = parse_bytes(fixture_bytes("bad_base64"))
    assert "Limited offer! Click now to claim your FREE prize!!" in message.text
    assert {"InvalidBase64CharactersDefect", "InvalidBase64PaddingDefect"} <= set(message.defects)


def test_parse_records_defects_of_sub_parts() -> None:
    part = b"Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\nSGVsbG8sIHdvcmxkIQ\n"
    top_level = parse_bytes(b"Subject: x\n" + part)
    nested = parse_bytes(
        b"Subject: x\nContent-Type: multipart/mixed; boundary=b\n\n--b\n" + part + b"--b--\n"
    )
    assert "InvalidBase64PaddingDefect" in top_level.defects
    assert "InvalidBase64PaddingDefect" in nested.defects


@pytest.mark.parametrize("name", (*ALL_FIXTURES, "examples/spam", "examples/ham"))
def test_parse_never_raises_on_fixtures(fixture_bytes: Loader, name: str) -> None:
    data = fixture_bytes(name)
    message = parse_bytes(data)
    assert isinstance(message, ParsedMessage)
    assert message.size == len(data)
    assert isinstance(message.text, str)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00" * 100,
        b"\r\r\r\n\n",
        b"Subject",
        b"Subject: =?gb2312?B?!!!?=\n\n",
        b"Content-Type: multipart/mixed; boundary=\n\n--\n--\n",
        b"Content-Type: text/plain; charset=\xff\xfe\n\nbody\n",
        b"Content-Type: multipart/mixed; boundary=b\n\n"
        b"--b\nContent-Type: message/rfc822\n\n--b--\n",
    ],
    ids=[
        "empty",
        "nuls",
        "line-ends",
        "no-colon",
        "bad-encoded-word",
        "empty-boundary",
        "binary-charset",
        "empty-rfc822",
    ],
)
def test_parse_never_raises_on_hostile_input(data: bytes) -> None:
    assert isinstance(parse_bytes(data), ParsedMessage)


# Charset labels naming codecs that are not text codecs (idna, undefined, punycode) are read
# like unknown labels, in a body part and in an RFC 2047 encoded word alike.
@pytest.mark.parametrize("label", [b"idna", b"undefined", b"punycode"])
def test_parse_never_raises_on_non_text_codec_body_charset(label: bytes) -> None:
    raw = b"Subject: x\nContent-Type: text/plain; charset=" + label + b"\n\ncaf\xe9 ok\n"
    assert "ok" in parse_bytes(raw).text


@pytest.mark.parametrize("label", [b"idna", b"undefined", b"punycode"])
def test_parse_never_raises_on_non_text_codec_encoded_word(label: bytes) -> None:
    raw = b"Subject: =?" + label + b"?Q?caf=E9?=\n\nbody\n"
    assert parse_bytes(raw).text == "body\n"


def test_parse_empty_message(fixture_bytes: Loader) -> None:
    message = parse_bytes(fixture_bytes("empty"))
    assert (message.headers, message.text, message.size, message.html) == ((), "", 0, None)
    assert message.subject == ""


def test_parse_binary_junk_has_no_headers(fixture_bytes: Loader) -> None:
    message = parse_bytes(fixture_bytes("binary_junk"))
    assert message.headers == ()
    assert message.size == 4096
    assert message.header("received") is None
    assert "MissingHeaderBodySeparatorDefect" in message.defects


def test_parse_headers_only_message(fixture_bytes: Loader) -> None:
    message = parse_bytes(fixture_bytes("headers_only"))
    assert len(message.headers) == 8
    assert message.text == ""
    assert message.header("FROM") == "Carol Example <carol@example.com>"
    assert len(message.headers_named("received")) == 1


def test_parse_nested_multipart_lists_leaves_in_order(fixture_bytes: Loader) -> None:
    message = parse_bytes(fixture_bytes("nested_multipart"))
    assert [(p.content_type, p.filename) for p in message.parts] == [
        ("text/plain", None),
        ("text/html", None),
        ("application/pdf", "quote_2006-031.pdf"),
        ("application/octet-stream", "invoice_scan.exe"),
    ]


def test_parse_part_sizes_are_decoded_sizes(fixture_bytes: Loader) -> None:
    data = fixture_bytes("nested_multipart")
    leaves = [p for p in email.message_from_bytes(data).walk() if not p.is_multipart()]
    expected = [len(p.get_payload(decode=True)) for p in leaves]
    assert [p.size for p in parse_bytes(data).parts] == expected


def test_parse_attachments_are_not_text(fixture_bytes: Loader) -> None:
    message = parse_bytes(fixture_bytes("nested_multipart"))
    attachments = [p for p in message.parts if p.filename]
    assert all(p.codec is None for p in attachments)
    assert "%PDF" not in message.text
    assert "JVBERi0" not in message.text


def _with_part(part_headers: bytes, body: bytes) -> bytes:
    return (
        b'From: a@example.com\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"\n'
        b"\n--b\nContent-Type: text/plain\n\nhello\n--b\n"
        + part_headers
        + b"\n"
        + body
        + b"\n--b--\n"
    )


@pytest.mark.parametrize(
    ("part_headers", "read"),
    [
        pytest.param(b'Content-Type: text/plain; name="note.txt"\n', True, id="name-only"),
        pytest.param(
            b'Content-Type: text/plain; name="note.txt"\n'
            b'Content-Disposition: inline; filename="note.txt"\n',
            True,
            id="inline-filename",
        ),
        pytest.param(b'Content-Type: text/html; name="note.htm"\n', True, id="html-name-only"),
        pytest.param(
            b'Content-Type: text/plain; name="note.txt"\n'
            b'Content-Disposition: attachment; filename="note.txt"\n',
            False,
            id="attachment",
        ),
        pytest.param(
            b'Content-Type: text/plain\nContent-Disposition: ATTACHMENT; filename="note.txt"\n',
            False,
            id="attachment-upper-case",
        ),
        pytest.param(b'Content-Type: text/x-vcard; name="card.vcf"\n', False, id="vcard"),
    ],
)
def test_parse_reads_named_text_parts_unless_attached(part_headers: bytes, read: bool) -> None:
    message = parse_bytes(_with_part(part_headers, b"<p>cheap pills</p>"))
    assert ("cheap pills" in message.text) is read
    named = message.parts[-1]
    assert named.filename is not None  # still an attachment to the structure features
    assert (named.codec is not None) is read


def test_parse_multipart_alternative_summarizes_html_part(fixture_bytes: Loader) -> None:
    message = parse_bytes(fixture_bytes("nested_multipart"))
    assert message.html is not None
    assert "<p>" not in message.text
    assert "Prices are in € and include delivery" in message.html.text


def test_parse_html_only_message_has_html_summary(fixture_bytes: Loader) -> None:
    message = parse_bytes(fixture_bytes("html_only_spam"))
    assert message.html is not None
    assert "http://203.0.113.45/~secure/verify/index.html" in message.html.links
    assert {"form", "img", "a", "input"} <= message.html.tags
    assert message.html.hidden_styles >= 1
    assert "<form" not in message.text


def test_parse_handles_crlf_line_endings(fixture_bytes: Loader) -> None:
    crlf = fixture_bytes("utf8_crlf")
    lf = crlf.replace(b"\r\n", b"\n")
    with_crlf, with_lf = parse_bytes(crlf), parse_bytes(lf)
    assert with_crlf.headers == with_lf.headers
    assert all("\r" not in value for _, value in with_crlf.headers)
    assert with_crlf.text.replace("\r\n", "\n") == with_lf.text
    assert with_crlf.header("to") == "Zoë <zoe@ourdomain.example>"


def test_parse_header_lookup_is_case_insensitive_and_ordered(fixture_bytes: Loader) -> None:
    message = parse_bytes(fixture_bytes("received_cn_kr"))
    received = message.headers_named("Received")
    assert len(received) == 4
    assert received[0].startswith("from mx.ourdomain.example")
    assert message.header("RECEIVED") == received[0]
    assert message.header("x-no-such-header") is None


def test_parse_raw_headers_keep_encoded_words(fixture_bytes: Loader) -> None:
    message = parse_bytes(fixture_bytes("gb2312_spam"))
    (raw,) = message.headers_named("subject", raw=True)
    assert raw.lower().startswith("=?gb2312?b?")


def test_limits_max_message_bytes_truncates_and_records_the_cap(fixture_bytes: Loader) -> None:
    data = fixture_bytes("english_ham")
    message = parse_bytes(data, Limits(max_message_bytes=600))
    assert message.limits_hit == ("message_bytes",)
    assert message.size == len(data)  # the size is the real one, for the size feature
    assert "drop 2.3 support" not in message.text
    assert parse_bytes(data).limits_hit == ()


def test_parse_takes_the_full_size_of_a_message_read_in_part(fixture_bytes: Loader) -> None:
    data = fixture_bytes("english_ham")
    message = parse_bytes(data[:600], Limits(max_message_bytes=600), size=len(data))
    assert message.size == len(data)
    assert "message_bytes" in message.limits_hit


def test_limits_max_parts_stops_and_records_the_cap(fixture_bytes: Loader) -> None:
    message = parse_bytes(fixture_bytes("nested_multipart"), Limits(max_parts=2))
    assert [p.content_type for p in message.parts] == ["text/plain", "text/html"]
    assert message.limits_hit.count("parts") == 1


def test_limits_max_part_bytes_caps_each_part(fixture_bytes: Loader) -> None:
    message = parse_bytes(fixture_bytes("nested_multipart"), Limits(max_part_bytes=10))
    assert all(p.size <= 10 for p in message.parts)


def test_limits_max_text_chars_caps_text(fixture_bytes: Loader) -> None:
    message = parse_bytes(fixture_bytes("english_ham"), Limits(max_text_chars=50))
    assert len(message.text) == 50
    assert "text" in message.limits_hit


def test_limits_max_headers_caps_headers(fixture_bytes: Loader) -> None:
    message = parse_bytes(fixture_bytes("english_ham"), Limits(max_headers=3))
    assert len(message.headers) == 3
    assert "headers" in message.limits_hit


def test_limits_max_header_chars_caps_one_header() -> None:
    raw = b"Subject: " + b"x" * 5000 + b"\nFrom: a@example.com\n\nbody\n"
    message = parse_bytes(raw, Limits(max_header_chars=100))
    assert message.subject == "x" * 100
    assert message.header("from") == "a@example.com"
    assert message.limits_hit == ("header_chars",)


def test_limits_max_depth_skips_deeper_parts() -> None:
    nest = b"".join(
        b"--b%d\nContent-Type: multipart/mixed; boundary=b%d\n\n" % (i, i + 1) for i in range(5)
    )
    data = b"Content-Type: multipart/mixed; boundary=b0\n\n" + nest + b"--b5\n\nleaf\n"
    assert "leaf" in parse_bytes(data).text
    message = parse_bytes(data, Limits(max_depth=3))
    assert "leaf" not in message.text
    assert message.limits_hit == ("depth",)


def test_limits_max_part_bytes_decodes_only_the_head_of_a_huge_base64_part() -> None:
    line = base64.b64encode(b"spam words " * 6) + b"\n"  # 88 characters, 66 bytes decoded
    data = b"Content-Transfer-Encoding: base64\n\n" + line * 20_000
    message = parse_bytes(data, Limits(max_part_bytes=1000, max_message_bytes=10**7))
    assert message.parts[0].size == 1000
    assert message.text.startswith("spam words spam words")
    assert message.limits_hit == ("decoded",)
    assert message.defects == ()  # the head was cut at a line end: whole base64 quanta


def test_limits_time_budget_stops_reading_parts() -> None:
    parts = b"".join(b"--b\nContent-Type: text/plain\n\npart %d\n" % i for i in range(5))
    raw = b"Content-Type: multipart/mixed; boundary=b\n\n" + parts + b"--b--\n"
    message = parse_bytes(raw, deadline=clock() - 1)
    assert message.parts == ()
    assert message.limits_hit == ("time",)
    assert message.header("content-type") is not None  # the headers are still read


def test_parse_many_parts_is_capped_by_default() -> None:
    parts = b"".join(b"--b\nContent-Type: text/plain\n\npart %d\n" % i for i in range(150))
    raw = b"Content-Type: multipart/mixed; boundary=b\n\n" + parts + b"--b--\n"
    message = parse_bytes(raw)
    assert len(message.parts) == Limits().max_parts
    assert "parts" in message.limits_hit


@pytest.mark.parametrize(
    ("value", "hint", "decoded"),
    [
        ("=?gb2312?B?w+K30Q==?=", None, "免费"),
        ("=?gb2312?B?w+K30Q==?= and =?utf-8?q?caf=C3=A9?=", None, "免费 and café"),
        ("=?x-unknown?B?w+K30Q==?=", None, "免费"),  # unknown label: bytes decide
        ("plain   folded\n   header", None, "plain folded header"),
        ("=?ISO-8859-1?Q?Andr=E9?= Pirard", None, "André Pirard"),
        ("\udcc3\udce2\udcb7\udcd1", "gb18030", "免费"),  # raw 8-bit bytes, surrogate-escaped
        # Cut off inside an encoded word (no "?="), as archives truncate long subjects; the
        # partial base64 group at the end is dropped.
        ("=?gb2312?B?w+K30beix", None, "免费发"),
        ("Re: =?gb2312?B?w+K30Q==?= =?gb2312?B?w+K30beixr", None, "Re: 免费免费发"),
        ("=?utf-8?q?caf=C3=A9", None, "café"),
        # An encoded word beside raw 8-bit text: the stdlib hands the raw stretch back as
        # raw-unicode-escape bytes, which were read as the text "\\udcb7\\udca2...".
        ("=?gb2312?B?w+K30Q==?= \udcb7\udca2\udcc6\udcb1", "gb18030", "免费 发票"),
        ("=?utf-8?q?Hi?= \udce5\udc85\udc8d\udce8\udcb4\udcb9 offer", None, "Hi 免费 offer"),
        # One malformed word (a stray "!", a base64 text of bad length) stays as it is; the
        # stdlib refuses the whole value for it, which kept the good words encoded too.
        ("=?utf-8?B?5YWN6LS5?= =?utf-8?B?5!WN6LS5?=", None, "免费 =?utf-8?B?5!WN6LS5?="),
        ("=?utf-8?B?5?= tail =?utf-8?B?5YWN?= =?utf-8?B?6LS5?=", None, "=?utf-8?B?5?= tail 免费"),
    ],
)
def test_decode_header_handles_encoded_words_and_raw_bytes(
    value: str, hint: str | None, decoded: str
) -> None:
    assert decode_header(value, hint) == decoded


@pytest.mark.parametrize(
    "data",
    [
        # An encoded word whose base64 has one character too many (HeaderParseError).
        b"Subject: =?utf-8?b?QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa?=\n\nbody\n",
        # A transfer-encoding value with 8-bit bytes (the stdlib returns a Header object).
        b"Content-Transfer-Encoding: base64\xff\xfe\n\nQUJD\n",
    ],
    ids=["bad-base64-encoded-word", "8bit-transfer-encoding"],
)
def test_parse_survives_inputs_found_by_fuzzing(data: bytes) -> None:
    message = parse_bytes(data)
    assert isinstance(message.text, str)


def test_parse_answers_mime_nested_a_thousand_levels_deep() -> None:
    # The stdlib parser recurses once per level and hits Python's recursion limit. By default
    # it is fed no further than 400 messages, far above the depth cap; a cap of parts that lets
    # it build all 1,000 levels takes the path that reads the body flat.
    nest = b"".join(
        b"--b%d\nContent-Type: multipart/mixed; boundary=b%d\n\n" % (i, i + 1) for i in range(1000)
    )
    leaf = "免费代开发票，欢迎来电咨询！我们的价格最低，服务最好。"
    data = b"Subject: deep\nContent-Type: multipart/mixed; boundary=b0\n\n"
    data += leaf.encode("gb2312") + b"\n" + nest + b"--b1000\n\nleaf\n"  # a raw GB preamble
    message = parse_bytes(data, Limits(max_parts=1_000))
    assert "depth" in message.limits_hit
    assert message.subject == "deep"  # the headers are still read
    assert leaf in message.text  # the body is read as text from its bytes, not as U+FFFD
    message = parse_bytes(data)
    assert message.limits_hit == ("parts", "depth")
    assert message.subject == "deep"


def _tiny_parts(count: int) -> bytes:
    return b"Content-Type: multipart/mixed; boundary=b\n\n" + b"--b\n\nspam\n" * count


def _empty_multiparts(count: int) -> bytes:
    # Each with a boundary of its own, for which the stdlib compiles a regex.
    parts = (
        b"--b\nContent-Type: multipart/mixed; boundary=c%d\n\n--c%d--\n" % (i, i)
        for i in range(count)
    )
    return b"Content-Type: multipart/mixed; boundary=b\n\n" + b"".join(parts)


@pytest.mark.parametrize(
    "raw", [_tiny_parts(90_000), _empty_multiparts(15_000)], ids=["tiny", "own-boundaries"]
)
def test_parse_builds_no_more_of_a_mime_tree_than_it_reads(
    monkeypatch: pytest.MonkeyPatch, raw: bytes
) -> None:
    # The stdlib built every part (1.4 s for the tiny ones, 2.2 s for 20,000 boundaries) before
    # the walker read one: the time budget was spent, no part was read, the text was lost.
    made = []
    init = email.message.Message.__init__

    def counted(self: email.message.Message, *args: object, **kwargs: object) -> None:
        made.append(self)
        init(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(email.message.Message, "__init__", counted)
    message = parse_bytes(raw[: Limits().max_message_bytes])
    assert len(message.parts) == Limits().max_parts
    assert message.limits_hit == ("parts",)
    assert len(made) < 10 * Limits().max_parts
    if b"spam" in raw:
        assert message.text.startswith("spam\nspam\nspam")


_HEADER_LINES = st.sampled_from(
    [
        b"Subject: =?gb2312?B?w+K30Q==?=\n",
        b"Subject: =?utf-8?q?caf=C3=A9?=\n",
        b"Content-Type: multipart/mixed; boundary=b\n",
        b"Content-Type: text/html; charset=ks_c_5601-1987\n",
        b"Content-Type: text/plain; charset=idna\n",
        b"Content-Transfer-Encoding: base64\n",
        b"Content-Transfer-Encoding: quoted-printable\n",
        b"Received: from x ([218.79.1.2]) by y; Mon, 1 Jan 2006 00:00:00 +0800\n",
        b"Date: Mon, 99 Foo 2006 99:99:99 +9999\n",
        b'From: "\xc3\xa9" <a@b.example>\n',
        b"\tfolded continuation\n",
        b"Broken header without colon\n",
        b"Content-Type: message/rfc822\n",
        b"Subject : white space before the colon\n",
        b"Content-Type: text/plain; format=flowed; delsp=yes\n",
    ]
)
_BODY_PIECES = st.sampled_from(
    [
        b"--b\n",
        b"--b--\n",
        b"\n",
        b"QUJD\n",
        b"=C3=A9=\n",
        b"<html><a href=http://x.example>",
        "免费发票".encode("gb2312"),
        b"\x00\xff\xfe",
        b"\x1b$B",
        b"plain words\n",
        b"QQ==QUJD\n",  # padded chunks
        b"fr=  \n",  # a soft break with white space after it
        b"<meta charset=koi8-r>",
        b"Content-Transfer-Encoding: base64\n",
        b"begin 644 a.exe\n",  # a uuencoded file, its lines and its end
        b"M86)C\n",
        b"`\nend\n",
        b"=ybegin line=128 size=3 name=a.exe\n",  # a yEnc file and its end
        b"=yend size=3\n",
        b"> wrapped wo \n",  # a flowed line
    ]
)


@settings(max_examples=300, deadline=None)
@given(
    headers=st.lists(_HEADER_LINES, max_size=8),
    body=st.lists(st.one_of(_BODY_PIECES, st.binary(max_size=40)), max_size=12),
)
def test_parse_never_raises_on_generated_mime(headers: list[bytes], body: list[bytes]) -> None:
    message = parse_bytes(b"".join(headers) + b"\n" + b"".join(body))
    assert isinstance(message.text, str)
    assert all(isinstance(value, str) for _, value in message.headers)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=3000))
def test_parse_never_raises_on_arbitrary_bytes(data: bytes) -> None:
    assert isinstance(parse_bytes(data).text, str)


@pytest.mark.parametrize(
    ("subject", "codec", "body_label"),
    [
        # The body is all ASCII, so it decodes as ASCII; its label still tells how the sender
        # wrote the unlabelled subject (trec06p has Hebrew subjects over windows-1255 bodies).
        ("Fw: מחנות קיץ", "cp1255", "windows-1255"),
        # us-ascii and iso-8859-1 are mailer defaults, no hint: the subject's bytes decide.
        ("免费发票", "gb2312", "us-ascii"),
    ],
)
def test_raw_subject_over_an_ascii_body(subject: str, codec: str, body_label: str) -> None:
    raw = (
        b"Subject: " + subject.encode(codec) + b"\n"
        b'Content-Type: text/plain; charset="' + body_label.encode() + b'"\n\n'
        b"plain text\n"
    )
    assert parse_bytes(raw).subject == subject


@pytest.mark.parametrize(
    "quoted", ["Brian <brian@example.org>", "Pat <p.smith@example.org>", "<bruno@example.org>"]
)
def test_parse_keeps_addresses_and_links_of_a_plain_part_that_quotes_an_address(
    quoted: str,
) -> None:
    raw = (
        f"Subject: Re: invoice\nContent-Type: text/plain\n\nOn Monday, {quoted} wrote:\n"
        "> see the invoice\n\nPlease pay at <http://pay.example.net/invoice> today.\n"
    ).encode()
    message = parse_bytes(raw)
    assert message.html is None
    assert quoted in message.text
    assert "<http://pay.example.net/invoice>" in message.text


@pytest.mark.parametrize("tag", ["<br>", "<BR/>", "<br />", "<p>", "<p class=x>", "<html lang=en>"])
def test_parse_reads_a_plain_part_holding_html_tags_as_html(tag: str) -> None:
    raw = f"Subject: hi\n\nBuy cheap pills{tag}now\n".encode()
    message = parse_bytes(raw)
    assert message.html is not None
    assert tag not in message.text


@pytest.mark.parametrize("spacing", [" ", "  ", "\t"], ids=["space", "two-spaces", "tab"])
@pytest.mark.parametrize("line_end", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_parse_reads_headers_with_white_space_before_the_colon(spacing: str, line_end: str) -> None:
    """RFC 5322 obsolete syntax (section 4.5.3); the stdlib ended the header block there."""
    raw = line_end.join(
        [
            "Received: from relay.example.net ([203.0.113.9])",
            f"Subject{spacing}: Cheap meds",
            "From: seller@pharma.example",
            "Content-Type: text/html",
            "",
            "<p>Buy <b>now</b> : today</p>",
            "Note : a body line",
            "",
        ]
    ).encode()
    message = parse_bytes(raw)
    assert (message.subject, message.header("from")) == ("Cheap meds", "seller@pharma.example")
    assert message.header("content-type") == "text/html"
    assert message.text.split() == ["Buy", "now", ":", "today", "Note", ":", "a", "body", "line"]
    assert message.defects == ()


@pytest.mark.parametrize(
    "raw",
    [
        # Enron's form: a Subject line, then the body with no blank line between.
        b"Subject: re : plans\ndawn :\ni am resending this .\n",
        b"Subject: issues website\nhttp : / / ubsintegration . corp . example . com /\n",
        b"Subject: hi\ncc : dawn\nthe body goes on\n\nand on\n",
    ],
    ids=["name-colon", "link", "known-name-then-text"],
)
def test_parse_leaves_body_lines_with_a_spaced_colon_in_the_body(raw: bytes) -> None:
    message = parse_bytes(raw)
    assert message.text.split()[:2] == raw.split(b"\n")[1].decode().split()[:2]


def _base64_part(body: bytes, line_end: bytes = b"\n") -> bytes:
    headers = (
        b"Subject: x\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64"
    )
    return (headers + b"\n\n").replace(b"\n", line_end) + body


@pytest.mark.parametrize(
    "footer",
    [
        b"\n_______________________________________________\nUsers mailing list\n"
        b"Users@lists.example.org\nhttp://lists.example.org/mailman/listinfo/users\n",
        b"-- \nThis message has been scanned for viruses by MailGuard (example.net).\n",
        b"DISCLAIMER: this e-mail is confidential.\n",
        b"Sent from my phone\n",  # base64 letters only, but spaces between them
    ],
    ids=["list-footer", "virus-scanner-note", "disclaimer", "letters-and-spaces"],
)
@pytest.mark.parametrize("line_end", [b"\n", b"\r\n"], ids=["lf", "crlf"])
def test_parse_decodes_short_base64_with_a_text_footer_after_it(
    footer: bytes, line_end: bytes
) -> None:
    text = "Votre colis est bloqué. Payez les frais ici: http://colis.example.ru/pay\n"
    body = base64.encodebytes(text.encode()) + footer
    message = parse_bytes(_base64_part(body.replace(b"\n", line_end), line_end))
    assert message.text.replace("\r\n", "\n") == text + footer.decode()


@pytest.mark.parametrize(
    "body",
    [
        b"SGVsbG8g\nY2hlYXAgbWVkcyA=\nYnV5IG5vdwo=\n",  # each line encoded and padded alone
        b"SGVsbG8gY2hlYXAgbWVkcyA=YnV5IG5vdwo=\n",  # the chunks on one line
        b"SGVsbG8g\nY2hlYXAgbWVkcyA=\nYnV5IG5vdw==\n\n-- \nsent by a list\n",  # and a footer
        b"SGVsbG8g\nY2hlYXAgbWVkcyA=\nYnV5IG5vdw==\nSent from my phone\n",  # on its own line
    ],
    ids=["one-per-line", "one-line", "with-footer", "with-footer-of-letters"],
)
def test_parse_decodes_base64_padded_chunk_by_chunk(body: bytes) -> None:
    """The stdlib stops at the first padding: the text after it was lost."""
    assert parse_bytes(_base64_part(body)).text.startswith("Hello cheap meds buy now\n")


@pytest.mark.parametrize(
    "body",
    [b"Dear\nJohn, buy cheap watches now!\n", "Bonjour\nVotre colis est arrivé.\n".encode()],
)
def test_parse_reads_text_under_a_base64_label_whose_first_line_is_one_word_raw(
    body: bytes,
) -> None:
    assert parse_bytes(_base64_part(body)).text == body.decode()


def _html_part(meta: str, body: bytes, content_type: str = "text/html") -> bytes:
    return (
        (
            f"Subject: x\nMIME-Version: 1.0\nContent-Type: {content_type}\n\n"
            f"<html><head>{meta}</head><body><p>"
        ).encode()
        + body
        + b"</p></body></html>\n"
    )


@pytest.mark.parametrize(
    ("text", "charset", "meta"),
    [
        ("Здравствуйте, ваш заказ готов", "iso-8859-5", '<meta charset="{}">'),
        (
            "Dobrý den, posíláme Vám fakturu. Děkujeme za spolupráci.",
            "iso-8859-2",
            '<META HTTP-EQUIV="Content-Type" CONTENT="text/html; charset={}">',
        ),
        ("Ваш заказ готов к отправке", "windows-1251", "<meta charset={} />"),
    ],
)
def test_parse_reads_an_html_part_in_the_charset_its_meta_declares(
    text: str, charset: str, meta: str
) -> None:
    message = parse_bytes(_html_part(meta.format(charset), text.encode(charset)))
    assert message.text.strip() == text
    assert message.parts[0].charset is None  # still the MIME label: none was given


def test_parse_prefers_the_mime_charset_to_the_meta_one() -> None:
    text = "Dobrý den, posíláme Vám fakturu. Děkujeme za spolupráci."
    raw = _html_part(
        '<meta charset="iso-8859-5">',
        text.encode("iso-8859-2"),
        content_type="text/html; charset=iso-8859-2",
    )
    assert parse_bytes(raw).text.strip() == text


_INNER_MESSAGE = (
    "Subject: inner\nContent-Type: text/plain; charset=utf-8\n\n"
    "Café: buy cheap pills online now, a line long enough for quoted-printable to fold it\n"
).encode()


@pytest.mark.parametrize(
    ("encoding", "encoded"),
    [
        (b"base64", base64.encodebytes(_INNER_MESSAGE)),
        (b"quoted-printable", quopri.encodestring(_INNER_MESSAGE)),
    ],
)
def test_parse_decodes_a_forwarded_message_sent_with_a_transfer_encoding(
    encoding: bytes, encoded: bytes
) -> None:
    raw = (
        b"Subject: fwd\nContent-Type: multipart/mixed; boundary=b\n\n"
        b"--b\nContent-Type: text/plain\n\nsee attached\n"
        b"--b\nContent-Type: message/rfc822\nContent-Transfer-Encoding: "
        + encoding
        + b"\n\n"
        + encoded
        + b"--b--\n"
    )
    message = parse_bytes(raw)
    assert "Café: buy cheap pills online now, a line long enough" in message.text
    assert message.parts[-1].charset == "utf-8"


def test_parse_reparses_encoded_forwarded_messages_within_the_message_byte_cap() -> None:
    """A nest of base64 message/rfc822 parts: each level parsed again would parse all below."""
    data = b"Subject: leaf\n\n" + b"cheap pills " * 100
    for _ in range(6):
        data = b"Content-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\n" + (
            base64.encodebytes(data)
        )
    assert "cheap pills" in parse_bytes(data).text
    capped = parse_bytes(data, Limits(max_message_bytes=len(data) + 1000))
    assert "decoded" in capped.limits_hit
    assert "cheap pills" not in capped.text


@pytest.mark.parametrize(
    "body",
    [b"fr=  \nee vi=\t\nagra\n", b"fr= \r\nee vi=\t \r\nagra", b"free vi=\nagra=  "],
    ids=["spaces-and-tab", "crlf-no-final-line-end", "soft-break-at-the-end"],
)
def test_parse_honours_quoted_printable_soft_breaks_with_trailing_white_space(
    body: bytes,
) -> None:
    """RFC 2045 section 6.7: the white space was added in transport and is deleted."""
    raw = b"Subject: x\nContent-Transfer-Encoding: quoted-printable\n\n" + body
    assert parse_bytes(raw).text.split() == ["free", "viagra"]


def _uuencoded(name: bytes, data: bytes) -> bytes:
    lines = b"".join(binascii.b2a_uu(data[i : i + 45]) for i in range(0, len(data), 45))
    return b"begin 644 " + name + b"\n" + lines + b"`\nend\n"


@pytest.mark.parametrize(
    "shape",
    ["plain", "crlf", "cut-short", "in-a-multipart"],
)
def test_parse_reads_a_uuencoded_file_in_the_text_as_an_attachment(shape: str) -> None:
    # Mail before MIME (and old spamware) wrote files into the text; every encoded line was
    # read as junk words and the file's name as a word of text.
    file = _uuencoded(b"invoice.exe", bytes(range(256)) * 3)
    body = b"Your invoice is attached.\n\n" + file + b"\nRegards, Ann\n"
    if shape == "cut-short":
        body = b"Your invoice is attached.\n\n" + file[:-7]  # no "`" line, no "end"
    head = b"Subject: invoice\nContent-Type: text/plain\n\n"
    if shape == "in-a-multipart":
        head = b"Subject: invoice\nContent-Type: multipart/mixed; boundary=b\n\n--b\n\n"
        body += b"--b\nContent-Type: image/gif; name=logo.gif\n\nGIF89a\n--b--\n"
    raw = head + body
    if shape == "crlf":
        raw = raw.replace(b"\n", b"\r\n")
    message = parse_bytes(raw)
    assert message.text.split() == ["Your", "invoice", "is", "attached."] + (
        [] if shape == "cut-short" else ["Regards,", "Ann"]
    )
    assert message.parts[1] == Part(
        "application/octet-stream", None, None, "invoice.exe", 768, "x-uuencode"
    )
    tokens = extract_features(message).tokens
    assert "mime:attachment:exe" in tokens
    assert "body:invoice.exe" not in tokens


# A "begin" line whose spaces never reach a newline: the spaces after the mode could be split
# among the pattern's runs every way (cubic: 2,000 spaces took 10 s, 100,000 ran for hours).
@pytest.mark.parametrize(
    "line", [b"begin 644 " + b" " * 3_000, b"begin 644 x" + b" \t" * 100_000], ids=["bare", "named"]
)
def test_parse_reads_a_begin_line_of_spaces_quickly(line: bytes) -> None:
    start = time.perf_counter()
    message = parse_bytes(b"Subject: hi\n\nSee:\n" + line)
    assert time.perf_counter() - start < 1.0
    assert message.text.split()[:3] == ["See:", "begin", "644"]


def test_parse_strips_the_spaces_after_a_uuencoded_file_name() -> None:
    raw = b"Subject: hi\n\n" + _uuencoded(b"a.exe \t ", b"abc")
    assert parse_bytes(raw).parts[1].filename == "a.exe"


def test_parse_keeps_text_that_only_starts_like_uuencoding() -> None:
    raw = b"Subject: hi\n\nbegin 644 words\nwe begin at nine\nend of note\n"
    assert parse_bytes(raw).text == "begin 644 words\nwe begin at nine\nend of note\n"


@pytest.mark.parametrize(
    ("params", "words"),
    [
        (b"; format=flowed; delsp=yes", ["a", "see-through", "offer,", "cheap", "pills"]),
        (b"; format=flowed", ["a", "see-", "through", "offer,", "cheap", "pi", "lls"]),
        (b"", ["a", "see-", "through", "offer,", "cheap", "pi", "lls"]),
    ],
)
def test_parse_joins_the_lines_of_flowed_text_that_deletes_their_spaces(
    params: bytes, words: list[str]
) -> None:
    # Apple Mail wraps after a hyphen, the line's last space not the text's (RFC 3676); a
    # wrap at a space leaves two. Quoted lines join where their quote depth is the same.
    raw = b"Content-Type: text/plain; charset=utf-8" + params + b"\n\na see- \nthrough offer, \n"
    raw += b"> cheap  \n> pi \n> lls\n"
    text = parse_bytes(raw).text
    assert [word for word in text.split() if word != ">"] == words


def _yencoded(name: bytes, data: bytes, part: bytes = b"") -> bytes:
    encoded = bytearray()
    for byte in data:
        byte = (byte + 42) % 256
        encoded += b"=%c" % ((byte + 64) % 256) if byte in b"\0\n\r=" else bytes([byte])
    lines = b"".join(encoded[i : i + 128] + b"\n" for i in range(0, len(encoded), 128))
    head = b"=ybegin line=128 size=%d name=%s\n" % (len(data), name)
    return head + part + lines + b"=yend size=%d\n" % len(data)


@pytest.mark.parametrize("part", [b"", b"=ypart begin=1 end=768\n"], ids=["whole", "one-post"])
def test_parse_reads_a_yencoded_file_in_the_text_as_an_attachment(part: bytes) -> None:
    # Its 8-bit bytes were read as junk words, its name as a word of text.
    body = b"Here it is.\n" + _yencoded(b"cheap meds.exe", bytes(range(256)) * 3, part) + b"Bye\n"
    message = parse_bytes(b"Subject: file\nContent-Type: text/plain; charset=utf-8\n\n" + body)
    assert message.text.split() == ["Here", "it", "is.", "Bye"]
    assert message.parts[1] == Part(
        "application/octet-stream", None, None, "cheap meds.exe", 768, "x-yenc"
    )


@pytest.mark.parametrize(
    "body",
    [
        # No "=yend": every line after "=ybegin" was cut out as the file's, the text with it.
        b"=ybegin line=128 size=99 name=a.exe\nBuy cheap pills now\nvisit http://x.example/\n",
        b"=ybegin line=128 size=99 name=a.exe\nBuy cheap pills now\n=yend size=99\n",
        "=ybegin line=128 size=99 name=a.exe\n代开发票 请联系\n".encode(),
        # Lines of capitals are all characters that uuencoding writes.
        b"begin 644 a.exe\nBUY CHEAP PILLS NOW\nBEST PRICES ONLINE\nvisit http://x.example/\n",
    ],
    ids=["yenc-no-end", "yenc-ascii", "yenc-utf-8", "uuencode-capitals"],
)
def test_parse_keeps_text_that_only_starts_like_an_encoded_file(body: bytes) -> None:
    message = parse_bytes(b"Subject: hi\nContent-Type: text/plain; charset=utf-8\n\n" + body)
    assert message.text == body.decode()
    assert len(message.parts) == 1


def test_parse_decodes_a_multipart_forwarded_in_quoted_printable() -> None:
    # The stdlib finds the inner multipart in the encoded text and leaves its parts encoded:
    # words were cut at the soft line breaks and "=3D", "=C3=A9" read as they stand.
    inner = (
        b"Subject: deal\nContent-Type: multipart/alternative; boundary=in\n\n"
        b"--in\nContent-Type: text/plain; charset=utf-8\n\n"
        b"Caf=C3=A9 cheap pi=\nlls, 50% =3D half price\n"
        b"--in\nContent-Type: text/html; charset=utf-8\n\n"
        b"<p>Caf=C3=A9 cheap pi=\nlls</p>\n--in--\n"
    )
    raw = (
        b"Subject: fwd\nContent-Type: multipart/mixed; boundary=b\n\n--b\n\nsee below\n"
        b"--b\nContent-Type: message/rfc822\nContent-Transfer-Encoding: quoted-printable\n\n"
        + inner
        + b"--b--\n"
    )
    message = parse_bytes(raw)
    assert message.text == "see below\nCafé cheap pills, 50% = half price\nCafé cheap pills"
    assert [part.content_type for part in message.parts] == [
        "text/plain",
        "text/plain",
        "text/html",
    ]
