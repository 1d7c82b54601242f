"""What a sweep shows without a query per trial: counts and the best trial so far.

``progress`` goes to the pipeline's meta["pipeline"]; ``outputs`` (the best trial) to its outputs,
only when the best changed (the driver writes outputs whenever a step has some).
"""

from __future__ import annotations

from typing import Any

from mizzen.scheduler.sweeps.trials import Goal, Trial
from mizzen.schemas.statuses import DONE_STATUSES, RunStatus
from mizzen.schemas.transitions import PENDING


def best_trial(trials: dict[int, Trial], goal: Goal | None) -> Trial | None:
    """The succeeded trial with the best score (the lowest index among equals)."""
    if goal is None:
        return None
    best: Trial | None = None
    for index in sorted(trials):
        trial = trials[index]
        if not trial.succeeded or trial.score is None:
            continue
        if best is None or goal.better(trial.score, best.score):  # type: ignore[arg-type]
            best = trial
    return best


def progress_of(
    trials: dict[int, Trial], total: int, goal: Goal | None, outputs_now: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    statuses = [trial.status for trial in trials.values()]
    progress: dict[str, Any] = {
        "kind": "matrix",
        "total": total,
        "created": len(trials),
        "done": sum(1 for s in statuses if s in DONE_STATUSES),
        "running": sum(1 for s in statuses if s not in DONE_STATUSES and s not in PENDING),
        "queued": sum(1 for s in statuses if s in PENDING) + (total - len(trials)),
        "succeeded": statuses.count(RunStatus.SUCCEEDED),
        "failed": statuses.count(RunStatus.FAILED),
        "stopped": statuses.count(RunStatus.STOPPED),
    }
    best = best_trial(trials, goal)
    outputs = None
    if goal is not None:
        progress["metric"] = {
            "name": goal.metric,
            "optimization": "maximize" if goal.maximize else "minimize",
        }
    if best is not None and goal is not None:
        summary = {"uuid": best.uuid, "index": best.index, "params": best.values, "metric": best.score}
        progress["best"] = summary
        wanted = {"best_trial": best.uuid, "best_params": best.values, goal.metric: best.score}
        if any(outputs_now.get(name) != value for name, value in wanted.items()):
            outputs = wanted
    return progress, outputs
