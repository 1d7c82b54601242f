"""Which planner drives a pipeline: a sweep's tuner, a DAG, or a schedule."""

from __future__ import annotations

from mizzen.scheduler.pipeline.model import Planner
from mizzen.scheduler.pipeline.structure import Structure
from mizzen.schemas.pipelines import DAG, MATRIX, SCHEDULE


def planner_for(structure: Structure) -> Planner:
    if structure.kind == MATRIX:
        from mizzen.scheduler.sweeps.planner import SweepPlanner

        return SweepPlanner()
    if structure.kind == DAG:
        from mizzen.scheduler.dag.planner import DagPlanner

        return DagPlanner()
    if structure.kind == SCHEDULE:
        from mizzen.scheduler.schedules.planner import SchedulePlanner

        return SchedulePlanner()
    raise ValueError(f"no planner for a {structure.kind!r} pipeline")
