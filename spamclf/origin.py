"""Where a message came from, read off its ``Received:`` chain.

Each relay prepends one ``Received:`` header, so the chain is read from the top (our own servers)
down. Hops from private, loopback or trusted addresses are ours; the first hop from any other
address is the *first external relay*: the machine that handed the message to us, and the only
one whose address we can believe (everything below it could be forged by the sender). The
earliest public address in the chain, though forgeable, often names the sending PC. A hop
where our own server took the message from a user who logged in (SMTP AUTH) is no relay at
all: mail a colleague sends from home through the office server crossed no untrusted hop.

Country codes come from an offline table (the ``iptocc`` package); nothing here touches the
network.
"""

from __future__ import annotations

import email.utils
import ipaddress
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cache, lru_cache

from spamclf.budget import load_once

__all__ = [
    "Hop",
    "Origin",
    "country_of",
    "is_address_host",
    "is_dynamic_host",
    "parse_date",
    "parse_received",
    "registered_domain",
    "trace_origin",
]

_IPV4 = r"(?:\d{1,3}\.){3}\d{1,3}"
# At most 45 characters, the longest IPv6 text: "[0-9a-fA-F:]*:[0-9a-fA-F:.]+" could split a
# run of colons n ways, and 16,000 colons with no "]" took a second.
_IP_IN_BRACKETS = re.compile(r"\[(?:IPv6:)?([0-9a-fA-F:.]{2,45})\]")
_BARE_IP = re.compile(rf"(?<![\d.])({_IPV4})(?![\d.])")
# Exchange writes the client's IPv6 address bare, in parentheses: "from host (2603:10b6::12)".
# A run of hex digits, colons and dots that holds a colon, started and ended where the run is,
# so that each start reads at most 45 characters; ipaddress then says whether it is an address
# (a time of day such as "10:20:30" is not).
_BARE_IPV6 = re.compile(r"(?<![\w:.])([0-9a-fA-F.]{0,40}:[0-9a-fA-F:.]{1,44})(?![\w:.])")
# The "-0000" zone after a time of day: "10:00:00 -0000".
_UTC_ZONE = re.compile(r"\d:\d\d\s*-0000(?!\d)")
# A zone name after a time of day: "10:00:00 KST".
_ZONE_NAME = re.compile(r"\d:\d\d\s*([A-Za-z]{3,4})(?![A-Za-z])")
# Zone names that Asian and European mailers write instead of an offset, and that name one
# zone only. email.utils knows RFC 822's (UT, GMT and the US zones) and leaves the rest
# naive. Left out as ambiguous: CST (RFC 822's US Central, which email.utils reads as -0600,
# but China's and Taiwan's Standard Time in their mail), IST (India, Israel, Ireland) and
# BST (British Summer, Bangladesh).
_ZONE_HOURS = {
    **{"KST": 9, "JST": 9, "HKT": 8, "SGT": 8, "MYT": 8, "PHT": 8, "WIB": 7, "ICT": 7},
    **{"MSK": 3, "MSD": 4, "EET": 2, "EEST": 3, "WET": 0, "WEST": 1},
    **{"CET": 1, "CEST": 2, "MET": 1, "MEST": 2, "MEZ": 1, "MESZ": 2},
}
_ZONES = {name: timezone(timedelta(hours=hours)) for name, hours in _ZONE_HOURS.items()}
# Second-level labels under which a country's domains are registered (sina.com.cn, naver.co.kr),
# government ones included (sat.gob.mx, impots.gouv.fr, bmf.gv.at). A few from the Public Suffix
# List, not all of it: a short list needs no dependency and no download.
_SECOND_LEVEL = frozenset(
    {"com", "net", "org", "edu", "gov", "co", "ac", "or", "ne", "go", "gob", "gouv", "gv", "mil"}
)
# Public suffixes whose second label is a registered domain under other country codes
# ("me.fr", "nic.fr"), so that they are listed whole.
_PUBLIC_SUFFIXES = frozenset({"nic.in", "ltd.uk", "plc.uk", "me.uk"})
# "by" after whitespace: the rDNS "mail.tut.by" (Belarus) inside the from-part is no by-clause.
_FROM = re.compile(r"^\s*from\s+(\S+)(.*?)(?:(?<=\s)by\s+(\S+)|$)", re.I | re.S)
# Not after a name character: "(michelo [1.2.3.4])" names the host michelo, no HELO.
_HELO_IN_PARENS = re.compile(r"(?<![\w.-])(?:helo[=\s]+)([^\s)\]]+)", re.I)
# sendmail writes the ident user before the name when the client answered ident:
# "(beebe@plot79.math.utah.edu [155.101.20.21])".
# A name may end in the root's dot, as Google's MX writes it: "(mail-sor-f41.google.com. [ip])".
_RDNS_IN_PARENS = re.compile(r"\(\s*(?:[^\s@()]+@)?([a-zA-Z0-9][\w.-]*\.[a-zA-Z]{2,})\.?\s*[\[(]")
# Exim's received_header_text writes "(Exim 4.96)" in the by-part, and after a looked-up
# name "([ip])", "([ip]:port)" or "([ip] ident=user)" when the HELO was that name.
_EXIM_PEER = re.compile(r"\s*\(\[[0-9a-fA-F:.]{2,45}\](?::\d{1,5})?(?:\s+ident=[^()]*)?\)\s*")
_EXIM_MARK = re.compile(r"\(Exim[\s)]")
# qmail-smtpd writes "from <remote host> (HELO x) ([user@]ip)\n  by <local> with SMTP;", the
# HELO only when it differs from the remote host's name, and nothing else in the by-part
# (Exchange's "(ip) by host (ip) with Microsoft SMTP Server id ..." does not end so).
_QMAIL_PEER = re.compile(r"\s*\((?:[^\s@()]+@)?[0-9a-fA-F:.]{2,45}\)\s*")
_QMAIL_BY = re.compile(r"\sby\s+\S+\s+with\s+E?SMTP[A-Z]*\s*$")
# rDNS names that ISPs give to dial-up, DSL and cable customers: the hijacked PCs that send
# most spam from China and Korea. An IP spelt inside the name is the strongest sign.
_DYNAMIC_WORD = re.compile(
    r"(?:^|[.\-\d])"
    r"(?:dyn|dynamic|dynamicip|dynip|dhcp|dial|dialup|dialin|dip|dsl|adsl|xdsl|ppp|pppoe|pool|"
    r"cable|client|broadband|bb|"
    r"user|cust|customer|res|home|catv|mobile|wireless|hinet|kornet)(?:[.\-\d]|$)",
    re.I,
)
_NUMBERED = re.compile(r"(?:\d{1,3}[-.x]){3}\d{1,3}|\d{6,}")
# A browser reads a host of one to four numbers as an IPv4 address (WHATWG URL, "IPv4 parser"),
# each part decimal, octal ("0177") or hex ("0x7f"), and with fewer than four parts ("127.1",
# "3232235777"). Spam writes addresses so that a filter does not see them as one. A name that
# only ends in a number ("www.18", cut short in text) is no address, and keeps its host tokens.
_NUMERIC_HOST = re.compile(r"(?:(?:[0-9]+|0x[0-9a-f]*)\.){0,3}(?:[0-9]+|0x[0-9a-f]*)")
# The ISP saying the address is fixed: "static.88-198-1-2.clients.your-server.de".
_STATIC = re.compile(r"(?<![a-z])static(?:ip)?(?![a-z])", re.I)
# Words of a mail provider's outbound relays, which number them by address too:
# "69-171-232-143.mail-mail.facebook.com", "out203-205-221-149.mail.qq.com",
# "mail-oln040092253019.outbound.protection.outlook.com".
_MAIL_SERVER_WORDS = frozenset(
    {"mail", "smtp", "mta", "mx", "out", "outbound", "mailout", "smtpout", "outmail"}
)
_LETTERS = re.compile(r"[a-z]+")
# The protocol after "with" in the by-part (RFC 5321's "with" clause): "with ESMTPSA id x",
# "with esmtps (TLS1.3)", "with SMTP;". Exchange names its product instead, "with Microsoft
# SMTP Server (version=TLS1_2, ...)" or "with Microsoft SMTPSVC(6.0...)": both read as "SMTP",
# the protocol they speak, not "MICROSOFT". Read from the end of the by-host only: Postfix's
# TLS comment in the from-part says "(using TLSv1.3 with cipher ...)".
_WITH = re.compile(r"\swith\s+(Microsoft\s+SMTP|[A-Za-z][\w-]*)", re.I)
# Protocols that say the client logged in: RFC 3848's ESMTPA, ESMTPSA, LMTPA and LMTPSA,
# RFC 6531's UTF8 forms, ASMTP, which Exim before 4.50 and Earthlink wrote, and a webmail
# login: HTTP (SquirrelMail, Horde, Hotmail) and CommuniGate's HTTPU. That is SpamAssassin's
# list (Received.pm: "with HTTP should only be authenticated webmail sessions"). Only our own
# servers' lines are read for it (see trace_origin), and a colleague on our webmail from home
# had the home connection as the relay, received:relay_dynamic and all. "HTTPA" is in neither
# that list nor an RFC, and no corpus message writes it.
_AUTH_PROTOCOLS = frozenset(
    {
        *("ESMTPA", "ESMTPSA", "LMTPA", "LMTPSA"),
        *("UTF8SMTPA", "UTF8SMTPSA", "UTF8LMTPA", "UTF8LMTPSA"),
        *("ASMTP", "HTTP", "HTTPU"),
    }
)
# The comment an MTA writes after the client's address when it logged in, where the MTA's
# protocol word does not say so: sendmail's "(authenticated bits=256)" (its Received template
# writes "with ESMTP" either way), Postfix's "(Authenticated sender: alice)", and Courier's
# "(AUTH: LOGIN alice, TLS: ...)" with "with ESMTPS" (or "with esmtp" before RFC 3848, as in
# SpamAssassin's Received parser tests, which read it as a login too).
_AUTH_COMMENT = re.compile(
    r"\)\s*\((?:authenticated(?: bits=\d+)?\)|Authenticated sender: |AUTH: [\w-]+ \S)"
)
# What a server writes right after its own name when it took the message from a login, where
# its protocol word does not say so: Critical Path's (Openwave's) "by host (8.5.133)
# (authenticated as alice@example.com) id ...", and United Internet's (GMX, web.de) webmail
# "by host (via HTTP)", both as SpamAssassin's Received.pm reads them. Written by our server
# in its by-part, where the client's HELO cannot reach.
_BY_AUTH = re.compile(
    r"\s*(?:\(\d{1,2}\.\d\.\d{3}(?:\.\d{1,3})?\)\s*\(authenticated as [^()\s]+\)|\(via HTTPS?\))",
    re.I,
)
# The receiving server's own address, which Exchange writes after its name: "by host (ip)".
_BY_ADDRESS = re.compile(r"\s*\(([0-9a-fA-F:.]{2,45})\)")
# Protocols no SMTP client on the internet speaks: Exchange hands mail between its own
# mailbox servers "with HTTPS" (and "with mapi"), where a web login writes "with HTTP".
_MAILBOX_PROTOCOLS = frozenset({"HTTP", "HTTPS", "MAPI"})
# Microsoft's IPv6 allocations (ARIN's 2603:1000::/24, RIPE's 2a01:111::/32), from which Office
# 365 numbers its servers: its protection frontends hand mail on from 2a01:111:f400::/48 to
# servers in 2603:10b6::/32 (America) or 2603:10a6::/32 (Europe), so no prefix length joins them.
_MICROSOFT_IPV6 = (ipaddress.IPv6Network("2603:1000::/24"), ipaddress.IPv6Network("2a01:111::/32"))


