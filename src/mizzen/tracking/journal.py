"""The local journal of a run: append-only ndjson files, acknowledgement cursors, and locks.

Layout, inside the run's folder::

    .tracking/run.json                    which run this is (server uuid, or what to create it with)
    .tracking/journal-<pid>-<ns>.ndjson   one file per process; one JSON entry per line, "s" = sequence
    .tracking/journal-<pid>-<ns>.ack      {"metrics": n, "other": m}: entries of each lane with s < n
                                          (resp. m) reached the server
    .tracking/journal-<pid>-<ns>.lock     held (flock) by the live process while it uploads

Two lanes so that a slow artifact upload never holds back metrics: "metrics" (entries of type "m")
and "other" (everything else, in order).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mizzen.runtime_env import TRACKING_DIR
from mizzen.tracking.safety import json_default, warn_once

RUN_RECORD = "run.json"
JOURNAL_GLOB = "journal-*.ndjson"
METRIC = "m"


def lane_of(entry: dict[str, Any]) -> str:
    return "metrics" if entry.get("t") == METRIC else "other"


def tracking_dir(run_dir: Path) -> Path:
    return run_dir / TRACKING_DIR


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    partial = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    partial.write_text(json.dumps(data, default=json_default))
    os.replace(partial, path)


@dataclass
class RunRecord:
    """``run.json``: the server uuid once known; until then, the body to create the run with."""

    local_id: str
    uuid: str | None = None
    managed: bool = False
    host: str | None = None
    create: dict[str, Any] | None = None

    @classmethod
    def load(cls, tdir: Path) -> RunRecord | None:
        path = tdir / RUN_RECORD
        if not path.is_file():
            return None
        data = json.loads(path.read_text())
        return cls(
            local_id=data.get("local_id") or data.get("uuid") or tdir.parent.name,
            uuid=data.get("uuid"),
            managed=bool(data.get("managed")),
            host=data.get("host"),
            create=data.get("create"),
        )

    def creation(self) -> dict[str, Any]:
        """The body that creates this run on the server: with the uuid the script was given (journals
        written before the body named it get their local id, which is one)."""
        return {"uuid": self.local_id, **(self.create or {})}

    @property
    def creation_key(self) -> str:
        """Idempotency key of the request creating an offline run: retried, it yields the same run."""
        return f"tracking-run:{self.local_id}"

    def save(self, tdir: Path) -> None:
        tdir.mkdir(parents=True, exist_ok=True)
        write_json_atomic(tdir / RUN_RECORD, self.__dict__)


@dataclass
class AckState:
    """How far each lane of one journal file got to the server."""

    path: Path
    cursors: dict[str, int] = field(default_factory=lambda: {"metrics": 0, "other": 0})

    @classmethod
    def for_journal(cls, journal: Path) -> AckState:
        state = cls(journal.with_suffix(".ack"))
        if state.path.is_file():
            try:
                saved = json.loads(state.path.read_text())
                state.cursors.update({k: int(v) for k, v in saved.items() if k in state.cursors})
            except (ValueError, OSError) as exc:
                warn_once(f"ack:{state.path}", f"ignoring an unreadable ack file {state.path}: {exc}")
        return state

    def acked(self, entry: dict[str, Any]) -> bool:
        return int(entry["s"]) < self.cursors[lane_of(entry)]

    def advance(self, lane: str, after_seq: int) -> None:
        """Marks every entry of ``lane`` up to ``after_seq`` included as delivered, on disk."""
        if after_seq + 1 > self.cursors[lane]:
            self.cursors[lane] = after_seq + 1
            write_json_atomic(self.path, self.cursors)


class JournalFile:
    """The journal of this process (created on first write). Only the writer thread touches it."""

    FSYNC_EVERY = 1.0  # seconds; a killed process loses nothing written, only a machine crash can

    def __init__(self, tdir: Path) -> None:
        self.path = tdir / f"journal-{os.getpid()}-{time.time_ns()}.ndjson"
        self._stream: Any = None
        self._last_fsync = 0.0
        self._next_seq = 0

    def append(self, entries: list[dict[str, Any]], sync: bool = False) -> None:
        """Numbers ``entries`` (key "s") and writes them; fsyncs at most every second unless ``sync``."""
        for entry in entries:
            entry["s"] = self._next_seq
            self._next_seq += 1
        if self._stream is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._stream = self.path.open("a", encoding="utf-8")
        lines = [json.dumps(e, separators=(",", ":"), default=json_default) for e in entries]
        if lines:
            self._stream.write("\n".join(lines) + "\n")
            self._stream.flush()
        now = time.monotonic()
        if sync or now - self._last_fsync >= self.FSYNC_EVERY:
            os.fsync(self._stream.fileno())
            self._last_fsync = now

    def close(self) -> None:
        if self._stream is not None:
            self._stream.flush()
            os.fsync(self._stream.fileno())
            self._stream.close()
            self._stream = None


def read_entries(path: Path) -> list[dict[str, Any]]:
    """Every entry of a journal file. A last line cut by a killed process is ignored."""
    entries = []
    with path.open("r", encoding="utf-8") as stream:
        for number, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            if not line.endswith("\n"):
                break  # torn write at the end
            try:
                entries.append(json.loads(line))
            except ValueError:
                warn_once(f"corrupt:{path}:{number}", f"{path}:{number}: skipping a corrupt journal line")
    return entries


class JournalLock:
    """An exclusive ``flock`` on ``<journal>.lock``; the kernel frees it when the process dies."""

    def __init__(self, journal: Path) -> None:
        self.path = journal.with_suffix(".lock")
        self._fd: int | None = None

    def acquire(self) -> bool:
        try:
            import fcntl
        except ImportError:  # no flock (Windows): one uploader per journal is then the caller's job
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
