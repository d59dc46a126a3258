"""Whatever the caller holds (bytes, text, a path, an ``email.message.Message``) to raw bytes."""

from __future__ import annotations

import email.generator
import email.message
import email.policy
import io
import os
from pathlib import Path

from spamclf.errors import InputError

__all__ = ["MessageInput", "to_bytes"]

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
    if isinstance(message, str):
        if "\n" not in message and 0 < len(message) < 4096 and os.path.isfile(message):
            return _read(Path(message))
        return message.encode("utf-8", "surrogateescape")
    if isinstance(message, os.PathLike):
        return _read(Path(message))
    raise InputError(
        f"cannot classify a {type(message).__name__}: pass bytes, str, a path "
        "or an email.message.Message"
    )


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read message file {str(path)!r}: {exc.strerror}") from exc


def _flatten(message: email.message.Message) -> bytes:
    buffer = io.BytesIO()
    try:
        email.generator.BytesGenerator(buffer, policy=email.policy.compat32).flatten(message)
    except (TypeError, ValueError, LookupError, UnicodeError) as exc:
        raise InputError(f"cannot serialize the email.message.Message: {exc}") from exc
    return buffer.getvalue()