@dataclass(frozen=True)
class Hop:
    """One ``Received:`` header: who handed the message over (``helo``, ``rdns``, ``ip``),
    to whom (``by``), when, and how: ``protocol`` is the word after ``with``, upper-cased
    (``"ESMTPSA"``, ``"SMTP"``, ``"LMTP"``, ``"HTTPS"``, ``"LOCAL"``), or ``None``.
    ``authenticated`` says the receiving server had the client log in (SMTP AUTH or a webmail
    login), by the protocol (RFC 3848's ``ESMTPA``, ``ESMTPSA``..., ``HTTP``) or by
    sendmail's, Postfix's or Courier's comment, or Critical Path's or United Internet's after
    the receiving server's name.
    """

    helo: str | None
    rdns: str | None
    ip: str | None
    by: str | None
    date: datetime | None
    protocol: str | None = None
    authenticated: bool = False


@dataclass(frozen=True)
class Origin:
    """What the ``Received:`` chain reveals about where a message came from."""

    relay_ip: str | None
    relay_country: str | None
    relay_helo: str | None
    relay_rdns: str | None
    sender_ip: str | None
    sender_country: str | None
    hops: int
    path: tuple[Hop, ...]

    @property
    def relay_networks(self) -> tuple[tuple[str, str], ...]:
        """The blocks the first external relay lies in, by name: an IPv4 relay's /16 and /24,
        an IPv6 relay's /32 and /48 (a registry allocates an ISP an IPv6 /32 and the ISP
        assigns a site a /48, RFC 6177, where IPv4 blocks went by /16 and /24).

        >>> Origin("218.79.12.34", None, None, None, None, None, 1, ()).relay_networks
        (('net16', '218.79'), ('net24', '218.79.12'))
        >>> Origin("2a01:4f8:1:2::5", None, None, None, None, None, 1, ()).relay_networks
        (('net32', '2a01:4f8::'), ('net48', '2a01:4f8:1::'))
        """
        return _networks_of(self.relay_ip) if self.relay_ip else ()

    @property
    def relay_net16(self) -> str | None:
        """The /16 of an IPv4 first external relay, e.g. ``'218.79'``: ISPs allocate by block
        (an IPv6 relay's blocks are in :attr:`relay_networks`)."""
        return next((net for name, net in self.relay_networks if name == "net16"), None)

    def as_dict(self) -> dict[str, object]:
        return {
            "relay_ip": self.relay_ip,
            "relay_country": self.relay_country,
            "relay_net16": self.relay_net16,
            "relay_networks": dict(self.relay_networks),
            "relay_helo": self.relay_helo,
            "relay_rdns": self.relay_rdns,
            "sender_ip": self.sender_ip,
            "sender_country": self.sender_country,
            "hops": self.hops,
            "path": [hop.ip or hop.helo for hop in self.path],
        }


