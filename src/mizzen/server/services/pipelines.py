"""Reads of a pipeline for the CLI's progress view and the web UI: its progress in one call (status
counts, the best child by the sweep's metric, a DAG's ops and edges with their statuses, what its
planner records) and its children page by page with one metric. Each call makes the same few
queries whatever the number of children."""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from mizzen.compiler.compile import Compiler
from mizzen.errors import CompileError, Conflict, InvalidInput, MizzenError
from mizzen.scheduler.pipeline.structure import Structure, structure_of
from mizzen.schemas.pipeline_api import (
    DagNode,
    PipelineChild,
    PipelineChildren,
    PipelineMetric,
    PipelineRead,
)
from mizzen.schemas.pipelines import DAG, PIPELINE_KINDS, PIPELINE_STATE_KEY, op_key
from mizzen.schemas.statuses import DONE_STATUSES, RunStatus
from mizzen.server.services.validation import check_length
from mizzen.store import Database
from mizzen.store.gateway import pipeline_reads, pipelines
from mizzen.store.gateway import runs as runs_gateway
from mizzen.store.records import ChildRecord, RunRecord

_CACHED_SHAPES = 256  # a pipeline's spec never changes: its shape is compiled once per server
MAX_PAGE = 10_000


@dataclass(frozen=True)
class _Shape:
    """What a pipeline's compiled spec says about it (compiled once, not on every refresh)."""

    sweep: str | None = None
    metric: PipelineMetric | None = None
    total: int | None = None
    nodes: list[DagNode] = field(default_factory=list)
    problem: str | None = None  # its spec does not compile (the driver fails it, saying why)


