"""``RunEventBus``: how the rest of the process learns what happened to runs through the API.

The local executor wiring subscribes to it (``app.state.run_events.subscribe(callback)``) to start
created runs, stop runs whose stop was requested, and react to status changes. Events are published
after the change has committed; a failing subscriber is logged and never breaks the request.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from mizzen.schemas.statuses import RunStatus

log = logging.getLogger(__name__)

EventKind = Literal["created", "stop_requested", "status_changed", "deleted"]


@dataclass(frozen=True)
class RunEvent:
    kind: EventKind
    run_uuid: str
    project: str
    status: RunStatus | None = None  # the run's status after the change (None once deleted)
    previous: RunStatus | None = None  # for status_changed: the status before
    # Set on the children a pipeline driver creates; None for anything made through the API (a
    # restart of one trial too), which is what a scoped `mizzen run` takes as its own.
    pipeline_uuid: str | None = None


Subscriber = Callable[[RunEvent], None]


class RunEventBus:
    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []
        self._lock = threading.Lock()

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call ``callback(event)`` for every event from now on; returns a function that unsubscribes."""
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def publish(self, event: RunEvent) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for callback in subscribers:
            try:
                callback(event)
            except Exception:
                log.exception("run event subscriber %r failed on %s", callback, event)
