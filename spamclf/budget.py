"""The clock of a message's time budget (``Limits.max_seconds``), which stops for one-time loads.

jieba's dictionary (0.11 s), the token patterns (0.03 s) and the NFKC table (0.01 s) load on
first use, inside the first message that needs them. Counted against that message's budget,
they made its verdict depend on whether it came first: on a loaded machine the loads took over
the whole second, and the message was scored without its words (``limit:time``), as happened to
a classify_bag worker's first messages in the test suite. Loaders wrapped in :func:`load_once`
stop the clock while they run, in every thread (a load is rare and short): a message scored in
another thread beside a slow load keeps its budget, and loads that overlap (two threads at a
first Chinese message) stop it once, not once each, so it never runs backwards.
"""

from __future__ import annotations

import functools
import os
import threading
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

__all__ = ["clock", "load_once"]

_P = ParamSpec("_P")
_T = TypeVar("_T")

# (seconds of loads that have finished, when the loads running now began or None): one tuple,
# so that clock() reads both at once without a lock.
_stopped: tuple[float, float | None] = (0.0, None)
_loads_running = 0
_lock = threading.Lock()


def clock() -> float:
    """``time.monotonic()`` less the seconds spent in one-time loads so far; while one runs,
    the time it began."""
    seconds, since = _stopped
    return (time.monotonic() if since is None else since) - seconds


def load_once(loader: Callable[_P, _T]) -> Callable[_P, _T]:
    """``functools.cache`` for a loader, whose first call for each argument the budget
    :func:`clock` does not count."""

    @functools.wraps(loader)
    def timed(*args: _P.args, **kwargs: _P.kwargs) -> _T:
        _stop()
        try:
            return loader(*args, **kwargs)
        finally:
            _restart()

    return functools.cache(timed)  # type: ignore[return-value]


def _stop() -> None:
    global _stopped, _loads_running
    with _lock:
        _loads_running += 1
        if _loads_running == 1:
            _stopped = (_stopped[0], time.monotonic())


def _restart() -> None:
    global _stopped, _loads_running
    with _lock:
        _loads_running -= 1
        if _loads_running == 0:
            seconds, since = _stopped
            assert since is not None
            _stopped = (seconds + time.monotonic() - since, None)


def _forked() -> None:
    """In a child forked while another thread loaded: that thread is not there to restart the
    clock, which would stand still for good, and the child's messages have no budget."""
    global _lock, _loads_running
    _lock = threading.Lock()
    if _loads_running:
        _loads_running = 1
        _restart()


if hasattr(os, "register_at_fork"):  # not on Windows, which does not fork
    os.register_at_fork(after_in_child=_forked)
