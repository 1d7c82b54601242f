"""The in-memory tail of recent log lines per run, and wake-ups for live streams.

Appends come from worker threads; streams wait in the event loop. A stream registers an
``asyncio.Event`` and appenders set it with ``call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict, deque

from mizzen.schemas.api import LogLine

TAIL_LINES = 2_000  # per run
TAIL_RUNS = 64  # runs kept in memory (least recently appended are dropped first)


class _RunTail:
    def __init__(self) -> None:
        self.lines: deque[tuple[int, LogLine]] = deque(maxlen=TAIL_LINES)
        self.waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()


class LogTail:
    def __init__(self) -> None:
        self._runs: OrderedDict[str, _RunTail] = OrderedDict()
        self._lock = threading.Lock()

    def _tail(self, run_uuid: str) -> _RunTail:
        tail = self._runs.get(run_uuid)
        if tail is None:
            tail = self._runs[run_uuid] = _RunTail()
            while len(self._runs) > TAIL_RUNS:
                self._runs.popitem(last=False)
        self._runs.move_to_end(run_uuid)
        return tail

    def add(self, run_uuid: str, first_offset: int, lines: list[LogLine]) -> None:
        with self._lock:
            tail = self._tail(run_uuid)
            expected = tail.lines[-1][0] + 1 if tail.lines else first_offset
            if first_offset != expected:  # appended elsewhere (another replica): start over
                tail.lines.clear()
            tail.lines.extend((first_offset + i, line) for i, line in enumerate(lines))
            waiters = list(tail.waiters)
        for loop, event in waiters:
            loop.call_soon_threadsafe(event.set)

    def lines_from(self, run_uuid: str, offset: int, limit: int) -> list[LogLine] | None:
        """Lines from ``offset`` if the tail holds that offset (None when it does not)."""
        with self._lock:
            tail = self._runs.get(run_uuid)
            if tail is None or not tail.lines:
                return None
            first = tail.lines[0][0]
            end = tail.lines[-1][0] + 1
            if not first <= offset < end:
                return None
            start = offset - first
            return [line for _, line in list(tail.lines)[start : start + limit]]

    def forget(self, run_uuid: str) -> None:
        with self._lock:
            tail = self._runs.pop(run_uuid, None)
        for loop, event in list(tail.waiters) if tail else []:
            loop.call_soon_threadsafe(event.set)

    async def wait(self, run_uuid: str, timeout: float) -> None:
        """Return when lines are appended to ``run_uuid`` here, or after ``timeout`` seconds."""
        waiter = (asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            self._tail(run_uuid).waiters.add(waiter)
        try:
            await asyncio.wait_for(waiter[1].wait(), timeout)
        except TimeoutError:
            pass
        finally:
            with self._lock:
                tail = self._runs.get(run_uuid)
                if tail is not None:
                    tail.waiters.discard(waiter)
