"""Tests of spamclf.features: namespaced tokens, one clue per source."""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Callable

import pytest
from conftest import ALL_FIXTURES

from spamclf.budget import clock
from spamclf.features import (
    MAX_WORDS_PER_HEADER,
    FeatureSettings,
    char_text,
    content_tokens,
    extract_features,
    origin_tokens,
    registered_domain,
    structure_tokens,
    url_tokens,
)
from spamclf.htmltext import HtmlSummary
from spamclf.normalize import NormalizedText
from spamclf.origin import Origin
from spamclf.parse import Limits, ParsedMessage, Part, parse_bytes

Loader = Callable[[str], bytes]

# Every token starts with one of these namespaces, so that a reason says where it came from.
NAMESPACES = (
    "chars",
    "subject",
    "body",
    "url",
    "header",
    "from",
    "reply-to",
    "x-mailer",
    "user-agent",
    "message-id",
    "to",
    "date",
    "x-priority",
    "received",
    "mime",
    "charset",
    "html",
    "size",
    "defect",
    "limit",
)


def _tokens(data: bytes, settings: FeatureSettings | None = None) -> list[str]:
    return extract_features(parse_bytes(data), settings)[0]


@pytest.mark.parametrize(
    ("name", "token"),
    [
        ("gb2312_spam", "subject:免费"),
        ("gb2312_spam", "subject:发票"),
        ("gb2312_spam", "received:relay_dynamic"),
        ("gb2312_spam", "received:country:CN"),
        ("gb2312_spam", "x-mailer:foxmail_cn"),
        ("gb2312_spam", "subject:encoded:gb2312:b"),
        ("gb2312_spam", "charset:gb2312"),
        ("received_cn_kr", "received:country:KR"),
        ("received_cn_kr", "received:sender_country:CN"),
        ("received_cn_kr", "received:hops:4"),
        ("received_cn_kr", "received:relay_no_rdns"),
        ("received_cn_kr", "reply-to:other_domain"),
        ("euckr_spam", "received:country:KR"),
        ("euckr_spam", "received:relay_dynamic"),
        ("euckr_spam", "url:host:vip-casino-loan.example.kr"),
        ("euckr_spam", "subject:대출"),
        ("html_only_spam", "mime:html_only"),
        ("html_only_spam", "html:hidden_text"),
        ("html_only_spam", "html:tag:form"),
        ("html_only_spam", "url:ip_host"),
        ("html_only_spam", "url:domain:secure-account-verify.example"),
        ("lying_charset_gb_as_latin1", "charset:mislabelled_as:gb18030"),
        ("lying_charset_gb_as_latin1", "body:免费"),
        ("missing_charset_gbk", "charset:undeclared:gb18030"),
        ("missing_charset_gbk", "subject:raw_8bit"),
        ("nested_multipart", "mime:attachment:exe"),
        ("nested_multipart", "mime:attachment:pdf"),
        ("nested_multipart", "mime:attachment_type:application/octet-stream"),
        ("malformed_mime", "defect:StartBoundaryNotFoundDefect"),
        ("malformed_mime", "to:undisclosed"),
        ("english_ham", "subject:is_reply"),
        ("english_ham", "received:country:US"),
        ("headers_only", "body:is_empty"),
        ("empty", "header:none"),
        ("utf8_crlf", "subject:café"),
        ("shift_jis_spam", "subject:無料"),
    ],
)
def test_extract_features_emits_namespaced_token(
    fixture_bytes: Loader, name: str, token: str
) -> None:
    assert token in _tokens(fixture_bytes(name))


@pytest.mark.parametrize(
    ("name", "token"),
    [
        ("english_ham", "received:relay_dynamic"),
        ("nested_multipart", "mime:html_only"),
        ("euckr_spam", "mime:html_only"),  # it has a text/plain part too
        ("gb2312_spam", "charset:mislabelled_as:gb18030"),  # the label was right
        ("english_ham", "url:ip_host"),
        ("examples/ham", "html:hidden_text"),
        ("gb2312_ham", "received:relay_dynamic"),
    ],
)
def test_extract_features_omits_absent_clue(fixture_bytes: Loader, name: str, token: str) -> None:
    assert token not in _tokens(fixture_bytes(name))


# A From with no display name gives from:no_name; the bare address is not tokenized as a name.
@pytest.mark.parametrize("name", ["bad_base64", "lying_charset_gb_as_latin1", "shift_jis_spam"])
def test_extract_features_from_without_display_name_gives_no_name_tokens(
    fixture_bytes: Loader, name: str
) -> None:
    tokens = extract_features(parse_bytes(fixture_bytes(name))).tokens
    assert "from:no_name" in tokens
    assert [t for t in tokens if t.startswith("from:name:")] == []


@pytest.mark.parametrize("name", (*ALL_FIXTURES, "examples/spam", "examples/ham"))
def test_extract_features_tokens_are_unique_and_namespaced(
    fixture_bytes: Loader, name: str
) -> None:
    tokens = _tokens(fixture_bytes(name))
    assert tokens
    assert len(tokens) == len(set(tokens))
    for token in tokens:
        namespace = token.split(":", 1)[0]
        assert namespace in NAMESPACES, token
        # Only character n-grams may hold a space (one, between two words).
        assert namespace == "chars" or not re.search(r"\s", token), token


@pytest.mark.parametrize("name", ["gb2312_spam", "html_only_spam", "binary_junk"])
def test_extract_features_is_deterministic(fixture_bytes: Loader, name: str) -> None:
    data = fixture_bytes(name)
    assert extract_features(parse_bytes(data)) == extract_features(parse_bytes(data))


def test_extract_features_does_not_change_the_message(fixture_bytes: Loader) -> None:
    message = parse_bytes(fixture_bytes("nested_multipart"))
    before = repr(message)
    extract_features(message)
    assert repr(message) == before


def test_extract_features_returns_the_origin(fixture_bytes: Loader) -> None:
    origin = extract_features(parse_bytes(fixture_bytes("received_cn_kr"))).origin
    assert (origin.relay_ip, origin.sender_ip, origin.hops) == ("211.234.10.20", "61.152.3.4", 4)


