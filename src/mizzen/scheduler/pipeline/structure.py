"""A pipeline's structure, compiled from its stored spec: the sweep, DAG or schedule it expands,
and what each of its children is made of (their spec, their meta, their kind).

A child's spec is its pipeline's spec (a schedule's without ``schedule``); its meta says which
part it runs: ``trial`` (the values a tuner gave it), ``dag_op`` (the op of a DAG) with ``upstream``
(the values it read from upstream ops). The scheduler compiles each child from those
(``scheduler.compile_run``), so a trial or an op compiles exactly like a run of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mizzen.compiler.compile import Compiled, Compiler
from mizzen.compiler.dag import DagStructure
from mizzen.errors import CompileError
from mizzen.schemas.pipelines import DAG, DAG_OP_KEY, MATRIX, SCHEDULE, UPSTREAM_KEY
from mizzen.spec import load_dict
from mizzen.store.records import RunRecord


@dataclass(frozen=True)
class Structure:
    kind: str  # matrix | dag | schedule
    compiled: Compiled  # the pipeline's spec, compiled (a DAG's, for the sweep of one of its ops)
    compiler: Compiler
    child_spec: dict[str, Any]
    child_kind: str  # what each child of a sweep or schedule is (job, ..., or dag/matrix)
    child_meta: dict[str, Any] = field(default_factory=dict)
    matrix: Any = None  # MatrixSpec of a sweep
    dag: DagStructure | None = None
    schedule: Any = None  # ScheduleSpec
    op_name: str | None = None  # this sweep is the matrix of this op of its DAG


def structure_of(pipeline: RunRecord, compiler: Compiler) -> Structure:
    """Compile ``pipeline``'s spec and say what it expands into; ``CompileError`` when it cannot."""
    if not pipeline.spec:
        raise CompileError(f"pipeline {pipeline.uuid} has no polyaxonfile")
    spec = dict(pipeline.spec)
    loaded = load_dict(spec, source=f"run {pipeline.uuid[:12]}")
    compiled = compiler.compile_loaded(loaded, pipeline.params)
    op_name = pipeline.meta.get(DAG_OP_KEY)
    if op_name and pipeline.kind == MATRIX:  # the sweep of one op of a DAG: its trials are that op
        # with the trial's values (a nested DAG op's spec is standalone: it compiles as a DAG)
        if compiled.dag is None or op_name not in compiled.dag.ops:
            raise CompileError(f"no op named {op_name!r} in this DAG")
        op = compiled.dag.ops[op_name]
        meta = {DAG_OP_KEY: op_name, UPSTREAM_KEY: pipeline.meta.get(UPSTREAM_KEY) or {}}
        return Structure(MATRIX, compiled, compiler, spec, op.kind, meta, matrix=op.matrix, op_name=op_name)
    if pipeline.kind == SCHEDULE:
        if compiled.schedule is None:
            raise CompileError("a schedule pipeline needs a `schedule` section")
        child_spec = {k: v for k, v in spec.items() if k != "schedule"}
        return Structure(
            SCHEDULE, compiled, compiler, child_spec, _kind_of(compiled), schedule=compiled.schedule
        )
    if pipeline.kind == MATRIX:
        if compiled.matrix is None:
            raise CompileError("a matrix pipeline needs a `matrix` section")
        return Structure(MATRIX, compiled, compiler, spec, compiled.kind.value, matrix=compiled.matrix)
    if pipeline.kind == DAG:
        if compiled.dag is None:
            raise CompileError("a dag pipeline needs `run.kind: dag`")
        return Structure(DAG, compiled, compiler, spec, DAG, dag=compiled.dag)
    raise CompileError(f"{pipeline.kind!r} is not a pipeline kind")


def _kind_of(compiled: Compiled) -> str:
    """The kind of one tick of a schedule: a sweep, a DAG, or the run's own kind."""
    if compiled.matrix is not None:
        return MATRIX
    if compiled.dag is not None:
        return DAG
    return compiled.kind.value
