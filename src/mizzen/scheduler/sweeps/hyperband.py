"""Hyperband (Li et al. 2018) as a fixed layout of trial slots, filled from the trials so far.

``s_max = floor(log_eta(R))`` for ``R = maxIterations``; bracket ``s`` (from ``s_max`` down to 0)
starts ``n = ceil((s_max + 1) / (s + 1) * eta^s)`` configs at resource ``r = R * eta^-s``; its rung
``i`` runs the best ``floor(n_(i-1) / eta)`` configs of rung ``i - 1`` (by the metric, once that
rung is done; ties go to the lower trial index; failed, unscored or NaN trials come last) at
``r * eta^i``. With ``resource.type: int`` a resource is rounded half up (never below 1). Every
slot has a fixed trial index (brackets in order, rungs in order), so a trial is created once, by
key, whatever restarts. Rung-0 configs are drawn at random with the seed.
A promotion is a new trial with the larger resource whose meta names the trial it continues
(``promoted_from``); with ``resume: true`` the planner resumes that trial's run instead, with the
larger resource, and the run's meta keeps the trials it ran before (``trials.EARLIER_KEY``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from mizzen.compiler.search_space import random_trial
from mizzen.scheduler.sweeps.trials import Goal, Trial


@dataclass(frozen=True)
class Rung:
    bracket: int  # s
    rung: int  # i
    first: int  # the index of its first slot
    size: int  # configs it runs
    resource: float


def _log(value: float, base: float) -> float:
    """log_base(value), without the float noise that makes log_3(9) = 1.9999999999999998."""
    result = math.log(value) / math.log(base)
    return round(result) if abs(result - round(result)) < 1e-9 else result


def layout(max_iterations: float, eta: float) -> list[Rung]:
    s_max = math.floor(_log(max_iterations, eta))
    rungs, index = [], 0
    for s in range(s_max, -1, -1):
        n = math.ceil(round((s_max + 1) / (s + 1) * eta**s, 9))
        r = max_iterations * eta ** (-s)
        size = n
        for i in range(s + 1):
            if size < 1:
                break
            rungs.append(Rung(s, i, index, size, r * eta**i))
            index += size
            size = math.floor(round(size / eta, 9))  # the best floor(n_i / eta) go on
    return rungs


class HyperbandTuner:
    """Suggests the values of every slot; ``promoted_from`` says which trial a promotion continues."""

    adaptive = False  # slots wait for their rung, but the slots of other brackets may start

    def __init__(self, matrix: Any, seed: int | str, goal: Goal | None) -> None:
        self.params = dict(matrix.params or {})
        self.eta = float(matrix.eta or 3)
        self.max_iterations = float(matrix.max_iterations or 81)
        self.resource = matrix.resource.name if matrix.resource else "num_epochs"
        self.resource_type = (matrix.resource.type if matrix.resource else None) or "int"
        self.seed, self.goal = seed, goal
        self.resume = bool(matrix.resume)
        self.rungs = layout(self.max_iterations, self.eta)
        self.total = sum(rung.size for rung in self.rungs)

    def rung_of(self, index: int) -> Rung:
        for rung in self.rungs:
            if rung.first <= index < rung.first + rung.size:
                return rung
        raise IndexError(index)

    def _resource(self, rung: Rung) -> float | int:
        value = round(rung.resource, 9)
        return max(1, math.floor(value + 0.5)) if self.resource_type == "int" else float(value)

    def suggest_slot(self, index: int, trials: dict[int, Trial]) -> dict[str, Any] | None:
        """The slot's trial meta (values, bracket, rung, promoted_from), or None until its rung
        before is done."""
        rung = self.rung_of(index)
        note = {"bracket": rung.bracket, "rung": rung.rung}
        if rung.rung == 0:
            values = random_trial(self.params, self.seed, index)
            return {"values": {**values, self.resource: self._resource(rung)}, **note}
        before = next(r for r in self.rungs if r.bracket == rung.bracket and r.rung == rung.rung - 1)
        previous = [trials.get(i) for i in range(before.first, before.first + before.size)]
        if any(trial is None or not trial.done for trial in previous):
            return None
        ranked = sorted((t for t in previous if t is not None), key=self._rank)
        chosen = ranked[index - rung.first]
        values = {**chosen.values, self.resource: self._resource(rung)}
        return {"values": values, "promoted_from": chosen.uuid, **note}

    def _rank(self, trial: Trial) -> tuple[int, float, int]:
        objective = self.goal.objective(trial.score) if self.goal else None
        if objective is None or math.isnan(objective) or not trial.succeeded:
            return (1, 0.0, trial.index)  # failed, unscored or NaN: last
        return (0, objective, trial.index)