def test_trusted_networks_move_the_relay(fixture_bytes: Loader) -> None:
    data = fixture_bytes("received_cn_kr")
    tokens = _tokens(data, FeatureSettings(trusted_networks=("211.234.10.0/24",)))
    assert "received:country:CN" in tokens
    assert "received:country:KR" not in tokens
    assert "received:relay_dynamic" in tokens  # adsl-61-152-3-4.sh.cn


@pytest.mark.parametrize(
    ("received", "no_rdns"),
    [
        pytest.param(
            "from mail-ed1-f41.google.com (mail-ed1-f41.google.com [209.85.208.41])"
            " by mx.example.org (Postfix) with ESMTPS id 4XyZ; Mon, 4 Nov 2024 10:00:00 +0000",
            False,
            id="postfix",
        ),
        pytest.param(
            "from mail-ed1-f41.google.com ([209.85.208.41]:34567) by mx.example.org"
            " with esmtps (Exim 4.96) id 1tXyZ-000abc-12; Mon, 04 Nov 2024 10:00:00 +0000",
            False,
            id="exim",
        ),
        pytest.param(
            "from mail-ed1-f41.google.com (209.85.208.41) by mx.example.org with SMTP;"
            " 4 Nov 2024 10:00:00 -0000",
            False,
            id="qmail",
        ),
        pytest.param(
            "from mail-ed1-f41.google.com ([209.85.208.41]) by mx.example.org (8.18.1/8.18.1)"
            " with ESMTP id 4A4A0; Mon, 4 Nov 2024 10:00:00 +0000",
            True,
            id="sendmail-without-rdns",
        ),
    ],
)
def test_relay_no_rdns_follows_what_the_mta_looked_up(received: str, no_rdns: bool) -> None:
    # Exim and qmail write the looked-up name alone when the HELO was the same name.
    data = f"Received: {received}\nFrom: a@example.com\nSubject: s\n\nb\n".encode()
    assert ("received:relay_no_rdns" in _tokens(data)) is no_rdns


def _helo_tokens(helo: str) -> set[str]:
    received = (
        f"from {helo} (unknown [218.79.12.34]) by mx.example.org (Postfix) with SMTP id 4XyZ;"
        " Thu, 7 Nov 2024 10:00:00 +0000"
    )
    data = f"Received: {received}\nFrom: a@example.cn\nSubject: s\n\nb\n".encode()
    return {token for token in _tokens(data) if token.startswith("received:helo")}


@pytest.mark.parametrize(
    "helo",
    [
        "203.0.113.5",
        "0313.0.0161.05",  # octal
        "0xcb.0x0.0x71.0x5",  # hex
        "0xCB007105",
        "3405803781",
        "203.7434373",  # short forms, as a browser reads them
        "203.0.29957",
        "203.0.113.5.",
        "[203.0.113.5]",
        "[IPv6:2001:db8::1]",
        "[IPv6:::ffff:203.0.113.5]",
    ],
)
def test_helo_written_as_an_address_in_any_form_is_no_domain(helo: str) -> None:
    # The same notion as a URL's ip_host: an octal, hex or short address had given
    # received:helo_domain:0.0161.05 and no received:helo_not_fqdn.
    assert _helo_tokens(helo) == {"received:helo_not_fqdn"}


@pytest.mark.parametrize("helo", ["[203.0.113.5]", "[IPv6:2001:db8::1]", "2001:db8::1"])
def test_helo_address_literal_is_no_domain_in_any_origin(helo: str) -> None:
    # A HELO is read from what parse_received left of it, which strips the brackets; an
    # Origin made otherwise still reads a literal as an address.
    origin = Origin("218.79.12.34", "CN", helo, "mail.example.cn", None, None, 1, ())
    message = parse_bytes(b"Received: x\nSubject: s\n\nb\n")
    tokens = {t for t in origin_tokens(message, origin) if t.startswith("received:helo")}
    assert tokens == {"received:helo_not_fqdn"}


@pytest.mark.parametrize(
    ("helo", "domain"),
    [
        ("mail.example.cn", "example.cn"),
        ("123.example", "123.example"),
        ("0x7f.example", "0x7f.example"),
    ],
)
def test_helo_name_with_numbers_is_a_domain(helo: str, domain: str) -> None:
    assert _helo_tokens(helo) == {f"received:helo_domain:{domain}"}


@pytest.mark.parametrize(
    ("peer", "nets"),
    [
        (
            "[IPv6:2a01:4f8:1:2::5]",
            {"received:net32:2a01:4f8::", "received:net48:2a01:4f8:1::"},
        ),
        (
            "[IPv6:2400:CB00:0012:0000:0000:0000:0000:0001]",  # written long, read canonically
            {"received:net32:2400:cb00::", "received:net48:2400:cb00:12::"},
        ),
        # An IPv4-mapped address is its IPv4 address, with the IPv4 blocks.
        ("[IPv6:::ffff:218.79.12.34]", {"received:net16:218.79", "received:net24:218.79.12"}),
        ("[218.79.12.34]", {"received:net16:218.79", "received:net24:218.79.12"}),
    ],
)
def test_relay_network_tokens_name_its_ipv4_or_ipv6_blocks(peer: str, nets: set[str]) -> None:
    # An ISP gets an IPv6 /32 and gives a site a /48 (RFC 6177), as IPv4's /16 and /24: an
    # IPv6 relay had no network token at all.
    received = f"from mail.example.de (mail.example.de {peer}) by mx.example.org (Postfix)"
    data = f"Received: {received}\nFrom: a@example.de\nSubject: s\n\nb\n".encode()
    assert {token for token in _tokens(data) if token.startswith("received:net")} == nets


_POSTFIX_HOP = (
    "from pc (unknown [218.79.12.34]) by mx.example.org (Postfix) with SMTP id 4XyZ;"
    " Thu, 7 Nov 2024 10:00:00 +0000"
)
_QMAIL_HOP = (
    "from unknown (HELO pc) (218.79.12.34) by mx.example.org with SMTP; 7 Nov 2024 10:00:00 -0000"
)


