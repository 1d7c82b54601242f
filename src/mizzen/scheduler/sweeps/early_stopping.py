"""A sweep's ``earlyStopping``: which running trials to stop, and whether to end the whole sweep.

- ``metric_early_stopping`` without a policy: once any trial's metric reaches ``value`` (at least it
  when maximised, at most it when minimised) the sweep is done: it ends ``succeeded`` and stops the
  trials still running.
- with a ``policy``, it stops single running trials on the values of ``metric`` they tracked. An
  interval is one value a trial logged (``log_metrics``, in step order); a trial is judged at every
  ``evaluationInterval``-th interval (``k`` = ``evaluationInterval``, 2x, ...) from ``minInterval``
  on, on its values up to its latest such ``k``, against the other trials' values up to ``k``
  (their first ``k``, or all they have), so a young trial is never measured against older trials'
  later values. ``median``: its best value is worse than the median of the others' running
  averages (Google Vizier's rule); ``truncation``: its best is among the worst ``percent`` % of the
  bests of the running trials (and the succeeded ones with ``includeSucceeded``); ``diff``: its best
  is worse than the others' best by more than ``percent`` % of it. ``minSamples`` (default 1) other
  trials with a value are needed. A metric given only as an output counts as one interval.
- ``failure_early_stopping``: the sweep ends ``failed`` once ``percent`` % of its trials failed.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from mizzen.scheduler.sweeps.trials import Goal, Trial, score_of
from mizzen.schemas.pipelines import TRIAL_KEY
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


def history_metrics(policies: Iterable[Any]) -> list[str]:
    """The metrics whose every value the policies judge trials on."""
    return [p.metric for p in policies if p.kind == "metric_early_stopping" and p.policy is not None]


def judge(
    policies: Iterable[Any],
    trials: dict[int, Trial],
    children: dict[str, ChildRecord],
    planned: int,
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
        if policy.policy is None:
            for trial in trials.values():
                value = score_of(children[trial.uuid], goal.metric)
                if value is not None and not goal.better(float(policy.value), value):
                    end = (
                        f"trial {trial.index} reached {goal.metric}={value} (earlyStopping at {policy.value})"
                    )
            continue
        series = {t.index: _series(t, children[t.uuid], goal.metric) for t in trials.values()}
        for trial in trials.values():
            why = _trial_verdict(policy.policy, goal, trial, trials, series)
            if why and trial.uuid not in stops:
                stops[trial.uuid] = why
    return Verdict(sorted(stops.items()), end, fail)


def _series(trial: Trial, child: ChildRecord, metric: str) -> tuple[float, ...]:
    """The values of ``metric`` the trial logged, in step order. A trial that a resumed run ran
    before (hyperband's ``resume: true``) keeps its score only; so does a metric given as an output."""
    current = (child.meta.get(TRIAL_KEY) or {}).get("index") == trial.index
    if current and child.histories.get(metric):
        return child.histories[metric]
    value = score_of(child, metric) if current else trial.score
    return () if value is None else (float(value),)


def evaluation_point(policy: Any, intervals: int) -> int | None:
    """The latest interval ``k <= intervals`` at which the policy judges a trial: a multiple of
    ``evaluationInterval``, at least ``minInterval``; None before the first."""
    every = max(int(policy.evaluation_interval or 1), 1)
    latest = intervals // every * every
    if latest == 0 or latest < int(policy.min_interval or 0):
        return None
    return latest


def _trial_verdict(
    policy: Any,
    goal: Goal,
    trial: Trial,
    trials: dict[int, Trial],
    series: dict[int, tuple[float, ...]],
) -> str | None:
    if trial.done:
        return None
    at = evaluation_point(policy, len(series[trial.index]))
    if at is None:
        return None
    best = _best if goal.maximize else _least
    mine = best(series[trial.index][:at])
    others = {i: values[:at] for i, values in series.items() if i != trial.index and values}
    if policy.kind == "truncation":
        include_succeeded = bool(policy.include_succeeded)
        others = {
            i: values
            for i, values in others.items()
            if not trials[i].done or (include_succeeded and trials[i].succeeded)
        }
    if len(others) < max(int(policy.min_samples or 1), 1):
        return None
    name, where = goal.metric, f"at interval {at}"
    if policy.kind == "median":
        median = statistics.median(statistics.fmean(values) for values in others.values())
        if goal.better(median, mine):
            return (
                f"median stopping {where}: best {name}={mine:g} is worse than the median {median:g} "
                "of the other trials' running averages"
            )
        return None
    if policy.kind == "truncation":
        everyone = sorted(
            [*(best(v) for v in others.values()), mine], key=lambda v: -v if goal.maximize else v
        )
        cut = len(everyone) - int(len(everyone) * float(policy.percent) / 100)
        if everyone.index(mine) >= cut:
            return (
                f"truncation stopping {where}: best {name}={mine:g} is in the worst "
                f"{policy.percent}% of trials"
            )
        return None
    top = best(best(v) for v in others.values())  # diff
    if goal.better(top, mine) and abs(top - mine) > abs(top) * float(policy.percent) / 100:
        return (
            f"diff stopping {where}: best {name}={mine:g} is more than {policy.percent}% worse "
            f"than the best {top:g} of other trials"
        )
    return None


def _best(values: Iterable[float]) -> float:
    return max(values)


def _least(values: Iterable[float]) -> float:
    return min(values)
