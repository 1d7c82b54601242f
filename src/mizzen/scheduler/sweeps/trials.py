"""A sweep's trials as its tuners see them, rebuilt from the pipeline's children on every tick.

A trial's index and values are in its meta (``trial``); its score is the last value of the sweep's
metric, tracked (``log_metrics``) or given as an output (``log_outputs``). Tuners minimise an
``objective``: the score, negated when the metric is maximised.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from mizzen.schemas.pipelines import TRIAL_KEY
from mizzen.schemas.statuses import DONE_STATUSES, RunStatus
from mizzen.store.records import ChildRecord

EARLIER_KEY = "earlier"  # in a resumed trial's meta: the trials its run ran before


@dataclass(frozen=True)
class Goal:
    """The metric a sweep optimises (minimised unless ``optimization: maximize``)."""

    metric: str
    maximize: bool = False

    def objective(self, value: float | None) -> float | None:
        return None if value is None else (-value if self.maximize else value)

    def better(self, value: float, than: float) -> bool:
        return value > than if self.maximize else value < than


def goal_of(spec: Any) -> Goal | None:
    """The goal of a ``metric: {name, optimization}`` section (None when there is none)."""
    if spec is None:
        return None
    return Goal(str(spec.name), spec.optimization == "maximize")


@dataclass(frozen=True)
class Trial:
    index: int
    uuid: str
    status: RunStatus
    values: dict[str, Any]
    meta: dict[str, Any]  # the trial meta: index, values, and what a tuner noted (bracket, rung...)
    score: float | None  # the last value of the goal's metric, if any
    started_at: Any = None

    @property
    def done(self) -> bool:
        return self.status in DONE_STATUSES

    @property
    def succeeded(self) -> bool:
        return self.status == RunStatus.SUCCEEDED


def trials_of(children: Iterable[ChildRecord], metric: str | None) -> dict[int, Trial]:
    """The sweep's trials by index (children without a trial meta are not trials). A run resumed
    for a later trial (hyperband's ``resume: true``) keeps the trials it ran before in its meta
    (``earlier``: index, values, status, score): each is a done trial of the same run."""
    found: dict[int, Trial] = {}
    for child in children:
        meta = child.meta.get(TRIAL_KEY)
        if not isinstance(meta, dict) or "index" not in meta:
            continue
        for earlier in meta.get(EARLIER_KEY) or []:
            found[int(earlier["index"])] = Trial(
                index=int(earlier["index"]),
                uuid=child.uuid,
                status=RunStatus(earlier["status"]),
                values=dict(earlier.get("values") or {}),
                meta=earlier,
                score=earlier.get("score"),
                started_at=child.started_at,
            )
        found[int(meta["index"])] = Trial(
            index=int(meta["index"]),
            uuid=child.uuid,
            status=child.status,
            values=dict(meta.get("values") or {}),
            meta=meta,
            score=score_of(child, metric),
            started_at=child.started_at,
        )
    return found


def score_of(child: ChildRecord, metric: str | None) -> float | None:
    if metric is None:
        return None
    value = child.metrics.get(metric, child.outputs.get(metric))
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def observations(trials: dict[int, Trial], goal: Goal) -> list[tuple[dict[str, Any], float]]:
    """(values, objective) of every succeeded trial with a score, in index order: what a
    model-based tuner learns from (the same list after a restart: its state is rebuilt from it)."""
    seen = []
    for index in sorted(trials):
        trial = trials[index]
        objective = goal.objective(trial.score)
        if trial.succeeded and objective is not None:
            seen.append((trial.values, objective))
    return seen
