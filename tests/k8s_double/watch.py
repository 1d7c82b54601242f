"""Watch streams: resume from a resourceVersion, bookmarks, 410 expiry, timeouts and dropped streams."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from .api import ObjectApi
from .errors import ApiError
from .resources import ResourceType
from .selectors import parse_field_selector, parse_label_selector
from .store import Change, Watcher

INITIAL_EVENTS_END = "k8s.io/initial-events-end"


class DroppedWatch(Exception):
    """Raised inside a response stream to cut the connection without ending the chunked body."""


@dataclass
class _Control:
    kind: str  # "bookmark", "close", "reset", "stop"
    annotations: dict[str, str] | None = None
    rv: int = 0


@dataclass
class WatchRequest:
    rtype: ResourceType
    namespace: str | None
    label_selector: str | None
    field_selector: str | None
    resource_version: str | None
    allow_bookmarks: bool
    send_initial_events: bool
    timeout_seconds: float | None


class WatchHub:
    """Tracks open watch streams so tests can drop them, send bookmarks or stop them all."""

    def __init__(self, api: ObjectApi) -> None:
        self.api = api
        self.default_timeout = 1800.0
        self.bookmark_interval = 60.0
        self._lock = threading.Condition()
        self._streams: list[WatchStream] = []
        # (events before the drop, mode) for the next watch requests, consumed in order
        self._planned_drops: list[tuple[int, str]] = []
        self.opened = 0

    def open(self, request: WatchRequest) -> WatchStream:
        with self._lock:
            drop = self._planned_drops.pop(0) if self._planned_drops else None
            self.opened += 1
        stream = WatchStream(self, request, asyncio.get_running_loop(), drop)
        stream.start()
        with self._lock:
            self._streams.append(stream)
            self._lock.notify_all()
        return stream

    def wait_for_watches(self, count: int = 1, timeout: float = 30.0) -> None:
        """Block until at least `count` watches are open (each already registered for changes)."""
        with self._lock:
            if not self._lock.wait_for(lambda: len(self._streams) >= count, timeout):
                raise TimeoutError(f"{len(self._streams)} watches open after {timeout}s, expected {count}")

    def closed(self, stream: WatchStream) -> None:
        with self._lock:
            if stream in self._streams:
                self._streams.remove(stream)

    def open_streams(self) -> list[WatchStream]:
        with self._lock:
            return list(self._streams)

    def plan_drop(self, after_events: int = 0, mode: str = "reset") -> None:
        with self._lock:
            self._planned_drops.append((after_events, mode))

    def drop_all(self, mode: str = "reset") -> int:
        streams = self.open_streams()
        for stream in streams:
            stream.control(_Control(mode))
        return len(streams)

    def send_bookmarks(self) -> int:
        sent = 0
        with self.api.store.lock:
            rv = self.api.store.resource_version
            for stream in self.open_streams():
                if stream.request.allow_bookmarks:
                    stream.control(_Control("bookmark", rv=rv))
                    sent += 1
        return sent

    def stop_all(self) -> None:
        for stream in self.open_streams():
            stream.control(_Control("stop"))


class WatchStream:
    def __init__(
        self,
        hub: WatchHub,
        request: WatchRequest,
        loop: asyncio.AbstractEventLoop,
        drop: tuple[int, str] | None,
    ) -> None:
        self.hub = hub
        self.request = request
        self.loop = loop
        self.queue: asyncio.Queue[Change | _Control] = asyncio.Queue()
        self._drop = drop
        self._backlog: list[Change | _Control] = []
        rtype = request.rtype
        labels = parse_label_selector(request.label_selector)
        fields = parse_field_selector(request.field_selector, rtype.kind)
        self.watcher = Watcher(
            rtype.key,
            request.namespace if rtype.namespaced else None,
            lambda obj: labels(obj["metadata"].get("labels") or {}) and fields(obj),
            self._deliver,
        )

    def _deliver(self, item: Change | str) -> None:
        if isinstance(item, Change):
            self.control(item)

    def control(self, item: Change | _Control) -> None:
        with contextlib.suppress(RuntimeError):  # the server's loop is gone
            self.loop.call_soon_threadsafe(self.queue.put_nowait, item)

    def start(self) -> None:
        """Compute the backlog and register, atomically with respect to writes."""
        store = self.hub.api.store
        req = self.request
        with store.lock:
            rv = req.resource_version
            if rv in (None, "", "0"):
                current = store.resource_version
                for obj in store.objects(self.watcher.key, self.watcher.namespace):
                    if self.watcher.matches(obj):
                        self._backlog.append(Change(current, "ADDED", self.watcher.key, "", "", obj, None))
                if req.send_initial_events and req.allow_bookmarks:
                    self._backlog.append(_Control("bookmark", {INITIAL_EVENTS_END: "true"}, current))
            else:
                try:
                    since = int(rv)
                except ValueError as exc:
                    raise ApiError(400, "BadRequest", f"invalid resource version: {rv}") from exc
                self._backlog.extend(store.changes_since(since, self.watcher))
            store.add_watcher(self.watcher)

    def _line(self, event_type: str, obj: dict[str, Any]) -> bytes:
        return (json.dumps({"type": event_type, "object": obj}, separators=(",", ":")) + "\n").encode()

    def _bookmark(self, control: _Control) -> bytes:
        rtype = self.request.rtype
        meta: dict[str, Any] = {"resourceVersion": str(control.rv)}
        if control.annotations:
            meta["annotations"] = control.annotations
        return self._line("BOOKMARK", {"kind": rtype.kind, "apiVersion": rtype.api_version, "metadata": meta})

    async def events(self) -> AsyncIterator[bytes]:
        timeout = self.request.timeout_seconds or self.hub.default_timeout
        deadline = self.loop.time() + timeout
        sent = 0
        try:
            pending = list(self._backlog)
            while True:
                if self._drop is not None and sent >= self._drop[0]:
                    if self._drop[1] == "reset":
                        raise DroppedWatch("watch dropped by fault injection")
                    return
                if pending:
                    item: Change | _Control = pending.pop(0)
                else:
                    remaining = deadline - self.loop.time()
                    if remaining <= 0:
                        return
                    try:
                        item = await asyncio.wait_for(
                            self.queue.get(), timeout=min(remaining, self.hub.bookmark_interval)
                        )
                    except TimeoutError:
                        if self.request.allow_bookmarks and deadline - self.loop.time() > 0:
                            # queued under the store lock so it follows every event it covers
                            with self.hub.api.store.lock:
                                self.control(_Control("bookmark", rv=self.hub.api.store.resource_version))
                        continue
                if isinstance(item, _Control):
                    if item.kind == "bookmark":
                        yield self._bookmark(item)
                        continue
                    if item.kind == "reset":
                        raise DroppedWatch("watch dropped by the test")
                    return  # "close" or "stop": end the stream cleanly
                obj = self.hub.api.served(item.obj, self.request.rtype)
                yield self._line(item.type, obj)
                sent += 1
        finally:
            self.hub.api.store.remove_watcher(self.watcher)
            self.hub.closed(self)


def gone_event(error: ApiError) -> bytes:
    return (json.dumps({"type": "ERROR", "object": error.status()}, separators=(",", ":")) + "\n").encode()
