"""What templates see: params by bare name, ``params.*``, ``inputs``/``outputs``, ``globals.*``,
``connections[...]``, and in DAGs ``ops.NAME.*`` / ``dag.*``.

Bare names follow the reference's display rules: a flag prints ``--name`` (or nothing), ``None``
prints nothing. ``params.NAME`` also has ``value``, ``type``, ``connection``, ``as_str`` and
``as_arg`` (``--name=value``, the flag, or the input's ``argFormat``). Values that exist only later
are ``DeferredValue``s: a string that touches one is kept as written for the scheduler/executor.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from mizzen.compiler.params import ResolvedParam
from mizzen.compiler.plan import ConnectionPlan, RuntimeContext
from mizzen.compiler.templating import Deferred, DeferredValue, TemplateError, render, to_text

RESERVED = frozenset({"globals", "params", "inputs", "outputs", "connections", "ops", "dag"})


class ConnectedValue(str):
    """A string value whose param has a connection: ``{{ dest.name }}``, ``{{ dest.connection }}``."""

    __slots__ = ("connection",)
    connection: str | None

    def __new__(cls, value: str, connection: str | None) -> ConnectedValue:
        instance = super().__new__(cls, value)
        instance.connection = connection
        return instance

    @property
    def name(self) -> str:
        return str(self)


class ParamView:
    """``params.NAME`` in templates."""

    __slots__ = ("as_arg", "as_str", "connection", "name", "to_env", "to_init", "type", "value")
    as_str: str | DeferredValue
    as_arg: str | DeferredValue

    def __init__(self, param: ResolvedParam, value: Any) -> None:
        self.name = param.name
        self.value = value
        self.type = param.io_type
        self.connection = param.connection
        self.to_env = param.to_env
        self.to_init = param.to_init
        if isinstance(value, DeferredValue):  # touching them defers the template
            self.as_str = self.as_arg = value
            return
        as_str = to_text(display_value(param, value))
        self.as_str = as_str
        self.as_arg = _as_arg(param, value, as_str)


def _as_arg(param: ResolvedParam, value: Any, as_str: str) -> str:
    if value is None:
        return ""
    if param.arg_format:
        try:
            return render(param.arg_format, {param.name: value})
        except TemplateError as exc:
            raise TemplateError(f"argFormat of {param.name!r}: {exc}") from None
    if param.is_flag:
        return f"--{param.name}" if value else ""
    return f"--{param.name}={as_str}"


def display_value(param: ResolvedParam, value: Any) -> Any:
    """The value a bare ``{{ name }}`` prints."""
    if isinstance(value, DeferredValue):
        return value
    if param.is_flag:
        return f"--{param.name}" if value else ""
    if isinstance(value, str) and (param.connection or param.io_type == "image"):
        return ConnectedValue(value, param.connection)
    return value


def param_value(param: ResolvedParam) -> Any:
    if param.is_deferred:
        return DeferredValue(param.ref or f"{param.source}:{param.name}")
    return param.value


class LazyCatalog(Mapping[str, Any]):
    """A mapping whose unknown keys are not errors but deferrals (``connections``, ``ops``)."""

    def __init__(self, label: str, known: Mapping[str, Any]) -> None:
        self._label = label
        self._known = known

    def __getitem__(self, key: str) -> Any:
        if key in self._known:
            return self._known[key]
        raise Deferred(f"{self._label}.{key}")

    def __getattr__(self, key: str) -> Any:
        if key.startswith("_"):
            raise AttributeError(key)
        return self[key]

    def __contains__(self, key: object) -> bool:
        return key in self._known

    def __iter__(self) -> Iterator[str]:
        return iter(self._known)

    def __len__(self) -> int:
        return len(self._known)


def connection_view(connection: ConnectionPlan) -> dict[str, Any]:
    """``connections['name']``: its schema fields at the top, plus name/kind/schema/secret/env."""
    view: dict[str, Any] = dict(connection.schema_)
    view.update(
        name=connection.name,
        kind=connection.kind,
        schema=dict(connection.schema_),
        secret=connection.secret.model_dump() if connection.secret else None,
        config_map=connection.config_map.model_dump() if connection.config_map else None,
        env=[e.model_dump() for e in connection.env],
    )
    return view


def globals_of(runtime: RuntimeContext, ports: list[int] | None = None) -> dict[str, Any]:
    values = runtime.globals()
    if values.get("base_url") is None:
        values["base_url"] = f"/services/v1/{runtime.owner_name}/{runtime.project_name}/runs/{runtime.uuid}"
    values["ports"] = list(ports or [])
    return values


def build_context(
    params: Mapping[str, ResolvedParam],
    runtime: RuntimeContext,
    connections: Mapping[str, ConnectionPlan] | None = None,
    *,
    ports: list[int] | None = None,
    ops: Mapping[str, Any] | None = None,
    dag: Mapping[str, Any] | None = None,
    in_dag: bool = False,
) -> dict[str, Any]:
    """The template context of one run."""
    values = {name: param_value(p) for name, p in params.items()}
    context: dict[str, Any] = {
        name: display_value(params[name], value) for name, value in values.items() if name not in RESERVED
    }
    context["params"] = {name: ParamView(params[name], value) for name, value in values.items()}
    context["inputs"] = {n: v for n, v in values.items() if params[n].kind == "input"}
    context["outputs"] = {n: v for n, v in values.items() if params[n].kind == "output"}
    context["globals"] = globals_of(runtime, ports)
    context["connections"] = LazyCatalog(
        "connections", {name: connection_view(c) for name, c in (connections or {}).items()}
    )
    if in_dag or ops is not None:
        context["ops"] = LazyCatalog("ops", ops or {})
    if dag is not None:
        context["dag"] = dag
    elif in_dag:
        context["dag"] = DeferredValue("dag")
    return context
