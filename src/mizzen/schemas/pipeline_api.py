"""The API's view of a pipeline (a sweep, a DAG, a schedule): what `mizzen run` watches and what a
web UI draws. Routes (prefix ``/api/v1``; 409 when the run is not a pipeline):

    GET /runs/{uuid}/pipeline?metric=                       -> PipelineRead (progress in one call)
    GET /runs/{uuid}/pipeline/children?metric=&sort=&limit=&offset= -> PipelineChildren (a page)
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from mizzen.schemas.api import _Dto
from mizzen.schemas.statuses import RunStatus

Optimization = Literal["minimize", "maximize"]


class PipelineMetric(_Dto):
    name: str
    optimization: Optimization = "minimize"


class PipelineChild(_Dto):
    uuid: str
    key: str | None = None  # trial-00007, op-train, tick-...
    name: str | None = None
    kind: str
    status: RunStatus
    params: dict[str, Any] = Field(default_factory=dict)
    outputs: dict[str, Any] = Field(default_factory=dict)
    metric: float | None = None  # the last value of the chosen metric
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None


class DagNode(_Dto):
    """An op of a DAG, created or not yet (``status`` None until its run exists)."""

    name: str
    kind: str
    upstream: list[str] = Field(default_factory=list)
    trigger: str = "all_succeeded"
    status: RunStatus | None = None
    uuid: str | None = None


class PipelineRead(_Dto):
    uuid: str
    name: str | None = None
    kind: str  # matrix | dag | schedule
    sweep: str | None = None  # grid, random, tpe, ...: the kind of a sweep's matrix
    status: RunStatus
    counts: dict[str, int] = Field(default_factory=dict)  # children per status
    total: int | None = None  # children it will have in all, when known (grid size, numRuns, ops)
    metric: PipelineMetric | None = None  # the sweep's (or the one asked for)
    best: PipelineChild | None = None  # the best child by ``metric`` so far
    nodes: list[DagNode] = Field(default_factory=list)  # a DAG's ops
    edges: list[tuple[str, str]] = Field(default_factory=list)  # (upstream op, downstream op)
    progress: dict[str, Any] = Field(default_factory=dict)  # what its planner records
    outputs: dict[str, Any] = Field(default_factory=dict)
    message: str | None = None  # why it ended, once it has
    # The metrics its children logged: filled when a metric is asked for (?metric=), so that a name
    # no child has can be told apart from one not logged yet.
    metric_names: list[str] | None = None


class PipelineChildren(_Dto):
    items: list[PipelineChild]
    count: int  # all children
    limit: int
    offset: int
    metric: PipelineMetric | None = None
