"""spamclf: tells spam from ham in real email, in any language, and says why.

>>> import spamclf
>>> verdict = spamclf.classify(b"Subject: hello\\n\\nSee you at lunch.")  # doctest: +SKIP
>>> verdict.label, verdict.score, verdict.reasons[:3], verdict.origin  # doctest: +SKIP
"""

from spamclf.api import classify, classify_many, default_model, train
from spamclf.errors import (
    CorpusError,
    InputError,
    ModelError,
    ModelIntegrityError,
    ModelVersionError,
    SeveralMessagesError,
    SpamclfError,
)
from spamclf.inputs import MessageHead
from spamclf.model import Model, ModelSettings
from spamclf.origin import Hop, Origin
from spamclf.parse import Limits
from spamclf.persist import load_model
from spamclf.verdict import Reason, Verdict

__version__ = "0.1.0"

__all__ = [
    "CorpusError",
    "Hop",
    "InputError",
    "Limits",
    "MessageHead",
    "Model",
    "ModelError",
    "ModelIntegrityError",
    "ModelSettings",
    "ModelVersionError",
    "Origin",
    "Reason",
    "SeveralMessagesError",
    "SpamclfError",
    "Verdict",
    "__version__",
    "classify",
    "classify_many",
    "default_model",
    "load_model",
    "train",
]
