"""Run logs: chunked ndjson files in the artifacts store + a live tail in memory.

Each append takes the next offsets from the database (one atomic UPDATE, so replicas never hand
out the same offsets) and writes one chunk ``<run uuid>/logs/<first>-<end>.ndjson`` (object stores
cannot append). Offsets count lines from 0; reads select chunks by their names alone.
Clients should batch lines (the local executor and the agent post every second or so); once a run
is done its chunks are merged into a few large ones in the background.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool

from mizzen.artifacts.store import ArtifactsStore
from mizzen.errors import NotFound
from mizzen.schemas.api import LogChunk, LogLine
from mizzen.schemas.statuses import DONE_STATUSES
from mizzen.server.services.log_tail import LogTail
from mizzen.store import Database
from mizzen.store.clock import utcnow
from mizzen.store.gateway import runs as runs_gateway

log = logging.getLogger(__name__)

LOGS_FOLDER = "logs"
STREAM_POLL_SECONDS = 1.0
STREAM_BATCH = 1_000
COMPACT_LINES = 50_000  # lines per chunk once a run is done
# Lines may be posted a moment after the final status (offsets handed out, chunk not yet written).
LATE_LINES_GRACE_SECONDS = 5.0


@dataclass(frozen=True)
class _Chunk:
    first: int
    end: int  # exclusive
    name: str


def chunk_name(first: int, end: int) -> str:
    return f"{LOGS_FOLDER}/{first:012d}-{end:012d}.ndjson"


def _ndjson(lines: list[LogLine]) -> bytes:
    """Lines as stored in a chunk and sent by a stream: one JSON object per line."""
    return "".join(line.model_dump_json() + "\n" for line in lines).encode()


def _parse_chunk(path: str) -> _Chunk | None:
    stem = path.rsplit("/", 1)[-1].removesuffix(".ndjson")
    first, sep, end = stem.partition("-")
    if not sep or not first.isdigit() or not end.isdigit():
        return None
    return _Chunk(int(first), int(end), path)


class LogService:
    def __init__(self, db: Database, store: ArtifactsStore) -> None:
        self.db = db
        self.store = store
        self.tail = LogTail()
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    def _run_lock(self, run_uuid: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(run_uuid, threading.Lock())

    def require_run(self, run_uuid: str) -> None:
        """``NotFound`` for an unknown run (one indexed lookup; no files are read)."""
        runs_gateway.require_run(self.db, run_uuid)

    def append(self, run_uuid: str, lines: list[LogLine]) -> int:
        if not lines:
            self.require_run(run_uuid)  # still 404 for an unknown run
            return 0
        # One writer per run in this process keeps chunks in offset order for live readers.
        with self._run_lock(run_uuid):
            first = runs_gateway.reserve_log_lines(self.db, run_uuid, len(lines))
            payload = _ndjson(lines)
            self.store.write_bytes(run_uuid, chunk_name(first, first + len(lines)), payload)
            self.tail.add(run_uuid, first, lines)
        return len(lines)

    def read(self, run_uuid: str, offset: int = 0, limit: int = 10_000) -> LogChunk:
        progress = runs_gateway.progress_of(self.db, run_uuid)
        lines, next_offset, more_stored = self._read_stored(run_uuid, offset, limit)
        done = False
        if progress.status in DONE_STATUSES and not more_stored:
            # Everything handed out is read, or the missing lines' writer is long gone.
            finished = progress.finished_at
            late = finished is None or (utcnow() - finished).total_seconds() > LATE_LINES_GRACE_SECONDS
            done = next_offset >= progress.log_lines or late
        return LogChunk.model_construct(lines=lines, next_offset=next_offset, done=done)

    def _read_stored(self, run_uuid: str, offset: int, limit: int) -> tuple[list[LogLine], int, bool]:
        """Lines from ``offset``, the offset after them, and whether more lines are stored."""
        for _attempt in range(3):
            try:
                return self._read_chunks(run_uuid, self._chunks(run_uuid), offset, limit)
            except NotFound:  # compacted while we read: the merged chunk holds the lines, list again
                continue
        return self._read_chunks(run_uuid, self._chunks(run_uuid), offset, limit)

    def _read_chunks(
        self, run_uuid: str, chunks: list[_Chunk], offset: int, limit: int
    ) -> tuple[list[LogLine], int, bool]:
        lines: list[LogLine] = []
        position = offset
        for chunk in chunks:
            if chunk.end <= position:
                continue
            if len(lines) >= limit:
                break
            if lines and chunk.first != position:  # a gap: stop at it, the next read starts there
                break
            position = max(position, chunk.first)  # skip offsets no chunk holds (a failed write)
            raw = self.store.read_bytes(run_uuid, chunk.name).decode().splitlines()
            wanted = raw[position - chunk.first : position - chunk.first + limit - len(lines)]
            lines.extend(LogLine.model_validate_json(text) for text in wanted)
            position += len(wanted)
        return lines, position, any(c.end > position for c in chunks)

    def _chunks(self, run_uuid: str) -> list[_Chunk]:
        """The run's chunks by first offset; a compacted chunk sorts before the ones it replaces."""
        found = (c for f in self.store.list_files(run_uuid, LOGS_FOLDER) if (c := _parse_chunk(f.path)))
        return sorted(found, key=lambda c: (c.first, -c.end))

    def compact(self, run_uuid: str) -> int:
        """Merge consecutive small chunks (a finished run's) into chunks of up to COMPACT_LINES lines,
        so that reading a long run's logs later takes a few reads; returns how many chunks were merged.
        The merged chunk is written before the small ones are removed: readers never miss a line."""
        with self._run_lock(run_uuid):
            groups: list[list[_Chunk]] = []
            for chunk in self._chunks(run_uuid):
                group = groups[-1] if groups else None
                if group and group[-1].end == chunk.first and chunk.end - group[0].first <= COMPACT_LINES:
                    group.append(chunk)
                else:
                    groups.append([chunk])
            merged = 0
            for group in (g for g in groups if len(g) > 1):
                payload = b"".join(self.store.read_bytes(run_uuid, c.name) for c in group)
                self.store.write_bytes(run_uuid, chunk_name(group[0].first, group[-1].end), payload)
                for chunk in group:
                    self.store.delete_file(run_uuid, chunk.name)
                merged += len(group)
            return merged

    def compact_in_background(self, run_uuid: str) -> threading.Thread:
        def work() -> None:
            try:
                self.compact(run_uuid)
            except Exception:
                log.exception("could not compact the logs of run %s", run_uuid)

        thread = threading.Thread(target=work, name=f"mizzen-logs-compact-{run_uuid[:8]}", daemon=True)
        thread.start()
        return thread

    def forget(self, run_uuid: str) -> None:
        self.tail.forget(run_uuid)
        with self._locks_guard:
            self._locks.pop(run_uuid, None)

    async def stream(self, run_uuid: str, offset: int = 0) -> AsyncIterator[bytes]:
        """ndjson lines from ``offset`` as they come; ends once the run is done and all is sent."""
        while True:
            recent = self.tail.lines_from(run_uuid, offset, STREAM_BATCH)
            if recent:
                offset += len(recent)
                yield _ndjson(recent)
                continue
            try:
                chunk = await run_in_threadpool(self.read, run_uuid, offset, STREAM_BATCH)
            except NotFound:  # the run was deleted
                return
            except Exception:  # the store hiccuped: keep the stream, try again shortly
                log.exception("reading the logs of run %s failed; retrying", run_uuid)
                await self.tail.wait(run_uuid, STREAM_POLL_SECONDS)
                continue
            if chunk.lines:
                offset = chunk.next_offset
                yield _ndjson(chunk.lines)
            if chunk.done:
                return
            if not chunk.lines:
                await self.tail.wait(run_uuid, STREAM_POLL_SECONDS)