# Relays recur from message to message, and ipaddress takes microseconds an address.
@lru_cache(maxsize=4096)
def _networks_of(ip: str) -> tuple[tuple[str, str], ...]:
    """An address's /16 and /24 (IPv4: ``'218.79'``, ``'218.79.12'``) or /32 and /48 (IPv6).
    Trace_origin reads an IPv4-mapped address as IPv4."""
    if "." in ip and ":" not in ip:
        octets = ip.split(".")
        return (("net16", ".".join(octets[:2])), ("net24", ".".join(octets[:3])))
    try:
        bits = int(ipaddress.IPv6Address(ip))
    except ValueError:  # an Origin made by hand
        return ()
    # Masked by hand: through IPv6Network the two took 26 us uncached, this way 10.
    return tuple(
        (f"net{length}", str(ipaddress.IPv6Address(bits >> (128 - length) << (128 - length))))
        for length in (32, 48)
    )


def parse_received(value: str) -> Hop:
    """Parse one ``Received:`` value (sendmail, Postfix, Exim, qmail and Exchange styles).

    >>> hop = parse_received("from pc (adsl-1-2.dyn.example.cn [218.79.12.34]) by mx.example.com")
    >>> hop.helo, hop.rdns, hop.ip, hop.by
    ('pc', 'adsl-1-2.dyn.example.cn', '218.79.12.34', 'mx.example.com')
    >>> parse_received("from pc ([192.168.1.5]) by mail.example.org with esmtpsa id 1").protocol
    'ESMTPSA'
    """
    clause, _, stamp = value.rpartition(";")
    if not clause:
        clause, stamp = value, ""
    helo = rdns = by = None
    match = _FROM.match(clause)
    lead = from_part = ""
    if match:
        lead, from_part, by = match.group(1), match.group(2), match.group(3)
        helo = lead
        named = _HELO_IN_PARENS.search(from_part)
        if named:  # Exim's "(helo=x)" and qmail's "(HELO x)" name the HELO; the lead is rDNS
            rdns, helo = helo, named.group(1)
        elif _lead_is_looked_up_name(clause, from_part):
            rdns = lead  # and the HELO was the same name, or none was given
        else:
            in_parens = _RDNS_IN_PARENS.search(from_part)
            rdns = in_parens.group(1) if in_parens else None
    # The HELO argument is the client's own words, whatever it chose: a bot behind NAT says
    # "helo=[192.168.1.100]", and taking that for the peer made the true relay vanish as an
    # internal hop. Only the address the receiving MTA wrote itself counts, so the HELO text
    # is cut out first, and the lead (Exim's "from [ip] (helo=x)"; Exchange puts the HELO
    # there) is read only when the rest of the from-part holds no address.
    peer = _HELO_IN_PARENS.sub(" ", from_part)
    ip = _address_in(peer) or _address_in(lead)
    if helo:
        # qmail writes each character of the HELO that is not a letter, digit or one of
        # ".@%+/=:-" as "?": "[192.168.1.100]" becomes "?192.168.1.100?".
        helo = helo.strip("[]()?").lower()
    if rdns and (rdns.lower() == "unknown" or rdns.startswith("[")):
        rdns = None
    by_end = match.end(3) if match and by else None
    with_ = _WITH.search(clause, by_end or 0)
    protocol = None
    if with_:
        word = with_.group(1).upper()
        protocol = "SMTP" if word.startswith("MICROSOFT") else word
    authenticated = (
        protocol in _AUTH_PROTOCOLS
        or _has_auth_comment(peer)
        or (by_end is not None and _BY_AUTH.match(clause, by_end) is not None)
    )
    rdns = rdns.lower() if rdns else None
    return Hop(helo, rdns, ip, by, parse_date(stamp), protocol, authenticated)


