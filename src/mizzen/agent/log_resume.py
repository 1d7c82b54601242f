"""Where a run's stored log ends, read back from the API, so that an agent adopting the run after a
restart streams every line exactly once (``LogPosition``: per stream, the newest stored timestamp
and how many stored lines carry it)."""

from __future__ import annotations

from mizzen.client import MizzenClient
from mizzen.executors.kubernetes import LogPosition
from mizzen.executors.kubernetes.logs import RESUME_SLACK, StreamKey
from mizzen.schemas.api import LogLine

PAGE = 5_000  # lines per read, walking back from the end


def stored_log_position(
    client: MizzenClient, uuid: str, *, slack: float = RESUME_SLACK, page: int = PAGE
) -> LogPosition | None:
    """The position of the run's stored log (None when it has no line yet).

    Reads back from the end until each stream seen is known up to its last group of equal
    timestamps and a whole page lies ``slack`` seconds before the newest line (a stream with no line
    in that tail has nothing stored after that time). A group is complete once an earlier line of
    its stream shows up, or a whole page lies ``slack`` seconds before it."""
    end = _end_offset(client, uuid)
    if end == 0:
        return None
    streams: dict[StreamKey, tuple[float, int]] = {}
    settled: set[StreamKey] = set()  # streams whose count at their newest timestamp is complete
    newest = float("-inf")
    while end > 0:
        start = max(0, end - page)
        lines = _lines_between(client, uuid, start, end)
        end = start
        if not lines:
            continue
        for line in reversed(lines):
            key = (line.container, line.replica)
            known = streams.get(key)
            if known is None:
                streams[key] = (line.timestamp, 1)
            elif key not in settled:
                if line.timestamp == known[0]:
                    streams[key] = (known[0], known[1] + 1)
                else:  # an earlier line of the stream
                    settled.add(key)
        page_newest = max(line.timestamp for line in lines)
        newest = max(newest, page_newest)
        settled.update(key for key, (stamp, _) in streams.items() if stamp - slack > page_newest)
        if page_newest <= newest - slack and settled == streams.keys():
            break
    return LogPosition(newest=newest, streams=streams, slack=slack)


def _lines_between(client: MizzenClient, uuid: str, start: int, end: int) -> list[LogLine]:
    """The stored lines at offsets [start, end) (offsets lost to a failed write hold none)."""
    chunk = client.logs.get(uuid, offset=start, limit=end - start)
    first = chunk.next_offset - len(chunk.lines)  # a read skips a gap, then returns contiguous lines
    return [line for offset, line in enumerate(chunk.lines, start=first) if offset < end]


def _end_offset(client: MizzenClient, uuid: str) -> int:
    """The offset after the run's last stored line, in O(log lines) small reads (0: none)."""

    def has_line_from(offset: int) -> bool:
        return bool(client.logs.get(uuid, offset=offset, limit=1).lines)

    if not has_line_from(0):
        return 0
    low, high = 0, 1  # a line exists at or after `low`; none at or after `high`
    while has_line_from(high):
        low, high = high, high * 2
    while high - low > 1:
        middle = (low + high) // 2
        if has_line_from(middle):
            low = middle
        else:
            high = middle
    return client.logs.get(uuid, offset=low, limit=1).next_offset
