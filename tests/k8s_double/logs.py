"""Container logs: what the kubelet would serve through pods/<name>/log, including follow."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from . import errors
from .api import ObjectApi
from .store import Change, Obj

LogKey = tuple[str, str, str]  # (pod uid, container, instance: "current" or "previous")


@dataclass
class LogQuery:
    container: str | None = None
    follow: bool = False
    tail_lines: int | None = None
    timestamps: bool = False
    previous: bool = False
    since_seconds: int | None = None
    limit_bytes: int | None = None


@dataclass
class _Follower:
    pod_uid: str
    loop: asyncio.AbstractEventLoop
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    def notify(self) -> None:
        with contextlib.suppress(RuntimeError):  # the server's loop is gone
            self.loop.call_soon_threadsafe(self.wake.set)


def _stamp() -> tuple[str, dt.datetime]:
    moment = dt.datetime.now(dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f000Z"), moment


class LogStore:
    def __init__(self, api: ObjectApi) -> None:
        self.api = api
        self._lock = threading.Lock()
        self._lines: dict[LogKey, list[tuple[str, dt.datetime, str]]] = {}
        self._followers: list[_Follower] = []
        self._stopping = False
        api.store.on_commit(self._on_change)

    # -- writing (test control) -------------------------------------------------------------
    def append(self, pod: Obj, container: str, text: str, *, same_write: bool = False) -> None:
        """Lines written at once share one timestamp; ``same_write``: these lines belong to the same
        write as the last ones appended (the container runtime gives them the same timestamp)."""
        stamp, moment = _stamp()
        lines = text.splitlines(keepends=True)
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
        with self._lock:
            buffer = self._lines.setdefault((pod["metadata"]["uid"], container, "current"), [])
            if same_write and buffer:
                stamp, moment = buffer[-1][0], buffer[-1][1]
            buffer.extend((stamp, moment, line) for line in lines)
        self._wake(pod["metadata"]["uid"])

    def restart(self, pod: Obj, container: str) -> None:
        """The container exited and will restart: its logs are also the `previous=true` logs (and stay the
        current ones until the next instance writes, as with a container waiting in CrashLoopBackOff)."""
        uid = pod["metadata"]["uid"]
        with self._lock:
            self._lines[(uid, container, "previous")] = list(self._lines.get((uid, container, "current"), []))

    # -- reading ----------------------------------------------------------------------------
    def resolve_container(self, pod: Obj, wanted: str | None) -> str:
        names = [c["name"] for c in pod["spec"].get("containers", [])]
        init_names = [c["name"] for c in pod["spec"].get("initContainers") or []]
        name = pod["metadata"]["name"]
        if wanted is None:
            if len(names) == 1:
                return names[0]
            choices = " ".join(names)
            message = f"a container name must be specified for pod {name}, choose one of: [{choices}]"
            if init_names:
                message += f" or one of the init containers: [{' '.join(init_names)}]"
            raise errors.bad_request(message)
        if wanted not in names + init_names:
            raise errors.bad_request(f"container {wanted} is not valid for pod {name}")
        return wanted

    def check_readable(self, pod: Obj, container: str, previous: bool) -> None:
        state = container_state(pod, container)
        name = pod["metadata"]["name"]
        if previous:
            with self._lock:
                if (pod["metadata"]["uid"], container, "previous") not in self._lines:
                    raise errors.bad_request(
                        f'previous terminated container "{container}" in pod "{name}" not found'
                    )
            return
        if state is None or ("waiting" in state and not self._has_lines(pod, container)):
            reason = ((state or {}).get("waiting") or {}).get("reason", "ContainerCreating")
            if reason in ("ImagePullBackOff", "ErrImagePull"):
                reason = "trying and failing to pull image"
            raise errors.bad_request(f'container "{container}" in pod "{name}" is waiting to start: {reason}')

    def _has_lines(self, pod: Obj, container: str) -> bool:
        with self._lock:
            return bool(self._lines.get((pod["metadata"]["uid"], container, "current")))

    def read(self, pod: Obj, container: str, query: LogQuery, start: int = 0) -> tuple[bytes, int]:
        """The selected lines from index `start`; returns (bytes, next index)."""
        instance = "previous" if query.previous else "current"
        with self._lock:
            lines = list(self._lines.get((pod["metadata"]["uid"], container, instance), []))
        end = len(lines)
        selected = lines[start:]
        if start == 0:
            if query.since_seconds is not None:
                cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=query.since_seconds)
                selected = [entry for entry in selected if entry[1] >= cutoff]
            if query.tail_lines is not None:
                selected = selected[-query.tail_lines :] if query.tail_lines > 0 else []
        out = "".join(f"{stamp} {line}" if query.timestamps else line for stamp, _, line in selected)
        return out.encode(), end

    async def follow(self, pod: Obj, container: str, query: LogQuery) -> AsyncIterator[bytes]:
        follower = _Follower(pod["metadata"]["uid"], asyncio.get_running_loop())
        with self._lock:
            self._followers.append(follower)
        sent_bytes = 0
        try:
            chunk, index = self.read(pod, container, query)
            while True:
                if chunk:
                    if query.limit_bytes is not None:
                        chunk = chunk[: max(0, query.limit_bytes - sent_bytes)]
                    sent_bytes += len(chunk)
                    yield chunk
                    if query.limit_bytes is not None and sent_bytes >= query.limit_bytes:
                        return
                current = self._current_pod(pod)
                if self._stopping or current is None or _finished(current, container):
                    rest, _ = self.read(pod, container, query, index)
                    if rest:
                        yield rest
                    return
                follower.wake.clear()
                chunk, next_index = self.read(pod, container, query, index)
                if not chunk:
                    await follower.wake.wait()
                    chunk, next_index = self.read(pod, container, query, index)
                index = next_index
        finally:
            with self._lock:
                self._followers.remove(follower)

    def stop_all(self) -> None:
        self._stopping = True
        with self._lock:
            followers = list(self._followers)
        for follower in followers:
            follower.notify()

    def forget(self, pod_uid: str) -> None:
        with self._lock:
            for key in [k for k in self._lines if k[0] == pod_uid]:
                del self._lines[key]

    # -- internals --------------------------------------------------------------------------
    def _current_pod(self, pod: Obj) -> Obj | None:
        meta = pod["metadata"]
        current = self.api.store.get(("", "pods"), meta["namespace"], meta["name"])
        if current is None or current["metadata"]["uid"] != meta["uid"]:
            return None
        return current

    def _wake(self, uid: str) -> None:
        with self._lock:
            followers = [f for f in self._followers if f.pod_uid == uid]
        for follower in followers:
            follower.notify()

    def _on_change(self, change: Change) -> None:
        if change.key == ("", "pods"):
            self._wake(change.obj["metadata"]["uid"])


def container_state(pod: Obj, container: str) -> dict[str, Any] | None:
    status = pod.get("status") or {}
    for entry in (status.get("containerStatuses") or []) + (status.get("initContainerStatuses") or []):
        if entry.get("name") == container:
            return entry.get("state") or {}
    return None


def _finished(pod: Obj, container: str) -> bool:
    state = container_state(pod, container)
    return bool(state and "terminated" in state)