def _has_auth_comment(peer: str) -> bool:
    """True when the from-part (its HELO cut out) holds sendmail's, Postfix's or Courier's
    comment that the client logged in. Only after the client's address: the text before it
    can hold the ident user (sendmail's "(user@host [ip])"), which the client's own ident
    server answers, and Exim writes the ident after the address ("([ip]:port ident=user)"),
    so a line that holds one is not read at all. All three write the address in brackets; a
    from-part without one (Exim's "from [ip] (helo=x)") has nothing after the address but
    the HELO.
    """
    if "ident=" in peer or ("uthenticated" not in peer and "(AUTH: " not in peer):
        return False  # nearly every line: no regex
    address_end = peer.rfind("]")
    return address_end >= 0 and _AUTH_COMMENT.search(peer, address_end) is not None


def _lead_is_looked_up_name(clause: str, from_part: str) -> bool:
    """True when the MTA wrote the host name it looked up as the lead and left the HELO out
    because it was the same name: Exim's "from name ([ip]:port)" and qmail's "from name (ip)
    by host with SMTP". Sendmail's "from helo ([ip])" looks the same and means the opposite
    (no rDNS), so the MTA's own mark decides. Without this, mail from a properly named server
    through an Exim or qmail MX got ``received:relay_no_rdns`` (+2.24 in the shipped model)
    where the same mail through Postfix did not.
    """
    if _EXIM_PEER.fullmatch(from_part):
        return _EXIM_MARK.search(clause) is not None
    return _QMAIL_PEER.fullmatch(from_part) is not None and _QMAIL_BY.search(clause) is not None


