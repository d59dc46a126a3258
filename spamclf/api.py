"""The public entry points; the only module that wires the stages together."""

from __future__ import annotations

import math
import numbers
import os
import threading
import time
from collections.abc import Iterable, Iterator, Sequence, Sized
from datetime import datetime, timezone
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from spamclf.corpora import normalize_label
from spamclf.errors import InputError, ModelError
from spamclf.inputs import MessageInput, each_message
from spamclf.model import DEFAULT_C, Model, ModelSettings, check_jobs, check_settings
from spamclf.persist import load_model
from spamclf.verdict import Verdict

__all__ = ["DEFAULT_MODEL_NAME", "classify", "classify_many", "default_model", "train"]

DEFAULT_MODEL_NAME = "default.spamclf"


def classify(message: MessageInput, model: Model | None = None) -> Verdict:
    """Classify one message with ``model`` (the bundled default model if ``None``).

    ``message`` is raw ``bytes``, message text, a path to a message file or an
    ``email.message.Message``.
    """
    return _model(model).classify(message)


def classify_many(
    messages: Iterable[MessageInput], model: Model | None = None, *, n_jobs: int = 1
) -> Iterator[Verdict]:
    """Classify messages lazily, in order; ``n_jobs`` processes (-1: one per core)."""
    return _model(model).classify_many(messages, n_jobs=n_jobs)


def _model(model: object) -> Model:
    """``model``, or the bundled one for None; :class:`InputError` for anything else (a path
    given as the model, or ``n_jobs`` given where the model goes)."""
    if model is None:
        return default_model()
    if not isinstance(model, Model):
        raise InputError(
            f"model must be a spamclf.Model (load one with spamclf.load_model(PATH)), "
            f"got {type(model).__name__}"
        )
    return model


def train(
    messages: Sequence[MessageInput] | Iterable[MessageInput],
    labels: Sequence[object] | Iterable[object],
    *,
    C: float = DEFAULT_C,
    settings: ModelSettings | None = None,
    n_jobs: int = 1,
    progress: bool = False,
    description: str = "",
    groups: Sequence[object] | Iterable[object] | None = None,
) -> Model:
    """Train a new model on labelled messages (labels ``"spam"``/``"ham"`` or 1/0).

    ``messages`` may be any iterable, such as a generator that reads files: it is read once,
    in order, and no message is kept once its features are taken.
    ``C`` is the SVM's inverse regularization (see :data:`spamclf.model.DEFAULT_C`).
    ``groups`` (one per message, e.g. the corpus it came from) makes every group weigh the
    same; ``n_jobs`` parses in that many processes; ``progress`` shows a progress bar.
    """
    from spamclf.pipeline import fit_model, model_matrix

    C = check_c(C)  # checked now, not after an hour of reading the corpus
    check_jobs(n_jobs)
    if settings is not None:
        check_settings(settings)
    settings = settings or ModelSettings()
    # The labels are held; the messages are read once, in order, each turned into its row as
    # it comes, so a stream of large messages (an mbox, files read on demand) is never held
    # in memory whole.
    stream = each_message(messages)
    if isinstance(labels, (str, bytes)) or not isinstance(labels, Iterable):
        raise InputError(f"labels must be a sequence of labels, got {type(labels).__name__}")
    y = np.array([normalize_label(label) == "spam" for label in labels], dtype=np.int8)
    if isinstance(messages, Sized) and len(messages) != len(y):
        raise InputError(f"{len(messages)} messages but {len(y)} labels")
    if groups is not None:
        # Any iterable, as messages and labels may be: len() of a generator was a TypeError.
        if isinstance(groups, (str, bytes)) or not isinstance(groups, Iterable):
            raise InputError(f"groups must be a sequence of groups, got {type(groups).__name__}")
        groups = list(groups)
        if len(groups) != len(y):
            raise InputError(f"{len(y)} labels but {len(groups)} groups")
    n_spam = int(y.sum())
    if min(n_spam, len(y) - n_spam) < 3:
        raise InputError(
            f"need at least 3 spam and 3 ham to train, got {n_spam} and {len(y) - n_spam}"
        )
    bar = _progress_bar(len(y)) if progress else None
    start = time.perf_counter()
    try:
        X, scripts = model_matrix(
            stream, settings, n_jobs=n_jobs, progress=bar.update if bar else None
        )
    finally:  # also when a message cannot be read: the error then starts a line of its own
        if bar:
            bar.close()
    if X.shape[0] != len(y):
        raise InputError(f"{X.shape[0]} messages but {len(y)} labels")
    card = training_card(description, y, C)
    model = fit_model(X, y, C=C, settings=settings, card=card, groups=groups, scripts=scripts)
    if groups is not None:
        model.card["training"]["balanced_groups"] = sorted({str(g) for g in groups})
    model.card["training"]["seconds"] = round(time.perf_counter() - start, 1)
    return model


