"""The planner of a sweep (PLACEHOLDER: grid over `choice` only, until the tuners land)."""

from __future__ import annotations

import itertools
from typing import Any

from mizzen.scheduler.pipeline.model import Finish, NewChild, PipelineView, Step
from mizzen.scheduler.pipeline.structure import Structure
from mizzen.schemas.pipelines import TRIAL_KEY, trial_key
from mizzen.schemas.statuses import DONE_STATUSES, RunStatus


class SweepPlanner:
    def metrics(self, structure: Structure) -> list[str]:
        return []

    def step(self, view: PipelineView) -> Step:
        matrix = view.structure.matrix
        names = list(matrix.params)
        grid = [
            dict(zip(names, combo, strict=True))
            for combo in itertools.product(*[list(matrix.params[n].value) for n in names])
        ]
        children = view.by_key()
        running = sum(1 for c in view.children if c.status not in DONE_STATUSES)
        room = (matrix.concurrency or len(grid)) - running
        create = []
        for index, values in enumerate(grid):
            if room <= 0:
                break
            if trial_key(index) in children:
                continue
            create.append(_trial(view, index, values))
            room -= 1
        if not create and len(children) == len(grid) and running == 0:
            ok = sum(1 for c in view.children if c.status == RunStatus.SUCCEEDED)
            status = RunStatus.SUCCEEDED if ok else RunStatus.FAILED
            return Step(finish=Finish(status, "SweepDone", f"{ok} of {len(grid)} trials succeeded"))
        return Step(create=create)


def _trial(view: PipelineView, index: int, values: dict[str, Any]) -> NewChild:
    name = f"{view.pipeline.name or 'sweep'}-{index}"
    return NewChild(
        key=trial_key(index),
        kind=view.structure.child_kind,
        name=name,
        params={**view.pipeline.params, **values},
        meta={TRIAL_KEY: {"index": index, "values": values}},
    )
