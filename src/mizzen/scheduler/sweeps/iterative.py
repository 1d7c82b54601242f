"""The ``iterative`` sweep (Polyaxon's contract): a tuner run suggests each iteration's trials.

Iteration ``k`` is a tuner child (key ``tuner-0000k``, meta ``tuner: {iteration: k}``) running the
component of ``matrix.tuner.hubRef`` (Mizzen's ``mizzen-random-tuner`` by default) with the inputs
``matrix`` (the sweep's params and seed), ``iteration`` and ``trials`` (every finished trial: index,
uuid, params, status, outputs and the tracked metrics the sweep reads). It writes its suggestions as
its ``suggestions`` output, a list of dicts of params. Once it succeeded, its suggestions become the
next trials (their indices continue those of earlier iterations, so they are created once, by key);
once those are done, the next tuner starts, until ``maxIterations`` tuners ran or one suggests
nothing. Everything is read from the children on each tick: a restart continues the same iteration.
"""

from __future__ import annotations

from typing import Any

from mizzen.scheduler.pipeline.model import NewChild, PipelineView
from mizzen.scheduler.sweeps.trials import Trial
from mizzen.schemas.statuses import DONE_STATUSES, RunStatus
from mizzen.store.records import ChildRecord

TUNER_META_KEY = "tuner"
DEFAULT_TUNER = "mizzen-random-tuner"
SUGGESTIONS = "suggestions"  # the output a tuner writes


def tuner_key(iteration: int) -> str:
    return f"tuner-{iteration:05d}"


class IterativeSearch:
    """The trials suggested so far (``total``), the next tuner to start, or why the sweep fails."""

    adaptive = False

    def __init__(self, view: PipelineView, trials: dict[int, Trial]) -> None:
        self.matrix = view.structure.matrix
        self.max_iterations = int(self.matrix.max_iterations)
        self.view, self.trials = view, trials
        self.tuners = _tuners_of(view.children)
        self.suggested: list[dict[str, Any]] = []
        self.failure: str | None = None
        self.next_tuner: NewChild | None = None
        self.pending = False  # a tuner runs or will: the sweep is not done when its trials are
        self._read()

    @property
    def total(self) -> int:
        return len(self.suggested)

    def suggest(self, index: int, seen: Any) -> dict[str, Any] | None:
        return dict(self.suggested[index])

    def count_tuners(self, progress: dict[str, Any]) -> None:
        """The tuner runs are children too: counted with the trials (a watch counts children)."""
        tuners = len(self.tuners) + (1 if self.next_tuner else 0)
        done = sum(1 for child in self.tuners.values() if child.status in DONE_STATUSES)
        running = sum(1 for child in self.tuners.values() if child.status not in DONE_STATUSES)
        progress["total"] += tuners
        progress["created"] += tuners
        progress["done"] += done
        progress["succeeded"] += sum(1 for c in self.tuners.values() if c.status == RunStatus.SUCCEEDED)
        progress["running"] += running
        progress["iterations"] = tuners

    def _read(self) -> None:
        last = -1
        for iteration in sorted(self.tuners):
            child = self.tuners[iteration]
            last = iteration
            if child.status not in DONE_STATUSES:
                self.pending = True
                return
            if child.status != RunStatus.SUCCEEDED:
                self.failure = (
                    f"the tuner of iteration {iteration} ({child.uuid}) ended {child.status}: "
                    f"see `mizzen ops logs {child.uuid}`"
                )
                return
            suggestions = child.outputs.get(SUGGESTIONS)
            if not isinstance(suggestions, list) or not all(isinstance(s, dict) for s in suggestions):
                self.failure = (
                    f"the tuner of iteration {iteration} ({child.uuid}) gave no list of params as its "
                    f"{SUGGESTIONS!r} output (got {type(suggestions).__name__}): it must log "
                    f"`{SUGGESTIONS}: [{{param: value, ...}}, ...]` (tracking.log_outputs)"
                )
                return
            self.suggested.extend(suggestions)
            if not suggestions:
                return  # the tuner says the search is over
        trials_done = all(
            index in self.trials and self.trials[index].done for index in range(len(self.suggested))
        )
        if trials_done and last + 1 < self.max_iterations and (last < 0 or self.suggested):
            self.pending = True
            self.next_tuner = self._tuner(last + 1)

    def _tuner(self, iteration: int) -> NewChild:
        ref = self.matrix.tuner
        params: dict[str, Any] = {
            name: spec.model_dump(by_alias=True, exclude_none=True, mode="json")
            for name, spec in ((ref.params or {}).items() if ref else [])
        }
        inputs = {"matrix": self._matrix(), "iteration": iteration, "trials": self._finished()}
        params |= {name: {"value": value} for name, value in inputs.items()}
        spec: dict[str, Any] = {
            "version": 1.1,
            "kind": "operation",
            "name": f"{self.view.pipeline.name or 'sweep'}-tuner-{iteration}",
            "hubRef": ref.hub_ref if ref else DEFAULT_TUNER,
            "params": params,
        }
        if ref and ref.presets:
            spec["presets"] = list(ref.presets)
        return NewChild(
            key=tuner_key(iteration),
            kind="job",
            name=spec["name"],
            params={"iteration": iteration},
            meta={TUNER_META_KEY: {"iteration": iteration}},
            spec=spec,
            queue=ref.queue if ref else None,
        )

    def _matrix(self) -> dict[str, Any]:
        params = {
            name: param.model_dump(by_alias=True, exclude_none=True, mode="json")
            for name, param in (self.matrix.params or {}).items()
        }
        seed = self.matrix.seed
        return {"params": params, "seed": seed if seed is not None else self.view.pipeline.uuid}

    def _finished(self) -> list[dict[str, Any]]:
        children = {child.uuid: child for child in self.view.children}
        finished = []
        for index in sorted(self.trials):
            trial = self.trials[index]
            child = children.get(trial.uuid)
            if not trial.done or child is None:
                continue
            finished.append(
                {
                    "index": index,
                    "uuid": trial.uuid,
                    "params": trial.values,
                    "status": str(trial.status),
                    "outputs": child.outputs,
                    "metrics": child.metrics,
                }
            )
        return finished


def _tuners_of(children: list[ChildRecord] | Any) -> dict[int, ChildRecord]:
    found = {}
    for child in children:
        meta = child.meta.get(TUNER_META_KEY)
        if isinstance(meta, dict) and "iteration" in meta:
            found[int(meta["iteration"])] = child
    return found
