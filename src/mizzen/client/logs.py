"""Run logs: append, read by offset, and follow the live stream (``/runs/{uuid}/logs``)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence

import httpx

from mizzen.client.http import Transport, accepted_count, path_segment
from mizzen.schemas.api import LogChunk, LogLine

# A followed stream may stay silent for a long time: no read timeout.
FOLLOW_TIMEOUT = httpx.Timeout(10.0, read=None)


class LogsApi:
    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def append(self, uuid: str, lines: Sequence[LogLine]) -> int:
        body = {"lines": [line.model_dump(mode="json") for line in lines]}
        return accepted_count(self._t.post(f"/runs/{path_segment(uuid)}/logs", json=body), len(lines))

    def get(self, uuid: str, offset: int = 0, limit: int | None = None) -> LogChunk:
        params = {"offset": offset, "limit": limit}
        return LogChunk.model_validate(self._t.get(f"/runs/{path_segment(uuid)}/logs", params=params).json())

    def follow(self, uuid: str, offset: int = 0) -> Iterator[LogLine]:
        """Yields log lines as the run writes them; ends when the server closes the stream (run done)."""
        path = f"/runs/{path_segment(uuid)}/logs/stream"
        with self._t.stream("GET", path, params={"offset": offset}, timeout=FOLLOW_TIMEOUT) as response:
            for raw in response.iter_lines():
                if raw.strip():
                    yield LogLine.model_validate(json.loads(raw))
