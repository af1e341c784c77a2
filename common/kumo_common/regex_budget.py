"""Regular expressions from untrusted callers, matched within a wall-clock budget.

The `regex` module can stop a match after a timeout, but it counts that timeout in
CPU time of the process (C `clock()`): on a machine with more runnable threads than
CPUs a match allowed half a second of CPU takes seconds by the wall clock, and the
caller waiting for an HTTP answer counts wall time. So the matching runs in a worker
thread, with the GIL released while the `regex` engine works (`concurrent=True`),
and the caller waits for it no longer than the budget's wall deadline. A worker
that is given up on stops by itself: it checks the budget between matches, and a
match in progress ends at its own CPU timeout, which is never more than the budget.

    budget = Budget(0.5)
    kept = budget.run(lambda: [t for t in texts if budget.matches(pattern, t)])

Only the matching belongs in the worker: database reads stay in the caller's thread
(a session is not shared between threads), before or between `run` calls, and their
time is not the pattern's: the budget is spent only inside `run`.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar('T')


class PatternTooSlow(Exception):
    """The patterns did not finish matching within the budget."""


class Budget:
    """Wall-clock seconds that every match of one request shares."""

    def __init__(self, seconds: float):
        self._left = seconds          # what the `run` calls so far have not spent
        self.deadline = time.monotonic() + seconds   # of the `run` in progress
        self._abandoned = threading.Event()

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def matches(self, pattern, text: str, anchored: bool = False) -> bool:
        """Whether a compiled `regex` pattern matches `text` (searched anywhere,
        or only at its start when anchored); PatternTooSlow once out of budget."""
        remaining = self.remaining()
        if remaining <= 0 or self._abandoned.is_set():
            raise PatternTooSlow
        match = pattern.match if anchored else pattern.search
        try:
            return match(text, timeout=remaining, concurrent=True) is not None
        except TimeoutError as exc:
            raise PatternTooSlow from exc

    def run(self, work: Callable[[], T]) -> T:
        """Run `work` (which calls `matches`) in a worker thread; its result, its
        exception, or PatternTooSlow when the wall deadline passes first."""
        outcome: dict[str, object] = {}
        self.deadline = time.monotonic() + self._left

        def worker() -> None:
            try:
                outcome['result'] = work()
            except BaseException as exc:  # handed to the caller's thread
                outcome['error'] = exc

        thread = threading.Thread(target=worker, name='regex-budget', daemon=True)
        thread.start()
        thread.join(max(0.0, self.remaining()))
        self._left = max(0.0, self.remaining())
        if thread.is_alive():
            self._abandoned.set()
            raise PatternTooSlow
        if 'error' in outcome:
            raise outcome['error']  # type: ignore[misc]
        return outcome['result']  # type: ignore[return-value]
