"""The spamd protocol (SPAMC/1.x), as SpamAssassin's spamd speaks it: requests in, replies out.

No sockets here: :func:`read_request` reads from any buffered byte stream and the ``*_reply``
functions return bytes, so every reply can be checked byte for byte against what SpamAssassin
4.0's ``spamd`` writes (its ``check``, ``dotell`` and ``doskip_or_ping`` subroutines, which
``spamc`` parses):

- ``CHECK``: ``SPAMD/1.1 0 EX_OK``, then ``Spam: True ; 7.5 / 5.0`` and a blank line;
- ``SYMBOLS``, ``REPORT``, ``REPORT_IFSPAM``, ``PROCESS``, ``HEADERS`` (SPAMC/1.3 and later):
  the status line, ``Content-length: N``, the ``Spam:`` line, a blank line and N bytes;
- ``PING``: ``SPAMD/1.5 0 PONG``; ``SKIP``: nothing;
- ``TELL``: the status line, then ``DidSet: local`` when the message was learned;
- errors: ``SPAMD/1.0 76 Bad header line: ...`` and the like, with sysexits codes.

Requests from clients older than SPAMC/1.3 get the older reply shapes spamd gives them.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, field
from typing import Protocol

from spamclf.errors import SpamclfError
from spamclf.mta import (
    REQUIRED_SCORE,
    add_headers,
    format_score,
    header_text,
    spam_headers,
    spamd_score,
    symbols,
    without_added_headers,
)
from spamclf.verdict import Verdict

__all__ = [
    "CHECK_METHODS",
    "EX_DATAERR",
    "EX_OK",
    "EX_PROTOCOL",
    "EX_SOFTWARE",
    "EX_TIMEOUT",
    "EX_UNAVAILABLE",
    "ProtocolError",
    "Request",
    "check_reply",
    "error_reply",
    "read_body",
    "read_head",
    "read_request",
    "tell_reply",
]

# sysexits.h, as spamd and spamc use them.
EX_OK = 0
EX_DATAERR = 65
EX_UNAVAILABLE = 69
EX_CANTCREAT = 73
EX_SOFTWARE = 70
EX_PROTOCOL = 76
EX_TIMEOUT = 79

CHECK_METHODS = frozenset({"CHECK", "SYMBOLS", "REPORT", "REPORT_IFSPAM", "PROCESS", "HEADERS"})
# The methods that send no message.
_NO_MESSAGE = frozenset({"PING", "SKIP"})
METHODS = CHECK_METHODS | {"TELL"} | _NO_MESSAGE

# spamd reads at most 255 header lines; a request line or header longer than this is not spamc.
MAX_HEADERS = 255
MAX_LINE = 8192

_REQUEST_LINE = re.compile(rb"([A-Z_]+) SPAMC/(\d{1,3}\.\d{1,3})\r?\n?")
_BLANK_LINE = re.compile(rb"\r?\n\r?\n")


class ProtocolError(SpamclfError):
    """A request that breaks the protocol; ``reply`` is the error line to send back."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.reply = error_reply(code, message)


class ByteStream(Protocol):
    def readline(self, size: int = -1, /) -> bytes: ...
    def read(self, size: int = -1, /) -> bytes: ...


@dataclass
class Request:
    """One parsed request: method, protocol version, headers (names as sent) and message."""

    method: str
    version: float
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    @property
    def message_class(self) -> str | None:
        value = self.headers.get("Message-class", "").strip().lower()
        return value or None

    def tell_flags(self, header: str) -> set[str]:
        """Which of ``local``/``remote`` a ``Set`` or ``Remove`` header names."""
        value = self.headers.get(header, "").lower()
        return {where for where in ("local", "remote") if where in value}


def error_reply(code: int, message: str) -> bytes:
    """An error status line, e.g. ``SPAMD/1.0 76 Bad header line: (EOF during headers)``."""
    prefix = {
        EX_PROTOCOL: "Bad header line: ",
        EX_UNAVAILABLE: "Service Unavailable: ",
        EX_TIMEOUT: "Timeout: ",
    }.get(code, "")
    return f"SPAMD/1.0 {code} {prefix}{header_text(message, limit=300)}\r\n".encode("ascii")


