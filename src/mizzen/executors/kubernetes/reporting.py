"""Statuses of one run, reported in an order the status machine accepts, each once.

The cluster is observed, not driven: a watch may show a pod already succeeded when the executor
never saw it running. A run that ran is reported ``starting`` and ``running`` before its end; within
one attempt the run never goes back (``running`` is not followed by ``starting`` until a retry).
"""

from __future__ import annotations

import logging
import threading

from mizzen.executors.base import ExecutorEvents
from mizzen.schemas.statuses import DONE_STATUSES, RunStatus

log = logging.getLogger(__name__)
S = RunStatus

_RANK = {S.QUEUED: 0, S.SCHEDULED: 1, S.STARTING: 2, S.RUNNING: 3}
_TROUBLED = frozenset({S.WARNING, S.UNSCHEDULABLE, S.UNKNOWN})


class StatusReporter:
    def __init__(self, uuid: str, events: ExecutorEvents, last: RunStatus | None = None) -> None:
        self.uuid = uuid
        self._events = events
        self._lock = threading.RLock()  # a consumer may call back into the executor from on_status
        self.last: RunStatus | None = last
        self._last_reason: str | None = None
        self.final: RunStatus | None = last if last in DONE_STATUSES else None
        self.stopping = last == S.STOPPING
        self._rank = _RANK.get(last, 0) if last is not None else 0  # furthest reached in this attempt

    def report(
        self, status: RunStatus, reason: str | None = None, message: str | None = None, *, ran: bool = False
    ) -> None:
        """Report ``status``; ``ran``: the run's code started (fills in starting/running before an end)."""
        with self._lock:
            if self.final is not None:
                return
            if self.stopping and status not in DONE_STATUSES:
                return
            if status == S.RETRYING:
                self._send(status, reason, message)
                self._rank = _RANK[S.SCHEDULED]  # the next attempt starts; the run stays scheduled
                return
            rank = _RANK.get(status)
            if rank is not None:
                if rank < self._rank or (
                    rank == self._rank and self.last is not None and self.last not in _TROUBLED
                ):
                    return  # a snapshot behind what was already reported (or a recovery to report)
                if status == S.RUNNING and self._rank < _RANK[S.STARTING]:
                    self._send(S.STARTING, None, None)
                self._rank = rank
            elif status in (S.SUCCEEDED,) or (status == S.FAILED and ran):
                if not self.stopping:
                    for step in (S.STARTING, S.RUNNING):
                        if self._rank < _RANK[step]:
                            self._send(step, None, None)
                            self._rank = _RANK[step]
            elif status == self.last and reason == self._last_reason:
                return
            if status == S.STOPPING:
                self.stopping = True
            if status in DONE_STATUSES:
                self.final = status
            self._send(status, reason, message)

    def _send(self, status: RunStatus, reason: str | None, message: str | None) -> None:
        self.last, self._last_reason = status, reason
        try:
            self._events.on_status(self.uuid, status, reason, message)
        except Exception:
            log.exception("on_status failed for run %s", self.uuid)
