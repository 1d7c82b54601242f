"""A sweep's search space: the values of each distribution, and the trials a grid, a mapping or a
random search runs. Pure, and shared by ``mizzen render`` (which shows a sweep's first trials) and the
scheduler's sweep planner (which creates them), so a render shows exactly the trials that will run.

Sampling is by trial index: trial ``i`` of a seeded search draws from its own generator seeded with
``(seed, i)``, so any trial can be drawn again, alone, after a restart, and gives the same values.
Dates are given as ISO strings (a trial's values are stored as JSON).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

DISCRETE = frozenset(
    {"choice", "pchoice", "range", "linspace", "logspace", "geomspace", "daterange", "datetimerange"}
)
LOG_KINDS = frozenset({"loguniform", "qloguniform", "lognormal", "qlognormal"})
NORMAL_KINDS = frozenset({"normal", "qnormal", "lognormal", "qlognormal"})
NORMAL_SPAN = 3.0  # a model-based tuner searches a normal within loc ± 3 scale (99.7% of its mass)


def _number(value: float) -> Any:
    """Floats that are whole stay floats; rounding noise (0.30000000000000004) is dropped."""
    return float(f"{value:.12g}")


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


def discrete_values(param: Any) -> list[Any]:
    """Every value of a discrete distribution, in order."""
    kind, value = param.kind, param.value
    if kind == "choice":
        return list(value) if isinstance(value, list) else [value]
    if kind == "pchoice":
        return [item for item, _ in value]
    if kind == "range":
        count = max(0, math.ceil((value.stop - value.start) / value.step))
        values = [value.start + i * value.step for i in range(count)]
        return values if all(isinstance(v, int) for v in values) else [_number(v) for v in values]
    if kind in ("linspace", "logspace", "geomspace"):
        return _spaced(kind, value)
    if kind == "daterange":
        days = (value.stop - value.start).days
        return [_jsonable(value.start + timedelta(days=d)) for d in range(0, days, value.step)]
    if kind == "datetimerange":
        step = value.step if isinstance(value.step, timedelta) else timedelta(seconds=float(value.step))
        values, moment = [], value.start
        while moment < value.stop:
            values.append(_jsonable(moment))
            moment += step
        return values
    raise ValueError(f"'{kind}' is not a discrete distribution")


def _spaced(kind: str, value: Any) -> list[Any]:
    num = int(value.num)
    if num <= 1:
        points = [float(value.start)]
    else:
        points = [value.start + (value.stop - value.start) * i / (num - 1) for i in range(num)]
    if kind == "logspace":
        base = value.base if value.base is not None else 10
        return [_number(base**p) for p in points]
    if kind == "geomspace":
        low, high = math.log(value.start), math.log(value.stop)
        count = max(num - 1, 1)
        return [_number(math.exp(low + (high - low) * i / count)) for i in range(num)]
    return [_number(p) for p in points]


def quantise(drawn: float, q: float) -> Any:
    return _number(round(drawn / q) * q)


def sample(param: Any, rng: random.Random) -> Any:
    """One draw of a distribution: discrete ones pick one of their values (``pchoice`` by its
    weights); ``log*`` draw in log space (their bounds are exponents, as in hyperopt); ``q*`` are
    rounded to a multiple of ``q``."""
    kind, value = param.kind, param.value
    if kind == "pchoice":
        items = [item for item, _ in value]
        return rng.choices(items, weights=[weight for _, weight in value])[0]
    if kind in DISCRETE:
        return rng.choice(discrete_values(param))
    if kind in NORMAL_KINDS:
        drawn = rng.gauss(value.loc, value.scale)
    else:  # uniform, quniform, loguniform, qloguniform
        drawn = rng.uniform(value.low, value.high)
    if kind in LOG_KINDS:
        drawn = math.exp(drawn)
    if kind.startswith("q"):
        return quantise(drawn, value.q)
    return _number(drawn)


def trial_rng(seed: int | str, index: int) -> random.Random:
    """The generator trial ``index`` draws its values from (a string seed is hashed: stable)."""
    return random.Random(f"{seed}/{index}")


def random_trial(params: dict[str, Any], seed: int | str, index: int) -> dict[str, Any]:
    rng = trial_rng(seed, index)
    return {name: sample(param, rng) for name, param in params.items()}


def grid_size(params: dict[str, Any]) -> int:
    return math.prod(len(discrete_values(param)) for param in params.values())


def grid_trial(params: dict[str, Any], index: int) -> dict[str, Any]:
    """Combination ``index`` of the grid, in ``itertools.product`` order (the last param varies
    fastest), without enumerating the ones before it (a 10,000-trial grid draws any trial at once)."""
    values: dict[str, Any] = {}
    for name in reversed(list(params)):
        choices = discrete_values(params[name])
        index, position = divmod(index, len(choices))
        values[name] = choices[position]
    return {name: values[name] for name in params}


# -- what a model-based tuner (TPE, GP) searches over ---------------------------------------------


@dataclass(frozen=True)
class Dimension:
    """One param as an optimiser sees it: a list of categories, or a real interval (in log space for
    ``log``), whose draws ``value_of`` maps back to the distribution's value."""

    name: str
    choices: tuple[Any, ...] | None = None
    low: float = 0.0
    high: float = 1.0
    log: bool = False
    q: float | None = None

    def value_of(self, drawn: Any) -> Any:
        if self.choices is not None:
            return self.choices[int(drawn)]
        if self.q is not None:
            return quantise(float(drawn), self.q)
        return _number(float(drawn))

    def point_of(self, value: Any) -> Any:
        """A trial's value as the optimiser's point (a category's index)."""
        if self.choices is not None:
            return self.choices.index(value) if value in self.choices else 0
        return min(max(float(value), self.low), self.high)


def dimensions(params: dict[str, Any]) -> list[Dimension]:
    found = []
    for name, param in params.items():
        kind, value = param.kind, param.value
        if kind in DISCRETE:
            found.append(Dimension(name, choices=tuple(discrete_values(param))))
            continue
        if kind in NORMAL_KINDS:
            low, high = value.loc - NORMAL_SPAN * value.scale, value.loc + NORMAL_SPAN * value.scale
        else:
            low, high = value.low, value.high
        log = kind in LOG_KINDS
        if log:
            low, high = math.exp(low), math.exp(high)
        found.append(Dimension(name, low=low, high=high, log=log, q=getattr(value, "q", None)))
    return found


def first_trials(matrix: Any, count: int) -> list[dict[str, Any]]:
    """The params of a sweep's first ``count`` trials: exactly those a grid, mapping or random
    search runs (a search without a seed is shown with seed 0; its runs draw their own). Adaptive
    tuners choose later trials from earlier results: their first (random) trials are shown."""
    if matrix.kind == "mapping":
        return [dict(row) for row in matrix.values[:count]]
    params = dict(getattr(matrix, "params", None) or {})
    if matrix.kind == "grid":
        size = grid_size(params)
        if getattr(matrix, "num_runs", None):
            size = min(size, int(matrix.num_runs))
        return [grid_trial(params, index) for index in range(min(count, size))]
    seed = getattr(matrix, "seed", None)
    num_runs = getattr(matrix, "num_runs", None)
    limit = min(count, int(num_runs)) if isinstance(num_runs, int) else count
    trials = [random_trial(params, seed if seed is not None else 0, index) for index in range(limit)]
    resource = getattr(matrix, "resource", None)
    if resource is not None:
        for trial in trials:
            trial.setdefault(resource.name, 1.0 if resource.type == "float" else 1)
    return trials
