"""Whatever the caller holds (bytes, text, a path, an ``email.message.Message``) to raw bytes."""

from __future__ import annotations

import email.generator
import email.message
import email.policy
import io
import os
import stat
from pathlib import Path

from spamclf.errors import InputError

__all__ = ["MessageInput", "read_head", "to_bytes"]

MessageInput = bytes | bytearray | memoryview | str | os.PathLike | email.message.Message  # type: ignore[type-arg]


def to_bytes(message: MessageInput) -> bytes:
    """Return the raw bytes of ``message``.

    A ``str`` is a path when it is one line naming an existing file, and message text otherwise:
    a message always has a line break between its headers and body, a path never does.

    >>> to_bytes("Subject: hi\\n\\nbody")
    b'Subject: hi\\n\\nbody'
    """
    if isinstance(message, bytes):
        return message
    if isinstance(message, (bytearray, memoryview)):
        return bytes(message)
    if isinstance(message, email.message.Message):
        return _flatten(message)
    path = _as_path(message)
    if path is not None:
        return _read(path)
    if isinstance(message, str):
        return message.encode("utf-8", "surrogateescape")
    raise InputError(
        f"cannot classify a {type(message).__name__}: pass bytes, str, a path "
        "or an email.message.Message"
    )


def read_head(message: MessageInput, max_bytes: int) -> tuple[bytes, int]:
    """The first bytes of ``message`` (at least ``max_bytes`` of them when it has that many, not
    necessarily only those) and its full size in bytes.

    A file is read no further than ``max_bytes``, so a message of gigabytes on disk costs what
    its first megabyte costs; bytes already in memory are returned as they are.

    >>> read_head(b"Subject: hi\\n\\nbody", 4)
    (b'Subject: hi\\n\\nbody', 17)
    """
    if isinstance(message, (bytearray, memoryview)):
        view = memoryview(message).cast("B")
        return bytes(view[:max_bytes]), len(view)
    path = _as_path(message)
    if path is None:
        data = to_bytes(message)
        return data, len(data)
    try:
        with path.open("rb") as f:
            head = f.read(max_bytes)
            if len(head) < max_bytes:  # the whole file
                return head, len(head)
            info = os.fstat(f.fileno())
            # A regular file knows its size; for a pipe, one byte more says there is more.
            more = info.st_size if stat.S_ISREG(info.st_mode) else len(head) + len(f.read(1))
    except OSError as exc:
        raise InputError(f"cannot read message file {str(path)!r}: {exc.strerror}") from exc
    except ValueError as exc:  # a NUL in the name
        raise InputError(f"cannot read message file {str(path)!r}: {exc}") from exc
    return head, max(more, len(head))


def _as_path(message: MessageInput) -> Path | None:
    """``message`` as a path to read, when it names one (see :func:`to_bytes`)."""
    if isinstance(message, os.PathLike):
        return Path(message)
    if (
        isinstance(message, str)
        and "\n" not in message
        and 0 < len(message) < 4096
        and os.path.isfile(message)
    ):
        return Path(message)
    return None


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read message file {str(path)!r}: {exc.strerror}") from exc
    except ValueError as exc:  # a NUL in the name
        raise InputError(f"cannot read message file {str(path)!r}: {exc}") from exc


def _flatten(message: email.message.Message) -> bytes:
    buffer = io.BytesIO()
    try:
        email.generator.BytesGenerator(buffer, policy=email.policy.compat32).flatten(message)
    except (TypeError, ValueError, LookupError, UnicodeError) as exc:
        raise InputError(f"cannot serialize the email.message.Message: {exc}") from exc
    return buffer.getvalue()