@pytest.mark.parametrize(
    ("received", "date", "skew"),
    [
        pytest.param(_POSTFIX_HOP, "Mon, 28 Oct 2024 10:00:00 +0000", "past_week", id="postfix"),
        pytest.param(_QMAIL_HOP, "Mon, 28 Oct 2024 10:00:00 +0000", "past_week", id="qmail"),
        pytest.param(_POSTFIX_HOP, "Mon, 28 Oct 2024 10:00:00 -0000", "past_week", id="date-0000"),
        pytest.param(_QMAIL_HOP, "Fri, 8 Nov 2024 14:00:00 -0000", "future_day", id="both-0000"),
        pytest.param(_QMAIL_HOP, "Thu, 7 Nov 2024 12:00:00 +0200", None, id="on-time"),
    ],
)
def test_date_skew_reads_minus_0000_as_utc(received: str, date: str, skew: str | None) -> None:
    # RFC 5322 3.3: "-0000" is UTC. qmail writes every stamp so; read as a date without a zone,
    # it dropped the skew of every message a qmail MX received.
    data = f"Received: {received}\nFrom: a@example.cn\nSubject: s\nDate: {date}\n\nb\n".encode()
    skews = [token for token in _tokens(data) if token.startswith("date:skew:")]
    assert skews == ([f"date:skew:{skew}"] if skew else [])


def test_header_words_only_when_asked(fixture_bytes: Loader) -> None:
    data = fixture_bytes("received_cn_kr")
    plain = _tokens(data)
    with_headers = _tokens(data, FeatureSettings(header_words=True))
    assert not any(t.startswith("hdr:") for t in plain)
    assert set(plain) <= set(with_headers)
    assert "hdr:received" in with_headers
    assert "hdr:received:61.152.3.4" in with_headers
    assert "hdr:received:adsl-61-152-3-4.sh.cn" in with_headers


def test_header_words_leave_spam_filters_verdicts_out() -> None:
    # A delivery agent's Return-Path above spamclf's block keeps it from being taken off; its
    # verdict, or SpamAssassin's or bogofilter's, must not be learnt as evidence.
    data = (
        b"Return-Path: <a@example.org>\nX-Spam-Flag: YES\nX-Spam-Score: 9.9\n"
        b"X-Spam-Status: Yes, score=9.9 version=spamclf-1\nX-Spamclf-Reasons: subject:free\n"
        b"X-Bogosity: Spam, tests=bogofilter\nX-DSPAM-Result: Spam\nX-Mailer: Mutt\n"
        b"Subject: hello\n\nbody\n"
    )
    words = [t for t in _tokens(data, FeatureSettings(header_words=True)) if t.startswith("hdr:")]
    assert "hdr:x-mailer:mutt" in words and "hdr:return-path" in words
    assert not [t for t in words if t.startswith(("hdr:x-spam", "hdr:x-bogosity", "hdr:x-dspam"))]


def test_header_words_stay_bounded_on_a_huge_header() -> None:
    data = b"Subject: x\nX-Junk: " + b"word " * 5000 + b"\n\nbody\n"
    tokens = _tokens(data, FeatureSettings(header_words=True))
    assert len([t for t in tokens if t.startswith("hdr:x-junk:")]) <= 1  # one distinct word
    many = b"Subject: x\nX-Junk: " + b" ".join(b"w%d" % i for i in range(5000)) + b"\n\nb\n"
    tokens = _tokens(many, FeatureSettings(header_words=True))
    assert len([t for t in tokens if t.startswith("hdr:x-junk:")]) == MAX_WORDS_PER_HEADER


def test_features_of_crlf_message_match_lf(fixture_bytes: Loader) -> None:
    crlf = fixture_bytes("utf8_crlf")
    lf = crlf.replace(b"\r\n", b"\n")
    assert {t for t in _tokens(crlf) if not t.startswith("size:")} == {
        t for t in _tokens(lf) if not t.startswith("size:")
    }


@pytest.mark.parametrize(
    ("host", "domain"),
    [
        ("a.b.example.com", "example.com"),
        ("mail.sina.com.cn", "sina.com.cn"),
        ("www.example.co.jp", "example.co.jp"),
        ("vip-casino-loan.example.kr", "example.kr"),
        ("example.com", "example.com"),
        ("localhost", "localhost"),
        ("www.sat.gob.mx", "sat.gob.mx"),
        ("impots.gouv.fr", "impots.gouv.fr"),
        ("www.bmf.gv.at", "bmf.gv.at"),
        ("uidai.nic.in", "uidai.nic.in"),
        ("shop.example.ltd.uk", "example.ltd.uk"),
        ("john.me.uk", "john.me.uk"),
        ("www.nic.fr", "nic.fr"),  # nic and me are public suffixes only where listed
        ("mail.me.com", "me.com"),
    ],
)
def test_registered_domain(host: str, domain: str) -> None:
    assert registered_domain(host) == domain


def test_char_text_reads_turkish_capitals_as_lower_case() -> None:
    assert (
        char_text("İNDİRİM", "İSTANBUL") == char_text("indirim", "istanbul") == "indirim istanbul"
    )


def _words(tokens: list[str], namespace: str) -> set[str]:
    return {t for t in tokens if t.startswith(f"{namespace}:") and ":evasion:" not in t}


CLEAN_SPAM = "Cheap viagra and cialis, order now from our pharmacy"


@pytest.mark.parametrize(
    ("disguised", "evasion"),
    [
        (
            "Cheap vi\u200bagra and ci\u200calis, or\u2060der now from our phar\ufeffmacy",
            "invisible",
        ),
        ("Cheap vi\u00adagra and cia\u00adlis, order now from our phar\u00admacy", "soft-hyphen"),
        ("Cheap ｖｉａｇｒａ and ｃｉａｌｉｓ, order now from our ｐｈａｒｍａｃｙ", "full-width"),
        (
            "Cheap v\u0456agr\u0430 and ci\u0430lis, "
            "\u043erder now from \u043eur ph\u0430rm\u0430cy",
            "mixed-script",
        ),
    ],
)
def test_disguised_words_read_as_the_words_with_evidence(disguised: str, evasion: str) -> None:
    _assert_read_as(disguised, CLEAN_SPAM, evasion)