def trace_origin(received: Sequence[str], trusted: Sequence[str] = ()) -> Origin:
    """Find the first external relay and the sender in a ``Received:`` chain (top first).

    ``trusted`` lists networks (``"203.0.113.0/24"``) whose relays are ours, like SpamAssassin's
    ``trusted_networks``; private and loopback addresses are always trusted.

    A hop where the client logged in (SMTP AUTH) is trusted as our own, as SpamAssassin trusts
    it: the client is one of our users, or one of our servers logged in to another. So mail a
    colleague sent from home has no relay (``received:relay_dynamic``, +3.97, fell on the home
    connection), and mail that Cyrus passed on "with LMTPA" is traced on below to where it
    came from (ending the walk at a login lost 13 trec06p relays). A login forged below the
    first external relay changes nothing: the walk has ended there.

    >>> trace_origin([
    ...     "from home-pc (dsl-82-113-1-7.dyn.isp.example [82.113.1.7])"
    ...     " by mail.example.org (Postfix) with ESMTPSA id 4XyZ1"
    ... ]).relay_ip is None
    True
    """
    path = tuple(parse_received(value) for value in received)
    networks = _networks(tuple(trusted))
    receiver = _domain_of(path[0].by) if path else None
    external = [
        hop
        for hop, value in zip(path, received, strict=True)
        if hop.ip
        and not _is_internal(hop.ip, networks)
        and not _is_own_ipv6_hop(hop, value, receiver)
    ]
    relay = next((hop for hop in external if not hop.authenticated), None)
    sender = external[-1] if relay else None
    return Origin(
        relay_ip=relay.ip if relay else None,
        relay_country=country_of(relay.ip) if relay and relay.ip else None,
        relay_helo=relay.helo if relay else None,
        relay_rdns=relay.rdns if relay else None,
        sender_ip=sender.ip if sender else None,
        sender_country=country_of(sender.ip) if sender and sender.ip else None,
        hops=len(path),
        path=path,
    )


