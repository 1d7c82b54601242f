"""What a pipeline's planner sees (``PipelineView``) and what it decides (``Step``).

A planner is pure: given the pipeline, its compiled structure and its children as the store has
them now, it answers which children to create (each with a key unique in the pipeline), stop or
start again, and whether the pipeline is done. The driver applies the step. Because children are
created by key and the view is rebuilt from the store on every tick, a planner holds no state of
its own: a driver that crashes, restarts, or runs beside another, decides the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from mizzen.scheduler.pipeline.structure import Structure
from mizzen.schemas.statuses import RunStatus
from mizzen.store.records import ChildRecord, RunRecord


@dataclass(frozen=True)
class NewChild:
    key: str  # unique within the pipeline: trial-00007, op-train, tick-20261207T100000Z
    kind: str  # job, service, ... or matrix/dag/schedule for a nested pipeline
    name: str | None = None
    params: dict[str, Any] = field(default_factory=dict)  # shown and queried as the child's params
    inputs: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)  # merged over the structure's child meta
    spec: dict[str, Any] | None = None  # default: the structure's child spec
    tags: list[str] = field(default_factory=list)
    queue: str | None = None
    cache_key: str | None = None
    status: RunStatus = RunStatus.CREATED  # skipped / upstream_failed: a DAG op that will not run
    reason: str | None = None
    message: str | None = None


@dataclass(frozen=True)
class ResumeChild:
    """Start a finished child again (the same run) with new params and meta merged in; a child whose
    meta already has ``meta`` is left alone, so a step applied twice resumes it once."""

    uuid: str
    params: dict[str, Any]
    meta: dict[str, Any]
    why: str


@dataclass(frozen=True)
class Finish:
    status: RunStatus  # succeeded, failed, stopped
    reason: str
    message: str


@dataclass
class Step:
    create: list[NewChild] = field(default_factory=list)
    stop: list[tuple[str, str]] = field(default_factory=list)  # (child uuid, why: shown on the child)
    resume: list[str] = field(default_factory=list)  # children to start again (same run)
    resume_with: list[ResumeChild] = field(default_factory=list)  # ... with new params (hyperband)
    finish: Finish | None = None
    progress: dict[str, Any] | None = None  # stored in the pipeline's meta["pipeline"]
    outputs: dict[str, Any] | None = None  # merged into the pipeline's outputs
    wake_at: datetime | None = None  # the next moment something is due (a schedule's next tick)


@dataclass(frozen=True)
class PipelineView:
    pipeline: RunRecord
    structure: Structure
    children: Sequence[ChildRecord]
    now: datetime

    def by_key(self) -> dict[str, ChildRecord]:
        return {child.key: child for child in self.children if child.key}


class Planner(Protocol):
    def metrics(self, structure: Structure) -> list[str]:
        """The metrics whose last value the planner reads on each child."""

    def histories(self, structure: Structure) -> list[str]:
        """The metrics whose every value the planner reads on each child (early stopping)."""

    def step(self, view: PipelineView) -> Step:
        """What to do now."""
