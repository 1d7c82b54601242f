"""Watches the namespace and tells the executor which runs to look at again.

One ResourceWatcher per kind: pods, events and each kind of top-level object in use. Every change
to an object of a run marks that run dirty; a relist marks every run dirty (whatever was missed is
recomputed from the fresh list). One reconcile thread takes dirty runs, one at a time, and also
revisits every run on a tick (timeouts: image pulls, stops).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from mizzen.executors.kubernetes.adapter import KubeAdapter
from mizzen.executors.kubernetes.resources import EVENT, POD, ResourceKind
from mizzen.executors.kubernetes.watch import ResourceWatcher
from mizzen.render.k8s.metadata import MANAGED_BY, MANAGED_BY_VALUE

log = logging.getLogger(__name__)

MANAGED = f"{MANAGED_BY}={MANAGED_BY_VALUE}"
Obj = dict[str, Any]


class ClusterMonitor:
    def __init__(
        self,
        adapter: KubeAdapter,
        namespace: str,
        *,
        on_object: Callable[[ResourceKind, str, Obj], None],
        on_event: Callable[[Obj], None],
        on_relist: Callable[[ResourceKind, list[Obj]], None],
        reconcile: Callable[[str], None],
        active_runs: Callable[[], list[str]],
        housekeeping: Callable[[], None],
        tick_interval: float = 0.5,
        watch_timeout: int = 300,
        error_pause: float = 1.0,
    ) -> None:
        self.adapter = adapter
        self.namespace = namespace
        self._on_object = on_object
        self._on_event = on_event
        self._on_relist = on_relist
        self._reconcile = reconcile
        self._active_runs = active_runs
        self._housekeeping = housekeeping
        self.tick_interval = tick_interval
        self.watch_timeout = watch_timeout
        self.error_pause = error_pause
        self.watchers: dict[str, ResourceWatcher] = {}
        self._lock = threading.Lock()
        self._dirty: dict[str, None] = {}
        self._wake = threading.Condition(self._lock)
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="k8s-reconcile", daemon=True)
        self.started = False

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> None:
        if self.started:
            return
        self.started = True
        self.watch(POD, label_selector=None)  # Dask's operator drops our labels from its pods
        self.watch(EVENT, label_selector=None, keep_cache=False)
        self._thread.start()

    def watch(
        self, kind: ResourceKind, *, label_selector: str | None = MANAGED, keep_cache: bool = True
    ) -> ResourceWatcher:
        """The watcher of ``kind`` (started on first use)."""
        with self._lock:
            watcher = self.watchers.get(kind.plural)
            if watcher is not None:
                return watcher
            watcher = ResourceWatcher(
                self.adapter,
                kind,
                self.namespace,
                on_change=self._changed,
                on_relist=self._relisted,
                label_selector=label_selector,
                keep_cache=keep_cache,
                timeout_seconds=self.watch_timeout,
                error_pause=self.error_pause,
            )
            self.watchers[kind.plural] = watcher
        return watcher.start()

    def wait_synced(self, kinds: list[ResourceKind], timeout: float) -> bool:
        """Block until the watchers of ``kinds`` have listed once."""
        return all(self.watch(kind).synced.wait(timeout) for kind in kinds)

    def close(self) -> None:
        self._closed.set()
        with self._lock:
            self._wake.notify_all()
            watchers = list(self.watchers.values())
        for watcher in watchers:
            watcher.stop()
        if self._thread.is_alive():
            self._thread.join(10)

    def join_watchers(self, timeout: float) -> None:
        for watcher in list(self.watchers.values()):
            watcher.join(timeout)

    # -- dirty runs --------------------------------------------------------------------------------

    def mark(self, *uuids: str) -> None:
        with self._lock:
            for uuid in uuids:
                self._dirty[uuid] = None
            self._wake.notify_all()

    def _loop(self) -> None:
        while not self._closed.is_set():
            with self._lock:
                if not self._dirty:
                    self._wake.wait(self.tick_interval)
                if self._dirty:
                    batch, self._dirty = list(self._dirty), {}
                else:
                    batch = []
            if not batch:
                batch = self._active_runs()  # the tick: timeouts need a look even when nothing changes
            for uuid in batch:
                if self._closed.is_set():
                    return
                try:
                    self._reconcile(uuid)
                except Exception:  # one run's trouble must not stop the others
                    log.exception("reconciling run %s failed", uuid)
            try:
                self._housekeeping()
            except Exception:
                log.exception("housekeeping failed")

    # -- from the watchers -------------------------------------------------------------------------

    def _changed(self, kind: ResourceKind, event_type: str, obj: Obj) -> None:
        if kind == EVENT:
            self._on_event(obj)
        else:
            self._on_object(kind, event_type, obj)

    def _relisted(self, kind: ResourceKind, items: list[Obj]) -> None:
        if kind == EVENT:
            for item in items:
                self._on_event(item)
            return
        self._on_relist(kind, items)
        self.mark(*self._active_runs())
