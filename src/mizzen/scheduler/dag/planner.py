"""The planner of a DAG (PLACEHOLDER: all_succeeded only, until the full planner lands)."""

from __future__ import annotations

from mizzen.scheduler.pipeline.model import Finish, NewChild, PipelineView, Step
from mizzen.scheduler.pipeline.structure import Structure
from mizzen.schemas.pipelines import DAG_OP_KEY, UPSTREAM_KEY, op_key
from mizzen.schemas.statuses import DONE_STATUSES, RunStatus


class DagPlanner:
    def metrics(self, structure: Structure) -> list[str]:
        return []

    def step(self, view: PipelineView) -> Step:
        dag = view.structure.dag
        assert dag is not None
        children = view.by_key()
        create: list[NewChild] = []
        for name in dag.graph.order:
            if op_key(name) in children:
                continue
            upstream = [children.get(op_key(parent)) for parent in dag.graph.upstream.get(name, ())]
            if any(child is None or child.status != RunStatus.SUCCEEDED for child in upstream):
                continue
            values = {
                child.meta[DAG_OP_KEY]: {"inputs": child.inputs, "outputs": child.outputs}
                for child in upstream
                if child is not None
            }
            op = dag.ops[name]
            meta = {DAG_OP_KEY: name, UPSTREAM_KEY: values}
            create.append(NewChild(key=op_key(name), kind=op.kind, name=name, meta=meta))
        done = [c for c in view.children if c.status in DONE_STATUSES]
        failed = [c for c in done if c.status != RunStatus.SUCCEEDED]
        if failed and len(done) == len(view.children):
            return Step(
                finish=Finish(RunStatus.FAILED, "OpFailed", f"op {failed[0].name} {failed[0].status}")
            )
        if not create and len(done) == len(dag.ops):
            return Step(finish=Finish(RunStatus.SUCCEEDED, "DagDone", f"its {len(dag.ops)} ops succeeded"))
        return Step(create=create)
