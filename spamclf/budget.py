"""The clock of a message's time budget (``Limits.max_seconds``), which stops for one-time loads.

jieba's dictionary (0.11 s), the token patterns (0.03 s) and the NFKC table (0.01 s) load on
first use, inside the first message that needs them. Counted against that message's budget,
they made its verdict depend on whether it came first: on a loaded machine the loads took over
the whole second, and the message was scored without its words (``limit:time``), as happened to
a classify_bag worker's first messages in the test suite. Loaders wrapped in :func:`load_once`
stop the clock while they run, in every thread (a load is rare and short).
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

__all__ = ["clock", "load_once"]

_P = ParamSpec("_P")
_T = TypeVar("_T")

_loading_seconds = 0.0
_lock = threading.Lock()


def clock() -> float:
    """``time.monotonic()`` less the seconds spent in one-time loads so far."""
    return time.monotonic() - _loading_seconds


def load_once(loader: Callable[_P, _T]) -> Callable[_P, _T]:
    """``functools.cache`` for a loader, whose first call for each argument the budget
    :func:`clock` does not count."""

    @functools.wraps(loader)
    def timed(*args: _P.args, **kwargs: _P.kwargs) -> _T:
        global _loading_seconds
        start = time.monotonic()
        try:
            return loader(*args, **kwargs)
        finally:
            with _lock:
                _loading_seconds += time.monotonic() - start

    return functools.cache(timed)  # type: ignore[return-value]
