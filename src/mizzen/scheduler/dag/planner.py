"""``DagPlanner``: which ops of a DAG start now, which never will, and when the DAG ends.

Pure and stateless: every tick it reads the ops' children (keyed ``op-NAME``) and decides again, so
a restarted or second driver decides the same and never runs an op twice (the store refuses a
second child with the same key). An op that will not run is still created, in the status that says
why (``skipped``, ``upstream_failed``), so every op of a finished DAG has a run to look at.
"""

from __future__ import annotations

from typing import Any

from mizzen.compiler.dag import DagOp, DagStructure
from mizzen.compiler.dag_nested import is_nested_dag, standalone_spec
from mizzen.errors import CompileError
from mizzen.scheduler.dag.events import pending_events, unreachable
from mizzen.scheduler.dag.outcome import (
    EARLY_STOPPED_KEY,
    early_stop,
    early_stopping_metrics,
    progress,
    verdict,
)
from mizzen.scheduler.dag.triggers import Decision, decide
from mizzen.scheduler.pipeline.model import Finish, NewChild, PipelineView, Step
from mizzen.scheduler.pipeline.structure import Structure
from mizzen.schemas.pipelines import DAG, DAG_OP_KEY, MATRIX, UPSTREAM_KEY, op_key
from mizzen.schemas.run_meta import APPROVED_KEY
from mizzen.schemas.statuses import DONE_STATUSES, RunStatus
from mizzen.store.records import ChildRecord

EARLY_STOPPED = "EarlyStopped"  # why an op shows stopped or skipped when the DAG stopped early


class DagPlanner:
    def metrics(self, structure: Structure) -> list[str]:
        return early_stopping_metrics(structure.dag) if structure.dag is not None else []

    def histories(self, structure: Structure) -> list[str]:
        return []  # a DAG's early stopping reads last values only

    def step(self, view: PipelineView) -> Step:
        dag = view.structure.dag
        if dag is None:
            raise CompileError("a dag pipeline needs `run.kind: dag`")
        by_key = view.by_key()
        children = {name: by_key.get(op_key(name)) for name in dag.graph.order}
        statuses: dict[str, RunStatus | None] = {n: c.status if c else None for n, c in children.items()}
        uuids = {name: child.uuid for name, child in children.items() if child is not None}
        stopping = early_stop(dag, view.children)
        if stopping is not None:
            return _wind_down(view, dag, children, statuses, uuids, stopping)
        create: list[NewChild] = []
        running = sum(1 for status in statuses.values() if status is not None and status not in DONE_STATUSES)
        room = dag.concurrency - running if dag.concurrency else len(dag.ops)
        for name in dag.graph.order:
            if statuses[name] is not None:
                continue
            child = _next(view, dag.ops[name], statuses, children)
            if child is None or (child.status == RunStatus.CREATED and room <= 0):
                continue
            if child.status == RunStatus.CREATED:
                room -= 1
            create.append(child)
            statuses[name] = child.status  # ops downstream of a skipped one are decided this tick too
        step = Step(create=create, progress=progress(dag, statuses, uuids))
        if all(status in DONE_STATUSES for status in statuses.values()):
            step.finish = verdict(dag, {n: s for n, s in statuses.items() if s is not None})
        return step


def _next(
    view: PipelineView,
    op: DagOp,
    statuses: dict[str, RunStatus | None],
    children: dict[str, ChildRecord | None],
) -> NewChild | None:
    """The child of ``op`` to create now (to run, or in the status saying why it never will)."""
    decision = decide(
        op.trigger,
        {name: statuses[name] for name in op.upstream},
        skip_on_upstream_skip=op.skip_on_upstream_skip,
    )
    if decision.waits:
        return None
    upstream = _upstream_values(view, op, children)
    if decision.run and op.events:
        gone = unreachable(op.events, children)
        if gone is not None:
            decision = _event_never(gone, children)
        elif pending_events(op.events, children):
            return None
    if decision.status is not None:
        return _child(
            view, op, upstream, status=decision.status, reason=decision.reason, message=decision.message
        )
    structure = view.structure
    try:
        met = structure.compiler.op_conditions_met(structure.compiled, op.name, upstream)
    except CompileError as error:
        return _child(
            view, op, upstream, status=RunStatus.FAILED, reason="ConditionsError", message=str(error)
        )
    if not met:
        message = f"its conditions {op.conditions!r} are false"
        return _child(
            view, op, upstream, status=RunStatus.SKIPPED, reason="ConditionsNotMet", message=message
        )
    return _child(view, op, upstream)