@pytest.mark.parametrize(
    ("disguised", "clean"),
    [
        ("[국*민*건*강*검*진] 통-지-서 확인하세요", "[국민건강검진] 통지서 확인하세요"),
        ("代.开.发.票，联 系 人：王先生", "代开发票，联系人：王先生"),
    ],
)
def test_cjk_words_spelled_apart_read_as_the_words_with_evidence(
    disguised: str, clean: str
) -> None:
    _assert_read_as(disguised, clean, "spaced")


def test_content_tokens_read_a_kanji_subject_in_the_language_of_its_body() -> None:
    japanese = NormalizedText("ご招待のお知らせです。今すぐご登録ください。", ())
    chinese = NormalizedText("诚邀您参加我们的年会，欢迎光临", ())
    subject = NormalizedText("招待状", ())
    assert {"subject:招待", "subject:待状"} <= set(content_tokens(subject, japanese))
    assert {"subject:招待", "subject:状"} <= set(content_tokens(subject, chinese))


def _assert_read_as(disguised: str, clean_text: str, evasion: str) -> None:
    def message(subject: str, body: str) -> bytes:
        encoded = base64.b64encode(subject.encode()).decode()
        return (
            f"From: a@example.com\nSubject: =?utf-8?b?{encoded}?=\n"
            "Content-Type: text/plain; charset=utf-8\n"
            f"Content-Transfer-Encoding: 8bit\n\n{body}\n"
        ).encode()

    clean = extract_features(parse_bytes(message(clean_text, clean_text)))
    features = extract_features(parse_bytes(message(disguised, disguised)))
    for namespace in ("subject", "body"):
        assert _words(features.tokens, namespace) == _words(clean.tokens, namespace)
        assert f"{namespace}:evasion:{evasion}" in features.tokens
    assert features.chars == clean.chars  # the character 4-grams see the words too
    assert not [t for t in clean.tokens if ":evasion:" in t]


def test_punycode_and_mixed_script_hosts_read_as_latin() -> None:
    data = (
        b"From: a@example.com\nSubject: account\nContent-Type: text/html\n\n"
        b'<a href="http://www.xn--pypal-4ve.com/login">log in</a> '
        b"or visit http://\xd1\x80\xd0\xb0ypal.com/verify\n"  # Cyrillic "ра" in UTF-8
    )
    tokens = _tokens(data.replace(b"text/html", b"text/html; charset=utf-8"))
    assert "url:host:www.paypal.com" in tokens
    assert "url:host:paypal.com" in tokens
    assert "url:domain:paypal.com" in tokens
    assert {"url:punycode", "url:mixed_script"} <= set(tokens)
    assert not [t for t in tokens if "xn--" in t]


def test_real_idn_host_is_decoded_but_not_mapped() -> None:
    tokens = _tokens(
        b'Subject: x\nContent-Type: text/html\n\n<a href="http://xn--e1afmkfd.xn--p1ai/">'
    )
    assert "url:host:пример.рф" in tokens
    assert "url:punycode" in tokens
    assert "url:mixed_script" not in tokens


def _link_tokens(body: str, content_type: str = "text/plain") -> set[str]:
    data = f"Subject: x\nContent-Type: {content_type}; charset=utf-8\n\n{body}\n".encode()
    return {token for token in _tokens(data) if token.startswith("url:")}


def _host_tokens(host: str, domain: str, tld: str) -> set[str]:
    return {"url:count:1", f"url:host:{host}", f"url:domain:{domain}", f"url:tld:{tld}"}


@pytest.mark.parametrize(
    "text",
    [
        "访问http://example.cn。立即",  # glued to Chinese text and a full stop
        "访问http://example.cn，立即",
        "网址：http://example.cn立即注册",
        "“http://example.cn”",
        "see http://example.cn, then",
        "see http://example.cn/, then",
        "(http://example.cn)",
        "http://example.cn.",
        "http://example.cn!",
        "http://example.cn…",
        "[http://example.cn]发送",
        "http://example.cn;地址",
        "http://example.cn&nbsp;",
        "Voir «http://example.cn» ici",
        "Siehe »http://example.cn« hier",
        "‹http://example.cn›",
        "see {http://example.cn}",
        "visit *http://example.cn* now",
        "link: http://example.cn|next",
        "访问 http://example.cn★免费",  # a symbol decorating a link
        "●http://example.cn● 立即",
        "http://example.cn→点击",
        "http://example.cn■",
    ],
)
def test_text_link_ends_where_its_sentence_goes_on(text: str) -> None:
    assert _link_tokens(text) == _host_tokens("example.cn", "example.cn", "cn")


@pytest.mark.parametrize(
    "text",
    [
        *("Awww... thanks so much", "Thanks!! Awwww...", "ok www... hmm", "xwww.example.com"),
        # A www label after others: a newsgroup as often as a host (see features._URL).
        "ask in comp.infosystems.www.browsers.ms-windows",
    ],
)
def test_www_inside_a_word_or_before_no_host_is_no_link(text: str) -> None:
    assert _link_tokens(text) == {"url:count:0"}


@pytest.mark.parametrize(
    "text", ["see www.example.cn now", "访问www.example.cn", "(www.example.cn)"]
)
def test_www_as_a_word_of_its_own_starts_a_link(text: str) -> None:
    assert _link_tokens(text) == _host_tokens("www.example.cn", "example.cn", "cn")


@pytest.mark.parametrize(
    "href",
    [
        "&#104;ttp://example.cn/",
        " http://example.cn/",
        "http://example.cn&nbsp;Example",
        "http://example.cn»",
        "http://example.cn*",
        "http://example.cn|x",
    ],
)
def test_html_link_host_is_read_as_a_browser_reads_it(href: str) -> None:
    assert _link_tokens(f"<a href='{href}'>x</a>", "text/html") == _host_tokens(
        "example.cn", "example.cn", "cn"
    )


