"""Object storage: one global resourceVersion counter, the change history watches resume from."""

from __future__ import annotations

import collections
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from .errors import gone

Key = tuple[str, str]  # (group, plural)
Obj = dict[str, Any]


@dataclass(frozen=True)
class Change:
    rv: int
    type: str  # ADDED, MODIFIED or DELETED
    key: Key
    namespace: str
    name: str
    obj: Obj  # the object after the change (for DELETED: its last state)
    old: Obj | None  # the object before the change


class Watcher:
    """One open watch; `deliver` is called (under the store lock) with each change it should see."""

    def __init__(
        self,
        key: Key,
        namespace: str | None,
        matches: Callable[[Obj], bool],
        deliver: Callable[[Change | str], None],
        name: str | None = None,
    ) -> None:
        self.key = key
        self.namespace = namespace
        self.name = name
        self.matches = matches
        self.deliver = deliver

    def concerns(self, change: Change) -> bool:
        if change.key != self.key:
            return False
        if self.namespace is not None and change.namespace != self.namespace:
            return False
        return self.name is None or change.name == self.name

    def translate(self, change: Change) -> Change | None:
        """The event this watcher sees: objects entering/leaving its selector become ADDED/DELETED."""
        now = self.matches(change.obj)
        before = change.old is not None and self.matches(change.old)
        if change.type == "MODIFIED":
            if now and not before:
                return Change(change.rv, "ADDED", change.key, change.namespace, change.name, change.obj, None)
            if before and not now:
                return Change(
                    change.rv, "DELETED", change.key, change.namespace, change.name, change.obj, None
                )
            return change if now else None
        return change if now else None


class Store:
    """Objects by (group, plural) then (namespace, name). Callers hold `lock` around compound steps."""

    def __init__(self, history_window: int = 10_000) -> None:
        self.lock = threading.RLock()
        self._objects: dict[Key, dict[tuple[str, str], Obj]] = collections.defaultdict(dict)
        self._rv = 0
        self._history: collections.deque[Change] = collections.deque(maxlen=history_window)
        # rv of the oldest change that was dropped from the history (0: none dropped)
        self._compacted_rv = 0
        self._watchers: list[Watcher] = []
        self._hooks: list[Callable[[Change], None]] = []
        self._after_transaction: list[Callable[[], None]] = []
        self._depth = 0

    # -- transactions -----------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Hold the lock; when the outermost transaction ends, run the after-transaction callbacks
        (controllers reconcile there, so an API call returns before they react, as in a cluster)."""
        with self.lock:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            if self._depth == 0:
                self._depth += 1
                try:
                    for callback in list(self._after_transaction):
                        callback()
                finally:
                    self._depth -= 1

    def on_commit(self, hook: Callable[[Change], None]) -> None:
        self._hooks.append(hook)

    def after_transaction(self, callback: Callable[[], None]) -> None:
        self._after_transaction.append(callback)

    # -- reads ------------------------------------------------------------------------------
    @property
    def resource_version(self) -> int:
        return self._rv

    def get(self, key: Key, namespace: str, name: str) -> Obj | None:
        """The stored object itself: never mutate it; writes go through `put`."""
        return self._objects[key].get((namespace, name))

    def objects(self, key: Key, namespace: str | None = None) -> list[Obj]:
        with self.lock:
            items = self._objects[key].items()
            return [obj for (ns, _), obj in sorted(items) if namespace is None or ns == namespace]

    def stored_keys(self) -> list[Key]:
        return [key for key, objects in self._objects.items() if objects]

    # -- writes -----------------------------------------------------------------------------
    def put(self, key: Key, obj: Obj, *, added: bool) -> Obj:
        """Store `obj` (owned by the store from now on) with the next resourceVersion."""
        with self.lock:
            # a fresh metadata dict: writers may have copied the old object shallowly
            obj = {**obj, "metadata": dict(obj["metadata"])}
            meta = obj["metadata"]
            namespace, name = meta.get("namespace", ""), meta["name"]
            old = self._objects[key].get((namespace, name))
            self._rv += 1
            meta["resourceVersion"] = str(self._rv)
            self._objects[key][(namespace, name)] = obj
            self._commit(Change(self._rv, "ADDED" if added else "MODIFIED", key, namespace, name, obj, old))
            return obj

    def remove(self, key: Key, namespace: str, name: str) -> Obj:
        with self.lock:
            old = self._objects[key].pop((namespace, name))
            self._rv += 1
            last = {**old, "metadata": {**old["metadata"], "resourceVersion": str(self._rv)}}
            self._commit(Change(self._rv, "DELETED", key, namespace, name, last, old))
            return last

    def _commit(self, change: Change) -> None:
        if self._history.maxlen == 0:
            self._compacted_rv = change.rv
        elif len(self._history) == self._history.maxlen:
            self._compacted_rv = self._history[0].rv
        self._history.append(change)
        for watcher in list(self._watchers):
            if watcher.concerns(change):
                seen = watcher.translate(change)
                if seen is not None:
                    watcher.deliver(seen)
        for hook in self._hooks:
            hook(change)

    # -- history and watches ----------------------------------------------------------------
    def set_history_window(self, size: int) -> None:
        """Keep only the last `size` changes; watches from an older resourceVersion get 410 Gone."""
        with self.lock:
            kept = list(self._history)[-size:] if size > 0 else []
            dropped = len(self._history) - len(kept)
            if dropped:
                self._compacted_rv = self._history[dropped - 1].rv
            self._history = collections.deque(kept, maxlen=size)

    def compact(self) -> None:
        """Forget the whole history, as an etcd compaction would: any older resourceVersion is gone."""
        with self.lock:
            self._history.clear()
            self._compacted_rv = self._rv

    def oldest_resumable_rv(self) -> int:
        return self._compacted_rv

    def changes_since(self, rv: int, watcher: Watcher) -> list[Change]:
        """Changes after `rv` that `watcher` should see; 410 Gone when they were compacted away."""
        if rv < self._compacted_rv:
            raise gone(f"too old resource version: {rv} ({self._compacted_rv + 1})")
        found = []
        for change in self._history:
            if change.rv > rv and watcher.concerns(change):
                seen = watcher.translate(change)
                if seen is not None:
                    found.append(seen)
        return found

    def add_watcher(self, watcher: Watcher) -> None:
        with self.lock:
            self._watchers.append(watcher)

    def remove_watcher(self, watcher: Watcher) -> None:
        with self.lock:
            if watcher in self._watchers:
                self._watchers.remove(watcher)

    def watchers(self) -> list[Watcher]:
        with self.lock:
            return list(self._watchers)
