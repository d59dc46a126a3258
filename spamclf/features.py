"""A parsed message to namespaced feature tokens, one small pure function per source.

Every token names where its clue came from (``subject:免费``, ``received:country:KR``,
``url:domain:example.cn``) so that a verdict's reasons read as evidence. Tokens are presence
features: a word said ten times is no more spammy than said twice, and counting invites padding.
Numeric facts become buckets, which a linear model can weigh separately.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain, islice
from typing import NamedTuple
from urllib.parse import unquote

from spamclf.budget import clock
from spamclf.charsets import normalize_charset
from spamclf.normalize import NormalizedText, normalize_host, normalize_text, remove_invisible
from spamclf.origin import (
    Origin,
    is_address_host,
    is_dynamic_host,
    parse_date,
    registered_domain,
    trace_origin,
)
from spamclf.parse import Limits, ParsedMessage
from spamclf.scripts import NO_SCRIPT, main_script
from spamclf.tokenize import fold_case, is_japanese, nfkc, words

__all__ = ["FeatureSettings", "Features", "char_text", "extract_features"]

# Kana, ideographs and Hangul. Glued to a link they end it (trec06c spam writes
# "访问http://example.cn。立即"), unless a dot and a Latin label follow: "www.手机软件.com" is a
# Chinese domain, which trec06c spam advertises too.
_CJK_LETTERS = "\u3040-\u9fff\uac00-\ud7af\uf900-\ufaff"
# What else ends a link besides spaces, quotes and brackets: CJK punctuation, curly quotes, an
# ellipsis, and the full-width punctuation no link is written with. Full-width letters, digits
# and "．／：" stay: spam writes whole links in full width to dodge filters. Guillemets quote
# in French, German and Russian ("«http://exemple.fr»"); "}", "*" (bold) and "|" close or
# separate a link in plain text and stuck to its host ("url:tld:fr»"). So do arrows, box
# drawing, shapes, symbols and dingbats, which no host name holds (IDNA disallows them) and
# Chinese spam decorates its links with: "www.example.com★" gave url:host:www.example.com★.
_LINK_END = (
    f"\u2018-\u201f\u2026\u2190-\u21ff\u2500-\u27bf\u3000-\u303f{_CJK_LETTERS}"
    "！＂＇（）＊，；＜＞［＼］＾｀｛｜｝～\uff5f-\uffef«»‹›}*|"
)
_LINK_CHAR = rf"[^\s<>\"'(){_LINK_END}]"
_CJK_LABEL = rf"[{_CJK_LETTERS}]+(?=[.．][a-zA-Z0-9ａ-ｚＡ-Ｚ０-９])"
# Each character can be matched one way only, without nested repeats: written as
# "(?:char|label)+", a link took 1.1 us over the trec06p links, this way 0.4 (one class: 0.3).
_LINK_REST = f"(?:{_LINK_CHAR}|{_CJK_LABEL}){_LINK_CHAR}*(?:{_CJK_LABEL}{_LINK_CHAR}*)*"
# Chinese spam writes a host's dots as ideographic full stops, "www。example。net/x" (44
# trec06c spam, whose links gave no host), which a browser reads as dots (UTS 46 maps "。" and
# "｡" to ".", as NFKC maps "．"). They join Latin labels only at the start of the host, so that
# a sentence's full stop after a link still ends it ("访问http://example.cn。立即"). "www。"
# starts a link only before two more labels: "看看www。Thanks" is a sentence.
_LATIN_LABEL = "[a-zA-Z0-9ａ-ｚＡ-Ｚ０-９-]"
_IDEOGRAPHIC_DOT = "[。｡]"
_IDEOGRAPHIC_LABELS = f"(?:{_LATIN_LABEL}{{1,63}}{_IDEOGRAPHIC_DOT}(?={_LATIN_LABEL}))*"
_IDEOGRAPHIC_WWW = f"{_IDEOGRAPHIC_DOT}(?={_LATIN_LABEL}{{1,63}}{_IDEOGRAPHIC_DOT}{_LATIN_LABEL})"
# Case-blind after its first character, so that the regex engine can skip ahead (see
# spamclf.htmltext): over trec06p and trec06c bodies 22 -> 8 us a message. Each ASCII
# character of "http://" and "www." may also be written in full width ("ｈｔｔｐ：／／").
# "www." starts a link only as a word of its own and before a host: "Awww... thanks" is none.
# (Chinese text may run into it, "访问www.example.cn", so only Latin letters and digits count.)
# Without "www" or a scheme no full stop makes a link: five trec06c ham write
# "我今年27岁了。PP。CN。". Nor does a "www" label after others: written without a scheme,
# "el.www.media.mit.edu" is a host, but in the corpora such text is as often a newsgroup
# ("comp.infosystems.www.browsers.ms-windows", which would read as a host in .ms) or an
# address's domain (15 messages in all), and with a scheme (230 messages) it is read whole.
_URL = re.compile(
    r"[hHwWｈＨｗＷ](?i:(?<=[hｈ])[tｔ][tｔ][pｐ][sｓ]?[:：][/／][/／]"
    r"|(?<=[wｗ])(?<![a-z0-9_.．ａ-ｚ０-９][wｗ])[wｗ][wｗ]"
    rf"(?:[.．](?=[^\W_])|{_IDEOGRAPHIC_WWW}))" + _IDEOGRAPHIC_LABELS + _LINK_REST
)
# Where a link's host starts: after a scheme and "//"; in an http(s) or ftp link, after any
# run of "/" and "\" ("https:\\host", "http:/host"), as browsers read them; after two of them
# with no scheme ("//host/path" takes the page's scheme); or at "www.". Other links (relative
# paths, "mailto:") name no host: "redirect.php?to=http://x" had given url:host:redirect.php.
# No host starts with a slash, so the closing "(?![/\\])" ends each step back through a run of
# slashes before the userinfo and host are tried (1,000,000 slashes: 32 -> 9 ms).
_AUTHORITY = r"(?:(?:https?|ftp):[/\\]+|[a-z][a-z0-9+.\-]*://|[/\\]{2,}|(?=www[.．。｡]))(?![/\\])"
_LINK_START = re.compile(_AUTHORITY, re.I)
# The host ends at what no host name holds: "see http://example.com, then" is example.com.
# Userinfo ("user@") comes before the first "/", "?", "#" or backslash, where a browser ends
# the authority: "http://click.example?to=me@bank.example" goes to click.example. An IPv6
# address is written in brackets ("http://[2001:db8::1]/").
_HOST = re.compile(
    _AUTHORITY + r"(?:[^@/?#\\]*@)?(\[[^\]/\\?#@]*\]|[^/\\:?#,;!&\[\]\s«»‹›{}*|]+)", re.I
)
# The dots a browser reads in a host (UTS 46) besides the full-width "．", which NFKC maps to
# "." (and the half-width "｡" to "。"): the ideographic full stop.
_TO_DOTS = str.maketrans(dict.fromkeys("。｡", "."))
# A browser decodes percent-escapes in a host: "http://%65%68%61.%63%6f%6d" goes to eha.com.
# Spam wrote hosts so to hide them (390 trec06p and 37 spamassassin messages), which gave each
# encoding a host token of its own. Decoded, the host ends where a host would.
_HOST_END = re.compile(r"[/\\:?#@\s]")
# A host name is at most 253 characters (RFC 1035); a longer "host" is junk, and normalizing
# megabytes of it cost up to 95 ms.
_MAX_HOST_CHARS = 253
# Bounded as RFC 5321 bounds them (64 characters before the "@", 63 a label): unbounded, each
# start in 16,000 characters of a From with no "@" ran to the end (quadratic).
_ADDRESS = re.compile(r"[\w.+\-=]{1,64}@([\w\-]{1,63}(?:\.[\w\-]{1,63})+)")
_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')
# Reply and forward prefixes (one token for both) as mail clients write them: English,
# Chinese, German AW (Antwort) and WG (weitergeleitet), Nordic SV (svar), VS (Danish and
# Norwegian videresendt, Finnish vastaus), French TR (transféré), Dutch Antw (antwoord),
# Italian R (risposta) and RIF (riferimento); "Re[2]:" and "Re^2:" count replies.
_REPLY_PREFIX = re.compile(
    r"\s*(?:re|fw|fwd|aw|wg|sv|vs|tr|antw|r|rif|回复|答复|转发)\s*(?:\[\d+\]|\^\d+)?\s*[:：]",
    re.I,
)
_ENCODED_WORD = re.compile(r"=\?([^?]+)\?([bq])\?", re.I)
_HEADER_WORD = re.compile(r"[a-z0-9][a-z0-9.\-_]{1,40}")
# Enough for a Received line's hosts, addresses, ids and dates; beyond that a header is padding.
MAX_WORDS_PER_HEADER = 60
# Spam filters' verdicts (spamclf's own block, SpamAssassin's, bogofilter's, DSPAM's), which
# SpamAssassin's Bayes leaves out too ("too easy to chain from these"): learnt, a model would
# learn an earlier verdict, its own among them, where a delivery agent's Return-Path above the
# block keeps it from being taken off (spamclf.mta), and a correction would teach it that its
# own "X-Spam-Flag: YES" means ham.
_VERDICT_HEADERS = ("x-spam", "x-bogosity", "x-dspam")
# Character 4-grams are taken from the first 3,000 characters, as TREC 2007's byte 4-gram filter
# read the first 2,500 bytes: spam shows its hand early, and the cost stays bounded.
CHAR_NGRAM_SPAN = 3000


@dataclass(frozen=True)
class FeatureSettings:
    """What to extract. ``trusted_networks`` are relays counted as ours (CIDR strings);
    ``header_words`` adds the words of every header (see :func:`header_word_tokens`)."""

    trusted_networks: tuple[str, ...] = field(default=())
    header_words: bool = False


class Features(NamedTuple):
    """What the model reads of a message: unique ``tokens`` (first-seen order), the ``chars``
    whose 4-grams form the character block (hashed in :mod:`spamclf.vectorize`), the origin,
    and the writing system of ``chars`` (:func:`spamclf.scripts.main_script`)."""

    tokens: list[str]
    chars: str
    origin: Origin
    script: str = NO_SCRIPT


def extract_features(
    message: ParsedMessage,
    settings: FeatureSettings | None = None,
    *,
    limits: Limits | None = None,
    deadline: float | None = None,
) -> Features:
    """All features of ``message``.

    The body's words and links, whose number grows with the message, are taken up to
    ``limits.max_tokens`` and until ``deadline`` (a :func:`spamclf.budget.clock` value; by default
    ``limits.deadline()``); the header, origin and structure tokens, bounded by the parser's
    caps, are always taken. A cap that stops the taking adds ``limit:tokens`` or ``limit:time``.
    """
    settings = settings or FeatureSettings()
    limits = limits or Limits()
    budget = _TokenBudget(limits.max_tokens, limits.deadline() if deadline is None else deadline)
    origin = trace_origin(message.headers_named("received", raw=True), settings.trusted_networks)
    # Subject and body as a reader sees them: what spammers hide inside words is taken out
    # once, here, for the words and the character block alike. Links are read from the text
    # as written, as from the HTML, so that a host's disguise is still there to be seen.
    subject, body = normalize_text(message.subject), normalize_text(message.text)
    sources: Iterable[Iterable[str]] = (
        budget.take(content_tokens(subject, body)),
        budget.take(url_tokens(message)),
        header_tokens(message),
        origin_tokens(message, origin),
        structure_tokens(message),
        budget.take(header_word_tokens(message) if settings.header_words else ()),
        budget.hit_tokens(),
    )
    tokens = list(dict.fromkeys(chain.from_iterable(sources)))  # unique, first-seen order
    chars = char_text(subject.text, body.text)
    return Features(tokens, chars, origin, main_script(chars))


class _TokenBudget:
    """Stops token streams at a count and a deadline, and remembers which cap stopped them."""

    # The clock is read once per 256 tokens, so that reading it costs next to nothing.
    _CLOCK_EVERY = 256

    def __init__(self, max_tokens: int, deadline: float | None) -> None:
        self.left = max_tokens
        self.deadline = deadline
        self.hit: dict[str, None] = {}

    def take(self, tokens: Iterable[str]) -> list[str]:
        # Whole chunks, not one token at a time: a generator step per token cost more than
        # the clock readings it saved.
        taken: list[str] = []
        stream = iter(tokens)
        while chunk := list(islice(stream, self._CLOCK_EVERY)):
            if self.left <= 0:
                self.hit["tokens"] = None
                break
            if self.deadline is not None and clock() > self.deadline:
                self.hit["time"] = None
                break
            if len(chunk) > self.left:
                self.hit["tokens"] = None
                chunk = chunk[: self.left]
            self.left -= len(chunk)
            taken.extend(chunk)
        return taken

    def hit_tokens(self) -> Iterator[str]:
        for name in self.hit:
            yield f"limit:{name}"


def content_tokens(subject: NormalizedText, body: NormalizedText) -> list[str]:
    """Words of the (normalized) subject and body, CJK segmented (see :mod:`spamclf.tokenize`),
    and the evasions normalizing undid (``body:evasion:invisible``, see :mod:`spamclf.normalize`).

    The text is tokenized whole: ``max_text_chars`` bounds that work (100,000 characters take
    about 30 ms), and the token budget then stops what follows.
    """
    # A subject is read in the language of the whole message: a Japanese subject of kanji
    # alone read as Chinese (see spamclf.tokenize.is_japanese).
    japanese = is_japanese(subject.text, body.text)
    # The evidence first: a token cap that cuts a long body short must not drop it.
    return [
        *(f"subject:evasion:{evasion}" for evasion in subject.evasions),
        *(f"body:evasion:{evasion}" for evasion in body.evasions),
        *["subject:" + word for word in words(subject.text, japanese=japanese)],
        *["body:" + word for word in words(body.text, japanese=japanese)],
    ]


def char_text(subject: str, body: str) -> str:
    """The subject and the start of the body, lower case, spaces collapsed: the text whose
    character 4-grams catch what words miss (obfuscated spellings, unsegmented runs, layout).

    >>> char_text("Hi", "Cheap   PILLS\\n")
    'hi cheap pills'
    """
    text = fold_case(f"{subject} {body[:CHAR_NGRAM_SPAN]}")
    return " ".join(text.split())[:CHAR_NGRAM_SPAN]


def url_tokens(message: ParsedMessage) -> Iterator[str]:
    """Hosts and domains of the links in the text and the HTML.

    Links are read as written, from the text as from the HTML, and each one's host as a reader
    would read it (:func:`spamclf.normalize.normalize_host`): punycode decoded, look-alike
    letters of a mixed-script host mapped to Latin, so ``раypal.com`` counts as
    ``paypal.com``; that the host was disguised is a token of its own. (Read from the
    normalized body, a link in the text had lost that evidence before its host was read.)
    Only invisible characters are taken out of the text first, as a reader sees through them:
    "ht\\u200btp://" hid a link. Ideographic full stops between a host's labels
    ("www。example。cn") are read as dots, as a browser reads them (``url:ideographic_dot``).
    """
    links: list[str] = _URL.findall(remove_invisible(message.text))
    if message.html:
        # Most links start "http://" or "https://", which a string method tells 3x as fast.
        links.extend(
            link
            for link in message.html.links
            if link.startswith(("http://", "https://")) or _LINK_START.match(link)
        )
    yield f"url:count:{_bucket(len(links))}"
    for link in links:
        # Rare, so folding it costs nothing: "ｈｔｔｐ：／／ｅｘａｍｐｌｅ．ｃｏｍ" reads http://example.com.
        if not link.isascii():
            link = nfkc(link)
        match = _HOST.match(link)
        if not match:
            continue
        host = match.group(1).lower()
        if "%" in host:
            yield "url:percent_encoded_host"
            # Decoded, a host is read as a written one is, through NFKC: "%EF%BC%8E" is the
            # full-width "．", a dot, no ideographic full stop (url:ideographic_dot).
            decoded = nfkc(unquote(host, errors="replace")[:_MAX_HOST_CHARS])
            host = _HOST_END.split(decoded, maxsplit=1)[0].lower()
        host = host[:_MAX_HOST_CHARS]
        if not host.isascii():
            dotted = host.translate(_TO_DOTS)
            if dotted != host:
                yield "url:ideographic_dot"
                host = dotted
        host = host.rstrip(".")
        if not host:
            continue
        if is_address_host(host):
            yield "url:ip_host"
            continue
        host, punycode, mixed_script = normalize_host(host)
        yield f"url:host:{host}"
        yield f"url:domain:{registered_domain(host)}"
        yield f"url:tld:{host.rsplit('.', 1)[-1]}"
        if punycode:
            yield "url:punycode"
        if mixed_script:
            yield "url:mixed_script"


def header_tokens(message: ParsedMessage) -> Iterator[str]:
    """Sender, recipients, subject form, mailer, Message-ID form, charsets, dates."""
    # Which header names are present is a strong clue inside one corpus and a misleading one
    # across corpora (each mail system adds its own): with them, leave-one-corpus-out AUC on
    # trec06p fell from 0.980 to 0.967 (benchmarks/model_selection.md). So they are left out.
    if not message.headers:
        yield "header:none"
        return
    yield from _sender_tokens(message)
    yield from _subject_form_tokens(message)
    for name in ("x-mailer", "user-agent"):
        value = message.header(name)
        if value:
            yield f"{name}:{_mailer_family(value)}"
    yield from _message_id_tokens(message)
    yield from _recipient_tokens(message)
    date = message.header("date")
    if date is None:
        yield "date:missing"
    else:
        zone = re.search(r"([+-]\d{4})\s*(?:\(.*\))?\s*$", date)
        yield f"date:zone:{zone.group(1) if zone else 'none'}"
    priority = message.header("x-priority")
    if priority:
        yield f"x-priority:{priority[:1]}"


def header_word_tokens(message: ParsedMessage) -> Iterator[str]:
    """Every header's name, and the words of its raw value: ``hdr:received:mx1.example.net``.

    These name one mailbox's own mail systems (its relays, mailers, list software), the
    evidence bogofilter and SpamAssassin's Bayes learn from headers, and they mislead a model
    trained on other mailboxes (see :func:`header_tokens`). So only models that learn one
    mailbox's stream read them: :meth:`spamclf.Model.empty` turns them on. In the TREC online
    protocol they cut (1-ROCA)% on trec06c from 0.0035 to 0.0017 and on trec06p from 0.034 to
    0.026 (benchmarks/online_learning.md).
    """
    for name, value in message.raw_headers:
        if name.startswith(_VERDICT_HEADERS):
            continue
        name = name[:40]  # a junk "name" can be a whole line
        yield f"hdr:{name}"
        for word in _HEADER_WORD.findall(value.lower())[:MAX_WORDS_PER_HEADER]:
            yield f"hdr:{name}:{word}"


def _sender_tokens(message: ParsedMessage) -> Iterator[str]:
    sender = message.header("from")
    if not sender:
        yield "from:missing"
        return
    address = _sender_address(sender)
    domain = address.group(1).lower() if address else None
    if domain:
        yield f"from:domain:{registered_domain(domain)}"
        local = address.group(0).split("@", 1)[0] if address else ""
        if sum(ch.isdigit() for ch in local) >= 3:
            yield "from:local_digits"
    else:
        yield "from:no_address"
    name = sender.split("<", 1)[0].strip().strip('"')
    named = _ADDRESS.search(name)
    if not name or (named and address and named.group(0).lower() == address.group(0).lower()):
        yield "from:no_name"  # Outlook writes '"u@x.com" <u@x.com>' for a sender with no name
    elif named:
        # '"service@paypal.com" <x@evil.example>': a name that claims another address is the
        # usual phishing spoof, no mere missing name. Its words would be address fragments.
        yield "from:name_is_other_address"
    else:
        for word in words(name):
            yield f"from:name:{word}"
    reply_to = message.header("reply-to")
    if reply_to:
        reply = _sender_address(reply_to)
        if (
            reply
            and domain
            and registered_domain(reply.group(1).lower()) != registered_domain(domain)
        ):
            yield "reply-to:other_domain"


def _sender_address(value: str) -> re.Match[str] | None:
    """The address a header sends from: the one in angle brackets when there is one, not an
    address written in the display name ('"service@paypal.com" <x@evil.example>', the usual
    phishing spoof, is from evil.example)."""
    angle = value.rfind("<")
    return (angle >= 0 and _ADDRESS.search(value, angle)) or _ADDRESS.search(value)


def _recipient_tokens(message: ParsedMessage) -> Iterator[str]:
    to = message.header("to")
    if to is None:
        yield "to:missing"
    # Cc names recipients as To does, and mass mail may list its hundreds there: of the 847
    # sample messages with a Cc (11,814 of four corpora), 82 reach 8 recipients only with it.
    recipients = (*message.headers_named("to"), *message.headers_named("cc"))
    if recipients:
        count = sum(_mailbox_count(value) for value in recipients)
        yield f"to:count:{_bucket(count)}"
    if to is not None and "undisclosed" in to.lower():
        yield "to:undisclosed"


def _mailbox_count(value: str) -> int:
    """How many mailboxes an address list names: one per comma-separated item that holds an
    address. Outlook writes '"u@x.com" <u@x.com>', two addresses for one mailbox, and a quoted
    name may hold a comma ('"Smith, J" <j@x.com>'), so quoted strings are dropped first."""
    unquoted = _QUOTED.sub("", value)
    return sum(1 for item in unquoted.split(",") if _ADDRESS.search(item))


def _subject_form_tokens(message: ParsedMessage) -> Iterator[str]:
    # Facts about the subject have an underscore, which no word token has: "subject:missing"
    # was also the word "missing" in a subject, and explained a verdict with a false fact.
    raw = next(iter(message.headers_named("subject", raw=True)), None)
    if raw is None:
        yield "subject:is_missing"
        return
    for charset, encoding in _ENCODED_WORD.findall(raw):
        yield f"subject:encoded:{charset.lower()}:{encoding.lower()}"
    if not raw.isascii():
        yield "subject:raw_8bit"
    subject = message.subject
    letters = [ch for ch in subject if ch.isalpha() and ch.isascii()]
    if len(letters) >= 5 and sum(ch.isupper() for ch in letters) / len(letters) > 0.6:
        yield "subject:mostly_caps"
    if "!" in subject:
        yield "subject:has_exclamation"
    if _REPLY_PREFIX.match(subject):
        yield "subject:is_reply"


def _message_id_tokens(message: ParsedMessage) -> Iterator[str]:
    message_id = message.header("message-id")
    if not message_id:
        yield "message-id:missing"
        return
    # The shape of the local part (digits, letters) identified mailers within a corpus but hurt
    # across corpora as header names did, so only these two facts are kept.
    _, _, right = message_id.strip("<> ").partition("@")
    # The address the mail is from, not one written in the display name: the spoof
    # '"service@paypal.com" <x@evil.example>' with a paypal.com Message-ID is no paypal mail.
    sender = _sender_address(message.header("from") or "")
    if not right:
        yield "message-id:no_host"
    elif sender and registered_domain(right.lower()) == registered_domain(sender.group(1).lower()):
        yield "message-id:host_is_sender"


def origin_tokens(message: ParsedMessage, origin: Origin) -> Iterator[str]:
    """Hop count, first external relay (country, its networks: an IPv4 relay's /16 and /24, an
    IPv6 relay's /32 and /48; rDNS and HELO form), date skew."""
    if not message.headers:
        return
    yield f"received:hops:{min(origin.hops, 10)}"
    if origin.relay_ip is None:
        yield "received:no_external_relay"
        return
    yield f"received:country:{origin.relay_country or 'unknown'}"
    for name, net in origin.relay_networks:
        yield f"received:{name}:{net}"
    if origin.sender_country and origin.sender_ip != origin.relay_ip:
        yield f"received:sender_country:{origin.sender_country}"
    helo, rdns = origin.relay_helo, origin.relay_rdns
    # parse_received takes a HELO's brackets off and lowers it; an Origin made otherwise may not.
    helo_is_address = helo is not None and is_address_host(helo.lower().rstrip("."))
    if helo and "." in helo and not helo_is_address:
        yield f"received:helo_domain:{registered_domain(helo)}"
    if rdns:
        yield f"received:rdns_domain:{registered_domain(rdns)}"
    if rdns is None:
        yield "received:relay_no_rdns"
    if is_dynamic_host(rdns) or is_dynamic_host(helo):
        yield "received:relay_dynamic"
    if helo and ("." not in helo or helo_is_address):
        yield "received:helo_not_fqdn"
    elif helo and rdns and registered_domain(helo) != registered_domain(rdns):
        yield "received:helo_mismatch"
    yield from _date_skew_tokens(message, origin)


def _date_skew_tokens(message: ParsedMessage, origin: Origin) -> Iterator[str]:
    received_at = next((hop.date for hop in origin.path if hop.date), None)
    sent_at = parse_date(message.header("date"))
    if received_at is None or sent_at is None:
        return
    try:
        hours = (received_at - sent_at).total_seconds() / 3600
    except TypeError:  # one of the dates has no zone
        return
    if hours < -24:
        yield "date:skew:future_day"
    elif hours < -1:
        yield "date:skew:future_hours"
    elif hours > 24 * 7:
        yield "date:skew:past_week"
    elif hours > 24:
        yield "date:skew:past_day"


def structure_tokens(message: ParsedMessage) -> Iterator[str]:
    """MIME layout, attachments, charsets, HTML structure, size; defects the parser met."""
    types = [part.content_type for part in message.parts]
    top = message.header("content-type")
    if top:
        yield f"mime:type:{top.split(';', 1)[0].strip().lower()[:40]}"
    yield f"mime:parts:{_bucket(len(types))}"
    if "text/html" in types and "text/plain" not in types:
        yield "mime:html_only"
    for part in message.parts:
        if part.filename:
            # Windows drops a name's trailing dots and spaces: "invoice.exe." runs as an .exe.
            name = part.filename.rstrip(". ")
            extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
            yield f"mime:attachment:{extension[:8]}"
            yield f"mime:attachment_type:{part.content_type}"
        if part.charset:
            declared = part.charset.lower().strip("\"'")
            yield f"charset:{declared[:20]}"
            if part.codec not in (None, "ascii", normalize_charset(declared)):
                yield f"charset:mislabelled_as:{part.codec}"
        elif part.codec not in (None, "ascii"):
            yield f"charset:undeclared:{part.codec}"
    if message.html:
        for tag in sorted(message.html.tags):
            yield f"html:tag:{tag}"
        yield f"html:images:{_bucket(message.html.images)}"
        if message.html.comments:
            yield "html:comments"
        if message.html.hidden_styles:
            yield "html:hidden_text"
        if message.html.hidden_chars:
            yield f"html:hidden_chars:{_bucket(message.html.hidden_chars // 10)}"
    yield f"size:{_bucket(message.size // 256)}"
    if not message.text.strip():
        yield "body:is_empty"  # with an underscore, as the subject's facts
    for defect in message.defects:
        yield f"defect:{defect}"
    for cap in message.limits_hit:
        yield f"limit:{cap}"


def _bucket(count: int) -> int:
    """0, 1, 2, 4, 8, ...: a log scale, so that 30 and 31 links are the same clue."""
    return 0 if count <= 0 else 2 ** int(math.log2(count))


def _mailer_family(value: str) -> str:
    """``Foxmail 6, 2, 100, 11 [cn]`` -> ``foxmail_cn``: versions change, families persist."""
    family = re.sub(r"[\d.,;:()\[\]_/\-]+", " ", value.lower()).split()
    return "_".join(family[:2])[:30] or "other"