@pytest.mark.parametrize(
    "href",
    [
        "//example.cn/path",  # protocol-relative: the page's scheme
        "\\\\example.cn\\path",
        "https:\\\\example.cn\\path",  # browsers read "\" as "/" in http(s) links
        "HTTPS:\\\\example.cn",
        "https:/\\example.cn/path",
        "http:/example.cn/path",
        "https:///example.cn/path",
        "ftp:\\\\example.cn/file",
    ],
)
def test_html_link_without_two_slashes_reads_as_a_browser_reads_it(href: str) -> None:
    expected = _host_tokens("example.cn", "example.cn", "cn")
    assert _link_tokens('<a href="https://example.cn/path">x</a>', "text/html") == expected
    assert _link_tokens(f'<a href="{href}">x</a>', "text/html") == expected


@pytest.mark.parametrize(
    "href",
    ["/path/page.html", "page.html", "redirect.php?to=http://example.cn/", "mailto:a@example.cn"],
)
def test_html_link_without_a_host_is_no_link(href: str) -> None:
    assert _link_tokens(f'<a href="{href}">x</a>', "text/html") == {"url:count:0"}


@pytest.mark.parametrize(
    "link",
    [
        "http://192.0.2.1/x",
        "http://[2001:db8::1]/x",  # IPv6
        "http://[::ffff:192.0.2.1]:8080/x",
        "http://user@[2001:db8::1]/x",
        "http://0x7f000001/",  # hex
        "http://0177.0.0.1/",  # octal
        "http://0x7f.0.0.1/",
        "http://3232235777/",  # dword
        "http://127.1/",  # short form: 127.0.0.1
        "http://192.0.2.1./",
    ],
)
def test_ip_address_host_in_any_form_a_browser_reads_is_an_ip_host(link: str) -> None:
    assert _link_tokens(f"see {link} now") == {"url:count:1", "url:ip_host"}
    assert _link_tokens(f'<a href="{link}">x</a>', "text/html") == {"url:count:1", "url:ip_host"}


@pytest.mark.parametrize(
    ("link", "host", "domain", "tld"),
    [
        ("http://%65%68%61%70%70%79.%63%6f%6d/x", "ehappy.com", "ehappy.com", "com"),
        ("http://%6f%43%6bpap%73.%43om", "ockpaps.com", "ockpaps.com", "com"),  # mixed, any case
        (
            "http://%77%77%77.%6D%79%65%64%6D.%63%6F%6D.%63%6E/",
            "www.myedm.com.cn",
            "myedm.com.cn",
            "cn",
        ),
        ("http://shop%2Eexample%2Ecom%2Fpath", "shop.example.com", "example.com", "com"),
        # Decoded, full-width forms read as a written link's do: "．" is a dot and "／" a
        # slash, and neither is an ideographic full stop.
        ("http://shop%EF%BC%8Eexample%EF%BC%8Ecom", "shop.example.com", "example.com", "com"),
        ("http://%EF%BD%93hop.example.com%EF%BC%8Fx", "shop.example.com", "example.com", "com"),
    ],
)
def test_percent_encoded_host_is_read_as_a_browser_reads_it(
    link: str, host: str, domain: str, tld: str
) -> None:
    # 390 trec06p and 37 spamassassin spam wrote their hosts so: each encoding was a host of
    # its own ("url:host:%65%68..."), and the host they go to was never seen.
    expected = _host_tokens(host, domain, tld) | {"url:percent_encoded_host"}
    assert _link_tokens(f"see {link} now") == expected
    assert _link_tokens(f'<a href="{link}">x</a>', "text/html") == expected


def test_percent_encoded_address_is_an_ip_host_and_nothing_is_no_host() -> None:
    encoded = {"url:count:1", "url:percent_encoded_host"}
    assert _link_tokens("see http://%31%32%37.0.0.1/ now") == encoded | {"url:ip_host"}
    assert _link_tokens("see http://%2F%2F/ now") == encoded


def test_host_tokens_are_cut_at_the_longest_host_name() -> None:
    tokens = _link_tokens("see http://" + "a" * 5_000 + ".example/ now")
    assert max(len(token) for token in tokens) <= len("url:domain:") + 253


@pytest.mark.parametrize(
    ("link", "host", "domain", "tld"),
    [
        ("http://1example.com/", "1example.com", "1example.com", "com"),
        ("http://123.example/", "123.example", "123.example", "example"),
        ("http://0x7f.example/", "0x7f.example", "0x7f.example", "example"),
        # Ends in a number but is no address (a name cut short in the text of two trec06c
        # spam): it keeps its own host tokens.
        ("http://www.18/", "www.18", "www.18", "18"),
        ("http://1.2.3.4.5/", "1.2.3.4.5", "4.5", "5"),  # five numbers: no address
    ],
)
def test_host_with_digits_is_no_ip_host(link: str, host: str, domain: str, tld: str) -> None:
    assert _link_tokens(f"see {link} now") == _host_tokens(host, domain, tld)


@pytest.mark.parametrize(
    ("body", "content_type", "host"),
    [
        (
            "see http://click.example.com?email=victim@bank.example now",
            "text/plain",
            "click.example.com",
        ),
        ("see www.shop.example#ref@other.example now", "text/plain", "www.shop.example"),
        ('<a href="http://click.example?to=me@victim.example">x</a>', "text/html", "click.example"),
        ('<a href="http://a.example\\x@victim.example/">x</a>', "text/html", "a.example"),
        ("see http://paypal.com@evil.example/ now", "text/plain", "evil.example"),  # userinfo
    ],
)
def test_at_sign_after_the_authority_is_no_userinfo(
    body: str, content_type: str, host: str
) -> None:
    hosts = {t for t in _link_tokens(body, content_type) if t.startswith("url:host:")}
    assert hosts == {f"url:host:{host}"}


def test_chinese_label_between_dots_is_part_of_the_host() -> None:
    tokens = _link_tokens("访问www.手机软件.com，立即")
    assert {"url:host:www.手机软件.com", "url:domain:手机软件.com"} <= tokens


