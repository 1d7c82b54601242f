"""List-then-watch of one kind in one namespace, with a local cache (a minimal informer).

The watch resumes from the last resourceVersion it saw (events and bookmarks move it) when the server
ends a stream cleanly; after 410 Gone or a dropped connection it lists everything again and replaces
its cache, so an event missed in between cannot leave anything stale: ``on_relist`` tells the owner
to recompute every run.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from mizzen.executors.kubernetes.adapter import ApiFailure, KubeAdapter, WatchExpired
from mizzen.executors.kubernetes.resources import ResourceKind

log = logging.getLogger(__name__)

OnChange = Callable[[ResourceKind, str, dict[str, Any]], None]  # (kind, ADDED|MODIFIED|DELETED, object)
OnRelist = Callable[[ResourceKind, list[dict[str, Any]]], None]


def version_number(resource_version: str | None) -> int | None:
    """resourceVersions are opaque, but every API server we know counts them: compare them when we can."""
    try:
        return int(resource_version or "")
    except ValueError:
        return None


class ResourceWatcher:
    def __init__(
        self,
        adapter: KubeAdapter,
        kind: ResourceKind,
        namespace: str,
        *,
        on_change: OnChange,
        on_relist: OnRelist,
        label_selector: str | None = None,
        keep_cache: bool = True,
        timeout_seconds: int = 300,
        error_pause: float = 1.0,
    ) -> None:
        self.adapter = adapter
        self.kind = kind
        self.namespace = namespace
        self.label_selector = label_selector
        self.keep_cache = keep_cache
        self.timeout_seconds = timeout_seconds
        self.error_pause = error_pause
        self._on_change = on_change
        self._on_relist = on_relist
        self._cache: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self.synced = threading.Event()  # set once the first list is in the cache
        self.resource_version = ""
        self.lists = 0  # how many times it listed (1 + relists)
        self.bookmarks = 0
        self._thread = threading.Thread(target=self._run, name=f"k8s-watch-{kind.plural}", daemon=True)

    # -- control -----------------------------------------------------------------------------------

    def start(self) -> ResourceWatcher:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()

    def join(self, timeout: float) -> None:
        if self._thread.is_alive():
            self._thread.join(timeout)

    # -- the cache ---------------------------------------------------------------------------------

    def get(self, name: str) -> dict[str, Any] | None:
        with self._lock:
            return self._cache.get(name)

    def items(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._cache.values())

    def caught_up_with(self, resource_version: str | None) -> bool:
        """The cache reflects every change up to ``resource_version`` (listed since, or watched past)."""
        if not self.synced.is_set():
            return False
        seen, wanted = version_number(self.resource_version), version_number(resource_version)
        return seen is None or wanted is None or seen >= wanted

    # -- the loop ----------------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stopped.is_set():
            try:
                self._list()
                self._watch_until_broken()
            except ApiFailure as failure:
                if self._stopped.is_set():
                    return
                log.warning(
                    "watching %s: %s; listing again in %.1fs", self.kind.plural, failure, self.error_pause
                )
                self._stopped.wait(self.error_pause)
            except Exception:  # a bug in a callback must not end the watch
                if self._stopped.is_set():
                    return
                log.exception("watching %s failed; listing again", self.kind.plural)
                self._stopped.wait(self.error_pause)

    def _list(self) -> None:
        items, resource_version = self.adapter.list(
            self.kind, self.namespace, label_selector=self.label_selector
        )
        with self._lock:
            if self.keep_cache:
                self._cache = {item["metadata"]["name"]: item for item in items}
            self.resource_version = resource_version
            self.lists += 1
        self.synced.set()
        self._on_relist(self.kind, items)

    def _watch_until_broken(self) -> None:
        """Watch, resuming after clean ends; returns when a relist is needed (410, dropped stream)."""
        while not self._stopped.is_set():
            try:
                for event in self.adapter.watch(
                    self.kind,
                    self.namespace,
                    self.resource_version,
                    label_selector=self.label_selector,
                    timeout_seconds=self.timeout_seconds,
                ):
                    if self._stopped.is_set():
                        return
                    self._apply(event.type, event.object, event.resource_version)
            except WatchExpired:
                log.info("watch of %s expired (410 Gone): listing again", self.kind.plural)
                return
            except ApiFailure as failure:
                if self._stopped.is_set():
                    return
                log.info("watch of %s dropped (%s): listing again", self.kind.plural, failure)
                return

    def _apply(self, event_type: str, obj: dict[str, Any], resource_version: str) -> None:
        if event_type == "BOOKMARK":
            with self._lock:
                self.resource_version = resource_version or self.resource_version
                self.bookmarks += 1
            return
        name = obj.get("metadata", {}).get("name", "")
        with self._lock:
            if self.keep_cache:
                if event_type == "DELETED":
                    self._cache.pop(name, None)
                else:
                    self._cache[name] = obj
            self.resource_version = resource_version or self.resource_version
        self._on_change(self.kind, event_type, obj)
