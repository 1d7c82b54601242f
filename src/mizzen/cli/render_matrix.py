"""The first trials of a ``matrix``, for ``mizzen render`` to show what a sweep's runs look like.

A grid enumerates its combinations in order and a mapping lists its rows; the searches that sample
(random, hyperband, bayes, tpe, iterative) draw their first trials at random with the matrix's seed
(0 when it has none). Adaptive tuners choose later trials from earlier results, which a render cannot
know: it shows first trials only.
"""

from __future__ import annotations

import itertools
import math
import random
from datetime import timedelta
from typing import Any

GRID_KINDS = frozenset({"grid"})
DISCRETE = frozenset(
    {"choice", "pchoice", "range", "linspace", "logspace", "geomspace", "daterange", "datetimerange"}
)


def _number(value: float) -> Any:
    """Floats that are whole stay floats; rounding noise (0.30000000000000004) is dropped."""
    return float(f"{value:.12g}")


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
        return [value.start + timedelta(days=d) for d in range(0, days, value.step)]
    if kind == "datetimerange":
        step = value.step if isinstance(value.step, timedelta) else timedelta(seconds=float(value.step))
        values, moment = [], value.start
        while moment < value.stop:
            values.append(moment)
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


def sample(param: Any, rng: random.Random) -> Any:
    """One draw of a distribution (discrete ones pick one of their values)."""
    kind, value = param.kind, param.value
    if kind == "pchoice":
        items = [item for item, _ in value]
        return rng.choices(items, weights=[weight for _, weight in value])[0]
    if kind in DISCRETE:
        return rng.choice(discrete_values(param))
    if kind in ("uniform", "quniform", "loguniform", "qloguniform"):
        drawn = rng.uniform(value.low, value.high)
        drawn = math.exp(drawn) if kind.endswith("loguniform") else drawn
    else:  # normal, qnormal, lognormal, qlognormal
        drawn = rng.gauss(value.loc, value.scale)
        drawn = math.exp(drawn) if kind.endswith("lognormal") else drawn
    if kind.startswith("q"):
        drawn = round(drawn / value.q) * value.q
    return _number(drawn)


def first_trials(matrix: Any, count: int) -> list[dict[str, Any]]:
    """The params of the sweep's first ``count`` trials."""
    if matrix.kind == "mapping":
        return [dict(row) for row in matrix.values[:count]]
    params = dict(getattr(matrix, "params", None) or {})
    if matrix.kind in GRID_KINDS:
        names = list(params)
        combos = itertools.product(*(discrete_values(params[name]) for name in names))
        limit = min(count, int(matrix.num_runs)) if getattr(matrix, "num_runs", None) else count
        return [dict(zip(names, combo, strict=True)) for combo in itertools.islice(combos, limit)]
    seed = getattr(matrix, "seed", None)
    rng = random.Random(int(seed) if seed is not None else 0)
    total = getattr(matrix, "num_runs", None)
    limit = min(count, int(total)) if isinstance(total, int) else count
    trials = [{name: sample(param, rng) for name, param in params.items()} for _ in range(limit)]
    resource = getattr(matrix, "resource", None)
    if resource is not None:
        for trial in trials:
            trial.setdefault(resource.name, 1.0 if resource.type == "float" else 1)
    return trials
