"""What mail systems read from a verdict: SpamAssassin-style scores and ``X-Spam-*`` headers.

Shared by ``spamclf filter`` and ``spamclf serve`` (the spamd protocol), so a message gets the
same headers whichever way it reaches spamclf.

**Score scale.** Mail systems configured for SpamAssassin compare a score with a required
score of 5.0 (Exim's ``$spam_score_int > 50``, Sieve rules on ``X-Spam-Score``, spamc's
``score/threshold``). spamclf's verdict is a probability ``p`` with a spam cutoff (0.99 by
default), so the probability is mapped piecewise linearly onto 0-10 with the cutoff at 5.0:

- ``p < cutoff``: ``score = 5 * p / cutoff`` (ham and unsure mail, 0.0 to 4.9);
- ``p >= cutoff``: ``score = 5 + 5 * (p - cutoff) / (1 - cutoff)`` (spam, 5.0 to 10.0).

The score is monotone in ``p``, ``score >= 5.0`` exactly when spamclf labels the message spam,
and the spam side keeps fine resolution (one tenth of a point is 0.0002 of probability at the
default cutoff) where a log-odds scale would crowd the spam into a few values near the top.

**Placement.** Added header fields go first in the header block (after an mbox ``From `` line if
there is one), in the message's own line ending, and no byte of the original changes. Header
fields already in the message, including forged ``X-Spam-*`` ones, stay where they are:
SpamAssassin deletes them, but deleting changes the message. Ours come first, so a rule that
reads the first occurrence sees spamclf's; docs/mta.md shows how to strip foreign ones at the
MTA instead. The one exception is a block spamclf itself added, first in the header block, to a
message that comes back to be filtered again (a forward between two servers that both run
spamclf): it is scored without that block and the new block replaces it, as SpamAssassin
replaces its own. Scored with it, the block's few hundred bytes counted towards the size clue,
and 2 of 3,000 trec06p spam went to unsure on a second pass.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from spamclf.verdict import Verdict

__all__ = [
    "REQUIRED_SCORE",
    "add_headers",
    "format_score",
    "header_text",
    "line_ending",
    "reasons_summary",
    "spam_headers",
    "spamd_score",
    "symbols",
    "without_added_headers",
]

REQUIRED_SCORE = 5.0
MAX_SCORE = 10.0
# A header line must stay under RFC 5322's 998 octets; the reasons line is cut well before.
MAX_REASONS_CHARS = 800
MAX_FEATURE_CHARS = 80

_NOT_PRINTABLE_ASCII = re.compile(r"[^\x20-\x7e]")
_NOT_SYMBOL = re.compile(r"[^\x21-\x7e]|,")
# The block spam_headers writes, exactly: these names in this order, one line each (header_text
# leaves no line break in a value), the status naming spamclf. A forged X-Spam-Flag elsewhere,
# or one block among other header lines, is the sender's and stays.
_ADDED_BLOCK = re.compile(
    rb"(?:X-Spam-Flag: (?:YES|NO)(\r?\n)X-Spam-Score: [^\r\n]*\1X-Spam-Level: \**\1"
    rb"X-Spam-Status: [^\r\n]* version=spamclf-[^\r\n]*\1X-Spamclf-Reasons: [^\r\n]*\1)+"
)


def spamd_score(probability: float, spam_cutoff: float) -> float:
    """A spam probability on SpamAssassin's scale, where ``REQUIRED_SCORE`` is the cutoff.

    >>> [round(spamd_score(p, 0.98), 6) for p in (0.49, 0.98, 0.99)]
    [2.5, 5.0, 7.5]
    """
    if probability < spam_cutoff:
        return REQUIRED_SCORE * probability / spam_cutoff
    if spam_cutoff >= 1.0:
        return MAX_SCORE
    span = MAX_SCORE - REQUIRED_SCORE
    return REQUIRED_SCORE + span * (probability - spam_cutoff) / (1.0 - spam_cutoff)


def format_score(score: float, is_spam: bool) -> str:
    """The score with one decimal, as spamd prints it: mail that is not spam never shows the
    required score (4.96 rounds to 5.0; spamd then prints 4.9, and so does this).

    >>> format_score(4.96, False), format_score(5.0, True), format_score(0.0, False)
    ('4.9', '5.0', '0.0')
    """
    text = f"{score:.1f}"
    if is_spam or float(text) < REQUIRED_SCORE:
        return text
    return f"{REQUIRED_SCORE - 0.1:.1f}"


def header_text(text: str, limit: int = MAX_FEATURE_CHARS) -> str:
    """``text`` as printable ASCII: anything else (line breaks, controls, non-ASCII) becomes an
    escape, so a hostile subject or file name can never start a new header line.

    >>> header_text("free\\r\\nX-Spam-Flag: NO 发票")
    'free\\\\x0d\\\\x0aX-Spam-Flag: NO \\\\u53d1\\\\u7968'
    """
    escaped = _NOT_PRINTABLE_ASCII.sub(_escape, text)
    return escaped if len(escaped) <= limit else escaped[: limit - 3] + "..."


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def symbols(verdict: Verdict, n_reasons: int = 8) -> list[str]:
    """spamd's "tests hit": ``SPAMCLF_SPAM``/``_HAM``/``_UNSURE``, then the reasons' features
    (escaped; commas and spaces become ``_``, since clients split the list on commas)."""
    names = [f"SPAMCLF_{verdict.label.upper()}"]
    if verdict.unfamiliar:
        names.append(f"SPAMCLF_UNFAMILIAR_SCRIPT_{verdict.script.upper()}")
    for reason in verdict.reasons[:n_reasons]:
        names.append(_NOT_SYMBOL.sub("_", header_text(reason.feature)))
    return names


def reasons_summary(verdict: Verdict, n_reasons: int = 5) -> str:
    """One line: the reasons that moved the verdict most, with their log-odds."""
    parts: list[str] = []
    length = 0
    for reason in verdict.reasons[:n_reasons]:
        part = f"{header_text(reason.feature)} ({reason.contribution:+.2f})"
        if length + len(part) + 2 > MAX_REASONS_CHARS:
            break
        parts.append(part)
        length += len(part) + 2
    return ", ".join(parts) or "none"


def spam_headers(verdict: Verdict, spam_cutoff: float, version: str) -> list[tuple[str, str]]:
    """The header fields spamclf adds to a message, as ``(name, value)`` pairs, in order."""
    score = spamd_score(verdict.score, spam_cutoff)
    shown = format_score(score, verdict.is_spam)
    status = (
        f"{'Yes' if verdict.is_spam else 'No'}, score={shown} required={REQUIRED_SCORE:.1f} "
        f"label={verdict.label} probability={verdict.score:.4f} version=spamclf-{version}"
    )
    if verdict.unfamiliar:  # why a high probability is not spam (spamclf/scripts.py)
        status += f" unfamiliar_script={verdict.script}"
    return [
        ("X-Spam-Flag", "YES" if verdict.is_spam else "NO"),
        ("X-Spam-Score", shown),
        # SpamAssassin's bar: one star per whole point, so Sieve and procmail can match "*****";
        # from the shown score, so mail that is not spam never gets five.
        ("X-Spam-Level", "*" * int(max(float(shown), 0.0))),
        ("X-Spam-Status", status),
        ("X-Spamclf-Reasons", reasons_summary(verdict)),
    ]


def line_ending(raw: bytes) -> bytes:
    """The message's own line ending: CRLF when its first line ends in CRLF, else LF.

    >>> line_ending(b"Subject: a\\r\\n\\r\\nbody"), line_ending(b"Subject: a\\n"), line_ending(b"")
    (b'\\r\\n', b'\\n', b'\\n')
    """
    end = raw.find(b"\n")
    return b"\r\n" if end > 0 and raw[end - 1 : end] == b"\r" else b"\n"


def without_added_headers(raw: bytes) -> bytes:
    """``raw`` without the block of header fields spamclf added to it before, if that block
    opens its header block (after an mbox ``From `` line); otherwise ``raw`` itself.

    >>> status = "No, score=0.1 required=5.0 label=ham probability=0.0100 version=spamclf-1.0"
    >>> fields = [("X-Spam-Flag", "NO"), ("X-Spam-Score", "0.1"), ("X-Spam-Level", ""),
    ...           ("X-Spam-Status", status), ("X-Spamclf-Reasons", "none")]
    >>> without_added_headers(add_headers(b"Subject: hi\\n\\nbody", fields))
    b'Subject: hi\\n\\nbody'
    """
    start = _header_start(raw)
    block = _ADDED_BLOCK.match(raw, start)
    return raw[:start] + raw[block.end() :] if block else raw


def add_headers(raw: bytes, fields: Sequence[tuple[str, str]]) -> bytes:
    """``raw`` with ``fields`` inserted first in its header block; the original bytes follow
    untouched, so removing the added lines gives back ``raw`` exactly.

    >>> add_headers(b"Subject: hi\\r\\n\\r\\nbody", [("X-Spam-Flag", "NO")])
    b'X-Spam-Flag: NO\\r\\nSubject: hi\\r\\n\\r\\nbody'
    """
    start = _header_start(raw)
    eol = line_ending(raw[start:])
    block = b"".join(
        f"{name}: {header_text(value, limit=MAX_REASONS_CHARS + 100)}".encode("ascii") + eol
        for name, value in fields
    )
    return raw[:start] + block + raw[start:]


def _header_start(raw: bytes) -> int:
    """Where the header block starts: an mbox envelope line ("From sender date"), as procmail
    passes it, must stay first. The headers after it say the message's line ending (procmail
    writes the envelope line LF)."""
    end = raw.find(b"\n")
    return end + 1 if raw.startswith(b"From ") and end >= 0 else 0
