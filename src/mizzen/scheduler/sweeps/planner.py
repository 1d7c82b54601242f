"""The planner of a sweep: which trials to create, stop, and when the sweep is done.

Pure (``scheduler.pipeline.model``): each tick rebuilds the trials from the pipeline's children and
asks the tuner for the values of the next missing trial indices. Trial ``i`` is created with key
``trial_key(i)`` for ``i < total`` only (the tuner's ``numRuns``, grid size, mapping rows or
hyperband slots), so the store's unique key keeps a sweep at exactly ``total`` trials, whatever
crashes or however many drivers. ``concurrency`` caps the trials not done at once.

A sweep ends ``succeeded`` when every trial ended succeeded or stopped (by its early stopping, or by
a user), or when a metric early stopping was reached; ``failed`` when a trial failed — unless a
``failure`` early stopping is set: then failed trials are tolerated until its percentage is reached
— or when no trial succeeded (docs/sweeps.md).
"""

from __future__ import annotations

from typing import Any

from mizzen.scheduler.pipeline.model import Finish, NewChild, PipelineView, ResumeChild, Step
from mizzen.scheduler.pipeline.structure import Structure
from mizzen.scheduler.sweeps import early_stopping
from mizzen.scheduler.sweeps.hyperband import HyperbandTuner
from mizzen.scheduler.sweeps.iterative import IterativeSearch
from mizzen.scheduler.sweeps.progress import progress_of
from mizzen.scheduler.sweeps.trials import EARLIER_KEY, Goal, Trial, goal_of, observations, trials_of
from mizzen.scheduler.sweeps.tuners import BayesTuner, GridTuner, MappingTuner, RandomTuner, TpeTuner, Tuner
from mizzen.schemas.pipelines import TRIAL_KEY, trial_key
from mizzen.schemas.statuses import DONE_STATUSES, RunStatus

MAX_NEW_PER_TICK = 500  # a 10,000-trial grid without concurrency is created over a few ticks


def tuner_for(matrix: Any, seed: int | str, goal: Goal | None) -> Tuner | HyperbandTuner:
    if getattr(matrix, "tuner", None) is not None:
        raise ValueError(
            f"a custom tuner component for a {matrix.kind!r} sweep is not supported: remove "
            "`matrix.tuner` (Mizzen's own tuners run in the scheduler), or use `kind: iterative`, "
            "whose tuner component suggests each iteration's trials (see docs/sweeps.md)"
        )
    params = dict(getattr(matrix, "params", None) or {})
    if matrix.kind == "grid":
        return GridTuner(params, matrix.num_runs)
    if matrix.kind == "mapping":
        return MappingTuner(list(matrix.values))
    if matrix.kind == "random":
        return RandomTuner(params, int(matrix.num_runs), seed)
    if matrix.kind in ("tpe", "hyperopt"):
        return TpeTuner(params, int(matrix.num_runs), seed, algorithm=matrix.algorithm)
    if matrix.kind == "bayes":
        return BayesTuner(
            params, int(matrix.num_initial_runs), int(matrix.max_iterations), seed, matrix.utility_function
        )
    if matrix.kind == "hyperband":
        return HyperbandTuner(matrix, seed, goal)
    raise ValueError(f"the {matrix.kind!r} tuner is not supported (see docs/sweeps.md)")


def seed_of(matrix: Any, pipeline_uuid: str) -> int | str:
    """The matrix's seed; without one, the pipeline's uuid (stable across restarts of this sweep)."""
    seed = getattr(matrix, "seed", None)
    return int(seed) if seed is not None else pipeline_uuid


