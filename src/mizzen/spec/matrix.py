"""``matrix``: hyperparameter sweeps (grid, random, mapping, hyperband, bayes, tpe, iterative).

Each search parameter is a distribution. Values may be written as a mapping, a list or a
``start:stop:step`` string; they are normalised to the mapping form. Which distributions a matrix
kind accepts is checked here (a continuous distribution in a grid is an error on that parameter).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from mizzen.spec.base import Duration, Int, Number, SpecModel, Str, TplBool, TplInt, TplNumber, TplPosInt
from mizzen.spec.params import ParamSpec


class _Positional(SpecModel):
    """A distribution value that may also be written as a list or an ``a:b:c`` string."""

    _order: tuple[str, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _from_list_or_string(cls, data: Any) -> Any:
        order: tuple[str, ...] = cls._order.default  # type: ignore[attr-defined]
        if isinstance(data, str) and ":" in data:
            parts: list[Any] = []
            for part in data.split(":"):
                try:
                    parts.append(int(part) if part.strip().lstrip("-").isdigit() else float(part))
                except ValueError:
                    parts.append(part)
            data = parts
        if isinstance(data, list | tuple) and 0 < len(data) <= len(order):
            return dict(zip(order, data, strict=False))
        return data


class RangeValue(_Positional):
    _order = ("start", "stop", "step")
    start: Number
    stop: Number
    step: Number


class SpaceValue(_Positional):
    _order = ("start", "stop", "num")
    start: Number
    stop: Number
    num: Int


class LogSpaceValue(_Positional):
    _order = ("start", "stop", "num", "base")
    start: Number
    stop: Number
    num: Int
    base: Number | None = None


class UniformValue(_Positional):
    _order = ("low", "high", "size")
    low: Number
    high: Number
    size: Int | None = None


class QUniformValue(_Positional):
    _order = ("low", "high", "q", "size")
    low: Number
    high: Number
    q: Number
    size: Int | None = None


class NormalValue(_Positional):
    _order = ("loc", "scale", "size")
    loc: Number
    scale: Number
    size: Int | None = None


class QNormalValue(_Positional):
    _order = ("loc", "scale", "q", "size")
    loc: Number
    scale: Number
    q: Number
    size: Int | None = None


class DateRangeValue(_Positional):
    _order = ("start", "stop", "step")
    start: date
    stop: date
    step: Int


class DateTimeRangeValue(_Positional):
    _order = ("start", "stop", "step")
    start: datetime
    stop: datetime
    step: Duration


class HpChoice(SpecModel):
    kind: Literal["choice"]
    value: list[Any] | Str


class HpPChoice(SpecModel):
    kind: Literal["pchoice"]
    value: list[tuple[Any, Number]]


class HpRange(SpecModel):
    kind: Literal["range"]
    value: RangeValue


class HpLinSpace(SpecModel):
    kind: Literal["linspace"]
    value: SpaceValue


class HpLogSpace(SpecModel):
    kind: Literal["logspace"]
    value: LogSpaceValue


class HpGeomSpace(SpecModel):
    kind: Literal["geomspace"]
    value: SpaceValue


class HpUniform(SpecModel):
    kind: Literal["uniform"]
    value: UniformValue


class HpQUniform(SpecModel):
    kind: Literal["quniform"]
    value: QUniformValue


class HpLogUniform(SpecModel):
    kind: Literal["loguniform"]
    value: UniformValue


class HpQLogUniform(SpecModel):
    kind: Literal["qloguniform"]
    value: QUniformValue


class HpNormal(SpecModel):
    kind: Literal["normal"]
    value: NormalValue


class HpQNormal(SpecModel):
    kind: Literal["qnormal"]
    value: QNormalValue


class HpLogNormal(SpecModel):
    kind: Literal["lognormal"]
    value: NormalValue


class HpQLogNormal(SpecModel):
    kind: Literal["qlognormal"]
    value: QNormalValue


class HpDateRange(SpecModel):
    kind: Literal["daterange"]
    value: DateRangeValue


class HpDateTimeRange(SpecModel):
    kind: Literal["datetimerange"]
    value: DateTimeRangeValue


HpParam = Annotated[
    HpChoice
    | HpPChoice
    | HpRange
    | HpLinSpace
    | HpLogSpace
    | HpGeomSpace
    | HpUniform
    | HpQUniform
    | HpLogUniform
    | HpQLogUniform
    | HpNormal
    | HpQNormal
    | HpLogNormal
    | HpQLogNormal
    | HpDateRange
    | HpDateTimeRange,
    Field(discriminator="kind"),
]

DISCRETE_KINDS = frozenset(
    {"choice", "range", "linspace", "logspace", "geomspace", "daterange", "datetimerange"}
)
CONTINUOUS_KINDS = frozenset(
    {"uniform", "quniform", "loguniform", "qloguniform", "normal", "qnormal", "lognormal", "qlognormal"}
)
ALL_KINDS = DISCRETE_KINDS | CONTINUOUS_KINDS | {"pchoice"}


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
MATRIX_KINDS = ("grid", "random", "mapping", "hyperband", "bayes", "tpe", "hyperopt", "iterative")
