"""Log capture: every container's output, line by line with timestamps, streamed in small batches.

One reader thread per process drains its pipe (the child never blocks on a full pipe); one flusher
thread hands batches to the events sink and appends them to a file per container.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TextIO

from mizzen.schemas.api import LogLine

logger = logging.getLogger(__name__)

MAX_LINE_BYTES = 16 * 1024  # a longer line is cut into several log lines of this size
_READ_SIZE = 64 * 1024
EXECUTOR_CONTAINER = "mizzen"  # lines Mizzen itself writes about the run


class LogCollector:
    def __init__(
        self,
        sink: Callable[[list[LogLine]], None],
        folder: Path,
        *,
        flush_interval: float = 0.1,
        max_batch: int = 500,
    ) -> None:
        self._sink = sink
        self._folder = folder
        self._flush_interval = flush_interval
        self._max_batch = max_batch
        self._pending: list[LogLine] = []
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._wake = threading.Event()
        self._closed = threading.Event()
        self._files: dict[str, TextIO] = {}
        self._redactions: list[str] = []
        self._readers: list[threading.Thread] = []
        self._last: dict[tuple[str, str | None], str] = {}  # the last non-blank line of each stream
        self._flusher = threading.Thread(target=self._flush_loop, name="log-flusher", daemon=True)
        self._flusher.start()

    def redact(self, secrets: Iterable[str]) -> None:
        """Never let these strings reach a log line (git tokens and the like)."""
        with self._lock:
            self._redactions += [s for s in secrets if s]

    def emit(self, line: str, container: str = EXECUTOR_CONTAINER, replica: str | None = None) -> None:
        self._add(LogLine(timestamp=time.time(), container=container, replica=replica, line=line))

    def attach(self, stream: IO[bytes], container: str, replica: str | None = None) -> threading.Thread:
        """Read ``stream`` until EOF in a thread of its own."""
        thread = threading.Thread(
            target=self._read, args=(stream, container, replica), name=f"logs-{container}", daemon=True
        )
        thread.start()
        with self._lock:
            self._readers = [t for t in self._readers if t.is_alive()] + [thread]
        return thread

    def last_line(self, container: str, replica: str | None = None) -> str | None:
        """The last non-blank line a stream wrote (what a failed process said last)."""
        with self._lock:
            return self._last.get((container, replica))

    def drain(self, timeout: float = 5.0) -> None:
        """Wait until every attached stream is read to its end, then flush."""
        with self._lock:
            readers = list(self._readers)
        deadline = time.monotonic() + timeout
        for reader in readers:
            reader.join(max(0.0, deadline - time.monotonic()))
        self.flush()

    def flush(self) -> None:
        with self._flush_lock:
            with self._lock:
                batch, self._pending = self._pending, []
            if not batch:
                return
            self._write_files(batch)
            for start in range(0, len(batch), self._max_batch):
                try:
                    self._sink(batch[start : start + self._max_batch])
                except Exception:  # a failing consumer must not stop the capture
                    logger.exception("log sink failed")

    def close(self) -> None:
        self.drain()
        self._closed.set()
        self._wake.set()
        self._flusher.join(2.0)
        self.flush()
        for handle in self._files.values():
            handle.close()
        self._files.clear()

    def _add(self, line: LogLine) -> None:
        with self._lock:
            for secret in self._redactions:
                if secret in line.line:
                    line = line.model_copy(update={"line": line.line.replace(secret, "****")})
            self._pending.append(line)
            if len(self._pending) >= self._max_batch:
                self._wake.set()

    def _read(self, stream: IO[bytes], container: str, replica: str | None) -> None:
        fd = stream.fileno()
        buffer = b""
        try:
            while True:
                chunk = os.read(fd, _READ_SIZE)
                if not chunk:
                    break
                buffer += chunk
                *complete, buffer = buffer.split(b"\n")
                for raw in complete:
                    self._add_raw(raw, container, replica)
                while len(buffer) >= MAX_LINE_BYTES:
                    self._add_raw(buffer[:MAX_LINE_BYTES], container, replica)
                    buffer = buffer[MAX_LINE_BYTES:]
        except OSError as error:
            self.emit(f"log capture of {container} stopped: {error}", replica=replica)
        finally:
            if buffer:
                self._add_raw(buffer, container, replica)
            stream.close()

    def _add_raw(self, raw: bytes, container: str, replica: str | None) -> None:
        for start in range(0, max(len(raw), 1), MAX_LINE_BYTES):
            piece = raw[start : start + MAX_LINE_BYTES].removesuffix(b"\r")
            text = piece.decode("utf-8", errors="replace")
            if text.strip():
                with self._lock:
                    self._last[(container, replica)] = text.strip()
            self._add(LogLine(timestamp=time.time(), container=container, replica=replica, line=text))

    def _flush_loop(self) -> None:
        while not self._closed.is_set():
            self._wake.wait(self._flush_interval)
            self._wake.clear()
            self.flush()

    def _write_files(self, batch: list[LogLine]) -> None:
        for line in batch:
            name = f"{line.replica}.{line.container}" if line.replica else line.container
            handle = self._files.get(name)
            if handle is None:
                try:
                    self._folder.mkdir(parents=True, exist_ok=True)
                    handle = (self._folder / f"{name}.log").open("a", encoding="utf-8")
                except OSError:
                    logger.exception("cannot open the log file of %s", name)
                    continue
                self._files[name] = handle
            stamp = datetime.fromtimestamp(line.timestamp, UTC).isoformat(timespec="microseconds")
            handle.write(f"{stamp} {line.line}\n")
        for handle in self._files.values():
            handle.flush()
