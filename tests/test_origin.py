"""Tests of spamclf.origin: Received parsing, first external relay, sender, countries."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import pytest

from spamclf.features import origin_tokens
from spamclf.origin import (
    Origin,
    country_of,
    is_dynamic_host,
    parse_date,
    parse_received,
    trace_origin,
)
from spamclf.parse import parse_bytes

Loader = Callable[[str], bytes]


@pytest.mark.parametrize(
    ("value", "helo", "rdns", "ip", "by"),
    [
        pytest.param(
            "from pc-1 (adsl-218-79-12-34.dynamic.example.cn [218.79.12.34])\n"
            "\tby mx.example.com (8.13.1/8.13.1) with ESMTP id k2E1CjYx012345;\n"
            "\tTue, 14 Mar 2006 09:12:45 +0800",
            "pc-1",
            "adsl-218-79-12-34.dynamic.example.cn",
            "218.79.12.34",
            "mx.example.com",
            id="sendmail",
        ),
        pytest.param(
            "from smtp.partner.example.cn (smtp.partner.example.cn [61.152.7.8])"
            " by mx.ourdomain.example (Postfix) with ESMTP id 0D3E4E0022"
            " for <a@ourdomain.example>; Thu, 16 Mar 2006 10:05:07 +0800 (CST)",
            "smtp.partner.example.cn",
            "smtp.partner.example.cn",
            "61.152.7.8",
            "mx.ourdomain.example",
            id="postfix",
        ),
        pytest.param(
            "from mail.kr-relay.example (unknown [211.234.10.20])"
            " by mx.ourdomain.example (Postfix) with ESMTP id 7F3E2E0077;"
            " Wed, 22 Mar 2006 02:11:06 +0000 (GMT)",
            "mail.kr-relay.example",
            None,
            "211.234.10.20",
            "mx.ourdomain.example",
            id="postfix-unknown-rdns",
        ),
        pytest.param(
            "from host-1.example.net ([203.0.113.9] helo=mailer.example.net)"
            " by mx.example.org with esmtp (Exim 4.50) id 1FJ2Kx-0001Ab-3C;"
            " Wed, 15 Mar 2006 10:00:00 +0900",
            "mailer.example.net",
            "host-1.example.net",
            "203.0.113.9",
            "mx.example.org",
            id="exim",
        ),
        pytest.param(
            "from [121.128.45.67] (helo=dynamic-121-128-45-67.kornet.example.kr)"
            " by mx.example.org with esmtp (Exim 4.50) id 1FJ2Kx-0001Ab-3C;"
            " Wed, 15 Mar 2006 10:00:00 +0900",
            "dynamic-121-128-45-67.kornet.example.kr",
            None,
            "121.128.45.67",
            "mx.example.org",
            id="exim-ip-literal",
        ),
        pytest.param(
            "from unknown (HELO pc) (61.152.3.4)\n  by mail.kr-relay.example with SMTP;"
            " 14 Mar 2006 01:12:40 -0000",
            "pc",
            None,
            "61.152.3.4",
            "mail.kr-relay.example",
            id="qmail",
        ),
        pytest.param(
            "from adsl-61-152-3-4.sh.cn (HELO pc) ([61.152.3.4])"
            " by mail.kr-relay.example with SMTP; Wed, 22 Mar 2006 11:10:58 +0900",
            "pc",
            "adsl-61-152-3-4.sh.cn",
            "61.152.3.4",
            "mail.kr-relay.example",
            id="qmail-rdns",
        ),
        pytest.param(
            "from mail.example.com (203.0.113.7) by EXCH01.corp.example.com (10.0.0.5)"
            " with Microsoft SMTP Server id 8.1.240.5; Mon, 27 Mar 2006 10:00:00 -0800",
            "mail.example.com",
            None,
            "203.0.113.7",
            "EXCH01.corp.example.com",
            id="exchange",
        ),
        pytest.param(
            "from user-pc ([192.168.0.100]) by dynamic-121-128-45-67.kornet.example.kr"
            " with Microsoft SMTPSVC(6.0.2600.2180); Tue, 14 Mar 2006 11:31:19 +0900",
            "user-pc",
            None,
            "192.168.0.100",
            "dynamic-121-128-45-67.kornet.example.kr",
            id="exchange-smtpsvc",
        ),
        pytest.param(
            "from x ([IPv6:2001:db8::1]) by y",
            "x",
            None,
            "2001:db8::1",
            "y",
            id="ipv6",
        ),
        pytest.param(
            "from DM6PR11MB1234.namprd11.prod.example.com (2603:10b6:5:1c0::12) by"
            " DM6PR11MB5678.namprd11.prod.example.com with HTTPS;"
            " Mon, 1 Jan 2024 10:00:00 +0000",
            "dm6pr11mb1234.namprd11.prod.example.com",
            None,
            "2603:10b6:5:1c0::12",
            "DM6PR11MB5678.namprd11.prod.example.com",
            id="exchange-ipv6",
        ),
        pytest.param(
            "from mail.example.com (2001:db8::1) by mx.example.com",
            "mail.example.com",
            None,
            "2001:db8::1",
            "mx.example.com",
            id="bare-ipv6",
        ),
        pytest.param(
            "from mail.example.com (mail.example.com [IPv6:2001:db8::1]) by mx.example.com",
            "mail.example.com",
            "mail.example.com",
            "2001:db8::1",
            "mx.example.com",
            id="ipv6-with-rdns",
        ),
        pytest.param(
            "from [2001:db8::7] (helo=mailer.example.net) by mx.example.org with esmtp",
            "mailer.example.net",
            None,
            "2001:db8::7",
            "mx.example.org",
            id="exim-ipv6-literal",
        ),
        pytest.param(
            "from x (x.example.com [IPv6:::ffff:203.0.113.5]) by y",
            "x",
            "x.example.com",
            "203.0.113.5",
            "y",
            id="ipv4-mapped",
        ),
        pytest.param(
            "from x (::ffff:203.0.113.5) by y",
            "x",
            None,
            "203.0.113.5",
            "y",
            id="ipv4-mapped-bare",
        ),
        pytest.param(
            # A time of day is hex digits and colons too, but no address.
            "from x (queued at 10:20:30) by y",
            "x",
            None,
            None,
            "y",
            id="time-is-no-ipv6",
        ),
        pytest.param(
            "from plot79.example.edu (beebe@plot79.example.edu [155.101.20.21])"
            " by mx.example.com (8.12.9/8.12.9) with ESMTP id h3F1",
            "plot79.example.edu",
            "plot79.example.edu",
            "155.101.20.21",
            "mx.example.com",
            id="sendmail-ident-user",
        ),
        pytest.param(
            # A relay whose name ends in ".by" (Belarus): no by-clause starts inside it.
            "from mail.example.by (mail.example.by [86.57.1.1]) by mx.example.com",
            "mail.example.by",
            "mail.example.by",
            "86.57.1.1",
            "mx.example.com",
            id="rdns-ending-in-by",
        ),
        pytest.param(
            # Google's MX ends the name with the root's dot.
            "from mail-sor-f41.google.com (mail-sor-f41.google.com. [209.85.220.41])"
            " by mx.google.com with SMTPS id x",
            "mail-sor-f41.google.com",
            "mail-sor-f41.google.com",
            "209.85.220.41",
            "mx.google.com",
            id="rdns-with-trailing-dot",
        ),
        pytest.param(
            # Exim leaves out "helo=" when the HELO is the name it looked up and verified.
            "from mail-ed1-f41.google.com ([209.85.208.41])\n\tby mx.example.org with esmtps"
            " (TLS1.3) tls TLS_AES_256_GCM_SHA384\n\t(Exim 4.96) id 1tXyZ-000abc-12;"
            " Mon, 04 Nov 2024 10:00:00 +0000",
            "mail-ed1-f41.google.com",
            "mail-ed1-f41.google.com",
            "209.85.208.41",
            "mx.example.org",
            id="exim-helo-is-rdns",
        ),
        pytest.param(
            "from mail.example.net ([203.0.113.9]:34567 ident=mailer)\n\tby mx.example.org"
            " with esmtp (Exim 4.96) id 1tXyZ-000abc-12; Mon, 04 Nov 2024 10:00:00 +0000",
            "mail.example.net",
            "mail.example.net",
            "203.0.113.9",
            "mx.example.org",
            id="exim-helo-is-rdns-port-ident",
        ),
        pytest.param(
            # qmail writes "(HELO x)" only when x differs from the remote host's name.
            "from mail-ed1-f41.google.com (209.85.208.41)\n  by mx.example.org with SMTP;"
            " 4 Nov 2024 10:00:00 -0000",
            "mail-ed1-f41.google.com",
            "mail-ed1-f41.google.com",
            "209.85.208.41",
            "mx.example.org",
            id="qmail-helo-is-rdns",
        ),
        pytest.param(
            "from relay1.example.net (7@192.48.96.5)\n  by mx.example.org with ESMTPA;"
            " 26 Sep 2024 04:46:54 -0000",
            "relay1.example.net",
            "relay1.example.net",
            "192.48.96.5",
            "mx.example.org",
            id="qmail-helo-is-rdns-ident",
        ),
        pytest.param(
            "from unknown (218.79.12.34) by mx.example.org with SMTP; 4 Nov 2024 10:00:00 -0000",
            "unknown",
            None,
            "218.79.12.34",
            "mx.example.org",
            id="qmail-no-rdns",
        ),
        pytest.param(
            # qmail writes each "[" and "]" of a HELO as "?".
            "from unknown (HELO ?192.168.1.100?) (218.79.12.34) by mx.example.org with SMTP;"
            " 4 Nov 2024 10:00:00 -0000",
            "192.168.1.100",
            None,
            "218.79.12.34",
            "mx.example.org",
            id="qmail-literal-helo-as-written",
        ),
        pytest.param(
            # Sendmail's "from helo ([ip])" looks like Exim's line and means no rDNS at all.
            "from pc-1.example.cn ([218.79.12.34]) by mx.example.com (8.13.1/8.13.1)"
            " with SMTP id k2E1CjYx012345; Tue, 14 Mar 2006 09:12:45 +0800",
            "pc-1.example.cn",
            None,
            "218.79.12.34",
            "mx.example.com",
            id="sendmail-no-rdns",
        ),
        pytest.param(
            # A host whose name ends in "helo" names no HELO.
            "from michelo (michelo [198.51.100.7]) by mx.example.com",
            "michelo",
            None,
            "198.51.100.7",
            "mx.example.com",
            id="name-ending-in-helo",
        ),
    ],
)
def test_parse_received_styles(
    value: str, helo: str | None, rdns: str | None, ip: str | None, by: str | None
) -> None:
    hop = parse_received(value)
    assert (hop.helo, hop.rdns, hop.ip, hop.by) == (helo, rdns, ip, by)


@pytest.mark.parametrize(
    ("value", "protocol"),
    [
        pytest.param(
            "from home-pc (dsl-1-2-3.dyn.isp.example [198.51.100.7]) by mail.example.org"
            " (Postfix) with ESMTPSA id 4XyZ1; Mon, 4 Nov 2024 10:00:00 +0000",
            "ESMTPSA",
            id="postfix-esmtpsa",
        ),
        pytest.param(
            "from mail-ed1-f41.google.com ([209.85.208.41])\n\tby mx.example.org with esmtps"
            " (TLS1.3) tls TLS_AES_256_GCM_SHA384\n\t(Exim 4.96) id 1tXyZ-000abc-12;"
            " Mon, 04 Nov 2024 10:00:00 +0000",
            "ESMTPS",
            id="exim-lower-case",
        ),
        pytest.param(
            "from unknown (HELO pc) (61.152.3.4)\n  by mail.kr-relay.example with SMTP;"
            " 14 Mar 2006 01:12:40 -0000",
            "SMTP",
            id="qmail-before-the-date",
        ),
        pytest.param(
            "from mail.example.com (203.0.113.7) by EXCH01.corp.example.com (10.0.0.5) with"
            " Microsoft SMTP Server (version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384)"
            " id 15.1.2507.39; Mon, 4 Nov 2024 10:00:00 +0000",
            "SMTP",
            id="exchange-names-its-product",
        ),
        pytest.param(
            "from user-pc ([192.168.0.100]) by mail.example.kr with Microsoft"
            " SMTPSVC(6.0.2600.2180); Tue, 14 Mar 2006 11:31:19 +0900",
            "SMTP",
            id="exchange-smtpsvc",
        ),
        pytest.param(
            "from DM6PR11MB1234.namprd11.prod.example.com (2603:10b6:5:1c0::12) by"
            " DM6PR11MB5678.namprd11.prod.example.com with HTTPS; Mon, 1 Jan 2024 10:00:00 +0000",
            "HTTPS",
            id="exchange-mailbox",
        ),
        pytest.param(
            "from mail.example.org by store.example.org (Dovecot) with LMTP id Ab12;"
            " Mon, 4 Nov 2024 10:00:00 +0000",
            "LMTP",
            id="lmtp",
        ),
        pytest.param(
            "by mail.example.org (Postfix, from userid 1000) with local id 0D3E4;"
            " Mon, 4 Nov 2024 10:00:00 +0000",
            "LOCAL",
            id="no-from-part",
        ),
        pytest.param(
            # Postfix's TLS comment in the from-part holds "with cipher": no protocol.
            "from mail.example.net (mail.example.net [203.0.113.9])\n\t(using TLSv1.3 with"
            " cipher TLS_AES_256_GCM_SHA384 (256/256 bits))\n\tby mx.example.org (Postfix)"
            " id 4XyZ1; Mon, 4 Nov 2024 10:00:00 +0000",
            None,
            id="with-in-the-from-part",
        ),
        pytest.param(
            "(qmail 27981 invoked by uid 225); 14 Mar 2003 07:24:34 -0000", None, id="none"
        ),
    ],
)
def test_parse_received_reads_the_protocol_upper_cased(value: str, protocol: str | None) -> None:
    assert parse_received(value).protocol == protocol


@pytest.mark.parametrize(
    ("value", "ip"),
    [
        pytest.param(
            "from [218.79.12.34] (helo=[192.168.1.100]) by mx.example.org with esmtp (Exim 4.96)"
            " id 1tXyZ-000abc-12; Mon, 04 Nov 2024 10:00:00 +0000",
            "218.79.12.34",
            id="exim-private-literal",
        ),
        pytest.param(
            "from [218.79.12.34] (helo=[8.8.8.8]) by mx.example.org with esmtp (Exim 4.96)"
            " id 1tXyZ-000abc-12; Mon, 04 Nov 2024 10:00:00 +0000",
            "218.79.12.34",
            id="exim-public-literal",
        ),
        pytest.param(
            "from [218.79.12.34] (port=51234 helo=192.168.1.100) by host.example.net"
            " with esmtp (Exim 4.96.2) id 1tXyZ-000abc-12; Mon, 04 Nov 2024 10:00:00 +0000",
            "218.79.12.34",
            id="exim-port-bare-address",
        ),
        pytest.param(
            "from [2001:da8::1] (helo=[192.168.1.100]) by mx.example.org with esmtp (Exim 4.96)",
            "2001:da8::1",
            id="exim-ipv6-peer",
        ),
        pytest.param(
            "from unknown (HELO [192.168.1.100]) (218.79.12.34) by mx.example.org with SMTP;"
            " 4 Nov 2024 10:00:00 -0000",
            "218.79.12.34",
            id="qmail-literal",
        ),
        pytest.param(
            "from unknown (HELO 192.168.1.100) (218.79.12.34) by mx.example.org with SMTP;"
            " 4 Nov 2024 10:00:00 -0000",
            "218.79.12.34",
            id="qmail-bare-address",
        ),
        pytest.param(
            # qmail writes "[" and "]" of the HELO as "?".
            "from unknown (HELO ?192.168.1.100?) (218.79.12.34) by mx.example.org with SMTP;"
            " 4 Nov 2024 10:00:00 -0000",
            "218.79.12.34",
            id="qmail-literal-as-written",
        ),
        pytest.param(
            "from [192.168.1.100] (2001:da8::1) by EX01.example.org (10.0.0.3)"
            " with Microsoft SMTP Server id 15.1.2507.39; Mon, 4 Nov 2024 10:00:00 +0000",
            "2001:da8::1",
            id="exchange-ipv6-peer",
        ),
    ],
)
def test_parse_received_takes_the_peer_address_not_an_address_given_as_helo(
    value: str, ip: str
) -> None:
    # The HELO is the client's to choose; the peer address is what the receiving MTA saw.
    assert parse_received(value).ip == ip


def test_parse_received_reads_the_date_after_the_semicolon() -> None:
    hop = parse_received(
        "from a.example (a.example [198.51.100.1]) by b.example; Tue, 14 Mar 2006 09:12:45 +0800"
    )
    assert hop.date == datetime(2006, 3, 14, 9, 12, 45, tzinfo=timezone(timedelta(hours=8)))


@pytest.mark.parametrize(
    ("stamp", "zone"),
    [
        ("4 Nov 2024 10:00:00 -0000", timezone.utc),
        ("Mon, 4 Nov 2024 10:00:00 -0000 (UTC)", timezone.utc),
        ("Mon, 4 Nov 2024 10:00:00 +0000", timezone.utc),
        ("Mon, 4 Nov 2024 10:00:00 +0900", timezone(timedelta(hours=9))),
        # An ambiguous zone name says nothing: read as UTC, an IST date could be 5.5 h off.
        ("Mon, 4 Nov 2024 10:00:00 IST", None),
    ],
    ids=["qmail-stamp", "minus-0000-with-comment", "plus-0000", "plus-0900", "zone-name-ambiguous"],
)
def test_parse_date_reads_minus_0000_as_utc(stamp: str, zone: timezone | None) -> None:
    parsed = parse_date(stamp)
    assert parsed is not None
    assert (parsed.replace(tzinfo=None), parsed.tzinfo) == (datetime(2024, 11, 4, 10), zone)


@pytest.mark.parametrize(
    ("stamp", "hours"),
    [
        ("Mon, 4 Nov 2024 10:00:00 KST", 9),
        ("4 Nov 2024 10:00 JST", 9),
        ("Mon, 4 Nov 2024 10:00:00 HKT", 8),
        ("Mon, 4 Nov 2024 10:00:00 SGT", 8),
        ("Mon, 4 Nov 2024 10:00:00 MSK", 3),
        ("Mon, 4 Nov 2024 10:00:00 CET (Central European)", 1),
        ("Mon, 1 Jul 2024 10:00:00 cest", 2),
        ("Mon, 4 Nov 2024 10:00:00 EET", 2),
        ("Mon, 1 Jul 2024 10:00:00 EEST", 3),
        ("Mon, 4 Nov 2024 10:00:00 WET", 0),
        ("Mon, 1 Jul 2024 10:00:00 WEST", 1),
        # email.utils' own: RFC 822's US zones, CST among them; an offset wins over a name.
        ("Mon, 4 Nov 2024 10:00:00 PST", -8),
        ("Mon, 4 Nov 2024 10:00:00 CST", -6),
        ("Mon, 4 Nov 2024 10:00:00 +0800 (CST)", 8),
    ],
)
def test_parse_date_reads_unambiguous_zone_names(stamp: str, hours: int) -> None:
    # A Korean mailer's "KST" date was left naive and gave no date skew.
    parsed = parse_date(stamp)
    assert parsed is not None
    assert parsed.utcoffset() == timedelta(hours=hours)
    assert parsed.replace(tzinfo=None).hour == 10


@pytest.mark.parametrize("zone", ["IST", "BST", "XYZ", "ABCDE"])
def test_parse_date_leaves_ambiguous_or_unknown_zone_names_naive(zone: str) -> None:
    parsed = parse_date(f"Mon, 4 Nov 2024 10:00:00 {zone}")
    assert parsed is not None
    assert parsed.tzinfo is None


@pytest.mark.parametrize(
    "value",
    ["", "garbage", "by mx.example.com with local; not a date", "from x (x [999.1.2.3]) by y"],
)
def test_parse_received_tolerates_junk(value: str) -> None:
    hop = parse_received(value)
    assert hop.ip is None


def test_trace_origin_on_received_cn_kr(fixture_bytes: Loader) -> None:
    received = parse_bytes(fixture_bytes("received_cn_kr")).headers_named("received", raw=True)
    origin = trace_origin(received)
    assert (origin.relay_ip, origin.relay_country) == ("211.234.10.20", "KR")
    assert (origin.relay_helo, origin.relay_rdns) == ("mail.kr-relay.example", None)
    assert (origin.sender_ip, origin.sender_country) == ("61.152.3.4", "CN")
    assert origin.hops == 4
    assert origin.relay_net16 == "211.234"
    public = [hop.ip for hop in origin.path if hop.ip and hop.ip in ("211.234.10.20", "61.152.3.4")]
    assert public == ["211.234.10.20", "61.152.3.4"]


@pytest.mark.parametrize(
    ("name", "relay", "relay_country", "sender", "sender_country", "hops"),
    [
        ("gb2312_spam", "218.79.12.34", "CN", "218.79.12.34", "CN", 2),
        ("gb2312_ham", "61.152.7.8", "CN", "61.152.7.8", "CN", 3),
        ("big5_ham", "168.95.192.33", "TW", "168.95.192.33", "TW", 2),
        ("euckr_spam", "121.128.45.67", "KR", "121.128.45.67", "KR", 2),
        ("iso2022jp_ham", "202.232.2.10", "JP", "202.232.2.10", "JP", 2),
        ("shift_jis_spam", "210.130.1.1", "JP", "210.130.1.1", "JP", 1),
        ("malformed_mime", "222.66.1.2", "CN", "222.66.1.2", "CN", 1),
        ("missing_charset_gbk", "60.190.1.2", "CN", "60.190.1.2", "CN", 1),
        ("headers_only", "64.233.184.27", "US", "64.233.184.27", "US", 1),
        ("html_only_spam", "200.147.33.10", "BR", "200.147.33.10", "BR", 2),
        ("english_ham", "64.233.160.19", "US", "209.85.128.10", "US", 3),
        ("nested_multipart", "64.233.184.27", "US", "64.233.184.27", "US", 2),
        ("utf8_crlf", "209.85.128.10", "US", "209.85.128.10", "US", 2),
    ],
)
def test_trace_origin_on_fixtures(
    fixture_bytes: Loader,
    name: str,
    relay: str,
    relay_country: str,
    sender: str,
    sender_country: str,
    hops: int,
) -> None:
    received = parse_bytes(fixture_bytes(name)).headers_named("received", raw=True)
    origin = trace_origin(received)
    assert (origin.relay_ip, origin.relay_country) == (relay, relay_country)
    assert (origin.sender_ip, origin.sender_country) == (sender, sender_country)
    assert origin.hops == hops


@pytest.mark.parametrize("name", ["empty", "binary_junk"])
def test_trace_origin_without_received_is_empty(fixture_bytes: Loader, name: str) -> None:
    origin = trace_origin(parse_bytes(fixture_bytes(name)).headers_named("received", raw=True))
    assert origin == Origin(None, None, None, None, None, None, 0, ())
    assert origin.relay_net16 is None


@pytest.mark.parametrize("trusted", [["211.234.10.0/24"], ["211.234.10.20"], ["211.0.0.0/8"]])
def test_trace_origin_trusted_networks_skip_a_public_relay(
    fixture_bytes: Loader, trusted: list[str]
) -> None:
    received = parse_bytes(fixture_bytes("received_cn_kr")).headers_named("received", raw=True)
    origin = trace_origin(received, trusted)
    assert (origin.relay_ip, origin.relay_country) == ("61.152.3.4", "CN")
    assert origin.relay_rdns == "adsl-61-152-3-4.sh.cn"
    assert origin.relay_helo == "pc"
    assert origin.hops == 4


@pytest.mark.parametrize(
    ("received", "relay_ip", "country", "net16"),
    [
        ("from x (x.example.cn [IPv6:::ffff:218.79.12.34]) by y", "218.79.12.34", "CN", "218.79"),
        ("from x ([::ffff:211.234.10.20]) by y", "211.234.10.20", "KR", "211.234"),
    ],
)
def test_trace_origin_reads_an_ipv4_mapped_relay_as_ipv4(
    received: str, relay_ip: str, country: str, net16: str
) -> None:
    origin = trace_origin([received])
    assert (origin.relay_ip, origin.relay_country, origin.relay_net16) == (
        relay_ip,
        country,
        net16,
    )


def test_trace_origin_trusts_an_ipv4_mapped_private_address() -> None:
    origin = trace_origin(
        [
            "from lan-pc ([IPv6:::ffff:192.168.0.9]) by mx.example.com",
            "from pc (adsl.example.cn [218.79.12.34]) by lan-pc",
        ]
    )
    assert origin.relay_ip == "218.79.12.34"


@pytest.mark.parametrize(
    "trusted",
    [["::ffff:211.234.10.0/120"], ["::ffff:211.234.10.20"], ["::FFFF:D3EA:0A00/120"]],
    ids=["mapped-network", "mapped-address", "mapped-in-hex"],
)
def test_trace_origin_trusted_networks_in_ipv4_mapped_form_match_ipv4_hops(
    fixture_bytes: Loader, trusted: list[str]
) -> None:
    # Dual-stack MTAs log peers as ::ffff:a.b.c.d, where an operator would copy them from.
    received = parse_bytes(fixture_bytes("received_cn_kr")).headers_named("received", raw=True)
    assert trace_origin(received, trusted).relay_ip == "61.152.3.4"


def test_trace_origin_all_trusted_leaves_no_relay(fixture_bytes: Loader) -> None:
    received = parse_bytes(fixture_bytes("received_cn_kr")).headers_named("received", raw=True)
    origin = trace_origin(received, ["211.234.10.0/24", "61.152.0.0/16"])
    assert origin.relay_ip is None
    assert origin.sender_ip is None


def test_origin_as_dict_is_json_ready(fixture_bytes: Loader) -> None:
    received = parse_bytes(fixture_bytes("received_cn_kr")).headers_named("received", raw=True)
    data = trace_origin(received).as_dict()
    assert data["relay_ip"] == "211.234.10.20"
    assert data["relay_net16"] == "211.234"
    assert data["relay_networks"] == {"net16": "211.234", "net24": "211.234.10"}
    assert data["path"] == ["10.1.2.3", "211.234.10.20", "61.152.3.4", "127.0.0.1"]
    assert json.loads(json.dumps(data)) == data


def test_origin_names_an_ipv6_relays_networks_as_an_ipv4_relays() -> None:
    # The /32 and /48 that received:net32 and net48 name were in the tokens only, where an
    # IPv4 relay's /16 was on the Origin and in its as_dict.
    origin = trace_origin(
        ["from mail.example.de (mail.example.de [IPv6:2a01:4f8:1:2::5]) by mx.example.org"]
    )
    assert origin.relay_networks == (("net32", "2a01:4f8::"), ("net48", "2a01:4f8:1::"))
    assert origin.relay_net16 is None
    assert origin.as_dict()["relay_networks"] == {"net32": "2a01:4f8::", "net48": "2a01:4f8:1::"}


@pytest.mark.parametrize(
    ("name", "dynamic"),
    [
        ("adsl-218-79-12-34.dynamic.example.cn", True),
        ("adsl-61-152-3-4.sh.cn", True),
        ("dynamic-121-128-45-67.kornet.example.kr", True),
        ("pc-210-130-1-1.dialup.example.ne.jp", True),
        ("200-147-33-10.user.example.com.br", True),
        ("ppp1234.example.net", True),
        ("218079012034.example.cn", True),
        ("dhcp-42.office.example.com", True),
        ("48.red-83-38-109.dynamicip.example.net", True),
        ("p5b0a1234.dip.t-dialin.example.net", True),
        ("c-73-1-2-3.hsd1.ca.comcast.example", True),
        ("softbank126001002003.bbtec.example", True),
        # A pool word counts beside a mail word, and a country's "mx" is no mail server.
        ("mail-61-152-3-4.dsl.example.cn", True),
        ("189-1-2-3.cable.example.com.mx", True),
        ("189-1-2-3.example.com.mx", True),
        # Mail providers number their outbound relays by address; "static" is the ISP's word.
        ("mail-oln040092253019.outbound.protection.outlook.com", False),
        ("69-171-232-143.mail-mail.facebook.com", False),
        ("out203-205-221-149.mail.qq.com", False),
        ("smtp-61-152-3-4.example.cn", False),
        ("mx01.203-0-113-5.example.net", False),
        ("static.88-198-1-2.clients.your-server.example", False),
        ("203-0-113-5.static.example.net", False),
        ("adsl-static-61-152-3-4.example.cn", False),
        ("staticip-61-152-3-4.example.cn", False),
        # An address is no name: a HELO of [61.187.214.52] is helo_not_fqdn, not a pool name.
        ("61.187.214.52", False),
        ("[61.187.214.52]", False),
        # So is one a browser reads as an address: a number of 6 digits or more had read as a
        # name numbered after its address.
        ("3232235777", False),
        ("0xda.0x4f.0x0c.0x22", False),
        ("[IPv6:2001:db8::1]", False),
        ("mail.example.com", False),
        ("smtp.partner-corp.example.cn", False),
        ("mailhost.example.com", False),
        ("lists.libtoaster.example", False),
        ("", False),
        (None, False),
    ],
)
def test_is_dynamic_host(name: str | None, dynamic: bool) -> None:
    assert is_dynamic_host(name) is dynamic


@pytest.mark.parametrize(
    ("ip", "country"),
    [
        ("211.234.10.20", "KR"),
        ("61.152.3.4", "CN"),
        ("218.79.12.34", "CN"),
        ("168.95.192.33", "TW"),
        ("202.232.2.10", "JP"),
        ("200.147.33.10", "BR"),
        ("64.233.184.27", "US"),
        ("::ffff:218.79.12.34", "CN"),
    ],
)
def test_country_of_public_ip(ip: str, country: str) -> None:
    assert country_of(ip) == country


@pytest.mark.parametrize(
    "ip",
    ["10.1.2.3", "192.168.1.23", "172.16.0.1", "127.0.0.1", "::ffff:10.1.2.3", "not an ip", ""],
)
def test_country_of_private_or_invalid_ip_is_none(ip: str) -> None:
    assert country_of(ip) is None


def test_trace_origin_is_linear_on_an_unclosed_bracket_of_colons() -> None:
    # "[" and a run of colons with no "]": the IPv6 pattern could split the run n ways, and
    # 60 such headers took 58 s.
    start = time.perf_counter()
    origin = trace_origin(["from x [" + ":" * 16_000] * 60)
    assert time.perf_counter() - start < 1.0
    assert origin.relay_ip is None


_OFFICE365_CHAIN = [
    "from DM6PR11MB1234.namprd11.prod.outlook.com (2603:10b6:5:1c0::12) by"
    " BN6PR11MB5678.namprd11.prod.outlook.com with HTTPS; Mon, 2 Nov 2026 10:00:03 +0000",
    "from BN8PR04CA0001.namprd04.prod.outlook.com (2603:10b6:408:70::14) by"
    " DM6PR11MB1234.namprd11.prod.outlook.com (2603:10b6:5:1c0::12) with Microsoft SMTP"
    " Server; Mon, 2 Nov 2026 10:00:02 +0000",
    "from BN8NAM11FT001.eop-nam11.prod.protection.outlook.com (2603:10b6:408:70:cafe::1) by"
    " BN8PR04CA0001.outlook.office365.com (2603:10b6:408:70::14) with Microsoft SMTP Server;"
    " Mon, 2 Nov 2026 10:00:01 +0000",
]


def test_office365_internal_ipv6_hops_are_not_the_relay() -> None:
    # Office 365 writes its own servers' public IPv6 addresses bare; the relay is the host
    # that handed the message to Office 365.
    outside = (
        "from mail.sender.example ({ip}) by BN8NAM11FT001.mail.protection.outlook.com"
        " (10.13.177.77) with Microsoft SMTP Server; Mon, 2 Nov 2026 10:00:00 +0000"
    )
    origin = trace_origin([*_OFFICE365_CHAIN, outside.format(ip="61.152.3.4")])
    assert (origin.relay_ip, origin.relay_country) == ("61.152.3.4", "CN")
    # A sender that connects over IPv6 is the relay, though its address is IPv6 too.
    origin = trace_origin([*_OFFICE365_CHAIN, outside.format(ip="2001:4860:4860::8888")])
    assert origin.relay_ip == "2001:4860:4860::8888"


_HOME_SUBMISSION = (
    "from home-pc (dsl-82-113-1-7.dyn.isp.example [82.113.1.7])\n\t(Authenticated sender: alice)\n"
    "\tby mail.example.org (Postfix) with ESMTPSA id 4XyZ1\n\tfor <bob@example.org>;"
    " Mon, 4 Nov 2024 10:00:00 +0000"
)
# Courier's format, written from its documentation and the MTA's source as remembered: the
# login in the from-part, after the client's address.
_COURIER_SUBMISSION = (
    "from home-pc (dsl-82-113-1-7.dyn.isp.example [::ffff:82.113.1.7])\n  (AUTH: LOGIN"
    " alice@example.org, TLS: TLSv1.3,256bits,TLS_AES_256_GCM_SHA384)\n  by mail.example.org"
    " with ESMTPS; Mon, 04 Nov 2024 10:00:00 +0000\n  id 0000000A.6728A0B0.00001F2C"
)
_WEBMAIL_SUBMISSION = (
    "from 82.113.1.7 (SquirrelMail authenticated user alice) by mail.example.org with HTTP;"
    " Mon, 4 Nov 2024 10:00:00 +0000"
)
_SPAM_RELAY = (
    "from pc (adsl-218-79-12-34.dynamic.example.cn [218.79.12.34]) by mail.example.org"
    " (Postfix) with ESMTP id 5AbC2; Mon, 4 Nov 2024 10:00:05 +0000"
)


@pytest.mark.parametrize(
    ("value", "authenticated"),
    [
        pytest.param(_HOME_SUBMISSION, True, id="postfix"),
        pytest.param(
            "from home-pc (home-pc [82.113.1.7]) by mail.example.org with esmtpa (Exim 4.96)",
            True,
            id="exim-esmtpa",
        ),
        pytest.param(
            "from unknown (HELO pc) (alice@82.113.1.7) by mail.example.org with UTF8SMTPSA;"
            " 4 Nov 2024 10:00:00 -0000",
            True,
            id="utf8smtpsa",
        ),
        pytest.param(
            "from [192.168.1.5] (dsl-82-113-1-7.dyn.isp.example [82.113.1.7]) (authenticated"
            " bits=0)\n\tby mail.example.org (8.15.2/8.15.2) with ESMTP id 4AB1; Mon, 4 Nov 2024"
            " 10:00:00 +0000",
            True,
            id="sendmail-says-esmtp",
        ),
        pytest.param(
            "from pc (pc.example.cn [218.79.12.34] (may be forged)) (authenticated)"
            " by mail.example.org (8.15.2/8.15.2) with ESMTP id 4AB1",
            True,
            id="sendmail-may-be-forged",
        ),
        # Courier writes the login in the from-part, with "ESMTPS" (or, before RFC 3848,
        # "esmtp") as its protocol.
        pytest.param(_COURIER_SUBMISSION, True, id="courier-tls"),
        pytest.param(
            "from home-pc ([82.113.1.7]) (AUTH: PLAIN alice, SSL: TLSv1/SSLv3,128bits,RC4-MD5)"
            " by mail.example.org with esmtp; Mon, 04 Nov 2024 10:00:00 +0000",
            True,
            id="courier-ssl-esmtp",
        ),
        pytest.param(
            "from home-pc ([82.113.1.7]) (AUTH: CRAM-MD5 alice) by mail.example.org with esmtp",
            True,
            id="courier-no-tls",
        ),
        # Webmail logins and Critical Path's comment, as SpamAssassin's Received.pm reads them.
        pytest.param(_WEBMAIL_SUBMISSION, True, id="webmail-http"),
        pytest.param(
            "from [82.113.1.7] by mail.example.org (CommuniGate Pro HTTP 6.3.1) with HTTPU"
            " id 123; Mon, 04 Nov 2024 10:00:00 +0100",
            True,
            id="communigate-httpu",
        ),
        pytest.param(
            "from [82.113.1.7] by 3c-app-mailcom-bs12 (via HTTP); Mon, 4 Nov 2024 10:00:00 +0100",
            True,
            id="united-internet-via-http",
        ),
        pytest.param(
            "from home-pc.lan (82.113.1.7) by smtp-out.example.org (8.5.133) (authenticated as"
            " alice@example.org)\n        id 4F5CB98E000925F8; Mon, 4 Nov 2024 10:00:00 +0100",
            True,
            id="critical-path",
        ),
        pytest.param(_SPAM_RELAY, False, id="esmtp"),
        pytest.param(
            "from mbx1.example.org (2603:10b6::12) by mbx2.example.org (2603:10b6::13) with"
            " HTTPS id 15.20.1; Mon, 4 Nov 2024 10:00:00 +0000",
            False,
            id="exchange-https-is-no-login",
        ),
        pytest.param(
            "from home-pc (home-pc [82.113.1.7]) by mail.example.org with HTTPA; 4 Nov 2024",
            False,
            id="httpa-is-in-no-list",
        ),
        pytest.param(
            "from x(8.5.133)(authenticated as y) (pc.example.cn [218.79.12.34]) by mail.example.org"
            " (8.5.133) id 4AB1; Mon, 4 Nov 2024 10:00:00 +0000",
            False,
            id="critical-path-comment-in-the-helo",
        ),
        pytest.param(
            "from mail.example.net (mail.example.net [203.0.113.9]) by mx.example.org"
            " (Postfix) with ESMTPS id 4XyZ1",
            False,
            id="esmtps-is-tls-only",
        ),
        # The client's own words say nothing: a HELO, or an ident answer before the address
        # (sendmail) or beside it (Exim).
        pytest.param(
            "from [218.79.12.34] (helo=x)(authenticated) by mx.example.org with esmtp (Exim 4.96)",
            False,
            id="exim-helo",
        ),
        pytest.param(
            "from pc (x) (authenticated bits=0) (y@pc.example.cn [218.79.12.34])"
            " by mail.example.org (8.15.2/8.15.2) with ESMTP id 4AB1",
            False,
            id="sendmail-ident",
        ),
        pytest.param(
            "from pc (AUTH: LOGIN x) (pc.example.cn [218.79.12.34]) by mail.example.org"
            " with ESMTPS; Mon, 04 Nov 2024 10:00:00 +0000",
            False,
            id="courier-comment-before-the-address",
        ),
        pytest.param(
            "from pc.example.cn ([218.79.12.34]:1234 ident=x) (authenticated bits=0))"
            " by mx.example.org with esmtp (Exim 4.96)",
            False,
            id="exim-ident",
        ),
    ],
)
def test_parse_received_reads_smtp_auth(value: str, authenticated: bool) -> None:
    assert parse_received(value).authenticated is authenticated


@pytest.mark.parametrize(
    "chain",
    [
        pytest.param([_HOME_SUBMISSION], id="top"),
        pytest.param([_COURIER_SUBMISSION], id="courier"),
        pytest.param([_WEBMAIL_SUBMISSION], id="webmail"),
        pytest.param(
            [
                "from mail.example.org (mail.example.org [10.0.0.2]) by store.example.org"
                " (Postfix) with ESMTP id 7Fe3; Mon, 4 Nov 2024 10:00:01 +0000",
                _HOME_SUBMISSION,
            ],
            id="below-our-own-hop",
        ),
    ],
)
def test_trace_origin_mail_from_a_logged_in_user_has_no_relay(chain: list[str]) -> None:
    # A colleague sending from home through the office server: the home address, a dynamic
    # DSL name, is no relay, and what lies below was written on the colleague's machine.
    origin = trace_origin(chain)
    assert (origin.relay_ip, origin.relay_rdns, origin.sender_ip) == (None, None, None)
    assert origin.hops == len(chain)


@pytest.mark.parametrize(
    "forged",
    [
        pytest.param(
            "from pc (dsl-82-113-1-7.dyn.isp.example [82.113.1.7]) by mail.example.org (Postfix)"
            " with ESMTPSA id 1aB2; Mon, 4 Nov 2024 10:00:00 +0000",
            id="esmtpsa",
        ),
        pytest.param(
            "from pc (pc [82.113.1.7]) (authenticated bits=0) by mail.example.org"
            " (8.15.2/8.15.2) with ESMTP id 1aB2; Mon, 4 Nov 2024 10:00:00 +0000",
            id="sendmail-comment",
        ),
    ],
)
def test_trace_origin_ignores_an_authenticated_hop_forged_below_the_relay(forged: str) -> None:
    # The spammer writes every line below the first external relay, a login among them.
    origin = trace_origin([_SPAM_RELAY, forged])
    assert (origin.relay_ip, origin.sender_ip) == ("218.79.12.34", "82.113.1.7")


def test_trace_origin_walks_on_below_a_login_to_where_the_mail_came_from() -> None:
    # The user's own mail server at home took the message from outside, then passed it on
    # through the office server with a login: the walk goes on to that outside relay.
    chain = [
        _HOME_SUBMISSION,
        "from localhost (localhost [127.0.0.1]) by home-pc with SMTP; Mon, 4 Nov 2024",
        "from x (adsl.example.cn [218.79.12.34]) by home-pc with SMTP; Mon, 4 Nov 2024",
    ]
    assert (trace_origin(chain).relay_ip, trace_origin(chain).sender_ip) == ("218.79.12.34",) * 2


def test_trace_origin_walks_on_below_cyrus_lmtpa_on_a_public_address() -> None:
    # Cyrus's murder proxy hands mail to its back end "with LMTPA" (trec06p's umich.edu mail):
    # a login between our own servers, whatever their addresses; ending the walk there lost
    # the relay of 13 trec06p messages.
    chain = [
        "from murder (mail.umich.example [141.211.14.25]) by capefear.mail.umich.example"
        " (Cyrus v2.2.12) with LMTPA; Mon, 14 Nov 2005 07:03:43 -0500",
        _SPAM_RELAY,
    ]
    assert trace_origin(chain).relay_ip == "218.79.12.34"


def test_trace_origin_walks_through_a_login_between_our_own_servers() -> None:
    # Our MX relays to the mailbox host with SMTP AUTH: an internal hop, and the spam relay
    # below it is still found (ending the walk at any login lost it).
    chain = [
        "from mx.example.org (mx.example.org [10.0.0.2]) by store.example.org (Postfix)"
        " with ESMTPSA id 7Fe3; Mon, 4 Nov 2024 10:00:01 +0000",
        _SPAM_RELAY,
    ]
    assert trace_origin(chain).relay_ip == "218.79.12.34"


def test_mail_from_a_logged_in_user_loses_the_dynamic_relay_token() -> None:
    message = parse_bytes(
        b"Received: " + _HOME_SUBMISSION.replace("\n", "\r\n").encode() + b"\r\n"
        b"From: alice@example.org\r\nTo: bob@example.org\r\nSubject: minutes\r\n\r\nHi\r\n"
    )
    origin = trace_origin(message.headers_named("received", raw=True))
    tokens = set(origin_tokens(message, origin))
    assert "received:no_external_relay" in tokens
    assert "received:relay_dynamic" not in tokens


_FORGED_BELOW = (
    "from pc (pc.example.net [82.113.1.7]) by mx2.ourdomain.example (Postfix) with ESMTP id 1;"
    " Mon, 2 Nov 2026 09:59:00 +0000"
)


@pytest.mark.parametrize(
    "spammer",
    [
        pytest.param(
            "from mx2.ourdomain.example (unknown [IPv6:2001:da8::66]) by mx.ourdomain.example"
            " (Postfix) with ESMTP id 2; Mon, 2 Nov 2026 10:00:00 +0000",
            id="postfix-no-rdns",
        ),
        pytest.param(
            "from mx2.ourdomain.example (2001:da8::66) by EX01.ourdomain.example (10.0.0.5)"
            " with Microsoft SMTP Server id 15.1.2507.39; Mon, 2 Nov 2026 10:00:00 +0000",
            id="exchange-private-own-address",
        ),
        pytest.param(
            "from mx2.ourdomain.example (2001:da8::66) by EX01.ourdomain.example (2a01:4f8::5)"
            " with Microsoft SMTP Server id 15.1.2507.39; Mon, 2 Nov 2026 10:00:00 +0000",
            id="exchange-own-address-elsewhere",
        ),
        pytest.param(
            "from mx2.ourdomain.example (mx2.ourdomain.example [IPv6:2001:da8::66] (may be"
            " forged)) by mx.ourdomain.example (8.15.2/8.15.2) with ESMTP id 2;"
            " Mon, 2 Nov 2026 10:00:00 +0000",
            id="sendmail-unconfirmed-rdns",
        ),
        pytest.param(
            # The envelope recipient is the client's text: no server address in it counts.
            "from mx2.ourdomain.example (unknown [IPv6:2001:da8::66]) by mx.ourdomain.example"
            ' (Postfix) with ESMTP id 2 for <"a by b (2001:da8::1)"@ourdomain.example>;'
            " Mon, 2 Nov 2026 10:00:00 +0000",
            id="own-address-in-the-recipient",
        ),
    ],
)
def test_trace_origin_an_ipv6_helo_claiming_our_domain_is_no_own_hop(spammer: str) -> None:
    # The HELO is the client's to choose; taken for our own hop, it made the line the spammer
    # forged below it the relay.
    origin = trace_origin([spammer, _FORGED_BELOW])
    assert origin.relay_ip == "2001:da8::66"


def test_trace_origin_an_ipv6_helo_spoofing_office365_is_the_relay() -> None:
    spammer = (
        "from BN8NAM11FT009.eop-nam11.prod.protection.outlook.com (2001:da8::66) by"
        " BN8NAM11FT001.mail.protection.outlook.com (10.13.177.77) with Microsoft SMTP Server;"
        " Mon, 2 Nov 2026 10:00:00 +0000"
    )
    origin = trace_origin([*_OFFICE365_CHAIN, spammer, _FORGED_BELOW])
    assert origin.relay_ip == "2001:da8::66"


def test_trace_origin_an_ipv6_hop_whose_rdns_is_ours_is_ours() -> None:
    own = (
        "from mx2.ourdomain.example (mx2.ourdomain.example [IPv6:2001:da8::66])"
        " by mx.ourdomain.example (Postfix) with ESMTP id 2; Mon, 2 Nov 2026 10:00:00 +0000"
    )
    assert trace_origin([own, _FORGED_BELOW]).relay_ip == "82.113.1.7"


def test_office365_hops_between_its_address_blocks_are_its_own() -> None:
    # As Office 365 writes them: the protection frontend hands the message on from
    # 2a01:111:f400::/48 to a server in 2603:10b6::/32, which may name itself in 2a01:111::/32.
    chain = [
        "from DM6PR12CA0021.namprd12.prod.outlook.com (2603:10b6:5:1c0::34) by"
        " CH2PR12MB3848.namprd12.prod.outlook.com (2a01:111:e400:2c38::27) with Microsoft SMTP"
        " Server (version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.20.2451.29;"
        " Mon, 2 Nov 2026 10:00:02 +0000",
        "from BN8NAM11FT049.eop-nam11.prod.protection.outlook.com (2a01:111:f400:7eae::200) by"
        " DM6PR12CA0021.outlook.office365.com (2603:10b6:5:1c0::34) with Microsoft SMTP Server"
        " (version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.20.2474.17 via"
        " Frontend Transport; Mon, 2 Nov 2026 10:00:01 +0000",
        "from mail.sender.example (61.152.3.4) by BN8NAM11FT049.mail.protection.outlook.com"
        " (10.13.177.77) with Microsoft SMTP Server (version=TLS1_2,"
        " cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.20.2474.17 via Frontend Transport;"
        " Mon, 2 Nov 2026 10:00:00 +0000",
    ]
    assert trace_origin(chain).relay_ip == "61.152.3.4"
