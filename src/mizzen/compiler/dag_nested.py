"""A DAG op whose component is itself a DAG runs as a pipeline of its own: its spec is made
standalone here — the op's component written inline (with the components of the outer DAG it may
``dagRef``), and its inputs given as plain values (those read upstream already resolved).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mizzen.compiler.dag import DagOp
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