@pytest.mark.parametrize("text", ["http://a" + "中" * 200_000, "http://a中" * 20_000])
def test_links_are_linear_on_chinese_text_without_a_dot(text: str) -> None:
    # A Chinese run after a link is tried as a label, given up at its end: once per run.
    start = time.perf_counter()
    list(url_tokens(ParsedMessage((), (), text, None, (), len(text))))
    assert time.perf_counter() - start < 0.5


@pytest.mark.parametrize(
    "link",
    [
        "//" + "/" * 1_000_000,
        "https:" + "/\\" * 500_000 + "x",
        "http://" + "a" * 1_000_000,  # no "@" to end a userinfo
        "http://[" + ":" * 1_000_000,  # an IPv6 address never closed
        "http://" + "[" * 1_000_000,
        "http://0x" + "f" * 1_000_000,
        "a+" * 500_000,  # a scheme that never ends
        "ht\u200b" * 333_333,
        "http://" + "%61." * 250_000,  # a megabyte of escaped labels
        "http://" + "a." * 500_000,  # the 95 ms of normalizing every label, now cut at 253
    ],
)
def test_link_hosts_are_linear_on_a_hostile_megabyte(link: str) -> None:
    # Each takes 2-50 ms; a pattern that tried every start or every split would take minutes.
    html = HtmlSummary("", (link,), frozenset(), 0, 0, 0)
    for message in (
        ParsedMessage((), (), link, None, (), len(link)),
        ParsedMessage((), (), "", html, (), len(link)),
    ):
        start = time.perf_counter()
        list(url_tokens(message))
        assert time.perf_counter() - start < 0.25


@pytest.mark.parametrize(
    ("written", "ascii"),
    [
        ("下载www。example。net/mulu.rar立即", "www.example.net/mulu.rar"),
        ("下载 www｡example｡net/mulu.rar", "www.example.net/mulu.rar"),  # half-width
        ("下载www.example。net", "www.example.net"),
        ("访问http://www。example。cn。立即", "http://www.example.cn"),
        ("访问ｈｔｔｐ：／／ｗｗｗ。ｅｘａｍｐｌｅ。ｃｎ，立即", "http://www.example.cn"),
        ("see http://192。0。2。1/x", "http://192.0.2.1/x"),
    ],
)
def test_link_written_with_ideographic_full_stops_reads_as_its_host(
    written: str, ascii: str
) -> None:
    # 27 trec06c spam write "www。cnmk。net/mulu.rar", which gave no host at all; a browser
    # reads these dots as "." (UTS 46), as NFKC reads "．".
    assert _link_tokens(written) == _link_tokens(ascii) | {"url:ideographic_dot"}


def test_percent_encoded_ideographic_full_stops_are_ideographic_dots() -> None:
    expected = _host_tokens("www.example.cn", "example.cn", "cn") | {
        "url:ideographic_dot",
        "url:percent_encoded_host",
    }
    assert _link_tokens("see http://www%E3%80%82example%EF%BD%A1cn/ now") == expected


def test_html_link_with_ideographic_full_stops_reads_as_its_host() -> None:
    expected = _host_tokens("www.example.cn", "example.cn", "cn") | {"url:ideographic_dot"}
    assert _link_tokens('<a href="http://www。example。cn/">x</a>', "text/html") == expected
    assert _link_tokens('<a href="www｡example｡cn">x</a>', "text/html") == expected


@pytest.mark.parametrize(
    "text",
    [
        "我今年27岁了。PP。CN。从21岁起",  # five trec06c ham: no www or scheme, no link
        "去www。谢谢",
        "看看www。Thanks",  # "www" and one sentence after it: no host
        "请访问http://example.cn。Thanks",  # a full stop after a dotted host ends it
    ],
)
def test_full_stops_in_a_sentence_make_no_ideographic_link(text: str) -> None:
    assert "url:ideographic_dot" not in _link_tokens(text)
    hosts = {t for t in _link_tokens(text) if t.startswith("url:host:")}
    assert hosts <= {"url:host:example.cn"}


@pytest.mark.parametrize("text", ["www。" * 250_000, "www｡" * 250_000, "http://a。" * 100_000])
def test_ideographic_links_are_linear_on_a_hostile_megabyte(text: str) -> None:
    start = time.perf_counter()
    list(url_tokens(ParsedMessage((), (), text, None, (), len(text))))
    assert time.perf_counter() - start < 0.5


@pytest.mark.parametrize(
    ("written", "ascii"),
    [
        ("ｈｔｔｐ：／／ｅｘａｍｐｌｅ．ｃｏｍ／ｘ", "http://example.com/x"),
        ("ＨＴＴＰ：／／ＥＸＡＭＰＬＥ．ＣＯＭ", "http://example.com"),
        ("请访问ｗｗｗ．ｅｘａｍｐｌｅ．ｃｏｍ，立即", "www.example.com"),
        ("http：／／example．com", "http://example.com"),
        ("http://pay\u00adpal.com", "http://paypal.com"),  # a soft hyphen is invisible
    ],
)
def test_full_width_text_link_reads_as_its_ascii_form(written: str, ascii: str) -> None:
    assert _link_tokens(written) == _link_tokens(ascii)
    assert len(_link_tokens(written)) == 4


@pytest.mark.parametrize(
    "hidden",
    [
        "see ht\u200btp://evil.example/ now",  # zero-width space
        "see h\u2060t\u200dtp://evil.example/ now",  # word joiner, zero-width joiner
        "see ht\u00adtp://evil.example/ now",  # soft hyphen
        "see http\u200b://evil.example/ now",
        "see w\u200bww.evil.example now",
        "see http://evil\u200b.example/ now",
    ],
)
def test_invisible_characters_hide_no_text_link(hidden: str) -> None:
    seen = re.sub("[\u200b\u200d\u2060\u00ad]", "", hidden)  # what a reader sees
    assert _link_tokens(hidden) == _link_tokens(seen)
    assert {"url:domain:evil.example", "url:count:1"} <= _link_tokens(hidden)
    # The words are read from the normalized text, as they were.
    message = "Subject: x\nContent-Type: text/plain; charset=utf-8\n\n{}\n"
    hidden_words = _words(_tokens(message.format(hidden).encode()), "body")
    assert hidden_words == _words(_tokens(message.format(seen).encode()), "body")


