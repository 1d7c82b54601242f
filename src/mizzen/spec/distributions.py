"""Search-space distributions of a ``matrix`` (choice, range, linspace, uniform, normal...).

A value may be written as a mapping, a list or an ``a:b:c`` string; it is normalised to the mapping
form (``RangeValue(start, stop, step)``...). Which distributions a matrix kind accepts is checked in
``mizzen.spec.matrix``.
"""

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from mizzen.spec.base import Duration, Int, Number, SpecModel, Str


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
