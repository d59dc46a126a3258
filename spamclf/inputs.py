"""Whatever the caller holds (bytes, text, a path, an ``email.message.Message``) to raw bytes."""

from __future__ import annotations

import contextlib
import email.generator
import email.message
import email.policy
import io
import os
import re
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from spamclf.corpora import (
    MBOX_SCAN_BYTES,
    MessageHead,
    drain_holds_several_messages,
    file_holds_several_messages,
    holds_several_messages,
)
from spamclf.errors import InputError, SeveralMessagesError
from spamclf.parse import FIELD_NAME_CHAR
from spamclf.stored import (
    DECOMPRESSION_ERRORS,
    MAX_COUNTED_BYTES,
    Reader,
    is_stored,
    open_stored,
    read_stored,
)

__all__ = [
    "MessageHead",
    "MessageInput",
    "each_message",
    "read_head",
    "read_heads",
    "read_stream",
    "to_bytes",
]

# MessageHead (defined beside the mbox reader that gives it, which this module imports) is the
# first bytes of a message with its size: a message that was never held whole.
MessageInput = (
    bytes | bytearray | memoryview | str | os.PathLike | email.message.Message | MessageHead  # type: ignore[type-arg]
)

# A header field's start ("Subject:", "X-Mailer:"), but not a Windows drive (C:\mail).
_HEADER_START = re.compile(FIELD_NAME_CHAR.decode() + r"+:(?![\\/])")
_SEPARATORS = {"/", os.sep, os.altsep or "/"}


def to_bytes(message: MessageInput) -> bytes:
    """Return the raw bytes of ``message``.

    A ``str`` is a path when it is one line (a line break at its end aside) naming an existing
    file or folder (which raises :class:`InputError`: a folder is no message), and message text
    otherwise: a message always has a line break between its headers and body, a path never
    does. A one-line ``str`` that has the form of a path (a folder separator
    and no white space, or a name ending in ``.eml``, and no header field or URL) but names no
    file raises :class:`InputError`: it is a mistyped or vanished path far more often than a
    message, and scoring its name would give a verdict on the wrong text. Pass such text as
    ``bytes``.

    A :class:`MessageHead` gives its head: all that was kept of its message.

    >>> to_bytes("Subject: hi\\n\\nbody")
    b'Subject: hi\\n\\nbody'
    """
    path = _as_path(message)
    return _content(message) if path is None else _read(path)


def read_head(message: MessageInput, max_bytes: int) -> tuple[bytes, int]:
    """The first bytes of ``message`` (at least ``max_bytes`` of them when it has that many, not
    necessarily only those) and its full size in bytes.

    A file is read no further than ``max_bytes``, so a message of gigabytes on disk costs what
    its first megabyte costs (a pipe, which cannot tell its size, is read on to count it, as
    far as :data:`~spamclf.corpora.MBOX_SCAN_BYTES`, and not kept); bytes already in memory
    are returned as they are, and so are the head and size of a :class:`MessageHead`. A
    message compressed as mail stores keep it (gzip, bzip2, xz) is read through its
    decompressor, and its size is the uncompressed size (see :mod:`spamclf.stored`). An mbox
    file of several messages raises :class:`SeveralMessagesError`: one verdict for a mailbox
    would be a verdict on its first messages run together. To tell, a file longer than
    ``max_bytes`` that opens with an mbox ``From`` line is searched on for a second one, as
    far as :data:`~spamclf.corpora.MBOX_SCAN_BYTES` (0.03 s for 64 MiB), in bounded memory.

    >>> read_head(b"Subject: hi\\n\\nbody", 4)
    (b'Subject: hi\\n\\nbody', 17)
    """
    head, size = _head_and_size(message, max_bytes)
    if head.startswith(b"From ") and _several_messages(message, head, size):
        raise _several_messages_error(message)
    return head, size


def _several_messages_error(message: MessageInput) -> SeveralMessagesError:
    path = _as_path(message) if isinstance(message, (str, os.PathLike)) else None
    what = "the message" if path is None else f"message file {str(path)!r}"
    return SeveralMessagesError(
        f"{what} is an mbox file of several messages: read its messages one by one "
        "(spamclf.corpora.mbox_messages; spamclf classify FILE does; to train on them, "
        "name it as a corpus of its own, spam:FILE or ham:FILE)"
    )


def _several_messages(message: MessageInput, head: bytes, size: int) -> bool:
    """Whether ``message``, whose first bytes are ``head``, is an mbox file of several messages.

    Where ``head`` is not the whole of a regular file (its first message may be a megabyte of
    attachment), the file is searched on, as far as :data:`~spamclf.corpora.MBOX_SCAN_BYTES`.
    A pipe cannot be read again: what it held past ``head`` is gone.
    """
    if holds_several_messages(head[:MBOX_SCAN_BYTES]):
        return True
    if size <= len(head) or not isinstance(message, (str, os.PathLike)):
        return False
    path = _as_path(message)
    if path is None:
        return False
    with _reading(path):
        if not stat.S_ISREG(os.stat(path).st_mode):
            return False
        try:
            return file_holds_several_messages(path)
        except DECOMPRESSION_ERRORS as exc:  # read through once already: it changed since
            raise InputError(f"cannot decompress it: {exc}") from exc


