"""The background uploader: delivers what the journal writer hands it, and never gives up early.

One daemon thread. Metrics go in batches; other entries one at a time, in order, a status only
after the metrics logged before it. A failure (API down, 5xx) keeps everything queued and retries
with a capped backoff, so that the backlog goes out by itself once the API answers again; after a
failure that may have reached the server, the next metric batch is checked against the stored
history so that nothing is stored twice. A cursor per lane is written after every 2xx.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mizzen.tracking.delivery import Delivery, RunUnavailable, is_transient
from mizzen.tracking.journal import METRIC, AckState, RunRecord, read_entries
from mizzen.tracking.safety import warn_once

if TYPE_CHECKING:
    from mizzen.client import MizzenClient

METRICS_BATCH = 5000
BACKOFF_FIRST = 0.2
BACKOFF_MAX = 5.0
IDLE_WAIT = 1.0
MAX_PENDING = 200_000  # entries held in memory; the rest wait in the journal


class Uploader:
    def __init__(
        self,
        connect: Callable[[], MizzenClient],
        record: RunRecord,
        journal: Path,
        store_dir: Path | None = None,
    ) -> None:
        self._connect = connect
        self.record = record
        self._journal = journal
        self._tdir = journal.parent
        self._ack = AckState.for_journal(journal)
        self._store_dir = store_dir
        self._metrics: deque[dict[str, Any]] = deque()
        self._other: deque[dict[str, Any]] = deque()
        # Past MAX_PENDING entries in memory (a long outage), newer ones are left on disk and read
        # back from the journal once the queues are empty: memory stays bounded, order is kept.
        self._spilled_from: int | None = None
        self._last_enqueued = -1
        self.spilled_entries = 0  # how many entries were read back from the journal (for tests and logs)
        self._queue_lock = threading.Lock()  # between the writer thread (submit) and this one
        self._wake = threading.Event()  # new entries
        self._finishing = threading.Event()  # finish() was called
        self._stop_at: float | None = None  # monotonic deadline once finish() was called
        self._dedupe = False
        self.failures = 0  # consecutive failed attempts
        self.disabled: str | None = None  # why uploading stopped for good
        self._thread = threading.Thread(target=self._loop, name="mizzen-tracking-upload", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def submit(self, entries: list[dict[str, Any]]) -> None:
        """Called by the journal writer with entries it has just written to the journal."""
        if not entries or self.disabled:
            return
        with self._queue_lock:
            if self._spilled_from is None and self._in_memory() + len(entries) > MAX_PENDING:
                self._spilled_from = int(entries[0]["s"])
            if self._spilled_from is None:
                self._enqueue(entries)
        self._wake.set()

    def _enqueue(self, entries: list[dict[str, Any]]) -> None:
        for entry in entries:
            seq = int(entry["s"])
            if seq <= self._last_enqueued:  # read back from the journal already
                continue
            self._last_enqueued = seq
            (self._metrics if entry.get("t") == METRIC else self._other).append(entry)

    def _in_memory(self) -> int:
        return len(self._metrics) + len(self._other)

    def pending(self) -> int:
        """Entries not delivered yet (those left on disk count as one until read back)."""
        return self._in_memory() + (1 if self._spilled_from is not None else 0)

    def _read_back(self) -> None:
        """Refills the empty queues from the journal, from where entries stopped being kept."""
        with self._queue_lock:
            if self._spilled_from is None:
                return
            first = self._spilled_from
            waiting = [e for e in read_entries(self._journal) if int(e["s"]) >= first]
            kept = waiting[: MAX_PENDING // 2]
            self._enqueue(kept)
            self.spilled_entries += len(kept)
            self._spilled_from = int(waiting[len(kept)]["s"]) if len(waiting) > len(kept) else None

    def finish(self, timeout: float) -> bool:
        """Asks the thread to deliver what is left within ``timeout`` seconds, then stop.

        Returns True when everything was delivered. Never waits longer than ``timeout``.
        """
        self._stop_at = time.monotonic() + timeout
        self._finishing.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        return self.pending() == 0 and self.disabled is None

    # ---- the thread ----------------------------------------------------------------------------

    def _loop(self) -> None:
        client: MizzenClient | None = None
        delivery: Delivery | None = None
        backoff = 0.0
        while True:
            if self._stop_at is not None and (self.pending() == 0 or time.monotonic() >= self._stop_at):
                break
            if self._in_memory() == 0 and self._spilled_from is not None:
                self._read_back()
                continue
            if self.pending() == 0:
                self._wake.wait(IDLE_WAIT)
                self._wake.clear()
                continue
            try:
                if client is None:
                    client = self._connect()
                if delivery is None:
                    delivery = Delivery(client, self._ensure_run(client), self._store_dir, self._journal.stem)
                self._deliver_some(delivery)
                backoff = 0.0
                self.failures = 0
            except RunUnavailable as exc:
                self.disabled = str(exc)
                warn_once("run-unavailable", f"stopped uploading ({exc}); everything stays in the journal")
                break
            except Exception as exc:
                self.failures += 1
                self._dedupe = True
                if not is_transient(exc):
                    warn_once(f"upload:{type(exc).__name__}", f"upload failed, will retry: {exc}")
                backoff = min(BACKOFF_MAX, backoff * 2 or BACKOFF_FIRST)
                self._sleep(backoff)
        if client is not None:
            client.close()

    def _sleep(self, seconds: float) -> None:
        """Backs off; new entries do not cut it short, finish() does (then it stops at the deadline)."""
        if self._stop_at is None:
            self._finishing.wait(seconds)
        else:
            time.sleep(min(seconds, max(0.0, self._stop_at - time.monotonic())))

    def _ensure_run(self, client: MizzenClient) -> str:
        """The server uuid of the run, creating the run first if it was started offline."""
        if self.record.uuid:
            return self.record.uuid
        from mizzen.errors import ApiError
        from mizzen.schemas.api import RunCreate

        try:
            body = RunCreate.model_validate(self.record.creation())
            run = client.runs.create(body, idempotency_key=self.record.creation_key)
        except ApiError as exc:
            if is_transient(exc):
                raise
            raise RunUnavailable(f"the API refused to create the run: {exc}") from exc
        self.record.uuid = run.uuid
        self.record.save(self._tdir)
        return run.uuid

    def _deliver_some(self, delivery: Delivery) -> None:
        if self._metrics:
            batch = list(itertools.islice(self._metrics, METRICS_BATCH))
            delivery.send_metrics(batch, dedupe=self._dedupe)
            self._dedupe = False
            for _ in batch:
                self._metrics.popleft()
            self._ack.advance("metrics", int(batch[-1]["s"]))
        if self._other:
            entry = self._other[0]
            if entry.get("t") == "status" and self._metrics and int(self._metrics[0]["s"]) < int(entry["s"]):
                return  # the final status waits for the metrics logged before it
            delivery.send_other(entry)
            self._other.popleft()
            self._ack.advance("other", int(entry["s"]))