def _is_own_ipv6_hop(hop: Hop, value: str, receiver: str | None) -> bool:
    """True for an IPv6 hop from a host of the receiving domain (``receiver``, the top hop's
    ``by``) or of the domain of the host it handed the message to: Office 365 passes every
    message through several of its own servers (``*.prod.outlook.com``,
    ``*.outlook.office365.com``), writing their public IPv6 addresses bare, and those are not
    where the message came from.

    The host's name must come from our server, not from the client. The rDNS is what our MTA
    looked up (Postfix and Exim write it only when it resolves back to the address; sendmail
    says "may be forged" when it does not). Exchange writes no rDNS, only the client's HELO,
    and a HELO is the client's own word: an IPv6 spammer that HELOed as the receiver's domain
    was taken for one of our hops, and the line it forged below became the relay. A HELO
    counts only beside what our server wrote of itself: that it took the message over HTTP
    (Exchange's own mailbox transport, no SMTP client's), or its own IPv6 address in the
    client's network: the same /32, or both in Microsoft's blocks (a /48 would part one
    Office 365 server from the next). Office 365's frontends, which take mail from the
    internet, write a private IPv4 address of their own, so a client there never counts.

    IPv6 only: an IPv4 hop from a host claiming the receiver's name is a spammer's forged
    HELO as often as one's own relay (trec06p's spam HELOs as psy1.psych.arizona.edu).
    Before IPv6 addresses were read at all, such hops were skipped for want of an address.
    """
    if receiver is None or hop.ip is None or ":" not in hop.ip:
        return False
    ours = {receiver, _domain_of(hop.by)} - {None}
    if _domain_of(hop.rdns) in ours and "may be forged" not in value:
        return True
    if _domain_of(hop.helo) not in ours:
        return False
    if hop.protocol in _MAILBOX_PROTOCOLS:
        return True
    # Right after the by-host, where the server writes it: the envelope recipient further on
    # ("for <...>") is the client's text again.
    by_part = _FROM.match(value)
    by_address = _BY_ADDRESS.match(value, by_part.end(3)) if by_part and by_part.group(3) else None
    own_ip = _valid_ip(by_address.group(1)) if by_address else None
    return own_ip is not None and ":" in own_ip and _ipv6_owner(hop.ip) == _ipv6_owner(own_ip)