def _head_and_size(message: MessageInput, max_bytes: int) -> tuple[bytes, int]:
    """:func:`read_head` but for the mbox check."""
    if isinstance(message, MessageHead):
        return _given_head(message, max_bytes)
    if isinstance(message, memoryview) and not message.c_contiguous:
        message = bytes(message)  # a strided view (view[::2]) cannot be cast to bytes in place
    if isinstance(message, (bytearray, memoryview)):
        view = memoryview(message).cast("B")
        if not is_stored(view[:16]):
            return bytes(view[:max_bytes]), len(view)
        message = bytes(view)
    path = _as_path(message)
    if path is None:
        data = _content(message)
        if is_stored(data[:16]):
            return read_stored(io.BytesIO(data), max_bytes) or (data, len(data))
        return data, len(data)
    with _reading(path), path.open("rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            # A pipe (spamclf classify <(zcat m.eml.gz)) is read as standard input is. No
            # further than MBOX_SCAN_BYTES, so that a device (/dev/zero) ends.
            head, size, several = read_stream(f, max_bytes, MBOX_SCAN_BYTES)
        else:
            stored = read_stored(f, max_bytes, path)
            if stored is not None:
                return stored
            head = f.read(max_bytes)
            if len(head) < max_bytes:  # the whole file
                return head, len(head)
            return head, max(info.st_size, len(head))  # a regular file knows its size
    if several:  # raised here: _reading would make it a plain InputError
        raise _several_messages_error(message)
    return head, size


def read_stream(
    stream: BinaryIO, max_bytes: int, limit: int | None = None
) -> tuple[bytes, int, bool]:
    """The first ``max_bytes`` of the message in ``stream``, which cannot be read again
    (standard input, a pipe), its size, and whether it is an mbox of several messages.

    The stream is read to its end, or to ``limit`` bytes, keeping none of the rest (a writer
    left a closed pipe fails), and searched as it goes for a second mbox message, as far as a
    file is searched (:func:`read_head`): a first message longer than the head (an attachment)
    hid the messages after it, and a mailbox got one verdict. A compressed message is read
    through, counted and searched as a compressed file is (to
    :data:`~spamclf.stored.MAX_COUNTED_BYTES`); only its head was searched, so a compressed
    mbox on standard input was one message when the same file named was several. Without a
    ``limit``, what the decompressor leaves of the stream is read to its end too.
    """
    try:
        reader = open_stored(stream)
    except InputError:
        if limit is None:
            _drained(stream)
        raise
    if reader is stream:
        return _read_on(stream, max_bytes, limit)
    try:
        return _read_on(reader, max_bytes, MAX_COUNTED_BYTES)
    except DECOMPRESSION_ERRORS as exc:
        raise InputError(f"cannot decompress it: {exc}") from exc
    finally:
        if limit is None:
            _drained(stream)


def _read_on(reader: Reader, max_bytes: int, limit: int | None) -> tuple[bytes, int, bool]:
    """:func:`read_stream` of a ``reader`` of the message itself."""
    head = b""  # a decompressor or recoder may give less than asked before its end
    while len(head) < max_bytes and (chunk := reader.read(max_bytes - len(head))):
        head += chunk
    several, rest = drain_holds_several_messages(head, reader.read, limit)
    return head, len(head) + rest, several


def _drained(stream: BinaryIO) -> None:
    """Read ``stream`` to its end."""
    while stream.read(1 << 20):
        pass


def _given_head(message: MessageHead, max_bytes: int) -> tuple[bytes, int]:
    """The head and size of a :class:`MessageHead`, checked: a whole message (its head as long
    as its size) reads as its bytes do; of a message cut short, the head must be plain message
    bytes, since a compressed message cannot be read from its first bytes alone."""
    head, size = message
    if not isinstance(head, bytes) or not isinstance(size, int) or size < len(head):
        raise InputError(
            "a MessageHead holds bytes and the size of the whole message, at least as large, "
            f"not {type(head).__name__} and {size!r}"
        )
    if size == len(head):
        return _head_and_size(head, max_bytes)
    handle = io.BytesIO(head)
    # open_stored raises for a format that holds no message, saying what it is.
    if is_stored(head[:16]) and open_stored(handle) is not handle:
        raise InputError(
            "the MessageHead holds the first bytes of a compressed or UTF-16 message: "
            "give the message whole, or its decompressed first bytes"
        )
    return head, size


def each_message(messages: Iterable[MessageInput]) -> Iterator[MessageInput]:
    """An iterator over ``messages``; :class:`InputError` if it is one message or no iterable.

    A str, bytes or ``email.message.Message`` is iterable too, and would be read as one message
    per character, byte or header name.
    """
    if isinstance(
        messages, (str, bytes, bytearray, memoryview, email.message.Message, MessageHead)
    ):
        raise InputError("pass an iterable of messages; for one message, use classify()")
    try:
        return iter(messages)
    except TypeError as exc:
        raise InputError(f"pass an iterable of messages, not a {type(messages).__name__}") from exc


def read_heads(messages: Iterable[MessageInput], max_bytes: int) -> Iterator[tuple[bytes, int]]:
    """Each message's first ``max_bytes`` (all that a model reads, so no more is held or sent
    to a worker) and its full size, lazily; one that cannot be read raises
    :class:`InputError` with its position in ``messages``."""
    for index, message in enumerate(each_message(messages)):
        try:
            head, size = read_head(message, max_bytes)
        except InputError as exc:
            raise InputError(f"message {index}: {exc}") from exc
        yield head[:max_bytes], size


def _as_path(message: MessageInput) -> Path | None:
    """``message`` as a path to read, when it names one (see :func:`to_bytes`)."""
    if isinstance(message, os.PathLike):
        try:
            return Path(os.fsdecode(message))  # a PathLike may give bytes
        except TypeError as exc:  # its __fspath__ gave neither str nor bytes
            raise InputError(f"cannot read message file: {exc}") from exc
    # Length first: a message of megabytes is not copied or scanned to learn it is no path.
    if not isinstance(message, str) or not 0 < len(message) < 4098:
        return None
    # A line read from a list of paths keeps its line break: it is still that one path.
    line = message.removesuffix("\n").removesuffix("\r")
    if "\n" in line or not 0 < len(line) < 4096:
        return None
    if os.path.exists(line):  # a folder too: read, it fails with "Is a directory"
        return Path(line)
    if _looks_like_path(line):
        # Read it anyway: the read fails and says why (no such file, a folder, no permission).
        return Path(line)
    return None


def _content(message: MessageInput) -> bytes:
    """The bytes of a ``message`` that is not a path (see :func:`_as_path`)."""
    if isinstance(message, bytes):
        return message
    if isinstance(message, MessageHead):  # all that was kept of it
        return bytes(message.head)
    if isinstance(message, (bytearray, memoryview)):
        return bytes(message)
    if isinstance(message, email.message.Message):
        return _flatten(message)
    if isinstance(message, str):
        return _utf8(message)
    raise InputError(
        f"cannot classify a {type(message).__name__}: pass bytes, str, a path "
        "or an email.message.Message"
    )


def _looks_like_path(text: str) -> bool:
    """Whether one line of text has the form of a file path rather than of a message."""
    if "://" in text or _HEADER_START.match(text):
        return False
    has_folder = any(sep in text for sep in _SEPARATORS) and not any(c.isspace() for c in text)
    return has_folder or text.lower().endswith(".eml")


def _read(path: Path) -> bytes:
    with _reading(path):
        return path.read_bytes()


@contextlib.contextmanager
def _reading(path: Path) -> Iterator[None]:
    """Turn the errors of reading the message file ``path`` into :class:`InputError`."""
    try:
        yield
    except OSError as exc:
        raise InputError(f"cannot read message file {str(path)!r}: {exc.strerror}") from exc
    except InputError as exc:  # the file holds no message as it is (spamclf.stored)
        raise InputError(f"cannot read message file {str(path)!r}: {exc}") from exc
    except ValueError as exc:  # a NUL in the name
        raise InputError(f"cannot read message file {str(path)!r}: {exc}") from exc


def _utf8(text: str) -> bytes:
    """``text`` as bytes: the bytes a parser turned into surrogates (``surrogateescape``) as they
    were, any other lone surrogate, which stands for no byte, as "?"."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace")


# What the stdlib generator raises on a Message tree it cannot write: a payload of the wrong
# type (an int, a str among the parts of a multipart) fails inside it as an AttributeError.
_UNWRITABLE = (TypeError, ValueError, LookupError, AttributeError)


def _flatten(message: email.message.Message) -> bytes:
    buffer = io.BytesIO()
    try:
        email.generator.BytesGenerator(buffer, policy=email.policy.compat32).flatten(message)
        return buffer.getvalue()
    except UnicodeError:
        pass  # non-ASCII text, as email.message_from_string() leaves it: written below
    except _UNWRITABLE as exc:
        raise InputError(f"cannot serialize the email.message.Message: {exc}") from exc
    # A Message parsed from text holds text that BytesGenerator will not encode; written as
    # text, it is read as a str message is (UTF-8).
    text = io.StringIO()
    try:
        generator = email.generator.Generator(
            text, mangle_from_=False, policy=email.policy.compat32
        )
        generator.flatten(message)
    except (*_UNWRITABLE, UnicodeError) as exc:
        raise InputError(f"cannot serialize the email.message.Message: {exc}") from exc
    return _utf8(text.getvalue())
