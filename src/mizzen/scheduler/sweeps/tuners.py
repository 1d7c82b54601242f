"""The tuners of a sweep: which values trial ``i`` runs with, given the trials so far.

Grid, mapping and random give trial ``i`` its values from the spec alone (``compiler.search_space``,
as ``mizzen render`` shows them). TPE (optuna) and bayes (scikit-optimize's Gaussian process) learn
from the succeeded trials: each suggestion builds a fresh optimiser, tells it every observation in
index order and asks once, with a generator seeded by (seed, i). Nothing is kept between ticks, so a
restarted driver, or a benchmark calling the same class in-process, suggests the same values from
the same history. optuna and scikit-optimize are imported when a tuner first suggests.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Protocol

from mizzen.compiler.search_space import (
    Dimension,
    dimensions,
    grid_size,
    grid_trial,
    random_trial,
    trial_rng,
)

Observation = tuple[dict[str, Any], float]  # (values, objective to minimise)


class Tuner(Protocol):
    total: int  # trials at most
    adaptive: bool  # suggestions depend on results: a trial waits for them (None) in order

    def suggest(self, index: int, seen: Sequence[Observation]) -> dict[str, Any] | None:
        """Trial ``index``'s values, or None while it must wait for more results."""


def int_seed(seed: int | str, index: int) -> int:
    return trial_rng(seed, index).randrange(2**31 - 1)


class GridTuner:
    adaptive = False

    def __init__(self, params: dict[str, Any], num_runs: int | None = None) -> None:
        self.params = params
        size = grid_size(params)
        self.total = min(size, num_runs) if num_runs else size

    def suggest(self, index: int, seen: Sequence[Observation]) -> dict[str, Any] | None:
        return grid_trial(self.params, index)


class MappingTuner:
    adaptive = False

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows
        self.total = len(rows)

    def suggest(self, index: int, seen: Sequence[Observation]) -> dict[str, Any] | None:
        return dict(self.rows[index])


class RandomTuner:
    adaptive = False

    def __init__(self, params: dict[str, Any], num_runs: int, seed: int | str) -> None:
        self.params, self.total, self.seed = params, num_runs, seed

    def suggest(self, index: int, seen: Sequence[Observation]) -> dict[str, Any] | None:
        return random_trial(self.params, self.seed, index)


class TpeTuner:
    """optuna's TPESampler in ask/tell mode; its first ``startup`` trials are optuna's random ones."""

    adaptive = True

    def __init__(
        self, params: dict[str, Any], num_runs: int, seed: int | str, *, algorithm: str | None = None
    ) -> None:
        self.params, self.total, self.seed = params, num_runs, seed
        self.dims = dimensions(params)
        self.algorithm = algorithm or "tpe"
        self.startup = max(1, min(10, num_runs // 5))

    def suggest(self, index: int, seen: Sequence[Observation]) -> dict[str, Any] | None:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        seed = int_seed(self.seed, index)
        sampler: optuna.samplers.BaseSampler
        if self.algorithm == "rand":
            sampler = optuna.samplers.RandomSampler(seed=seed)
        else:  # tpe (anneal has no optuna sampler: TPE stands in, as docs/sweeps.md says)
            sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=self.startup)
        study = optuna.create_study(sampler=sampler, direction="minimize")
        distributions = {dim.name: _optuna_distribution(dim) for dim in self.dims}
        for values, objective in seen:
            params = {dim.name: dim.point_of(values.get(dim.name)) for dim in self.dims}
            study.add_trial(
                optuna.trial.create_trial(params=params, distributions=distributions, value=objective)
            )
        asked = study.ask(distributions)
        return {dim.name: dim.value_of(asked.params[dim.name]) for dim in self.dims}


def _optuna_distribution(dim: Dimension) -> Any:
    from optuna.distributions import CategoricalDistribution, FloatDistribution

    if dim.choices is not None:
        return CategoricalDistribution(list(range(len(dim.choices))))
    return FloatDistribution(dim.low, dim.high, log=dim.log)


ACQUISITIONS = {"ucb": "LCB", "ei": "EI", "poi": "PI"}  # skopt minimises: a lower confidence bound


class BayesTuner:
    """A Gaussian process (scikit-optimize's ``Optimizer``, ask/tell) after ``num_initial_runs``
    random trials; it suggests once that many trials have succeeded with a score."""

    adaptive = True

    def __init__(
        self,
        params: dict[str, Any],
        num_initial_runs: int,
        max_iterations: int,
        seed: int | str,
        utility: Any = None,
    ) -> None:
        self.params, self.seed = params, seed
        self.initial = num_initial_runs
        self.total = num_initial_runs + max_iterations
        self.dims = dimensions(params)
        self.utility = utility

    def suggest(self, index: int, seen: Sequence[Observation]) -> dict[str, Any] | None:
        if index < self.initial:
            return random_trial(self.params, self.seed, index)
        if len(seen) < min(self.initial, 2):
            return None
        from skopt import Optimizer
        from skopt.space import Categorical, Real, Space
        from skopt.utils import cook_estimator

        space = [
            Categorical(list(range(len(dim.choices))), name=dim.name)
            if dim.choices is not None
            else Real(dim.low, dim.high, prior="log-uniform" if dim.log else "uniform", name=dim.name)
            for dim in self.dims
        ]
        seed = int_seed(self.seed, index)
        process = getattr(self.utility, "gaussian_process", None)
        restarts = getattr(process, "num_restarts_optimizer", None) or 0  # each restart: a full fit
        estimator = cook_estimator(
            "GP", space=Space(space), random_state=seed, noise="gaussian", n_restarts_optimizer=restarts
        )
        optimizer = Optimizer(
            space,
            base_estimator=estimator,
            acq_func=self._acquisition(),
            acq_func_kwargs=self._acquisition_kwargs(),
            n_initial_points=0,
            acq_optimizer="sampling",
            acq_optimizer_kwargs={"n_points": 2000},
            random_state=seed,
        )
        points = [[dim.point_of(values.get(dim.name)) for dim in self.dims] for values, _ in seen]
        objectives = [objective if math.isfinite(objective) else 1e300 for _, objective in seen]
        optimizer.tell(points, objectives)
        asked = optimizer.ask()
        return {dim.name: dim.value_of(point) for dim, point in zip(self.dims, asked, strict=True)}

    def _acquisition(self) -> str:
        name = getattr(self.utility, "acquisition_function", None) or "ei"
        return ACQUISITIONS[name]

    def _acquisition_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        if getattr(self.utility, "kappa", None) is not None:
            kwargs["kappa"] = self.utility.kappa
        if getattr(self.utility, "eps", None) is not None:
            kwargs["xi"] = self.utility.eps
        return kwargs