# Office 365's servers recur in every chain it delivers, and parsing an address and testing
# it against two networks took 6.5 us a pair before this was cached.
@lru_cache(maxsize=4096)
def _ipv6_owner(ip: str) -> str:
    """Whose an IPv6 address is, as far as telling our own hops goes: its /32, or
    ``"microsoft"`` for any address in Microsoft's blocks."""
    address = ipaddress.IPv6Address(ip)
    if any(address in net for net in _MICROSOFT_IPV6):
        return "microsoft"
    return address.exploded[:9]


def _domain_of(host: str | None) -> str | None:
    return registered_domain(host.lower().rstrip(".")) if host and "." in host else None


def registered_domain(host: str) -> str:
    """The domain a host belongs to: ``mail.sina.com.cn`` -> ``sina.com.cn``.

    >>> registered_domain("a.b.example.com"), registered_domain("mail.sina.com.cn")
    ('example.com', 'sina.com.cn')
    """
    labels = host.split(".")
    if len(labels) >= 3 and (
        (labels[-2] in _SECOND_LEVEL and len(labels[-1]) == 2)
        or ".".join(labels[-2:]) in _PUBLIC_SUFFIXES
    ):
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


@load_once
def _country_table():  # type: ignore[no-untyped-def]
    import iptocc

    return iptocc.country_code


@lru_cache(maxsize=4096)  # as _valid_ip: relays recur, and the address is parsed twice here
def country_of(ip: str) -> str | None:
    """ISO country code of a public IP from the offline table, or ``None``.

    >>> country_of("218.79.1.1"), country_of("10.0.0.1"), country_of("2002:da4f:101::1")
    ('CN', None, 'CN')
    """
    address = _valid_ip(ip)
    if address is None:
        return None
    tunnelled = ipaddress.ip_address(address)
    if isinstance(tunnelled, ipaddress.IPv6Address) and tunnelled.sixtofour:
        # A 6to4 address (2002::/16) carries the IPv4 address of its tunnel's end, which
        # the table knows; the 6to4 prefix itself has no country.
        address = str(tunnelled.sixtofour)
    try:
        code = _country_table()(address)
    except (ValueError, TypeError):
        return None
    return code or None


def is_dynamic_host(name: str | None) -> bool:
    """True for names that look like an ISP's dynamic pool, e.g. ``adsl-218-79-1-2.sh.cn``.

    An address alone (a HELO of ``[61.187.214.52]``, or ``3232235777``, an address as a
    browser reads one: :func:`is_address_host`) is no name at all, pool or not; the features
    say so apart (``received:helo_not_fqdn``). A name the ISP marks ``static`` is
    no pool, nor is a numbered name whose host part says it is a mail server: Outlook.com,
    Facebook and QQ Mail name their outbound relays after their addresses, and the feature
    (+3.97 in the shipped model) moved a plain Outlook.com ham from 0.02 to 0.44. A pool word
    (``dsl``, ``dyn``, ``ppp``...) still counts beside a mail word.

    >>> is_dynamic_host("adsl-218-79-1-2.sh.cn"), is_dynamic_host("[61.187.214.52]")
    (True, False)
    >>> is_dynamic_host("out203-205-221-149.mail.qq.com")
    False
    """
    if not name or is_address_host(name.lower().rstrip(".")) or _STATIC.search(name):
        return False
    if _DYNAMIC_WORD.search(name):
        return True
    if not _NUMBERED.search(name):
        return False
    host = name.lower().rstrip(".")
    host_part = host[: -len(registered_domain(host))]  # "facebook.com" says nothing of the host
    return _MAIL_SERVER_WORDS.isdisjoint(_LETTERS.findall(host_part))


def is_address_host(host: str) -> bool:
    """Whether a host (lower case, no trailing dot) is an address, not a name: what a browser
    reads as IPv4 (``_NUMERIC_HOST``), a literal in brackets (``[192.0.2.1]``, a URL's
    ``[2001:db8::1]``, a HELO's ``[IPv6:2001:db8::1]``), or an IPv6 address, which a HELO
    may write without its brackets. URL hosts and HELO names are read alike: a HELO's own
    pattern had read octal, hex, short and dotted-at-the-end forms as domains, which gave 72
    trec06c spam that HELO'd with numbers received:helo_domain (``21323.213``) and no
    received:helo_not_fqdn.

    >>> is_address_host("0x7f.1"), is_address_host("[ipv6:2001:db8::1]"), is_address_host("www.18")
    (True, True, False)
    """
    if host.startswith("[") or _NUMERIC_HOST.fullmatch(host):
        return True
    # No name holds a colon, so that the rare HELO with one is parsed.
    return ":" in host and _is_ipv6(host.removeprefix("ipv6:"))


