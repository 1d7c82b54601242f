"""Matrix params against the inputs they fill: which names a sweep provides, and whether the values
each distribution can produce fit the input's type. (Which distributions a matrix kind allows is
checked by the spec models.)"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from mizzen.compiler.io_types import IOValueError
from mizzen.compiler.locate import Where
from mizzen.compiler.params import check_value
from mizzen.errors import CompileError, SpecProblem
from mizzen.spec.distributions import CONTINUOUS_KINDS

NUMERIC = CONTINUOUS_KINDS | {"range", "linspace", "logspace", "geomspace"}
_NUMERIC_TYPES = frozenset({"int", "float", "metric", "any", None})
_DATE_TYPES = {
    "daterange": frozenset({"date", "datetime", "str", "any", None}),
    "datetimerange": frozenset({"datetime", "str", "any", None}),
}


def matrix_names(matrix: Any) -> set[str]:
    """The names of the params a sweep provides to each of its runs."""
    if matrix is None:
        return set()
    names: set[str] = set()
    if matrix.kind == "mapping":
        for row in matrix.values:
            names.update(row)
        return names
    names.update((getattr(matrix, "params", None) or {}).keys())
    resource = getattr(matrix, "resource", None)
    if resource is not None:
        names.add(resource.name)
    return names


_TEMPLATE = re.compile(r"\{\{(.*?)\}\}|\{%(.*?)%\}", re.S)
_NAME = re.compile(r"[A-Za-z_]\w*")


def template_names(data: Mapping[str, Any]) -> set[str]:
    """Every identifier inside a ``{{ }}`` / ``{% %}`` of ``data`` (the matrix left out)."""
    text = json.dumps({k: v for k, v in data.items() if k != "matrix"}, default=str)
    return {
        name
        for match in _TEMPLATE.finditer(text)
        for part in match.groups()
        if part
        for name in _NAME.findall(part)
    }


def check_matrix_names(matrix: Any, io: Any, used: set[str], where: Where) -> None:
    """Refuse a matrix param that reaches nothing: not an input or output of a component that
    declares inputs, and named in none of its templates (the reference accepts such names as
    template context, so a name a template reads stays allowed). Mostly a misspelled input."""
    if matrix is None or not io.inputs:
        return
    known = [item.name for item in [*(io.inputs or []), *(io.outputs or [])]]
    if matrix.kind == "mapping":
        given = [(name, where.at("values", index)) for index, row in enumerate(matrix.values) for name in row]
    else:
        given = [(name, where.at("params")) for name in (getattr(matrix, "params", None) or {})]
    problems: list[SpecProblem] = []
    for name, at in dict(given).items():
        if name in known or name in used:
            continue
        close = difflib.get_close_matches(name, [i.name for i in io.inputs], n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}? " if close else ""
        inputs = ", ".join(repr(i.name) for i in io.inputs)
        problems.append(
            at.problem(
                f"matrix ({matrix.kind}) param {name!r} is not an input of the component and no "
                f"template reads it, so no trial would see its values; {hint}the inputs are: {inputs}",
                name,
            )
        )
    _raise(problems)


def _samples(param: Any) -> list[Any]:
    """Values a discrete distribution produces (enough of them to check their type)."""
    if param.kind == "choice":
        return list(param.value) if isinstance(param.value, list) else []
    if param.kind == "pchoice":
        return [value for value, _ in param.value]
    return []


def check_matrix(matrix: Any, inputs: Iterable[Any], where: Where) -> None:
    """Raise CompileError when a matrix param cannot feed the input of the same name."""
    if matrix is None:
        return
    by_name: Mapping[str, Any] = {io.name: io for io in inputs}
    problems: list[SpecProblem] = []
    if matrix.kind == "mapping":
        for index, row in enumerate(matrix.values):
            for name, value in row.items():
                if name in by_name:
                    _check(by_name[name], value, where.at("values", index, name), problems)
        _raise(problems)
        return
    for name, param in (getattr(matrix, "params", None) or {}).items():
        io = by_name.get(name)
        if io is None:
            continue  # not an input: a context value for templates, as in the reference
        param_where = where.at("params", name)
        if param.kind in NUMERIC and io.type not in _NUMERIC_TYPES:
            problems.append(
                param_where.problem(
                    f"'{param.kind}' produces numbers, but input {name!r} is of type {io.type}", "kind"
                )
            )
            continue
        if param.kind in _DATE_TYPES and io.type not in _DATE_TYPES[param.kind]:
            problems.append(
                param_where.problem(
                    f"'{param.kind}' produces dates, but input {name!r} is of type {io.type}", "kind"
                )
            )
            continue
        for index, value in enumerate(_samples(param)):
            _check(io, value, param_where.at("value", index), problems)
    _raise(problems)


def _check(io: Any, value: Any, where: Where, problems: list[SpecProblem]) -> None:
    try:
        check_value(io, value)
    except IOValueError as exc:
        problems.append(where.problem(f"{exc} (input {io.name!r} is of type {io.type or 'any'})"))


def _raise(problems: list[SpecProblem]) -> None:
    if problems:
        raise CompileError(problems)


def sample_values(matrix: Any) -> dict[str, Any]:
    """One representative value per param (the first a grid would try): to check a trial compiles."""
    if matrix is None:
        return {}
    if matrix.kind == "mapping":
        return dict(matrix.values[0]) if matrix.values else {}
    values: dict[str, Any] = {}
    for name, param in (getattr(matrix, "params", None) or {}).items():
        samples = _samples(param)
        if samples:
            values[name] = samples[0]
            continue
        value = param.value
        for attr in ("start", "low", "loc"):
            if hasattr(value, attr):
                values[name] = getattr(value, attr)
                break
    resource = getattr(matrix, "resource", None)
    if resource is not None and resource.name not in values:
        values[resource.name] = 1 if resource.type != "float" else 1.0
    return values