class SweepPlanner:
    def metrics(self, structure: Structure) -> list[str]:
        matrix = structure.matrix
        names = early_stopping.metric_names(matrix.early_stopping or [])
        goal = goal_of(getattr(matrix, "metric", None))
        return sorted({*names, *([goal.metric] if goal else [])})

    def histories(self, structure: Structure) -> list[str]:
        return sorted(set(early_stopping.history_metrics(structure.matrix.early_stopping or [])))

    def step(self, view: PipelineView) -> Step:
        matrix = view.structure.matrix
        policies = list(matrix.early_stopping or [])
        goal = goal_of(getattr(matrix, "metric", None)) or _goal_of_policies(policies)
        trials = trials_of(view.children, goal.metric if goal else None)
        tuner: Tuner | HyperbandTuner | IterativeSearch
        if matrix.kind == "iterative":
            tuner = IterativeSearch(view, trials)
            if tuner.failure:
                stops = [(t.uuid, tuner.failure) for t in trials.values() if not t.done]
                return Step(stop=stops, finish=Finish(RunStatus.FAILED, "TunerFailed", tuner.failure))
        else:
            tuner = tuner_for(matrix, seed_of(matrix, view.pipeline.uuid), goal)
        children = {child.uuid: child for child in view.children}
        verdict = early_stopping.judge(policies, trials, children, tuner.total)
        progress, outputs = progress_of(trials, tuner.total, goal, view.pipeline.outputs)
        not_done = [t for t in trials.values() if not t.done]
        if verdict.fail_sweep or verdict.end_sweep:
            stops = [(t.uuid, verdict.fail_sweep or verdict.end_sweep or "") for t in not_done]
            finish = None
            if not not_done:
                status = RunStatus.FAILED if verdict.fail_sweep else RunStatus.SUCCEEDED
                reason = "TooManyFailures" if verdict.fail_sweep else "EarlyStopping"
                finish = Finish(status, reason, verdict.fail_sweep or verdict.end_sweep or "")
            return Step(stop=stops, progress=progress, outputs=outputs, finish=finish)
        create, resume = self._create(view, tuner, trials, goal, len(not_done))
        progress["created"] += len(create) + len(resume)
        if isinstance(tuner, IterativeSearch):
            if tuner.next_tuner is not None:
                create.append(tuner.next_tuner)
            tuner.count_tuners(progress)
        step = Step(create=create, resume_with=resume, stop=verdict.stop, progress=progress, outputs=outputs)
        waiting = isinstance(tuner, IterativeSearch) and tuner.pending
        if not create and not resume and not waiting and len(trials) >= tuner.total and not not_done:
            step.finish = _ending(trials, tolerate=early_stopping.tolerates_failures(policies))
        return step

    def _create(
        self,
        view: PipelineView,
        tuner: Tuner | HyperbandTuner | IterativeSearch,
        trials: dict[int, Trial],
        goal: Goal | None,
        running: int,
    ) -> tuple[list[NewChild], list[ResumeChild]]:
        concurrency = view.structure.matrix.concurrency
        room = min((int(concurrency) - running) if concurrency else tuner.total, MAX_NEW_PER_TICK)
        seen = observations(trials, goal) if goal and getattr(tuner, "adaptive", False) else []
        create: list[NewChild] = []
        resume: list[ResumeChild] = []
        for index in range(tuner.total):
            if room <= 0:
                break
            if index in trials:
                continue
            if isinstance(tuner, HyperbandTuner):
                meta = tuner.suggest_slot(index, trials)
            else:
                values = tuner.suggest(index, seen)
                meta = None if values is None else {"values": values}
            if meta is None:
                if tuner.adaptive:
                    break  # later trials wait for the same results
                continue
            if isinstance(tuner, HyperbandTuner) and tuner.resume and meta.get("promoted_from"):
                resume.append(_resumed_trial(trials, index, meta, tuner.resource))
            else:
                create.append(_trial(view, index, meta))
            room -= 1
        return create, resume


def _goal_of_policies(policies: list[Any]) -> Goal | None:
    """A grid or random search has no metric: its best trial is by its early stopping's metric."""
    for policy in policies:
        if policy.kind == "metric_early_stopping":
            return Goal(policy.metric, policy.optimization == "maximize")
    return None


def _ending(trials: dict[int, Trial], *, tolerate: bool) -> Finish:
    counts: dict[str, int] = {}
    for trial in trials.values():
        counts[trial.status] = counts.get(trial.status, 0) + 1
    ok = counts.get(RunStatus.SUCCEEDED, 0)
    bad = sum(n for status, n in counts.items() if status in DONE_STATUSES - {"succeeded", "stopped"})
    summary = f"{ok} of {len(trials)} trials succeeded"
    if ok == 0:
        return Finish(RunStatus.FAILED, "SweepFailed", f"{summary}: none did")
    if bad and not tolerate:
        return Finish(RunStatus.FAILED, "SweepFailed", f"{summary}, {bad} did not")
    return Finish(RunStatus.SUCCEEDED, "SweepDone", summary)


def _resumed_trial(trials: dict[int, Trial], index: int, meta: dict[str, Any], resource: str) -> ResumeChild:
    """Hyperband's ``resume: true``: the promoted trial's run runs trial ``index`` with the larger
    resource; its meta keeps what it ran before, so each earlier trial stays done with its score."""
    uuid = meta.pop("promoted_from")
    before = max((t for t in trials.values() if t.uuid == uuid), key=lambda t: t.index)  # its last
    ran = {key: value for key, value in before.meta.items() if key != EARLIER_KEY}
    earlier = [
        *(before.meta.get(EARLIER_KEY) or []),
        {**ran, "status": str(before.status), "score": before.score},
    ]
    trial = {"index": index, **meta, EARLIER_KEY: earlier}
    why = f"promoted to trial {index} with {resource}={meta['values'][resource]}"
    return ResumeChild(uuid, params={resource: meta["values"][resource]}, meta={TRIAL_KEY: trial}, why=why)


def _trial(view: PipelineView, index: int, meta: dict[str, Any]) -> NewChild:
    name = f"{view.pipeline.name or 'sweep'}-{index}"
    return NewChild(
        key=trial_key(index),
        kind=view.structure.child_kind,
        name=name,
        params={**view.pipeline.params, **meta["values"]},
        meta={TRIAL_KEY: {"index": index, **meta}},
    )