def _is_ipv6(text: str) -> bool:
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


def _address_in(text: str) -> str | None:
    """The first address in ``text``: bracketed, then bare IPv4, then bare IPv6."""
    ip = _first_ip(_IP_IN_BRACKETS.finditer(text))
    if ip is None:
        bare = _BARE_IP.search(text)
        ip = _valid_ip(bare.group(1)) if bare else None
    return ip or _first_ip(_BARE_IPV6.finditer(text))


def _first_ip(matches: Iterator[re.Match[str]]) -> str | None:
    return next(filter(None, (_valid_ip(match.group(1)) for match in matches)), None)


# Relays recur from message to message (one's own servers in every chain): parsing and
# classifying an address with ipaddress cost half of trace_origin before these were cached.
@lru_cache(maxsize=4096)
def _valid_ip(text: str) -> str | None:
    """The address in canonical form; an IPv4-mapped IPv6 address (``::ffff:203.0.113.5``,
    written by dual-stack servers) as its IPv4 address, so that its country, /16 and privacy
    are the IPv4 address's."""
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
    return str(mapped or address)


@cache
def _networks(
    trusted: tuple[str, ...],
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(_as_ipv4_if_mapped(ipaddress.ip_network(net, strict=False)) for net in trusted)


def _as_ipv4_if_mapped(
    network: ipaddress.IPv4Network | ipaddress.IPv6Network,
) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """An IPv4-mapped network (``::ffff:203.0.113.0/120``, as dual-stack MTAs log peers) as
    its IPv4 network: hop addresses are read as IPv4 (``_valid_ip``), and the mapped form
    could never hold one."""
    mapped = network.network_address.ipv4_mapped if network.version == 6 else None
    if mapped is None or network.prefixlen < 96:
        return network
    return ipaddress.IPv4Network((mapped, network.prefixlen - 96))


@lru_cache(maxsize=4096)
def _is_internal(
    ip: str, networks: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network]
) -> bool:
    address = ipaddress.ip_address(ip)
    if not address.is_global:
        return True
    return any(address in net for net in networks)


def parse_date(stamp: str | None) -> datetime | None:
    """An RFC 5322 date, or ``None`` when it is missing or malformed (spam dates often are).

    A ``-0000`` zone is UTC (RFC 5322 section 3.3: UTC, with no word on the local zone);
    ``email.utils`` leaves such a date naive, and a naive date cannot be compared with an
    aware one. qmail writes every stamp so, and the date skew of each message a qmail MX
    received was lost. Zone names that name one zone (``KST``, ``JST``, ``CET``, ``MSK``...)
    get their offset, where ``email.utils`` left them naive and their dates gave no skew;
    others stay naive: read as UTC, an ``IST`` date from India would be 5.5 hours off.

    >>> parse_date("4 Nov 2024 10:00:00 -0000")
    datetime.datetime(2024, 11, 4, 10, 0, tzinfo=datetime.timezone.utc)
    >>> parse_date("Mon, 4 Nov 2024 19:00:00 KST").utcoffset()
    datetime.timedelta(seconds=32400)
    """
    stamp = (stamp or "").strip()
    if not stamp:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(stamp)
    except (ValueError, TypeError, IndexError, OverflowError):
        return None
    if parsed.tzinfo is not None:
        return parsed
    if _UTC_ZONE.search(stamp):
        return parsed.replace(tzinfo=timezone.utc)
    name = _ZONE_NAME.search(stamp)
    zone = _ZONES.get(name.group(1).upper()) if name else None
    return parsed.replace(tzinfo=zone) if zone else parsed
