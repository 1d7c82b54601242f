"""The children of the pipelines a driver drives, read incrementally.

A planner sees every child on every tick, but a 10,000-trial sweep would then read 10,000 rows
(with their params, outputs and meta) several times a second, to find the few that changed. So the
driver reads all of a pipeline's children once, then each tick only those not done or changed
since its last read (``updated_at``, which every status change and output write sets), with an
overlap for transactions that commit late and clocks that differ a little between processes. The
total count, read in the same transaction, catches what an incremental read cannot see (a child
deleted): a mismatch, and every ``full_every``, reads everything again. The store stays the truth:
children are still created by key, so a stale view can never create one twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from mizzen.store import Database
from mizzen.store.clock import utcnow
from mizzen.store.gateway import pipelines as gateway
from mizzen.store.records import ChildRecord

OVERLAP = timedelta(seconds=2)
FULL_EVERY = timedelta(seconds=30)


@dataclass
class _Known:
    metrics: tuple[tuple[str, ...], tuple[str, ...]]  # (last values, histories) read
    read_at: datetime  # when the last read started (by the clock of this process)
    full_at: datetime
    children: dict[str, ChildRecord] = field(default_factory=dict)  # by uuid, in creation order


class ChildrenCache:
    def __init__(
        self,
        database: Database,
        *,
        clock: Callable[[], datetime] = utcnow,
        overlap: timedelta = OVERLAP,
        full_every: timedelta = FULL_EVERY,
    ) -> None:
        self.database = database
        self.clock = clock
        self.overlap = overlap
        self.full_every = full_every
        self._known: dict[str, _Known] = {}

    def read(
        self, pipeline_uuid: str, metrics: list[str], histories: list[str] | None = None
    ) -> list[ChildRecord]:
        """Every child of the pipeline as the store has it now (to within ``overlap``), with the
        last values of ``metrics`` and every value of ``histories``."""
        names = tuple(sorted(set(metrics))), tuple(sorted(set(histories or [])))
        now = self.clock()
        known = self._known.get(pipeline_uuid)
        if known is not None and known.metrics == names and now - known.full_at < self.full_every:
            changed, total = gateway.children_changed(
                self.database,
                pipeline_uuid,
                known.read_at - self.overlap,
                *names,
                known={uuid: child.updated_at for uuid, child in known.children.items()},
            )
            for child in changed:
                known.children[child.uuid] = child
            if len(known.children) == total:
                known.read_at = now
                return list(known.children.values())
        children = gateway.children(self.database, pipeline_uuid, *names)
        self._known[pipeline_uuid] = _Known(names, now, now, {child.uuid: child for child in children})
        return children

    def forget(self, pipeline_uuid: str) -> None:
        self._known.pop(pipeline_uuid, None)
