"""The one exception hierarchy of spamclf.

Every error a caller can see derives from :class:`SpamclfError`, so an application that feeds
hostile mail through spamclf needs a single ``except`` clause.
"""

from __future__ import annotations

__all__ = [
    "CorpusError",
    "InputError",
    "ModelError",
    "ModelIntegrityError",
    "ModelVersionError",
    "SeveralMessagesError",
    "SpamclfError",
]


class SpamclfError(Exception):
    """Base class of every error raised by spamclf."""


class InputError(SpamclfError, ValueError):
    """A message argument of the wrong type, or a path that cannot be read."""


class SeveralMessagesError(InputError):
    """What was passed as one message is an mbox file of several: score them one by one
    (:func:`spamclf.corpora.mbox_messages`; ``spamclf classify FILE`` does)."""


class CorpusError(SpamclfError):
    """A corpus cannot be read, or holds a label that is neither spam nor ham."""


class ModelError(SpamclfError):
    """A model file is missing, unreadable, or not a spamclf model."""


class ModelIntegrityError(ModelError):
    """A model file does not match the checksum in its card: it was altered or truncated."""


class ModelVersionError(ModelError):
    """A model was saved by an incompatible version of spamclf or with another feature schema."""
