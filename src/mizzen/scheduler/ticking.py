"""``TickLoop``: a daemon thread that calls ``tick()`` until closed, woken early by ``wake()``.

The pipeline driver and the hook loop share this lifecycle: each tick reads the store, so a loop
woken by an event reacts at once, and one that hears nothing still polls (other processes write
the same store). ``_timeout`` says how long to wait; ``next_wait`` caps it by the earliest due moment.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from datetime import datetime

log = logging.getLogger(__name__)


class TickLoop:
    def __init__(self, name: str, poll_interval: float) -> None:
        self.name = name
        self.poll_interval = poll_interval
        self._wake = threading.Event()
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def close(self) -> None:
        self._closed.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def tick(self) -> None:
        raise NotImplementedError

    def _timeout(self) -> float:
        return self.poll_interval

    def _run(self) -> None:
        while not self._closed.is_set():
            try:
                self.tick()
            except Exception:  # a bad tick must not end the loop
                log.exception("%s: a tick failed", self.name)
            self._wake.wait(self._timeout())
            self._wake.clear()


def next_wait(due: Iterable[datetime], now: datetime, poll_interval: float) -> float:
    """Seconds until the earliest ``due`` moment, at most ``poll_interval`` (and never 0)."""
    earliest = min(due, default=None)
    if earliest is None:
        return poll_interval
    return max(0.01, min(poll_interval, (earliest - now).total_seconds()))
