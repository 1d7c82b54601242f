"""Params against inputs/outputs: types, required inputs, options, validation rules.

Mirrors the reference's rules: an input is required unless it is optional, has a default value or
delays its validation; an output never is (the run produces it); a param that matches no
input/output is a context value (usable in templates) unless ``contextOnly: false`` or
``strictParams`` says otherwise; a ``-P`` value that matches none is refused (a typo must not run
with the defaults). A param whose value comes from elsewhere (``ref: ops.NAME``,
``ref: dag``, ``ref: runs.UUID``, or a template touching a value not known yet) is *deferred*: it is
checked when the value exists.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from mizzen.compiler.io_rules import check_options, check_rules, rules_of
from mizzen.compiler.io_types import IOValueError, coerce, parse_cli_value
from mizzen.compiler.locate import Where
from mizzen.compiler.templating import Deferred, TemplateError, evaluate
from mizzen.errors import CompileError, SpecProblem
from mizzen.spec.base import is_template

ParamKind = Literal["input", "output", "context"]
Source = Literal["param", "default", "cli", "matrix", "join", "missing", "deferred"]


@dataclass
class ResolvedParam:
    """One value a run sees, with everything templates and init steps need to know about it."""

    name: str
    kind: ParamKind
    value: Any = None
    io_type: str | None = None
    is_list: bool = False
    is_flag: bool = False
    arg_format: str | None = None
    connection: str | None = None
    to_init: bool = False
    to_env: str | None = None
    source: Source = "param"
    ref: str | None = None  # "ops.train", "dag", "runs.<uuid>": where a deferred value comes from
    ref_path: str | None = None  # "outputs.loss": what is read there
    template: str | None = None  # the raw template of a deferred templated value
    delay_validation: bool = False

    @property
    def is_deferred(self) -> bool:
        return self.source in ("deferred", "matrix", "join")


@dataclass
class MissingInput:
    name: str
    io_type: str | None
    where: Where

    def hint(self) -> str:
        kind = self.io_type or "any"
        return f"-P {self.name}=VALUE ({kind})"


@dataclass
class ParamsResult:
    params: dict[str, ResolvedParam] = field(default_factory=dict)
    missing: list[MissingInput] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def upstream_ops(self) -> set[str]:
        return {p.ref[4:] for p in self.params.values() if p.ref and p.ref.startswith("ops.")}


def _truthy(value: Any) -> bool:
    return bool(value) and value not in ("false", "False", "0")


def _io_is_delayed(io: Any, default: bool) -> bool:
    if io.delay_validation is not None:
        return bool(io.delay_validation)
    rules = io.validation
    if rules is not None and rules.delay is not None:
        return _truthy(rules.delay)
    return default


def check_value(io: Any, value: Any) -> Any:
    """Coerce and validate one value for an input/output; raises IOValueError."""
    converted = coerce(value, io.type, bool(io.is_list))
    check_options(converted, io.options, bool(io.is_list))
    check_rules(converted, _rules(io))
    return converted


def _rules(io: Any) -> dict[str, Any]:
    rules = rules_of(io.validation)
    rules.pop("delay", None)
    # Rules given as templates cannot be checked before they are rendered.
    return {k: v for k, v in rules.items() if not (is_template(v) and k != "regex")}


def _split_ref(ref: str, value: Any) -> tuple[str, str | None]:
    """``ref: ops.train`` + ``value: outputs.loss`` → ("ops.train", "outputs.loss")."""
    return ref.strip(), value if isinstance(value, str) else None


def resolve_params(
    inputs: Iterable[Any] | None,
    outputs: Iterable[Any] | None,
    params: Mapping[str, Any] | None,
    *,
    where: Where,
    params_where: Where,
    cli_params: Mapping[str, Any] | None = None,
    matrix_names: Iterable[str] = (),
    join_names: Iterable[str] = (),
    context: Mapping[str, Any] | None = None,
    strict_params: bool = False,
    resolve_ref: Any = None,
    refuse_unknown_cli: bool = False,
) -> ParamsResult:
    """Check ``params`` (+ CLI values) against the declared ``inputs``/``outputs``.

    ``where`` locates the component (``inputs[i]``); ``params_where`` the operation (``params.x``).
    ``context`` renders templated values; ``resolve_ref(ref, path)`` returns a value for
    ``ref: dag``-style refs known now, or raises ``Deferred``. Raises CompileError on a bad value,
    and on a CLI value that matches nothing when ``refuse_unknown_cli`` (a user's ``-P``; a sweep's
    trial values that match no input are context values).
    """
    result = ParamsResult()
    given: dict[str, Any] = dict(params or {})
    cli = dict(cli_params or {})
    matrix = set(matrix_names)
    joins = set(join_names)
    problems: list[SpecProblem] = []
    declared: dict[str, tuple[ParamKind, Any, int]] = {}
    for kind, ios in (("input", inputs), ("output", outputs)):
        for index, io in enumerate(ios or ()):
            declared[io.name] = (kind, io, index)  # type: ignore[assignment]

    for name, (kind, io, index) in declared.items():
        io_where = where.at(f"{kind}s", index)
        param = ResolvedParam(
            name=name,
            kind=kind,
            io_type=io.type,
            is_list=bool(io.is_list),
            is_flag=bool(io.is_flag),
            arg_format=io.arg_format,
            connection=io.connection,
            to_init=bool(io.to_init),
            to_env=io.to_env,
            delay_validation=_io_is_delayed(io, default=kind == "output"),
        )
        if name in cli:
            raw = cli[name]
            try:
                value = parse_cli_value(raw, io.type, bool(io.is_list)) if isinstance(raw, str) else raw
                param.value = check_value(io, value)
            except IOValueError as exc:
                declaration = io_where.problem(f"declared here as {io.type or 'any'}").render()
                problems.append(SpecProblem(f"-P {name}={raw}: {exc}\n  input {name!r}: {declaration}"))
                continue
            param.source = "cli"
            _apply_param_options(param, given.get(name))
        elif name in given:
            spec = given[name]
            _apply_param_options(param, spec)
            problem = _fill_from_param(
                param, io, spec, params_where.at("params", name), context=context, resolve_ref=resolve_ref
            )
            if problem is not None:
                problems.append(problem)
        elif name in matrix:
            param.source = "matrix"
        elif name in joins:
            param.source = "join"
        elif io.value is not None:
            param.source = "default"
            try:
                param.value = check_value(io, io.value) if not is_template(io.value) else io.value
            except IOValueError as exc:
                problems.append(io_where.problem(f"default value: {exc}", "value"))
        elif kind == "input" and not io.is_optional and not param.delay_validation:
            param.source = "missing"
            result.missing.append(MissingInput(name, io.type, io_where))
        else:
            param.source = "missing"
        result.params[name] = param

    for name, spec in given.items():
        if name in declared:
            continue
        spec_where = params_where.at("params", name)
        if spec.context_only is False:
            problems.append(spec_where.problem(f"param {name!r} matches no input or output of the component"))
            continue
        if strict_params and spec.context_only is not True:
            problems.append(
                spec_where.problem(
                    f"param {name!r} matches no input or output (strictParams): declare it "
                    "or set contextOnly: true"
                )
            )
            continue
        param = ResolvedParam(name=name, kind="context")
        _apply_param_options(param, spec)
        if name in cli:  # -P sets a context value declared under params: (contextOnly)
            raw = cli[name]
            param.value, param.source = parse_cli_value(raw, None) if isinstance(raw, str) else raw, "cli"
        else:
            problem = _fill_from_param(
                param, None, spec, spec_where, context=context, resolve_ref=resolve_ref
            )
            if problem is not None:
                problems.append(problem)
        result.params[name] = param

    known = [*declared, *given, *matrix, *joins]
    for name, raw in cli.items():
        # A join's context-only param (declared by no input) arrives with the values the scheduler
        # collected: a context value, like a -P of a `contextOnly` param.
        if name in known and not (name in joins and name not in declared and name not in given):
            continue
        if name in joins:
            result.params[name] = ResolvedParam(name=name, kind="context", value=raw, source="cli")
            continue
        if refuse_unknown_cli:
            problems.append(_unknown_cli_param(name, known, where))
            continue
        value = parse_cli_value(raw, None) if isinstance(raw, str) else raw
        result.params[name] = ResolvedParam(name=name, kind="context", value=value, source="cli")

    if problems:
        raise CompileError(problems)
    return result


def _unknown_cli_param(name: str, known: list[str], where: Where) -> SpecProblem:
    """A ``-P`` name that matches nothing: a typo would otherwise run with the defaults."""
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    names = ", ".join(repr(k) for k in known) or "none"
    return where.problem(
        f"-P {name}: the component has no input or output {name!r}{hint}; it has: {names}. "
        "A value meant for the templates only is declared under `params:` with `contextOnly: true`"
    )


def _apply_param_options(param: ResolvedParam, spec: Any) -> None:
    if spec is None:
        return
    if spec.connection:
        param.connection = spec.connection
    if spec.to_init is not None:
        param.to_init = bool(spec.to_init)
    if spec.to_env:
        param.to_env = spec.to_env


def _fill_from_param(
    param: ResolvedParam,
    io: Any,
    spec: Any,
    where: Where,
    *,
    context: Mapping[str, Any] | None,
    resolve_ref: Any,
) -> SpecProblem | None:
    """Set the value of ``param`` from an operation's param spec; a problem if it is wrong."""
    value = spec.value
    if spec.ref:
        ref, path = _split_ref(spec.ref, value)
        if resolve_ref is not None:
            try:
                value = resolve_ref(ref, path)
            except Deferred:
                param.source, param.ref, param.ref_path = "deferred", ref, path
                return None
            except CompileError as exc:
                return where.problem(exc.first.message, "ref")
        else:
            param.source, param.ref, param.ref_path = "deferred", ref, path
            return None
    elif is_template(value):
        if context is None:
            param.source, param.template = "deferred", value
            return None
        try:
            value = evaluate(value, context)
        except Deferred as deferred:
            param.source, param.template, param.ref = "deferred", value, deferred.ref
            return None
        except TemplateError as exc:
            return where.problem(f"cannot render {value!r}: {exc}", "value")
    param.source = "param"
    if isinstance(value, Mapping) and isinstance(value.get("connection"), str) and not param.connection:
        param.connection = value["connection"]  # {name: ..., connection: ...} (image, v1.0)
    if io is None:
        param.value = value
        return None
    try:
        param.value = check_value(io, value)
    except IOValueError as exc:
        kind = io.type or "any"
        return where.problem(f"{exc} (input {param.name!r} is of type {kind})", "value")
    return None


def missing_inputs_error(missing: list[MissingInput]) -> CompileError:
    """One error listing every missing required input, with how to pass each."""
    problems = [
        m.where.problem(f"required input {m.name!r} ({m.io_type or 'any'}) has no value") for m in missing
    ]
    passes = " ".join(f"-P {m.name}=VALUE" for m in missing)
    return CompileError(problems, hint=f"pass them with: {passes}")
