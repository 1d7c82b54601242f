"""Specs that stand alone, with no file around them.

A DAG is stored as the polyaxonfile it was submitted with, then compiled by whichever process
drives it (``mizzen run``, a server), where the files its ops' ``pathRef``s name are not: so the
stored spec has each referenced component written inline (``inline_refs``). A DAG op whose
component is itself a DAG runs as a pipeline of its own, whose spec is made here too
(``standalone_spec``): the op's component inline, with the components of the outer DAG it may
``dagRef``, and its inputs given as plain values (those read upstream already resolved).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mizzen.compiler.dag import DagOp, DagStructure
from mizzen.spec.polyaxonfile import OPERATION_ONLY_KEYS

_NOT_COMPONENT = OPERATION_ONLY_KEYS | {"version", "kind", "name"}


def is_nested_dag(op: DagOp) -> bool:
    return op.kind == "dag" and op.matrix is None


def standalone_spec(op: DagOp, outer_run: Mapping[str, Any], inputs: Mapping[str, Any]) -> dict[str, Any]:
    """The polyaxonfile of nested DAG ``op`` (of the DAG whose ``run`` section is ``outer_run``)."""
    component = {k: v for k, v in op.resolved.data.items() if k not in _NOT_COMPONENT}
    run = dict(component["run"])
    own = {c.get("name") for c in run.get("components") or []}
    inherited = [c for c in outer_run.get("components") or [] if c.get("name") not in own]
    run["components"] = [*(run.get("components") or []), *inherited]
    component["run"] = run
    return {
        "version": 1.1,
        "kind": "operation",
        "name": op.name,
        "component": component,
        "params": {name: {"value": value} for name, value in inputs.items()},
    }


_REFS = ("hubRef", "pathRef", "urlRef")


def inline_refs(data: Mapping[str, Any], dag: DagStructure | None) -> dict[str, Any]:
    """``data`` (a compiled polyaxonfile) with the components its DAG ops reference written inline."""
    if dag is None:
        return dict(data)
    return {**data, "run": _inline_run(data["run"], dag)}


def _inline_run(run: Mapping[str, Any], dag: DagStructure) -> dict[str, Any]:
    operations = []
    for written in run.get("operations") or []:
        op = dag.ops.get(str(written.get("name")))
        if op is None:
            operations.append(written)
            continue
        inlined = dict(written)
        if op.resolved.referenced is not None:
            inlined = {k: v for k, v in inlined.items() if k not in _REFS}
            inlined["component"] = op.resolved.referenced
        component = inlined.get("component")
        if op.nested is not None and isinstance(component, Mapping) and "run" in component:
            inlined["component"] = {**component, "run": _inline_run(component["run"], op.nested)}
        operations.append(inlined)
    return {**run, "operations": operations}