def test_text_and_html_hosts_get_the_same_checks() -> None:
    link = "http://www.xn--pypal-4ve.com/"  # "pаypal" with a Cyrillic а
    in_text = _link_tokens(f"see {link} now")
    assert in_text == _link_tokens(f'<a href="{link}">see</a>', "text/html")
    assert in_text == {
        *_host_tokens("www.paypal.com", "paypal.com", "com"),
        "url:punycode",
        "url:mixed_script",
    }
    assert "url:mixed_script" in _link_tokens("see http://\u0440\u0430ypal.com/ now")


@pytest.mark.parametrize(
    ("host", "read_as", "domain", "tld"),
    [
        ("ουρανός.gr", "ουρανός.gr", "ουρανός.gr", "gr"),  # Greek under a Latin TLD: as written
        ("www.пример.com", "www.пример.com", "пример.com", "com"),
        ("xn--mxayeiho6c.gr", "ουρανός.gr", "ουρανός.gr", "gr"),
        ("p\u0430ypal.com", "paypal.com", "paypal.com", "com"),  # a Cyrillic а: a spoof
        ("\u0430\u0440\u0440\u04cf\u0435.com", "apple.com", "apple.com", "com"),  # all look-alikes
    ],
)
def test_host_in_another_script_is_kept_but_a_latin_spoof_is_mapped(
    host: str, read_as: str, domain: str, tld: str
) -> None:
    tokens = _link_tokens(f'<a href="http://{host}/">x</a>', "text/html")
    assert _host_tokens(read_as, domain, tld) <= tokens
    assert "url:mixed_script" in tokens  # Latin beside another script, spoof or not


def test_punycode_in_text_is_decoded_for_the_words_too() -> None:
    tokens = _tokens(b"Subject: x\n\nsee http://www.xn--pypal-4ve.com/ now\n")
    assert {"url:host:www.paypal.com", "url:punycode"} <= set(tokens)
    assert {"body:evasion:punycode", "body:evasion:mixed-script"} <= set(tokens)


def test_hidden_html_text_is_no_body_word_but_is_evidence() -> None:
    data = (
        b"From: a@example.com\nSubject: offer\nContent-Type: text/html\n\n"
        b"<html><body><p>Cheap pills here</p>"
        b'<div style="display:none">meeting agenda quarterly report minutes</div>'
        b"</body></html>\n"
    )
    tokens = _tokens(data)
    assert {"body:cheap", "body:pills"} <= set(tokens)
    assert not {"body:meeting", "body:agenda", "body:quarterly"} & set(tokens)
    assert "html:hidden_chars:2" in tokens  # 40 hidden characters, 4 tens: bucket 2
    assert "html:hidden_text" in tokens


_MANY_WORDS = b"Subject: words\nFrom: a@example.com\n\n" + b" ".join(
    b"word%d" % i for i in range(5000)
)


def test_extract_features_stops_at_max_tokens_and_says_so() -> None:
    limits = Limits(max_tokens=100)
    tokens = extract_features(parse_bytes(_MANY_WORDS, limits), limits=limits).tokens
    assert sum(t.startswith("body:") for t in tokens) < 100
    assert "limit:tokens" in tokens
    assert "from:domain:example.com" in tokens  # header tokens are always taken
    assert "limit:tokens" not in extract_features(parse_bytes(_MANY_WORDS)).tokens


def test_extract_features_stops_at_the_deadline_and_still_reads_headers() -> None:
    message = parse_bytes(_MANY_WORDS)
    tokens = extract_features(message, deadline=clock() - 1).tokens
    assert "limit:time" in tokens
    assert not any(t.startswith("body:") for t in tokens)
    assert "from:domain:example.com" in tokens
    assert any(t.startswith("size:") for t in tokens)


def test_extract_features_without_a_time_budget_takes_everything() -> None:
    limits = Limits(max_seconds=None)
    tokens = extract_features(parse_bytes(_MANY_WORDS, limits), limits=limits).tokens
    assert sum(t.startswith("body:") for t in tokens) == 5000
    assert not any(t.startswith("limit:") for t in tokens)


def test_caps_the_parser_hits_become_limit_tokens() -> None:
    parts = b"".join(b"--b\nContent-Type: text/plain\n\npart %d\n" % i for i in range(5))
    raw = b"Content-Type: multipart/mixed; boundary=b\n\n" + parts + b"--b--\n"
    tokens = extract_features(parse_bytes(raw, Limits(max_parts=2))).tokens
    assert "limit:parts" in tokens


def test_address_headers_are_linear_without_an_at_sign() -> None:
    # An unbounded local-part pattern ran to the end of the header from every start.
    padding = "a" * 16_000
    data = f"From: {padding}\nReply-To: {padding}\nTo: {padding}\nCc: {padding}\n\nbody\n".encode()
    start = time.perf_counter()
    _tokens(data)
    assert time.perf_counter() - start < 1.0
    assert "from:domain:example.com" in _tokens(b"From: " + b"x" * 100 + b"@example.com\n\nhi\n")


def test_facts_about_subject_and_body_are_not_words_of_them() -> None:
    # "subject:missing" once meant both "no Subject header" and the word "missing".
    worded = _tokens(b"From: a@example.com\nSubject: Missing reply!\n\nempty tray\n")
    assert {"subject:missing", "subject:reply", "body:empty"} <= set(worded)
    assert "subject:is_missing" not in worded and "body:is_empty" not in worded
    assert "subject:has_exclamation" in worded
    bare = _tokens(b"From: a@example.com\n\n")
    assert {"subject:is_missing", "body:is_empty"} <= set(bare)


