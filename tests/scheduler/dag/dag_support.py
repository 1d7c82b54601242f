"""Drive ``DagPlanner`` over a real compiled DAG, with children as the store would hand them."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import yaml

from mizzen.compiler.compile import Compiler
from mizzen.scheduler.dag.planner import DagPlanner
from mizzen.scheduler.pipeline.model import Finish, NewChild, PipelineView, Step
from mizzen.scheduler.pipeline.structure import Structure, structure_of
from mizzen.schemas.statuses import DONE_STATUSES, RunStatus
from mizzen.store.records import ChildRecord, RunRecord

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def job(name: str, **extra: Any) -> dict[str, Any]:
    """An op running a trivial job; ``extra`` adds op keys (dependencies, trigger, conditions...)."""
    component = {"run": {"kind": "job", "container": {"image": "x", "command": ["true"]}}}
    component.update(extra.pop("component", {}))
    return {"name": name, "component": component, **extra}


def dag_spec(*ops: dict[str, Any], **run: Any) -> dict[str, Any]:
    return {
        "version": 1.1,
        "kind": "operation",
        "component": {"run": {"kind": "dag", "operations": list(ops), **run}},
    }


def from_yaml(text: str) -> dict[str, Any]:
    return dict(yaml.safe_load(textwrap.dedent(text)))


def pipeline_of(
    spec: dict[str, Any],
    kind: str = "dag",
    meta: Mapping[str, Any] | None = None,
    params: Mapping[str, Any] | None = None,
) -> RunRecord:
    return RunRecord(
        uuid="p" * 32,
        project="default",
        project_uuid="0" * 32,
        kind=kind,
        status=RunStatus.RUNNING,
        name="dag",
        spec=spec,
        meta=dict(meta or {}),
        params=dict(params or {}),
    )


def structure(spec: dict[str, Any], kind: str = "dag", meta: Mapping[str, Any] | None = None) -> Structure:
    return structure_of(pipeline_of(spec, kind, meta), Compiler())


def child_of(new: NewChild, status: RunStatus | None = None, index: int = 0, **changes: Any) -> ChildRecord:
    record = ChildRecord(
        uuid=f"{index:032d}",
        key=new.key,
        name=new.name,
        kind=new.kind,
        status=status or new.status,
        params=dict(new.params),
        inputs=dict(new.inputs),
        outputs={},
        meta=dict(new.meta),
        created_at=NOW,
        started_at=None,
        finished_at=None,
    )
    return replace(record, **changes)


@dataclass
class Dag:
    """A DAG whose ops end as ``outcomes`` say (default: succeeded), ``outputs`` set on each."""

    spec: dict[str, Any]
    outcomes: Mapping[str, RunStatus] = field(default_factory=dict)
    outputs: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    params: Mapping[str, Any] = field(default_factory=dict)  # the DAG's -P
    children: dict[str, ChildRecord] = field(default_factory=dict)
    created: dict[str, NewChild] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.pipeline = pipeline_of(self.spec, params=self.params)
        self.structure = structure_of(self.pipeline, Compiler())

    def step(self) -> Step:
        view = PipelineView(self.pipeline, self.structure, list(self.children.values()), NOW)
        step = DagPlanner().step(view)
        self.steps.append(step)
        for new in step.create:
            assert new.name is not None and new.name not in self.created, f"op {new.name} created twice"
            self.created[new.name] = new
            self.children[new.name] = child_of(new, index=len(self.children))
        return step

    def finish_running(self) -> None:
        """Every op created to run ends now, as ``outcomes`` say."""
        for name, child in self.children.items():
            if child.status not in DONE_STATUSES:
                ended = self.outcomes.get(name, RunStatus.SUCCEEDED)
                self.children[name] = replace(
                    child, status=ended, started_at=NOW, outputs=dict(self.outputs.get(name, {}))
                )

    def run(self, limit: int = 50) -> Finish:
        for _ in range(limit):
            step = self.step()
            if step.finish is not None:
                return step.finish
            self.finish_running()
        raise AssertionError("the DAG did not finish")

    def statuses(self) -> dict[str, RunStatus]:
        return {name: child.status for name, child in self.children.items()}
