"""The outbox a run source delivers an executor's reports through: statuses, logs and plans, in
order, retried until delivered.

An executor must never lose a report because the API or the database failed for a moment (a run
left ``running`` forever), and must never wait on one either. Reports queue here and are delivered
one at a time, in order; a delivery that fails stays first in line and is tried again every
``retry_interval`` seconds, while the executor goes on. ``ApiRunSource`` (the agent, over HTTP)
delivers from a sender thread only; ``StoreRunSource`` (the store beside the API) delivers ``inline``:
in the reporting thread when nothing else is queued or being delivered (so what was reported is
stored when the call returns, as a direct write would be), through the sender once a delivery failed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from mizzen.schemas.api import LogLine
from mizzen.schemas.statuses import RunStatus

log = logging.getLogger(__name__)

# Lines kept while they cannot be delivered; past this the oldest batches are dropped (and counted).
MAX_BUFFERED_LOG_LINES = 200_000
MAX_LINES_PER_BATCH = 2_000

ReportKind = Literal["status", "logs", "plan"]


@dataclass
class Report:
    kind: ReportKind
    uuid: str
    status: RunStatus | None = None
    reason: str | None = None
    message: str | None = None
    lines: list[LogLine] = field(default_factory=list)
    plan: dict[str, Any] | None = None
    failures: int = 0  # for the deliverer: how often it failed so far, and since when
    failing_since: float | None = None
    seq: int = 0  # its place in the outbox (a merged batch: that of its last part)

    def describe(self) -> str:
        if self.kind == "status":
            return f"status {self.status}"
        if self.kind == "logs":
            return f"{len(self.lines)} log lines"
        return "its plan"


# Delivers one report: True when done with it (delivered, or refused for good), False to keep it
# first in line and try again later.
Deliver = Callable[[Report], bool]


class Outbox:
    def __init__(
        self, deliver: Deliver, *, name: str, retry_interval: float = 2.0, inline: bool = False
    ) -> None:
        self.deliver = deliver
        self.retry_interval = retry_interval
        self.inline = inline
        self.dropped_log_lines = 0
        self._queue: deque[Report] = deque()
        self._buffered_lines = 0
        self._delivering = False  # one delivery at a time keeps the order
        self._failing = False  # the last delivery failed: the sender retries
        self._last_seq = 0
        self._settled_seq = 0  # every report up to this one is delivered (or given up on)
        self._lock = threading.Lock()
        self._sent = threading.Condition(self._lock)
        # Putters waiting for their report (by seq) to settle: each woken alone, not all at each settle.
        self._waiters: dict[int, threading.Event] = {}
        self._wake = threading.Event()
        self._closed = threading.Event()
        self._sender = threading.Thread(target=self._send_loop, name=name, daemon=True)
        self._sender.start()

    def put(self, report: Report) -> None:
        with self._lock:
            self._last_seq += 1
            report.seq = self._last_seq
            self._queue.append(report)
            if report.kind == "logs":
                self._buffered_lines += len(report.lines)
                self._drop_oldest_logs()
            # Inline only when nothing waits: with a backlog (a delivery failed) the caller must not
            # wait on the failing store or API; the sender retries.
            now = self._take() if self.inline and len(self._queue) == 1 else None
        if now is not None:
            self._deliver_from(now)
        elif self.inline:
            self._wait_settled(report)
        else:
            self._wake.set()

    def _wait_settled(self, report: Report) -> None:
        """Inline: while another thread delivers, wait for it to deliver this report too, as a
        direct write would (a fast job's logs are not buffered without bound); not while failing."""
        while True:
            with self._lock:
                if self._settled_seq >= report.seq or self._failing:
                    self._waiters.pop(report.seq, None)
                    return
                event = self._waiters.setdefault(report.seq, threading.Event())
            event.wait(0.2)

    @property
    def pending(self) -> int:
        """Reports waiting to be delivered."""
        with self._lock:
            return len(self._queue)

    def flush(self, timeout: float) -> bool:
        """Wait until every report is delivered (True) or ``timeout`` seconds have passed (False)."""
        deadline = time.monotonic() + timeout
        self._wake.set()
        with self._sent:
            while self._queue or self._delivering:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._sent.wait(min(left, 0.2))
                self._wake.set()
        return True

    def close(self, timeout: float = 10.0) -> bool:
        """Deliver what is queued (waiting at most ``timeout`` seconds), then stop the sender; False
        when reports were left undelivered."""
        delivered = self.flush(timeout)
        self._closed.set()
        self._wake.set()
        self._sender.join(timeout=5)
        return delivered

    # -- inside ------------------------------------------------------------------------------------

    def _send_loop(self) -> None:
        while not self._closed.is_set():
            self._wake.wait(self.retry_interval)
            self._wake.clear()
            if not self._closed.is_set():
                self._deliver_queued()

    def _deliver_queued(self) -> None:
        with self._lock:
            report = self._take()
        if report is not None:
            self._deliver_from(report)

    def _deliver_from(self, report: Report | None) -> None:
        """Deliver ``report`` (taken from the head), then what follows it, until the queue is empty
        or a delivery fails (the sender tries again within ``retry_interval``)."""
        while report is not None:
            try:
                done = self.deliver(report)
            except Exception:  # a bug in a delivery must not kill the sender: keep the report
                log.exception("run %s: delivering %s failed", report.uuid, report.describe())
                done = False
            with self._sent:
                self._settle(report, done)
                report = self._take() if done else None

    def _take(self) -> Report | None:
        """(Lock held.) The head, with the log batches of the same run right behind it merged in;
        None when empty or another thread is delivering."""
        if not self._queue or self._delivering:
            return None
        self._delivering = True
        report = self._queue[0]
        if report.kind == "logs":
            while len(self._queue) > 1 and len(report.lines) < MAX_LINES_PER_BATCH:
                following = self._queue[1]
                if following.kind != "logs" or following.uuid != report.uuid:
                    break
                report.lines.extend(following.lines)
                report.seq = following.seq
                del self._queue[1]
        return report

    def _settle(self, report: Report, done: bool) -> None:
        """(Lock held.) A delivery ended: a delivered report leaves the queue."""
        self._delivering = False
        self._failing = not done
        if done:
            self._settled_seq = max(self._settled_seq, report.seq)
            if self._queue and self._queue[0] is report:
                self._queue.popleft()
                if report.kind == "logs":
                    self._buffered_lines -= len(report.lines)
        for seq in [seq for seq in self._waiters if not done or seq <= self._settled_seq]:
            self._waiters.pop(seq).set()
        self._sent.notify_all()

    def _drop_oldest_logs(self) -> None:
        while self._buffered_lines > MAX_BUFFERED_LOG_LINES:
            oldest = next((report for report in self._queue if report.kind == "logs"), None)
            if oldest is None or (oldest is self._queue[0] and self._delivering):
                return
            self._queue.remove(oldest)
            self._buffered_lines -= len(oldest.lines)
            self.dropped_log_lines += len(oldest.lines)
            log.warning(
                "reports cannot be delivered: dropped %d buffered log lines of run %s (%d in all)",
                len(oldest.lines),
                oldest.uuid,
                self.dropped_log_lines,
            )