def check_c(C: object) -> float:
    """The SVM's ``C`` as a Python float; :class:`InputError` unless it is a positive number.

    A NumPy number (``np.arange(1, 4)`` in a grid search) passed every check before, trained,
    and then made ``model.save()`` fail: the card is JSON, and JSON writes no ``np.int64``.
    """
    if isinstance(C, bool) or not isinstance(C, numbers.Real) or not 0.0 < float(C) < math.inf:
        raise InputError(f"C must be a positive number, got {C!r}")
    return float(C)


def training_card(description: str, y: np.ndarray, C: float) -> dict[str, Any]:
    """The card entries that describe how a model was trained."""
    n_spam = int(y.sum())
    return {
        "trained_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "training": {
            "description": description,
            "messages": len(y),
            "spam": n_spam,
            "ham": len(y) - n_spam,
        },
        "classifier": {"kind": "LinearSVC + Platt sigmoid (3 shuffled folds)", "C": C},
    }


def default_model_path() -> Path:
    """Where the bundled model lies: inside the installed package, or ``models/`` in a checkout."""
    packaged = resources.files("spamclf").joinpath("models", DEFAULT_MODEL_NAME)
    if packaged.is_file():
        return Path(str(packaged))
    return Path(__file__).resolve().parent.parent / "models" / DEFAULT_MODEL_NAME


def default_model() -> Model:
    """The bundled default model, loaded once on first use.

    ``SPAMCLF_MODEL`` names another model file to use instead.
    """
    # One caller loads it and any others wait for that model. With functools.cache alone,
    # threads that asked at once (a server's first requests) each loaded a copy: of 4, 3 then
    # held a model that was not the default one, and what they learned was lost.
    with _DEFAULT_MODEL_LOCK:
        return _load_default_model()


_DEFAULT_MODEL_LOCK = threading.Lock()


def _unlock_default_model_in_child() -> None:
    # A child forked while another thread loaded the model has the lock held, and no thread to
    # release it: its first default_model() would wait forever. It loads the model itself.
    global _DEFAULT_MODEL_LOCK
    _DEFAULT_MODEL_LOCK = threading.Lock()


if hasattr(os, "register_at_fork"):  # not on Windows, which does not fork
    os.register_at_fork(after_in_child=_unlock_default_model_in_child)


@cache
def _load_default_model() -> Model:
    chosen = os.environ.get("SPAMCLF_MODEL")
    path = Path(chosen or default_model_path())
    if not path.is_file():
        if chosen:  # the user's own file: rebuilding the bundled one would not help
            raise ModelError(f"SPAMCLF_MODEL names no model file: {chosen!r}")
        raise ModelError(
            f"the default model is missing at {str(path)!r}; rebuild it with "
            "`python benchmarks/build_default_model.py` or pass model=load_model(PATH)"
        )
    return load_model(path)


def _progress_bar(total: int):  # type: ignore[no-untyped-def]
    from tqdm import tqdm

    return tqdm(total=total, unit="msg", desc="features", mininterval=1.0)
