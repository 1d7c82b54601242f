"""The journal writer: the only thread that touches the journal file.

The training thread appends plain tuples to a deque (no I/O, no lock). This thread wakes every
50 ms, turns what it finds into journal entries (writing in-memory payloads such as images to files
in the run folder first), appends them to the journal, and hands them to the uploader.

Tuples it understands (first item is the kind):
    ("m", name, value, step, timestamp)        a metric point
    ("update", field, values)                  inputs / outputs / meta to merge into the run
    ("tags", tags)                             tags to add
    ("artifact", src, dest, lineage | None)    a file or a folder to upload to ``dest``
    ("blob", bytes | producer, dest, lineage | None, once_key | None)
                                               bytes (or a function making them here) written to
                                               ``dest`` in the run folder, then uploaded
    ("status", status, reason, message, time)   time: seconds since the epoch, when it happened
    ("barrier", threading.Event)               set once everything before it is on disk
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mizzen.tracking.journal import METRIC, JournalFile
from mizzen.tracking.safety import warn_once

FLUSH_INTERVAL = 0.05
MAX_DRAIN = 100_000  # items per write, to bound memory when the buffer is huge


class JournalWriter:
    def __init__(
        self,
        buffer: deque[tuple[Any, ...]],
        journal: JournalFile,
        run_dir: Path,
        sink: Callable[[list[dict[str, Any]]], None] | None,
    ) -> None:
        self._buffer = buffer
        self.journal = journal
        self._run_dir = run_dir
        self._sink = sink
        self._wake = threading.Event()
        self._stopping = False
        self._lineage_sent: set[str] = set()
        self._thread = threading.Thread(target=self._loop, name="mizzen-tracking-journal", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def flush(self, timeout: float) -> bool:
        """Waits (at most ``timeout``) until everything logged so far is in the journal, fsync'd."""
        written = threading.Event()
        self._buffer.append(("barrier", written))
        self._wake.set()
        return written.wait(timeout)

    def stop(self, timeout: float) -> bool:
        """Writes what is left, closes the journal; True if done within ``timeout``."""
        self._stopping = True
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        return not self._thread.is_alive()

    def _loop(self) -> None:
        while True:
            self._wake.wait(FLUSH_INTERVAL)
            self._wake.clear()
            while self._buffer:
                self._drain()
            if self._stopping:
                break
        try:
            self.journal.close()
        except OSError as exc:
            warn_once("journal-close", f"could not close the journal {self.journal.path}: {exc}")

    def _drain(self) -> None:
        entries: list[dict[str, Any]] = []
        barriers: list[threading.Event] = []
        buffer = self._buffer
        for _ in range(min(len(buffer), MAX_DRAIN)):
            item = buffer.popleft()
            if item[0] == METRIC:
                entries.append({"t": METRIC, "n": item[1], "v": item[2], "st": item[3], "ts": item[4]})
            elif item[0] == "barrier":
                barriers.append(item[1])
            else:
                try:
                    entries.extend(self._materialize(item))
                except Exception as exc:
                    warn_once(
                        f"materialize:{item[0]}:{type(exc).__name__}",
                        f"could not record a '{item[0]}': {exc}",
                    )
        try:
            self.journal.append(entries, sync=bool(barriers))
        except (OSError, ValueError) as exc:  # a full disk must not stop the uploads
            warn_once("journal-write", f"could not write the journal {self.journal.path}: {exc}")
        if entries and self._sink is not None:
            self._sink(entries)
        for barrier in barriers:
            barrier.set()

    def _materialize(self, item: tuple[Any, ...]) -> list[dict[str, Any]]:
        kind = item[0]
        if kind == "update":
            return [{"t": "update", "field": item[1], "values": item[2]}]
        if kind == "tags":
            return [{"t": "tags", "tags": list(item[1])}]
        if kind == "status":
            return [
                {"t": "status", "status": item[1], "reason": item[2], "message": item[3], "time": item[4]}
            ]
        if kind == "artifact":
            return self._artifact(Path(item[1]), item[2], item[3])
        if kind == "blob":
            return self._blob(item[1], item[2], item[3], item[4])
        raise ValueError(f"unknown tracking record '{kind}'")

    def _artifact(self, source: Path, dest: str, lineage: dict[str, Any] | None) -> list[dict[str, Any]]:
        if source.is_dir():
            files = sorted(p for p in source.rglob("*") if p.is_file())
            entries: list[dict[str, Any]] = [
                {"t": "file", "src": str(f), "dest": f"{dest}/{f.relative_to(source).as_posix()}"}
                for f in files
            ]
        elif source.is_file():
            entries = [{"t": "file", "src": str(source), "dest": dest}]
        else:
            raise FileNotFoundError(f"no such file or folder: {source}")
        if lineage is not None:
            entries.append({"t": "lineage", "record": lineage})
        return entries

    def _blob(
        self,
        payload: bytes | Callable[[], bytes],
        dest: str,
        lineage: dict[str, Any] | None,
        once_key: str | None,
    ) -> list[dict[str, Any]]:
        data = payload() if callable(payload) else payload
        target = self._run_dir / dest
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        entries: list[dict[str, Any]] = [{"t": "file", "src": str(target), "dest": dest}]
        if lineage is not None and (once_key is None or once_key not in self._lineage_sent):
            entries.append({"t": "lineage", "record": lineage})
            if once_key is not None:
                self._lineage_sent.add(once_key)
        return entries
