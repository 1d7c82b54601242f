"""Which runs a scheduler inside `mizzen run` may claim: the ones this process started.

Two `mizzen run` commands on one machine share a store. Without a scope each would claim the
other's runs (and stop them when it exits). A scoped scheduler claims only its roots (runs created
or resumed through this process's API) and the children of pipelines in scope; the pipeline driver
adds every pipeline it drives, so a DAG's sweep's trials are in scope too. `mizzen server` has no
scope: it runs everything.
"""

from __future__ import annotations

import threading


class ClaimScope:
    def __init__(self) -> None:
        self._roots: set[str] = set()
        self._pipelines: set[str] = set()
        self._lock = threading.Lock()

    def add_root(self, uuid: str) -> None:
        with self._lock:
            self._roots.add(uuid)

    def add_pipeline(self, uuid: str) -> None:
        with self._lock:
            self._pipelines.add(uuid)

    def snapshot(self) -> tuple[frozenset[str], frozenset[str]]:
        """(runs in scope, pipelines whose children are in scope)."""
        with self._lock:
            return frozenset(self._roots), frozenset(self._roots | self._pipelines)
