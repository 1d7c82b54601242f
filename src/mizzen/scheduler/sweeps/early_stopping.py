"""A sweep's ``earlyStopping``: which running trials to stop, and whether to end the whole sweep.

- ``metric_early_stopping`` without a policy: once any trial's metric reaches ``value`` (at least it
  when maximised, at most it when minimised) the sweep is done: it ends ``succeeded`` and stops the
  trials still running.
- with a ``policy``, it stops single running trials on their last tracked value of ``metric``:
  ``median`` (worse than the median of the other trials' values), ``truncation`` (among the worst
  ``percent`` % of all trials' values), ``diff`` (worse than the best value by more than ``percent`` %
  of it). A trial is judged only after ``minInterval`` seconds of running (Mizzen reads a metric's
  last value, not its steps), and only against ``minSamples`` other trials with a value (default 1).
- ``failure_early_stopping``: the sweep ends ``failed`` once ``percent`` % of its trials failed.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mizzen.scheduler.sweeps.trials import Goal, Trial, score_of
from mizzen.store.records import ChildRecord


@dataclass(frozen=True)
class Verdict:
    stop: list[tuple[str, str]]  # (trial uuid, why)
    end_sweep: str | None = None  # why the sweep is done (metric reached): it succeeds
    fail_sweep: str | None = None  # why the sweep failed (too many failed trials)


def metric_names(policies: Iterable[Any]) -> list[str]:
    return [policy.metric for policy in policies if policy.kind == "metric_early_stopping"]


def tolerates_failures(policies: Iterable[Any]) -> bool:
    return any(policy.kind == "failure_early_stopping" for policy in policies)


def judge(
    policies: Iterable[Any],
    trials: dict[int, Trial],
    children: dict[str, ChildRecord],
    planned: int,
    now: datetime,
) -> Verdict:
    stops: dict[str, str] = {}
    end = fail = None
    for policy in policies:
        if policy.kind == "failure_early_stopping":
            failed = sum(1 for t in trials.values() if t.status == "failed")
            if planned and failed * 100 >= float(policy.percent) * planned and failed:
                fail = f"{failed} of {planned} trials failed (earlyStopping allows {policy.percent}%)"
            continue
        goal = Goal(policy.metric, policy.optimization == "maximize")
        scored = {t.index: score_of(children[t.uuid], goal.metric) for t in trials.values()}
        if policy.policy is None:
            for trial in trials.values():
                value = scored[trial.index]
                if value is not None and not goal.better(float(policy.value), value):
                    end = (
                        f"trial {trial.index} reached {goal.metric}={value} (earlyStopping at {policy.value})"
                    )
            continue
        for trial in trials.values():
            why = _trial_verdict(policy.policy, goal, trial, scored, now)
            if why and trial.uuid not in stops:
                stops[trial.uuid] = why
    return Verdict(sorted(stops.items()), end, fail)


def _trial_verdict(
    policy: Any, goal: Goal, trial: Trial, scored: dict[int, float | None], now: datetime
) -> str | None:
    value = scored[trial.index]
    if trial.done or value is None:
        return None
    running_for = (now - trial.started_at).total_seconds() if trial.started_at is not None else None
    if policy.min_interval and running_for is not None and running_for < float(policy.min_interval):
        return None
    others = [v for i, v in scored.items() if i != trial.index and v is not None]
    if len(others) < max(int(policy.min_samples or 1), 1):
        return None
    name = goal.metric
    if policy.kind == "median":
        median = statistics.median(others)
        if goal.better(median, value):
            return f"median stopping: {name}={value:g} is worse than the median {median:g} of other trials"
        return None
    if policy.kind == "truncation":
        everyone = sorted([*others, value], key=lambda v: -v if goal.maximize else v)
        cut = len(everyone) - int(len(everyone) * float(policy.percent) / 100)
        if everyone.index(value) >= cut:
            return f"truncation stopping: {name}={value:g} is in the worst {policy.percent}% of trials"
        return None
    best = max(others) if goal.maximize else min(others)  # diff
    if goal.better(best, value) and abs(best - value) > abs(best) * float(policy.percent) / 100:
        return f"diff stopping: {name}={value:g} is more than {policy.percent}% worse than the best {best:g}"
    return None
