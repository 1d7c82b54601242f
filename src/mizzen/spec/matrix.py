"""``matrix``: hyperparameter sweeps (grid, random, mapping, hyperband, bayes, tpe, iterative).

Each search parameter is a distribution (``mizzen.spec.distributions``). Which distributions a
matrix kind accepts is checked here: a continuous distribution in a grid is an error on that
parameter.
"""

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError

from mizzen.spec.base import Int, Number, SpecModel, Str, TplBool, TplInt, TplNumber, TplPosInt
from mizzen.spec.distributions import DISCRETE_KINDS, HpParam
from mizzen.spec.params import ParamSpec

# -- early stopping ---------------------------------------------------------------------------------


class MedianStoppingPolicy(SpecModel):
    kind: Literal["median"]
    evaluation_interval: TplInt
    min_interval: TplInt | None = None
    min_samples: TplInt | None = None


class TruncationStoppingPolicy(SpecModel):
    kind: Literal["truncation"]
    percent: TplNumber
    evaluation_interval: TplInt
    min_interval: TplInt | None = None
    min_samples: TplInt | None = None
    include_succeeded: TplBool | None = None


class DiffStoppingPolicy(SpecModel):
    kind: Literal["diff"]
    percent: TplNumber
    evaluation_interval: TplInt
    min_interval: TplInt | None = None
    min_samples: TplInt | None = None


StoppingPolicy = Annotated[
    MedianStoppingPolicy | TruncationStoppingPolicy | DiffStoppingPolicy, Field(discriminator="kind")
]

Optimization = Literal["maximize", "minimize"]


class MetricEarlyStopping(SpecModel):
    kind: Literal["metric_early_stopping"]
    metric: Str
    value: TplNumber
    optimization: Optimization | None = None
    policy: StoppingPolicy | None = None


class FailureEarlyStopping(SpecModel):
    kind: Literal["failure_early_stopping"]
    percent: TplNumber


EarlyStoppingSpec = Annotated[MetricEarlyStopping | FailureEarlyStopping, Field(discriminator="kind")]


# -- matrix kinds -----------------------------------------------------------------------------------


class OptimizationMetric(SpecModel):
    name: Str
    optimization: Optimization | None = None


class OptimizationResource(SpecModel):
    name: Str
    type: Literal["int", "float"] | None = None


class TunerRef(SpecModel):
    """A custom tuner component for a sweep."""

    hub_ref: Str
    presets: list[Str] | None = None
    queue: Str | None = None
    namespace: Str | None = None
    params: dict[Str, ParamSpec] | None = None


def _check_kinds(params: dict[str, Any] | None, allowed: frozenset[str], matrix: str, why: str) -> None:
    for name, param in (params or {}).items():
        if param.kind not in allowed:
            raise PydanticCustomError(
                "mizzen_matrix",
                "'{dist}' cannot be used in a {matrix} matrix ({why}); use one of: {allowed}",
                {
                    "dist": param.kind,
                    "matrix": matrix,
                    "why": why,
                    "allowed": ", ".join(sorted(allowed)),
                    "at": [name, "kind"],
                },
            )


class _Search(SpecModel):
    concurrency: TplPosInt | None = None
    early_stopping: list[EarlyStoppingSpec] | None = None


class GridSearchSpec(_Search):
    kind: Literal["grid"]
    params: dict[Str, HpParam]
    num_runs: TplPosInt | None = None

    @field_validator("params")
    @classmethod
    def _discrete_only(cls, params: dict[str, Any]) -> dict[str, Any]:
        _check_kinds(params, DISCRETE_KINDS, "grid", "a grid enumerates values: no random distributions")
        return params


class RandomSearchSpec(_Search):
    kind: Literal["random"]
    params: dict[Str, HpParam]
    num_runs: TplPosInt
    seed: TplInt | None = None


class MappingSpec(_Search):
    kind: Literal["mapping"]
    values: list[dict[Str, Any]]


class HyperbandSpec(_Search):
    kind: Literal["hyperband"]
    params: dict[Str, HpParam] | None = None
    max_iterations: TplPosInt | None = None
    eta: TplNumber | None = None
    resource: OptimizationResource | None = None
    metric: OptimizationMetric | None = None
    resume: TplBool | None = None
    seed: TplInt | None = None
    tuner: TunerRef | None = None


class GaussianProcessSpec(SpecModel):
    kernel: Literal["rbf", "matern"] | None = None
    length_scale: Number | None = None
    nu: Number | None = None
    num_restarts_optimizer: Int | None = None


class UtilityFunctionSpec(SpecModel):
    acquisition_function: Literal["ucb", "ei", "poi"] | None = None
    gaussian_process: GaussianProcessSpec | None = None
    kappa: Number | None = None
    eps: Number | None = None
    num_warmup: Int | None = None
    num_iterations: Int | None = None


class BayesSpec(_Search):
    kind: Literal["bayes"]
    params: dict[Str, HpParam]
    num_initial_runs: TplPosInt
    max_iterations: TplPosInt
    metric: OptimizationMetric
    utility_function: UtilityFunctionSpec | None = None
    seed: TplInt | None = None
    tuner: TunerRef | None = None

    @field_validator("params")
    @classmethod
    def _bayes_kinds(cls, params: dict[str, Any]) -> dict[str, Any]:
        _check_kinds(
            params, DISCRETE_KINDS | {"uniform"}, "bayes", "the only distribution it models is uniform"
        )
        return params


class TPESpec(_Search):
    """Tree of Parzen estimators; ``hyperopt`` is its spec v1.1 name."""

    kind: Literal["tpe", "hyperopt"]
    params: dict[Str, HpParam]
    num_runs: TplPosInt
    max_iterations: TplPosInt | None = None
    metric: OptimizationMetric
    algorithm: Literal["tpe", "rand", "anneal"] | None = None
    seed: TplInt | None = None
    tuner: TunerRef | None = None


class IterativeSpec(_Search):
    kind: Literal["iterative"]
    params: dict[Str, HpParam] | None = None
    max_iterations: TplPosInt
    seed: TplInt | None = None
    tuner: TunerRef | None = None


MatrixSpec = Annotated[
    GridSearchSpec | RandomSearchSpec | MappingSpec | HyperbandSpec | BayesSpec | TPESpec | IterativeSpec,
    Field(discriminator="kind"),
]
