"""The answer: a label, a calibrated spam probability, and the evidence behind it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from spamclf.origin import Origin
from spamclf.scripts import NO_SCRIPT

__all__ = ["Label", "Reason", "Verdict"]

Label = Literal["spam", "ham", "unsure"]


@dataclass(frozen=True)
class Reason:
    """One feature and how far it moved the verdict, in log-odds (positive means spammier)."""

    feature: str
    contribution: float


@dataclass(frozen=True)
class Verdict:
    """What spamclf says about one message.

    ``script`` is the writing system of its text (:mod:`spamclf.scripts`); ``unfamiliar``
    means the model has learned too few ham or spam messages in that writing system to trust
    its score, so the label is ``unsure`` whatever the score.
    """

    label: Label
    score: float
    reasons: tuple[Reason, ...]
    origin: Origin
    script: str = NO_SCRIPT
    unfamiliar: bool = False

    @property
    def is_spam(self) -> bool:
        return self.label == "spam"

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready dictionary (used by ``spamclf classify --json``)."""
        return {
            "label": self.label,
            "score": round(self.score, 6),
            "reasons": [
                {"feature": r.feature, "contribution": round(r.contribution, 4)}
                for r in self.reasons
            ],
            "origin": self.origin.as_dict(),
            "script": self.script,
            "unfamiliar": self.unfamiliar,
        }
