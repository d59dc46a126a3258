"""Message files as mail stores and tools keep them, when that is not the message's own bytes.

Dovecot's zlib plugin compresses Maildir files (and reads compressed mbox files) with gzip,
bzip2 or xz, and tells them by their first bytes, whatever the file's name. Read as they are,
their bytes are junk, and a model gives junk a confident verdict: a corpus of them trains on
noise with no word. So those three are read through their decompressor (the standard library
has all three). Formats that hold no message spamclf can read as it is, zstd or lz4 (which
newer Dovecot also writes), an Outlook ``.msg`` (an OLE2 compound file), an archive (ZIP,
7-Zip, RAR) or a PDF, raise :class:`InputError` saying what the file is. No message file
starts with any of these bytes: a message starts with a header line; none of the 142,226
corpus files does.

A message saved as UTF-16 text (Windows Notepad's "Unicode", PowerShell 5's ``Out-File``) opens
with a byte-order mark and has a zero byte beside every ASCII letter, so its headers are lost:
read as bytes, the whole file is one body (no sender, no ``Received:`` chain). It is read as
the text it is and handed on as UTF-8, where a header line follows the mark.
"""

from __future__ import annotations

import bz2
import codecs
import gzip
import io
import lzma
import re
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from spamclf.charsets import UTF16_MARKS
from spamclf.errors import InputError
from spamclf.parse import FIELD_NAME_CHAR

__all__ = [
    "DECOMPRESSION_ERRORS",
    "MAX_COUNTED_BYTES",
    "Reader",
    "is_stored",
    "open_stored",
    "read_stored",
]

Reader = BinaryIO | io.BufferedIOBase | codecs.StreamRecoder  # a file, or a reader of one

# Each decompressor's signature (gzip's deflate method byte, bzip2's block size digit, the xz
# stream header) and its reader.
_DECOMPRESSED: tuple[tuple[re.Pattern[bytes], Callable[[BinaryIO], Reader]], ...] = (
    (re.compile(rb"\x1f\x8b\x08"), lambda handle: gzip.GzipFile(fileobj=handle, mode="rb")),
    (re.compile(rb"BZh[1-9]"), bz2.BZ2File),
    (re.compile(rb"\xfd7zXZ\x00"), lzma.LZMAFile),
)
_REFUSED = (
    (b"\x28\xb5\x2f\xfd", "it is compressed with zstd: decompress it first (zstd -d)"),
    (b"\x04\x22\x4d\x18", "it is compressed with lz4: decompress it first (lz4 -d)"),
    (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        "it is an Outlook .msg file (OLE2), not an RFC 822 message: save it as .eml",
    ),
    (b"PK\x03\x04", "it is a ZIP archive: unpack it first"),
    (b"7z\xbc\xaf\x27\x1c", "it is a 7-Zip archive: unpack it first"),
    (b"Rar!\x1a\x07", "it is a RAR archive: unpack it first"),
    (b"%PDF-", "it is a PDF document, not an RFC 822 message"),
)
_REFUSED_MAGIC = tuple(magic for magic, _ in _REFUSED)
_PREFIXES = _REFUSED_MAGIC + UTF16_MARKS  # joined once: is_stored runs on every message
# What a message's text opens with: a header line (or an mbox "From " line), maybe after blank
# lines.
_MESSAGE_START = re.compile(r"\s*(?:" + FIELD_NAME_CHAR.decode() + r"+:|From )")
# Every signature's first byte: most messages are told apart by their first byte alone.
_FIRST_BYTES = b"\x1fB\xfd\x28\x04\xd0\xff\xfeP7R%"
# Counting a compressed message's size decompresses it to the end, but no further than this, so
# that neither a decompression bomb nor a huge message costs more than about half a second: 24 MB
# of words in bzip2, the slowest of the three, took 0.45 s (counting to 64 MB took 1.75 s from
# bzip2, 0.89 s from xz, 0.28 s from gzip). A larger message counts as this large: its size
# clue (a power of two) hardly tells them apart, and Dovecot's file names give the exact size.
MAX_COUNTED_BYTES = 16 << 20
DECOMPRESSION_ERRORS = (OSError, EOFError, zlib.error, lzma.LZMAError)
# Dovecot names the uncompressed size in a Maildir file's name, which compressed files must keep.
_MAILDIR_SIZE = re.compile(r",S=(\d+)")


def is_stored(start: bytes | memoryview) -> bool:
    """Whether a file starting with ``start`` (its first 16 bytes) may be compressed, refused
    or UTF-16 text (:func:`read_stored` tells)."""
    start = bytes(start)
    return start[:1] in _FIRST_BYTES and (
        start.startswith(_PREFIXES) or any(s.match(start) for s, _ in _DECOMPRESSED)
    )


def open_stored(handle: BinaryIO) -> Reader:
    """``handle``, or a reader of the message compressed in it (its position unchanged either
    way); :class:`InputError` for a format that holds no message as it is."""
    start = _peek(handle, 256)
    for signature, reader in _DECOMPRESSED:
        if signature.match(start):
            return reader(handle)
    for magic, why in _REFUSED:
        if start.startswith(magic):
            raise InputError(f"not a message as it is: {why}")
    if start.startswith(UTF16_MARKS) and _MESSAGE_START.match(start.decode("utf-16", "replace")):
        return codecs.EncodedFile(handle, "utf-8", "utf-16", "replace")
    return handle


def read_stored(
    handle: BinaryIO, max_bytes: int, path: Path | None = None
) -> tuple[bytes, int] | None:
    """The first ``max_bytes`` of the message compressed (or in UTF-16) in ``handle``, and
    its size as a message; None when ``handle`` holds a message as it is. ``path`` names a
    Maildir file, whose name may give the size.

    >>> import io
    >>> read_stored(io.BytesIO(gzip.compress(b"Subject: hi\\n\\nbody")), 4)
    (b'Subj', 17)
    """
    reader = open_stored(handle)
    if reader is handle:
        return None
    try:
        head = b""  # one byte over max_bytes says there is more (a recoder reads unevenly)
        while len(head) <= max_bytes and (chunk := reader.read(max_bytes + 1 - len(head))):
            head += chunk
        size = len(head)
        if size > max_bytes:
            size = _named_size(path, size) or _counted(reader, size)
    except DECOMPRESSION_ERRORS as exc:
        raise InputError(f"cannot decompress it: {exc}") from exc
    return head[:max_bytes], size


def _peek(handle: BinaryIO, size: int) -> bytes:
    """Up to ``size`` first bytes of ``handle``, left unread (a pipe cannot seek back; a
    buffer peeks, and gives what it holds)."""
    peek = getattr(handle, "peek", None)
    if peek is not None:
        return bytes(peek(size)[:size])
    position = handle.tell()
    start = handle.read(size)
    handle.seek(position)
    return start


def _named_size(path: Path | None, at_least: int) -> int | None:
    """The size a Maildir file's name gives (``,S=4567``), when it is plausible."""
    named = _MAILDIR_SIZE.search(path.name) if path is not None else None
    return int(named.group(1)) if named and int(named.group(1)) >= at_least else None


def _counted(reader: Reader, size: int) -> int:
    """``size`` plus what is left in ``reader``, counted up to :data:`MAX_COUNTED_BYTES`."""
    while size < MAX_COUNTED_BYTES and (chunk := reader.read(1 << 20)):
        size += len(chunk)
    return min(size, MAX_COUNTED_BYTES)
