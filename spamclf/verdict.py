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

    The explanation adds up: ``log_odds`` (whose logistic function is ``score``) is
    ``baseline``, the log-odds of a message without any feature, plus the contribution of every
    feature of the message. ``reasons`` are the largest of those contributions; the others are
    small, but a long message has thousands of them.
    """

    label: Label
    score: float
    reasons: tuple[Reason, ...]
    origin: Origin
    script: str = NO_SCRIPT
    unfamiliar: bool = False
    log_odds: float = 0.0
    baseline: float = 0.0

    @property
    def is_spam(self) -> bool:
        return self.label == "spam"

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready dictionary (used by ``spamclf classify --json``).

        The score is given whole: rounded, 0.9899996 read 0.99, at the spam cutoff, beside the
        label ``unsure``, and a program comparing it with the cutoff disagreed with the label.
        """
        return {
            "label": self.label,
            "score": self.score,
            "reasons": [
                {"feature": r.feature, "contribution": round(r.contribution, 4)}
                for r in self.reasons
            ],
            "origin": self.origin.as_dict(),
            "script": self.script,
            "unfamiliar": self.unfamiliar,
            "log_odds": round(self.log_odds, 4),
            "baseline": round(self.baseline, 4),
        }
