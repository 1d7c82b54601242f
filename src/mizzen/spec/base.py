"""The base of every spec model and the small value types the models share.

Models are strict: unknown keys are errors, scalars are not coerced (``"3"`` is not an integer),
keys are camelCase as Polyaxon writes them (snake_case attribute names are accepted too, which is
how Kubernetes objects written as ``node_affinity`` are normalised to ``nodeAffinity``).

Many Polyaxon fields accept a Jinja template in place of a typed value (``replicas: "{{ n }}"``):
the ``Tpl*`` types accept the typed value or a string holding ``{{`` / ``{%``.
"""

import json
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, GetCoreSchemaHandler, StrictBool, StrictInt, StrictStr
from pydantic.alias_generators import to_camel
from pydantic_core import CoreSchema, PydanticCustomError, core_schema


def describe(value: Any) -> str:
    """A short rendering of a found value for error messages."""
    if isinstance(value, str):
        text = repr(value)
    elif isinstance(value, Mapping):
        text = "a mapping"
    elif isinstance(value, list | tuple):
        text = "a list"
    elif value is None:
        text = "null"
    elif isinstance(value, bool | int | float):
        text = json.dumps(value)
    else:
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def type_error(expected: str, value: Any) -> PydanticCustomError:
    return PydanticCustomError(
        "mizzen_type", "expected {expected}, got {got}", {"expected": expected, "got": describe(value)}
    )


def is_template(value: Any) -> bool:
    return isinstance(value, str) and ("{{" in value or "{%" in value)


class SpecModel(BaseModel):
    """Base of every polyaxonfile model."""

    # Each model is built when its class is made (no ``defer_build``): a parent then reuses its
    # children's schemas, whereas a deferred tree is generated anew by every model that is built.
    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        alias_generator=to_camel,
        hide_input_in_errors=False,
    )

    def dump(self) -> dict[str, Any]:
        """The spec as a user would write it: camelCase keys, only what was given."""
        return self.model_dump(by_alias=True, exclude_unset=True, mode="json")


# -- scalar value types ---------------------------------------------------------------------------


class Plain:
    """Annotation: ``func`` alone validates the value (like pydantic's ``PlainValidator``).

    Cheaper to build than ``PlainValidator``, which inspects the function's signature and builds
    schemas of the annotated type at every field that uses it (these types are used by hundreds of
    fields). Validated values are dumped as they are, or through ``dump`` when given.
    """

    def __init__(self, func: Callable[[Any], Any], dump: Callable[[Any], Any] | None = None) -> None:
        self.func = func
        self.dump = dump

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        serialization = core_schema.plain_serializer_function_ser_schema(self.dump) if self.dump else None
        return core_schema.no_info_plain_validator_function(self.func, serialization=serialization)


Str = StrictStr
Int = StrictInt
Bool = StrictBool


def _templated(expected: str, check: Any) -> Plain:
    def validate(value: Any) -> Any:
        if is_template(value):
            return value
        if check(value):
            return value
        raise type_error(expected, value)

    return Plain(validate)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_pos_int(v: Any) -> bool:
    return _is_int(v) and v > 0


def _is_num(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _number(value: Any) -> int | float:
    if not _is_num(value):
        raise type_error("a number", value)
    return value


Number = Annotated[int | float, Plain(_number)]

TplInt = Annotated[int | str, _templated("an integer", _is_int)]
TplPosInt = Annotated[int | str, _templated("an integer greater than 0", _is_pos_int)]
TplNumber = Annotated[int | float | str, _templated("a number", _is_num)]
TplBool = Annotated[bool | str, _templated("true or false", lambda v: isinstance(v, bool))]


def _str_or_list(value: Any) -> str | list[str]:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value
    if isinstance(value, list):
        bad = next(item for item in value if not isinstance(item, str))
        raise PydanticCustomError(
            "mizzen_type",
            "expected a string, got {got}",
            {"index": value.index(bad), "got": describe(bad)},
        )
    raise type_error("a list of strings", value)


# A string is accepted where Polyaxon accepts one (``command: python train.py``); it is kept as
# written and the compiler turns it into a list.
StrOrStrList = Annotated[str | list[str], Plain(_str_or_list)]


def _int_or_str(value: Any) -> int | str:
    if isinstance(value, str) or _is_int(value):
        return value
    raise type_error("an integer or a name", value)


IntOrStr = Annotated[int | str, Plain(_int_or_str)]


def _scalar_str(value: Any) -> str:
    """Kubernetes maps of strings (labels, env values): numbers and booleans become strings."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    raise type_error("a string", value)


ScalarStr = Annotated[str, Plain(_scalar_str)]
StrMap = dict[StrictStr, ScalarStr]


def _quantity(value: Any) -> int | float | str:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise type_error("a quantity (a number or a string such as '500m' or '2Gi')", value)
    return value


Quantity = Annotated[int | float | str, Plain(_quantity)]


def _duration(value: Any) -> timedelta | str:
    """Seconds (a number), ``HH:MM:SS``, a timedelta, or a template."""
    if is_template(value) or isinstance(value, timedelta):
        return value
    if _is_num(value):
        return timedelta(seconds=value)
    if isinstance(value, str):
        parts = value.split(":")
        try:
            if len(parts) == 3:
                hours, minutes, seconds = (float(p) for p in parts)
                return timedelta(hours=hours, minutes=minutes, seconds=seconds)
            return timedelta(seconds=float(value))
        except ValueError:
            pass
    raise type_error("a duration in seconds (or HH:MM:SS)", value)


def _dump_duration(value: timedelta | str) -> float | int | str:
    if isinstance(value, str):
        return value
    seconds = value.total_seconds()
    return int(seconds) if seconds.is_integer() else seconds


Duration = Annotated[timedelta | str, Plain(_duration, dump=_dump_duration)]