@pytest.mark.parametrize(
    ("subject", "is_reply"),
    [
        ("Re: offer", True),
        ("RE : offer", True),
        ("Fwd: offer", True),
        ("回复：报价", True),
        ("AW: Angebot", True),
        ("WG: Angebot", True),
        ("SV: Offert", True),
        ("VS: Tarjous", True),
        ("TR: offre", True),
        ("Antw: offerte", True),
        ("R: offerta", True),
        ("RIF: offerta", True),
        ("Re[2]: offer", True),
        ("Re^2: offer", True),
        ("Reminder: offer", False),
        ("Travel: offer", False),
        ("R2: offer", False),
    ],
)
def test_localized_reply_and_forward_prefixes_mark_a_reply(subject: str, is_reply: bool) -> None:
    raw = f"From: a@example.com\nSubject: {subject}\n\nhi\n".encode()
    assert ("subject:is_reply" in _tokens(raw)) is is_reply


def test_sender_domain_is_the_angle_address_not_one_in_the_display_name() -> None:
    raw = (
        b'From: "service@paypal.com" <x@evil.example>\n'
        b'Reply-To: "alice@example.com" <collect@evil2.example>\nSubject: verify\n\nhi\n'
    )
    tokens = _tokens(raw)
    assert "from:domain:evil.example" in tokens and "from:domain:paypal.com" not in tokens
    assert "reply-to:other_domain" in tokens


@pytest.mark.parametrize(
    ("message_id", "host_is_sender"),
    [
        pytest.param(b"<123@paypal.com>", False, id="display-name-domain"),
        pytest.param(b"<123@evil.example>", True, id="real-sender-domain"),
    ],
)
def test_message_id_host_is_compared_with_the_angle_address(
    message_id: bytes, host_is_sender: bool
) -> None:
    raw = b'From: "service@paypal.com" <x@evil.example>\nMessage-ID: ' + message_id + b"\n\nhi\n"
    assert ("message-id:host_is_sender" in _tokens(raw)) is host_is_sender


@pytest.mark.parametrize(
    ("sender", "expected"),
    [
        pytest.param(b'"service@paypal.com" <x@evil.example>', "from:name_is_other_address"),
        pytest.param(b'"u@example.com" <u@example.com>', "from:no_name", id="outlook-repeat"),
        pytest.param(b"u@example.com", "from:no_name", id="bare"),
        pytest.param(b"Alice <u@example.com>", "from:name:alice", id="named"),
    ],
)
def test_display_name_holding_another_address_is_no_missing_name(
    sender: bytes, expected: str
) -> None:
    tokens = _tokens(b"From: " + sender + b"\nSubject: hi\n\nhi\n")
    name_tokens = {t for t in tokens if t.startswith("from:") and "name" in t}
    assert name_tokens == {expected}


@pytest.mark.parametrize(
    ("recipients", "expected"),
    [
        pytest.param(b"To: a@example.com\n", {"to:count:1"}, id="to-only"),
        pytest.param(
            b"To: a@example.com\nCc: b@example.com, c@example.com, d@example.com\n",
            {"to:count:4"},
            id="to-and-cc",
        ),
        pytest.param(
            b"To: a@example.com\nCc: b@example.com\nCc: c@example.com, d@example.com\n",
            {"to:count:4"},
            id="two-cc-headers",
        ),
        pytest.param(b"Cc: b@example.com\n", {"to:missing", "to:count:1"}, id="cc-only"),
        pytest.param(b"", {"to:missing"}, id="none"),
        pytest.param(
            b'To: "u0@example.com" <u0@example.com>, "u1@example.com" <u1@example.com>,\n'
            b' "u2@example.com" <u2@example.com>\n',
            {"to:count:2"},
            id="outlook-names-repeat-the-address",
        ),
        pytest.param(
            b'To: "Smith, Jo" <j@example.com>, b@example.com\n', {"to:count:2"}, id="quoted-comma"
        ),
        pytest.param(
            b"To: undisclosed-recipients:;\nCc: b@example.com\n",
            {"to:count:1", "to:undisclosed"},
            id="undisclosed-to",
        ),
    ],
)
def test_recipients_in_to_and_cc_count_together(recipients: bytes, expected: set[str]) -> None:
    tokens = _tokens(b"From: x@example.org\n" + recipients + b"Subject: hi\n\nhello\n")
    assert {token for token in tokens if token.startswith("to:")} == expected


def test_inline_text_part_with_a_name_gives_its_words_and_stays_an_attachment() -> None:
    raw = (
        b'From: a@example.com\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"\n'
        b'\n--b\nContent-Type: text/plain; name="note.txt"\n\ncheap pills\n--b--\n'
    )
    tokens = _tokens(raw)
    assert {"body:cheap", "mime:attachment:txt", "mime:attachment_type:text/plain"} <= set(tokens)
    assert "body:is_empty" not in tokens


@pytest.mark.parametrize(
    "filename",
    ["invoice.exe", "invoice.exe.", "invoice.exe ", "invoice.exe. . ", "INVOICE.EXE.", "a.b.exe.."],
)
def test_attachment_extension_is_read_as_windows_reads_the_name(filename: str) -> None:
    # Windows drops a name's trailing dots and spaces, so "invoice.exe." runs as an .exe. (The
    # parser already trims spaces after a name; a Part is built here to hold one.)
    attachment = Part("application/octet-stream", None, None, filename, 16, "base64")
    message = ParsedMessage((), (), "see attached", None, (attachment,), 100)
    extensions = {t for t in structure_tokens(message) if t.startswith("mime:attachment:")}
    assert extensions == {"mime:attachment:exe"}


def test_attachment_extension_from_a_message_with_a_trailing_dot() -> None:
    raw = (
        b'From: a@example.com\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"\n'
        b"\n--b\nContent-Type: text/plain\n\nsee attached\n--b\n"
        b"Content-Type: application/octet-stream\n"
        b'Content-Disposition: attachment; filename="invoice.exe."\n'
        b"Content-Transfer-Encoding: base64\n\nTVqQAAMAAAAEAAAA\n--b--\n"
    )
    assert "mime:attachment:exe" in _tokens(raw)