class PipelineService:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._shapes: OrderedDict[str, _Shape] = OrderedDict()

    def read(self, uuid: str, metric: str | None = None, optimization: str | None = None) -> PipelineRead:
        pipeline = self._pipeline(uuid)
        shape = self._shape(pipeline)
        chosen = _chosen_metric(shape, metric, optimization)
        counts = pipelines.status_counts(self.db, uuid)
        best = None
        if chosen is not None:
            top = pipeline_reads.children_page(  # the best is a trial that finished well, not one running
                self.db,
                uuid,
                metric=chosen.name,
                descending=chosen.optimization == "maximize",
                limit=1,
                statuses=[RunStatus.SUCCEEDED.value],
            )
            best = _child(top[0], chosen.name) if top and top[0].metrics else None
        nodes = self._nodes(uuid, shape) if pipeline.kind == DAG else []
        edges = [(parent, node.name) for node in nodes for parent in node.upstream]
        progress = pipeline.meta.get(PIPELINE_STATE_KEY)
        return PipelineRead(
            uuid=pipeline.uuid,
            name=pipeline.name,
            kind=pipeline.kind,
            sweep=shape.sweep,
            status=pipeline.status,
            counts=counts,
            total=_total(progress, shape),
            metric=chosen,
            best=best,
            nodes=nodes,
            edges=edges,
            progress=progress if isinstance(progress, dict) else {},
            outputs=pipeline.outputs,
            message=self._ending(pipeline) or shape.problem,
            metric_names=pipeline_reads.metric_names(self.db, uuid) if metric else None,
        )

    def children(
        self,
        uuid: str,
        metric: str | None = None,
        optimization: str | None = None,
        sort: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> PipelineChildren:
        pipeline = self._pipeline(uuid)
        chosen = _chosen_metric(self._shape(pipeline), metric, optimization)
        descending = chosen is not None and chosen.optimization == "maximize"
        if sort is not None:  # "metric" (best first), "-metric", "created" (the default without one)
            if sort not in ("metric", "-metric", "created"):
                raise InvalidInput(f"sort {sort!r}: use metric, -metric or created", field="sort")
            if sort != "created" and chosen is None:
                raise InvalidInput("sorting by the metric needs ?metric=NAME (this sweep names none)", "sort")
            descending = descending != (sort == "-metric")
        by_metric = chosen is not None and sort != "created"
        page = pipeline_reads.children_page(
            self.db,
            uuid,
            metric=chosen.name if by_metric and chosen else None,
            descending=descending,
            limit=limit,
            offset=offset,
        )
        if chosen is not None and not by_metric:  # created order, with the metric's values
            page = self._with_metric(uuid, page, chosen.name)
        count = sum(pipelines.status_counts(self.db, uuid).values())
        name = chosen.name if chosen else None
        return PipelineChildren(
            items=[_child(c, name) for c in page], count=count, limit=limit, offset=offset, metric=chosen
        )

    # -- helpers ------------------------------------------------------------------------------------

    def _pipeline(self, uuid: str) -> RunRecord:
        run = runs_gateway.get_run(self.db, uuid)
        if run.kind not in PIPELINE_KINDS:
            raise Conflict(
                f"run {uuid} is a {run.kind}, not a pipeline (a sweep, DAG or schedule): read it with "
                f"GET /api/v1/runs/{uuid}"
            )
        return run

    def _shape(self, pipeline: RunRecord) -> _Shape:
        shape = self._shapes.get(pipeline.uuid)
        if shape is None:
            shape = self._shapes[pipeline.uuid] = _shape_of(pipeline)
            while len(self._shapes) > _CACHED_SHAPES:
                self._shapes.popitem(last=False)
        return shape

    def _nodes(self, uuid: str, shape: _Shape) -> list[DagNode]:
        keys = [op_key(node.name) for node in shape.nodes]
        created = {c.key: c for c in pipeline_reads.children_page(self.db, uuid, limit=MAX_PAGE, keys=keys)}
        nodes = []
        for node in shape.nodes:
            child = created.get(op_key(node.name))
            nodes.append(
                node.model_copy(update={"status": child.status, "uuid": child.uuid}) if child else node
            )
        return nodes

    def _with_metric(self, uuid: str, page: list[ChildRecord], metric: str) -> list[ChildRecord]:
        keys = [c.key for c in page if c.key]
        valued = pipeline_reads.children_page(self.db, uuid, metric=metric, limit=MAX_PAGE, keys=keys)
        values = {c.uuid: c.metrics for c in valued}
        return [ChildRecord(**{**c.__dict__, "metrics": values.get(c.uuid, {})}) for c in page]

    def _ending(self, pipeline: RunRecord) -> str | None:
        if pipeline.status not in DONE_STATUSES:
            return None
        conditions = runs_gateway.conditions_of(self.db, pipeline.uuid)
        last = conditions[-1] if conditions else None
        return (last.message or last.reason) if last is not None else None


def _shape_of(pipeline: RunRecord) -> _Shape:
    try:
        structure = structure_of(pipeline, Compiler())
    except (CompileError, MizzenError) as error:
        return _Shape(problem=str(error))
    if structure.dag is not None and structure.kind == DAG:
        dag = structure.dag
        nodes = [
            DagNode(
                name=name,
                kind="matrix" if dag.ops[name].matrix is not None else dag.ops[name].kind,
                upstream=sorted(dag.graph.upstream.get(name, ())),
                trigger=dag.ops[name].trigger,
            )
            for name in dag.graph.order
        ]
        return _Shape(total=len(nodes), nodes=nodes)
    matrix = structure.matrix
    if matrix is None:
        return _Shape()
    return _Shape(sweep=str(matrix.kind), metric=_sweep_metric(matrix), total=_sweep_size(structure))


def _sweep_metric(matrix: Any) -> PipelineMetric | None:
    metric = getattr(matrix, "metric", None)
    if metric is None or not getattr(metric, "name", None):
        return None
    optimization = str(getattr(metric, "optimization", None) or "minimize")
    return PipelineMetric(
        name=str(metric.name), optimization="maximize" if optimization == "maximize" else "minimize"
    )


def _sweep_size(structure: Structure) -> int | None:
    """How many trials the sweep makes, when its spec says so plainly; else None."""
    matrix = structure.matrix
    num_runs = getattr(matrix, "num_runs", None)
    if isinstance(num_runs, int):
        return num_runs
    if matrix.kind == "mapping":
        return len(matrix.values)
    if matrix.kind == "grid":
        sizes = [getattr(p, "value", None) for p in matrix.params.values()]
        if all(isinstance(s, list) for s in sizes):
            return math.prod(len(s) for s in sizes if isinstance(s, list))
    return None


def _chosen_metric(shape: _Shape, metric: str | None, optimization: str | None) -> PipelineMetric | None:
    """The metric asked for (minimised unless ``optimization`` says, or the sweep maximises it), or
    the sweep's own."""
    if optimization not in (None, "minimize", "maximize"):
        raise InvalidInput(f"optimization {optimization!r}: use minimize or maximize", field="optimization")
    if metric is None:
        if optimization is not None and shape.metric is not None:
            return shape.metric.model_copy(update={"optimization": optimization})
        return shape.metric
    check_length(metric, 255, "metric")
    if not metric.strip():
        raise InvalidInput("metric: give a metric's name, e.g. ?metric=loss", field="metric")
    if optimization is None and shape.metric is not None and shape.metric.name == metric:
        return shape.metric
    return PipelineMetric(name=metric, optimization="maximize" if optimization == "maximize" else "minimize")


def _total(progress: Any, shape: _Shape) -> int | None:
    if isinstance(progress, dict) and isinstance(progress.get("total"), int):
        return int(progress["total"])
    return shape.total


def _child(child: ChildRecord, metric: str | None) -> PipelineChild:
    return PipelineChild(
        uuid=child.uuid,
        key=child.key,
        name=child.name,
        kind=child.kind,
        status=child.status,
        params=child.params,
        outputs=child.outputs,
        metric=child.metrics.get(metric) if metric else None,
        created_at=child.created_at,
        started_at=child.started_at,
        finished_at=child.finished_at,
    )