def _event_never(op: str, children: dict[str, ChildRecord | None]) -> Decision:
    child = children[op]
    status = child.status if child is not None else None
    message = f"upstream op {op} ended {status} without reaching the event this op waits for"
    if status in (RunStatus.SUCCEEDED, RunStatus.SKIPPED):
        return Decision(status=RunStatus.SKIPPED, reason="EventNotReached", message=message)
    return Decision(status=RunStatus.UPSTREAM_FAILED, reason="UpstreamFailed", message=message)


def _upstream_values(
    view: PipelineView, op: DagOp, children: dict[str, ChildRecord | None]
) -> dict[str, Any]:
    """What the op reads from the ops it waits for: ``ops.A.outputs.x``, ``ops.A.inputs.y``, and
    (added where it is compiled, with that executor's paths) ``ops.A.globals.run_outputs_path``."""
    assert view.structure.dag is not None
    values: dict[str, Any] = {}
    for name in sorted(view.structure.dag.graph.upstream.get(op.name, ())):
        child = children.get(name)
        if child is None:
            continue
        values[name] = {
            "uuid": child.uuid,
            "name": child.name,
            "status": str(child.status),
            "inputs": dict(child.inputs),
            "outputs": dict(child.outputs),
        }
    return values


def _child(
    view: PipelineView,
    op: DagOp,
    upstream: dict[str, Any],
    *,
    status: RunStatus = RunStatus.CREATED,
    reason: str | None = None,
    message: str | None = None,
    meta: dict[str, Any] | None = None,
) -> NewChild:
    structure = view.structure
    inputs = _known_inputs(structure, op, upstream) if status == RunStatus.CREATED else {}
    nested = is_nested_dag(op)
    spec = None
    if nested and status == RunStatus.CREATED:
        spec = standalone_spec(op, structure.compiled.resolved.data["run"], inputs)
    return NewChild(
        key=op_key(op.name),
        kind=MATRIX if op.matrix is not None else DAG if nested else op.kind,
        name=op.name,
        # The DAG's -P: its op compiles the DAG's spec with them (a nested DAG's spec has its values).
        params={} if spec is not None else dict(view.pipeline.params),
        inputs=inputs,
        meta={DAG_OP_KEY: op.name, UPSTREAM_KEY: upstream, **_held(op), **(meta or {})},
        spec=spec,
        status=status,
        reason=reason,
        message=message,
    )


def _known_inputs(structure: Structure, op: DagOp, upstream: dict[str, Any]) -> dict[str, Any]:
    """The op's input values known now (its own, the DAG's, and those read upstream); a value that
    cannot be resolved yet is left out (compiling the op reports it)."""
    try:
        _, result, _ = structure.compiler.op_params(structure.compiled, op.name, upstream, None)
    except CompileError:
        return {}
    return {
        name: param.value
        for name, param in result.params.items()
        if param.kind == "input" and not param.is_deferred and param.value is not None
    }


def _wind_down(
    view: PipelineView,
    dag: DagStructure,
    children: dict[str, ChildRecord | None],
    statuses: dict[str, RunStatus | None],
    uuids: dict[str, str],
    stopping: Finish,
) -> Step:
    """Early stopping: running ops are stopped, ops not started yet are created skipped; the DAG
    ends once every op has."""
    why = f"{EARLY_STOPPED}: {stopping.message}"
    stop = [(c.uuid, why) for c in children.values() if c is not None and c.status not in DONE_STATUSES]
    create = []
    for name in dag.graph.order:
        if statuses[name] is None:
            op = dag.ops[name]
            upstream = _upstream_values(view, op, children)
            meta = {EARLY_STOPPED_KEY: True}
            create.append(
                _child(
                    view, op, upstream, status=RunStatus.SKIPPED, reason=EARLY_STOPPED, message=why, meta=meta
                )
            )
            statuses[name] = RunStatus.SKIPPED
    step = Step(create=create, stop=stop, progress=progress(dag, statuses, uuids))
    if not stop:
        step.finish = stopping
    return step


def _held(op: DagOp) -> dict[str, Any]:
    """``isApproved: false`` on an op: its run waits for `mizzen ops approve` like any held run."""
    return {APPROVED_KEY: False} if op.resolved.data.get("isApproved") is False else {}