def read_request(stream: ByteStream, max_size: int) -> Request:
    """Read one request from ``stream``; raise :class:`ProtocolError` for anything malformed,
    and for a message over ``max_size`` bytes (before reading it)."""
    request = read_head(stream)
    request.body = read_body(stream, request, max_size)
    return request


def read_head(stream: ByteStream) -> Request:
    """The request line and headers of one request, with no body yet (:func:`read_request`)."""
    line = stream.readline(MAX_LINE)
    if not line:
        raise ProtocolError(EX_PROTOCOL, "(closed before headers)")
    match = _REQUEST_LINE.fullmatch(line)
    if not match or match.group(1).decode() not in METHODS:
        raise ProtocolError(EX_PROTOCOL, line.rstrip(b"\r\n").decode("latin-1"))
    request = Request(match.group(1).decode(), float(match.group(2)))
    # spamd reads no headers from SPAMC/1.0, and none from PING/SKIP before SPAMC/1.5.
    if request.version > 1.0 and (request.method not in _NO_MESSAGE or request.version >= 1.5):
        request.headers = _read_headers(stream)
    return request


def read_body(stream: ByteStream, request: Request, max_size: int) -> bytes:
    """The message that follows the head :func:`read_head` read (none after PING or SKIP)."""
    if request.method in _NO_MESSAGE:
        return b""
    # A message spamclf filtered before is read without the block it added, which the new
    # one replaces (spamclf/mta.py): scored with it, the old block counted towards its size.
    return without_added_headers(_read_body(stream, request.headers, max_size))


def _read_headers(stream: ByteStream) -> dict[str, str]:
    headers: dict[str, str] = {}
    for _ in range(MAX_HEADERS):
        line = stream.readline(MAX_LINE)
        if not line:
            raise ProtocolError(EX_PROTOCOL, "(EOF during headers)")
        if not line.endswith(b"\n"):
            too_long = len(line) >= MAX_LINE
            raise ProtocolError(
                EX_PROTOCOL, "(header line too long)" if too_long else "(EOF during headers)"
            )
        line = line.rstrip(b"\r\n")
        if not line:
            return headers
        name, sep, value = line.decode("latin-1").partition(":")
        if not sep:
            raise ProtocolError(EX_PROTOCOL, "(header not in 'Name: value' format)")
        headers[name] = value.lstrip()
    raise ProtocolError(EX_PROTOCOL, "(too many headers)")


def _read_body(stream: ByteStream, headers: dict[str, str], max_size: int) -> bytes:
    length_text = headers.get("Content-length")
    expected: int | None = None
    if length_text:
        # isdigit() alone admits "²", which int() refuses: only ASCII digits are a length.
        if not (length_text.isascii() and length_text.isdigit()) or len(length_text) > 12:
            raise ProtocolError(EX_PROTOCOL, "(Content-Length contains non-numeric bytes)")
        expected = int(length_text)
    compressed = "Compress" in headers
    if compressed and "zlib" not in headers["Compress"].lower():
        raise ProtocolError(EX_PROTOCOL, "(compression type not supported)")
    if compressed and expected is None:
        raise ProtocolError(EX_UNAVAILABLE, "Compress requires Content-length header")
    if expected is not None and expected > max_size:
        raise ProtocolError(EX_DATAERR, f"message of {expected} bytes is over {max_size}")
    body = stream.read(expected if expected is not None else max_size + 1)
    if expected is None and len(body) > max_size:
        raise ProtocolError(EX_DATAERR, f"message is over {max_size} bytes")
    if expected is not None and len(body) != expected:
        raise ProtocolError(
            EX_PROTOCOL,
            f"(Content-Length mismatch: Expected {expected} bytes, got {len(body)} bytes)",
        )
    return _inflate(body, max_size) if compressed else body


