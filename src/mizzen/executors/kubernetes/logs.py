"""Container logs: followed while pods run, read to the end before anything is deleted.

One follower thread per container instance (a restarted container is a new instance) reads the
``follow=true`` stream. ``drain()`` reads what is left without following: every line has an index
within its instance and is delivered once, whoever (follower or drain) reads it first. Lines reach
the events sink in small batches from one flusher thread; ``flush()`` forces it (before a final status).

After a restart, a run's streams are read again from their start, and a ``LogPosition`` (where the
stored log ends, per stream) says which lines were stored already.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from mizzen.executors.kubernetes.adapter import ApiFailure, KubeAdapter
from mizzen.schemas.api import LogLine

log = logging.getLogger(__name__)

Sink = Callable[[str, list[LogLine]], None]  # (run uuid, lines)
StreamKey = tuple[str, str | None]  # (container as the user knows it, replica): what a stored line names
# A stream with no line in the stored log's tail lags at most this far behind the newest stored line.
RESUME_SLACK = 30.0


@dataclass(frozen=True)
class LogPosition:
    """Where a run's stored log ends, for an executor taking the run over.

    Per stream, the newest stored timestamp and how many stored lines carry it: the lines of one
    write share a timestamp, so a timestamp alone cannot tell which of them were stored. Each
    stream's stored lines are a prefix of it (lines go out in order), so this identifies the prefix.
    """

    newest: float  # the newest stored timestamp of the run
    streams: Mapping[StreamKey, tuple[float, int]]  # key -> (its newest stored timestamp, lines at it)
    slack: float = RESUME_SLACK

    def stored(self, key: StreamKey, stamp: float, nth_at_stamp: int) -> bool:
        """Whether a line of stream ``key`` stamped ``stamp`` is stored already; ``nth_at_stamp``: how
        many lines of the stream with that same timestamp came before it."""
        known = self.streams.get(key)
        if known is None:  # nothing of it near the end of the stored log: only old lines are stored
            return stamp <= self.newest - self.slack
        last, count = known
        return stamp < last or (stamp == last and nth_at_stamp < count)


def parse_line(raw: str) -> tuple[float, str]:
    """``2026-01-02T03:04:05.123456789Z text`` -> (epoch seconds, text)."""
    stamp, sep, text = raw.partition(" ")
    if not sep:
        return time.time(), raw
    try:
        head, _, fraction = stamp.rstrip("Z").partition(".")
        moment = datetime.fromisoformat(f"{head}.{(fraction or '0')[:6]:0<6}+00:00")
    except ValueError:
        return time.time(), raw
    return moment.timestamp(), text


class LogBuffer:
    """Collects lines of every run and hands them to the sink in batches, in order, per run."""

    def __init__(self, sink: Sink, *, flush_interval: float = 0.2, max_batch: int = 500) -> None:
        self._sink = sink
        self._interval = flush_interval
        self._max_batch = max_batch
        self._pending: dict[str, list[LogLine]] = {}
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._wake = threading.Event()
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="k8s-log-flusher", daemon=True)
        self._thread.start()

    def add(self, uuid: str, line: LogLine) -> None:
        with self._lock:
            batch = self._pending.setdefault(uuid, [])
            batch.append(line)
            if len(batch) >= self._max_batch:
                self._wake.set()

    def flush(self, uuid: str | None = None) -> None:
        with self._flush_lock:
            with self._lock:
                if uuid is None:
                    taken, self._pending = self._pending, {}
                else:
                    taken = {uuid: self._pending.pop(uuid)} if uuid in self._pending else {}
            for run, lines in taken.items():
                for start in range(0, len(lines), self._max_batch):
                    try:
                        self._sink(run, lines[start : start + self._max_batch])
                    except Exception:  # a failing consumer must not stop log capture
                        log.exception("on_logs failed for run %s", run)

    def close(self) -> None:
        self._closed.set()
        self._wake.set()
        self._thread.join(5)
        self.flush()

    def _loop(self) -> None:
        while not self._closed.is_set():
            self._wake.wait(self._interval)
            self._wake.clear()
            self.flush()


@dataclass
class _Stream:
    pod: str
    pod_uid: str
    container: str  # as Kubernetes names it
    instance: int  # the container's restartCount when this instance ran
    display: str  # as the user knows it ("main")
    replica: str | None
    delivered: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    thread: threading.Thread | None = None
    failures: int = 0
    finished: bool = False  # the follow stream ended by itself (the container ended or the pod went)


class RunLogs:
    """The log streams of one run."""

    MAX_FOLLOW_FAILURES = 5

    def __init__(
        self,
        uuid: str,
        adapter: KubeAdapter,
        namespace: str,
        buffer: LogBuffer,
        *,
        resume: LogPosition | None = None,
    ) -> None:
        self.uuid = uuid
        self.resume = resume  # what an earlier executor stored already
        self._at_resume_stamp: dict[StreamKey, int] = {}  # lines read so far at each stream's stamp
        self.adapter = adapter
        self.namespace = namespace
        self.buffer = buffer
        self._streams: dict[tuple[str, str, int], _Stream] = {}
        self._lock = threading.Lock()
        self._closed = threading.Event()

    def follow(
        self, pod: str, pod_uid: str, container: str, instance: int, display: str, replica: str | None
    ) -> None:
        """Make sure this container instance is followed (idempotent)."""
        if self._closed.is_set():
            return
        key = (pod_uid, container, instance)
        with self._lock:
            stream = self._streams.get(key)
            if stream is None:
                stream = _Stream(pod, pod_uid, container, instance, display, replica)
                self._streams[key] = stream
            alive = stream.thread is not None and stream.thread.is_alive()
            if alive or stream.finished or stream.failures >= self.MAX_FOLLOW_FAILURES:
                return
            stream.thread = threading.Thread(
                target=self._follow, args=(stream,), name=f"k8s-logs-{pod}-{container}", daemon=True
            )
            stream.thread.start()

    def drain(self, live_pods: set[str]) -> None:
        """Read every stream of the pods that still exist (by uid) to its end, without following."""
        with self._lock:
            streams = list(self._streams.values())
        for stream in streams:
            if stream.pod_uid not in live_pods:
                continue
            current = self._current_instance(stream)
            try:
                previous = current is not None and current > stream.instance
                lines = self.adapter.pod_log(stream.pod, self.namespace, stream.container, previous=previous)
                for index, raw in enumerate(lines):
                    self._deliver(stream, index, raw)
            except ApiFailure as failure:
                if failure.status not in (400, 404):
                    log.warning("final log read of %s/%s failed: %s", stream.pod, stream.container, failure)

    def join(self, timeout: float, running: set[tuple[str, str]] | None = None) -> None:
        """Wait (bounded) for followers to reach the end of their streams, except those of the
        containers still ``running`` (pod uid, container): theirs do not end."""
        deadline = time.monotonic() + timeout
        skip = running or set()
        with self._lock:
            threads = [
                s.thread
                for s in self._streams.values()
                if s.thread is not None and (s.pod_uid, s.container) not in skip
            ]
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def close(self) -> None:
        self._closed.set()

    # -- inside ------------------------------------------------------------------------------------

    def _current_instance(self, stream: _Stream) -> int | None:
        with self._lock:
            instances = [
                key[2] for key in self._streams if key[0] == stream.pod_uid and key[1] == stream.container
            ]
        return max(instances) if instances else None

    def _follow(self, stream: _Stream) -> None:
        index = 0
        try:
            for raw in self.adapter.pod_log(stream.pod, self.namespace, stream.container, follow=True):
                self._deliver(stream, index, raw)
                index += 1
                if self._closed.is_set():
                    return
            stream.finished = True
        except ApiFailure as failure:
            stream.failures += 1
            if failure.status in (400, 404):  # not started yet, or the pod is gone: nothing to follow
                stream.finished = failure.status == 404
            else:
                log.info("log stream of %s/%s cut: %s", stream.pod, stream.container, failure)
        except Exception:
            stream.failures += 1
            log.exception("following the logs of %s/%s failed", stream.pod, stream.container)

    def _deliver(self, stream: _Stream, index: int, raw: str) -> None:
        with stream.lock:
            if index < stream.delivered:
                return
            stream.delivered = index + 1
            stamp, text = parse_line(raw)
            if self.resume is not None and self._stored_before(stream, stamp):
                return
            self.buffer.add(
                self.uuid,
                LogLine(timestamp=stamp, container=stream.display, replica=stream.replica, line=text),
            )

    def _stored_before(self, stream: _Stream, stamp: float) -> bool:
        """Whether an earlier executor stored this line (read in stream order, each line once)."""
        assert self.resume is not None
        key = (stream.display, stream.replica)
        nth = 0
        known = self.resume.streams.get(key)
        if known is not None and stamp == known[0]:
            with self._lock:  # several instances of a container are one stored stream
                nth = self._at_resume_stamp.get(key, 0)
                self._at_resume_stamp[key] = nth + 1
        return self.resume.stored(key, stamp, nth)
