"""How a DAG ends, its ``earlyStopping``, and the progress its driver records.

A DAG that ran every op it could ends ``succeeded`` unless an op failed (or was stopped) and no
failure handler took care of it: a downstream op with the ``one_failed``/``all_failed`` policy
over it that succeeded. Skipped ops (conditions, trigger policies) are fine; ``upstream_failed``
ops only follow a failure, which is what is counted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from mizzen.compiler.dag import DagStructure
from mizzen.scheduler.dag.triggers import ALL_FAILED, ONE_FAILED
from mizzen.scheduler.pipeline.model import Finish
from mizzen.schemas.statuses import RunStatus
from mizzen.store.records import ChildRecord

EARLY_STOPPED_KEY = "early_stopped"  # meta of the ops an early-stopped DAG created as skipped
_FAILURES = frozenset({RunStatus.FAILED, RunStatus.STOPPED})


def verdict(dag: DagStructure, statuses: Mapping[str, RunStatus]) -> Finish:
    """The end of a DAG whose ops all ended (``statuses[op]``)."""
    downstream = dag.graph.downstream
    unhandled = [
        name
        for name in dag.graph.order
        if statuses[name] in _FAILURES and not _handled(dag, name, downstream[name], statuses)
    ]
    counts = Counter(str(statuses[name]) for name in dag.graph.order)
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    if unhandled:
        first = unhandled[0]
        return Finish(RunStatus.FAILED, "OpFailed", f"op {first} {statuses[first]} ({summary})")
    return Finish(RunStatus.SUCCEEDED, "DagDone", f"all its ops ended well ({summary})")


def _handled(dag: DagStructure, name: str, below: frozenset[str], statuses: Mapping[str, RunStatus]) -> bool:
    return any(
        dag.ops[child].trigger in (ONE_FAILED, ALL_FAILED)
        and name in dag.ops[child].upstream
        and statuses.get(child) == RunStatus.SUCCEEDED
        for child in below
    )


def early_stop(dag: DagStructure, children: Sequence[ChildRecord]) -> Finish | None:
    """Whether the DAG's ``earlyStopping`` rules end it now (metric reached: succeeded; too many
    failed ops: failed)."""
    counted = [c for c in children if not c.meta.get(EARLY_STOPPED_KEY)]
    for rule in dag.early_stopping:
        kind = rule.get("kind")
        if kind == "failure_early_stopping" and counted:
            failed = [c for c in counted if c.status in (RunStatus.FAILED, RunStatus.UPSTREAM_FAILED)]
            percent = float(rule.get("percent") or 0)
            if failed and len(failed) / len(counted) >= percent / 100:
                message = f"{len(failed)} of {len(counted)} ops failed (earlyStopping at {percent:g}%)"
                return Finish(RunStatus.FAILED, "EarlyStopping", message)
        if kind == "metric_early_stopping":
            reached = _metric_reached(rule, counted)
            if reached is not None:
                return Finish(RunStatus.SUCCEEDED, "EarlyStopping", reached)
    return None


def _metric_reached(rule: Mapping[str, Any], children: Sequence[ChildRecord]) -> str | None:
    metric, target = str(rule.get("metric")), float(rule.get("value") or 0)
    maximize = rule.get("optimization") == "maximize"
    for child in children:
        value = child.outputs.get(metric, child.metrics.get(metric))
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            continue
        if (value >= target) if maximize else (value <= target):
            sign = ">=" if maximize else "<="
            return f"op {child.name} reached {metric}={value:g} {sign} {target:g} (earlyStopping)"
    return None


def early_stopping_metrics(dag: DagStructure) -> list[str]:
    return [str(r["metric"]) for r in dag.early_stopping if r.get("kind") == "metric_early_stopping"]


def progress(
    dag: DagStructure, statuses: Mapping[str, RunStatus | None], uuids: Mapping[str, str]
) -> dict[str, Any]:
    """What the CLI and the UI show: one entry per op, in run order, with its status."""
    ops = [
        {"name": name, "status": str(statuses.get(name) or "waiting"), "uuid": uuids.get(name)}
        for name in dag.graph.order
    ]
    counts = Counter(op["status"] for op in ops)
    return {
        "kind": "dag",
        "ops": ops,
        "counts": dict(sorted(counts.items())),
        "lines": [f"{op['name']}: {op['status']}" for op in ops],
    }