def _inflate(data: bytes, max_size: int) -> bytes:
    inflater = zlib.decompressobj()
    try:
        # max_length bounds the output: a zlib bomb stops at the size limit.
        out = inflater.decompress(data, max_size + 1)
    except zlib.error as exc:
        raise ProtocolError(EX_UNAVAILABLE, f"zlib: {exc}") from exc
    if len(out) > max_size:
        raise ProtocolError(EX_DATAERR, f"message inflates to over {max_size} bytes")
    if not inflater.eof:
        raise ProtocolError(EX_UNAVAILABLE, "zlib: failed to find end of zlib stream")
    return out


def check_reply(request: Request, verdict: Verdict, spam_cutoff: float, version: str) -> bytes:
    """The reply to CHECK, SYMBOLS, REPORT, REPORT_IFSPAM, PROCESS or HEADERS."""
    method = request.method
    score = format_score(spamd_score(verdict.score, spam_cutoff), verdict.is_spam)
    if method == "REPORT_IFSPAM":
        flag = "Yes" if verdict.is_spam else "No"
    else:
        flag = "True" if verdict.is_spam else "False"
    spam_line = f"Spam: {flag} ; {score} / {REQUIRED_SCORE:.1f}".encode("ascii")
    status = b"SPAMD/1.1 0 EX_OK\r\n"

    if method in {"PROCESS", "HEADERS"}:
        body = add_headers(request.body, spam_headers(verdict, spam_cutoff, version))
        if method == "HEADERS":
            # Just the header block, up to and including the blank line (as spamd cuts it).
            blank = _BLANK_LINE.search(body)
            if blank:
                body = body[: blank.end()]
        if request.version >= 1.3:
            length = f"Content-length: {len(body)}\r\n".encode("ascii")
            return status + length + spam_line + b"\r\n\r\n" + body
        if request.version >= 1.2:
            return status + f"Content-length: {len(body)}\r\n\r\n".encode("ascii") + body
        return b"SPAMD/1.0 0 EX_OK\r\n" + body

    if method == "CHECK":
        return status + spam_line + b"\r\n\r\n"
    if method == "SYMBOLS":
        body = ",".join(symbols(verdict)).encode("ascii")
        if request.version < 1.3:
            body += b"\r\n"
    elif method == "REPORT" or verdict.is_spam:
        body = report(verdict, spam_cutoff).encode("ascii")
    else:  # REPORT_IFSPAM on mail that is not spam
        body = b""
    if request.version >= 1.3:
        length = f"Content-length: {len(body)}\r\n".encode("ascii")
        return status + length + spam_line + b"\r\n\r\n" + body
    return status + spam_line + b"\r\n\r\n" + body


def report(verdict: Verdict, spam_cutoff: float) -> str:
    """A report in the shape of SpamAssassin's: the verdict, then one line per reason with its
    contribution to the log-odds (SpamAssassin lists points per rule)."""
    score = format_score(spamd_score(verdict.score, spam_cutoff), verdict.is_spam)
    lines = [
        f"spamclf labels this message {verdict.label} "
        f"(spam probability {verdict.score:.4f}, spam from {spam_cutoff:g}).",
        *(
            [f"It has learned too few ham and spam in this writing system ({verdict.script})."]
            if verdict.unfamiliar
            else []
        ),
        "",
        f"Content analysis details:   ({score} points, {REQUIRED_SCORE:.1f} required)",
        "",
        " log-odds  feature",
        " --------  ----------------------------------------------------------",
    ]
    for reason in verdict.reasons:
        lines.append(f" {reason.contribution:+8.2f}  {header_text(reason.feature)}")
    origin = verdict.origin
    if origin.relay_ip:
        country = origin.relay_country or "country unknown"
        lines += ["", f"First external relay: {header_text(f'{origin.relay_ip} ({country})')}"]
    return "\n".join(lines) + "\n"


def tell_reply(did_set: bool) -> bytes:
    """The reply to TELL, byte for byte as spamd writes it (an empty line, then another)."""
    headers = b"DidSet: local\r\n" if did_set else b""
    return b"SPAMD/1.1 0 EX_OK\r\n" + headers + b"\r\n\r\n"


def ping_reply() -> bytes:
    return b"SPAMD/1.5 0 PONG\r\n"
