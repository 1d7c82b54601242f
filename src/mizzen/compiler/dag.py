"""A DAG run: its ops resolved (``dagRef`` into the DAG's components, or any other ref), each op's
params checked against its component, and the graph from ``dependencies`` plus ``ops.NAME``
references (in params and templates). Values from upstream ops stay deferred: the scheduler
compiles each op with ``compile_dag_op`` once its upstream ops are done.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mizzen.compiler.contexts import LazyCatalog
from mizzen.compiler.graph import GraphError, OpGraph, build_graph
from mizzen.compiler.locate import Where
from mizzen.compiler.matrix import check_matrix, check_matrix_names, matrix_names, template_names
from mizzen.compiler.params import MissingInput, ParamsResult, missing_inputs_error, resolve_params
from mizzen.compiler.resolve import ComponentResolver, Resolved
from mizzen.compiler.templating import Deferred, DeferredValue, ops_references
from mizzen.errors import CompileError, SpecProblem
from mizzen.spec import ComponentSpec, OperationSpec


@dataclass
class DagOp:
    """One op of a DAG, resolved; ``upstream`` are the ops it waits for."""

    name: str
    resolved: Resolved
    io: OperationSpec  # the op's inputs and outputs, validated
    params: ParamsResult
    upstream: frozenset[str]
    trigger: str = "all_succeeded"
    conditions: str | None = None
    skip_on_upstream_skip: bool = False
    matrix: Any = None
    schedule: Any = None
    events: tuple[tuple[tuple[str, ...], str], ...] = ()  # (event kinds, op) it waits for
    nested: DagStructure | None = None  # the ops of its component when that is a DAG

    @property
    def kind(self) -> str:
        return str(self.resolved.data["run"]["kind"])


@dataclass
class DagStructure:
    ops: dict[str, DagOp]
    graph: OpGraph
    concurrency: int | None = None
    early_stopping: list[dict[str, Any]] = field(default_factory=list)


def _split(path: str | None) -> list[str]:
    return [p for p in (path or "").split(".") if p]


def lookup_ref_value(source: Mapping[str, Any], path: str | None, label: str) -> Any:
    """``outputs.loss`` inside ``{"outputs": {"loss": 0.1}}``; Deferred when not there yet."""
    value: Any = source
    for part in _split(path):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        else:
            raise Deferred(f"{label}.{path}")
    return value


def dag_ref_resolver(
    op_names: set[str],
    dag_values: Mapping[str, Any] | None,
    upstream_values: Mapping[str, Any] | None,
    where: Where,
) -> Any:
    """``resolve_ref(ref, path)`` for the params of a DAG op."""

    def resolve(ref: str, path: str | None) -> Any:
        if ref == "dag":
            if dag_values is None:
                raise Deferred("dag")
            return lookup_ref_value(dag_values, path, "dag")
        if ref.startswith("ops."):
            name = ref[4:]
            if name not in op_names:
                raise CompileError(where.problem(f"ref {ref!r}: no op named {name!r} in this DAG"))
            if upstream_values is None or name not in upstream_values:
                raise Deferred(ref)
            return lookup_ref_value(upstream_values[name], path, ref)
        raise Deferred(ref)  # runs.UUID and friends: resolved by whoever has the database

    return resolve


def dag_param_context(
    dag_values: Mapping[str, Any] | None,
    globals_: Mapping[str, Any],
    ops: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """What a DAG op's templated params see; ``ops`` are the values of its upstream ops known now."""
    return {
        "globals": globals_,
        "dag": dag_values if dag_values is not None else DeferredValue("dag"),
        "ops": LazyCatalog("ops", dict(ops or {})),
    }


def join_param_names(operation: OperationSpec) -> list[str]:
    """The inputs an op takes from its ``joins`` (values collected from the runs a query selects)."""
    return [name for join in operation.joins or [] for name in (join.params or {})]


def uncollected_joins_error(missing: list[MissingInput], operation: OperationSpec) -> CompileError | None:
    """Inputs that the op's ``joins`` fill are missing when compiling it to run: the joins were not
    collected (the advice to pass ``-P`` would be wrong). None when no join input is missing."""
    joined = {name: join for join in operation.joins or [] for name in (join.params or {})}
    if not any(m.name in joined for m in missing):
        return None
    problems = [
        m.where.problem(
            f"required input {m.name!r} ({m.io_type or 'any'}) has no value"
            + (
                f": it comes from this op's joins (query {joined[m.name].query!r}), not collected yet"
                if m.name in joined
                else ""
            )
        )
        for m in missing
    ]
    return CompileError(problems, hint="a DAG op's joins are collected when its DAG starts it")


def check_op_params(
    resolved: Resolved,
    io: OperationSpec,
    operation: OperationSpec,
    *,
    context: Mapping[str, Any],
    resolve_ref: Any,
    cli_params: Mapping[str, Any] | None = None,
) -> ParamsResult:
    """The matrix and params of ``operation`` against the inputs/outputs (``io``) of its component."""
    check_matrix(operation.matrix, io.inputs or [], resolved.where.at("matrix"))
    if operation.matrix is not None:
        check_matrix_names(operation.matrix, io, template_names(resolved.data), resolved.where.at("matrix"))
    return resolve_params(
        io.inputs,
        io.outputs,
        operation.params,
        where=resolved.component_where,
        params_where=resolved.where,
        cli_params=cli_params,
        matrix_names=matrix_names(operation.matrix),
        join_names=join_param_names(operation),
        context=context,
        strict_params=bool(resolved.data.get("strictParams")),
        resolve_ref=resolve_ref,
        refuse_unknown_cli=True,  # its CLI params are the user's -P
    )


def build_dag(
    run: Mapping[str, Any],
    run_where: Where,
    *,
    dag_path: Path | None,
    chain: tuple[str, ...],
    resolver: ComponentResolver,
    dag_values: Mapping[str, Any] | None,
    globals_: Mapping[str, Any],
    inherited: Mapping[str, tuple[ComponentSpec, Where]] | None = None,
) -> DagStructure:
    """The ops and graph of the DAG ``run``; ``inherited``: the components of the DAG holding it
    (a nested DAG's ops may ``dagRef`` them); ``dag_values`` None: its inputs are not known yet."""
    operations = run.get("operations") or []
    if not operations:
        raise run_where.error("a DAG needs at least one op under 'operations'", "operations")
    components: dict[str, tuple[ComponentSpec, Where]] = dict(inherited or {})
    for index, data in enumerate(run.get("components") or []):
        component = ComponentSpec.model_validate(data)
        if not component.name:
            raise run_where.error(
                "every component of a DAG needs a name (ops use it in dagRef)", "components", index
            )
        components[component.name] = (component, run_where.at("components", index))
    specs: list[tuple[OperationSpec, Where]] = []
    names: list[str] = []
    for index, data in enumerate(operations):
        where = run_where.at("operations", index)
        spec = OperationSpec.model_validate(data)
        if not spec.name:
            raise where.error("every op of a DAG needs a name")
        if spec.name in names:
            raise where.error(f"two ops are named {spec.name!r}", "name")
        names.append(spec.name)
        specs.append((spec, where))
    op_names = set(names)
    ops: dict[str, DagOp] = {}
    problems: list[SpecProblem] = []
    for spec, where in specs:
        try:
            ops[spec.name or ""] = _build_op(
                spec,
                where,
                dag_path=dag_path,
                chain=chain,
                resolver=resolver,
                components=components,
                op_names=op_names,
                dag_values=dag_values,
                globals_=globals_,
            )
        except CompileError as exc:
            problems.extend(exc.problems)
    if problems:
        raise CompileError(problems)
    where_of = {spec.name: where for spec, where in specs}
    try:
        edges = {name: op.upstream | {ref for _, ref in op.events} for name, op in ops.items()}
        graph = build_graph(names, edges)
    except GraphError as exc:
        where = where_of.get(exc.op or "", run_where)
        raise where.error(str(exc), "dependencies" if "depends on" in str(exc) else "") from None
    return DagStructure(
        ops=ops,
        graph=graph,
        concurrency=run.get("concurrency") if isinstance(run.get("concurrency"), int) else None,
        early_stopping=list(run.get("earlyStopping") or []),
    )


def with_run_paths(upstream: Mapping[str, Mapping[str, Any]], context: Any) -> dict[str, dict[str, Any]]:
    """``upstream`` with each op's ``globals`` (``uuid``, ``run_artifacts_path``, ``run_outputs_path``)
    as the run being compiled sees them: the upstream's folder in the same artifacts store."""
    store = str(context.store_path).rstrip("/")
    enriched: dict[str, dict[str, Any]] = {}
    for name, values in upstream.items():
        entry = dict(values)
        uuid = entry.get("uuid")
        if isinstance(uuid, str) and uuid:
            paths = {"run_artifacts_path": f"{store}/{uuid}", "run_outputs_path": f"{store}/{uuid}/outputs"}
            own = {k: entry[k] for k in ("uuid", "name", "status") if k in entry}
            entry["globals"] = {**dict(entry.get("globals") or {}), **own, **paths}
            entry.setdefault("artifacts_path", paths["run_artifacts_path"])
        enriched[name] = entry
    return enriched


def _event_ops(
    spec: OperationSpec, where: Where, op_names: set[str]
) -> tuple[tuple[tuple[str, ...], str], ...]:
    """``events: [{kinds: [run_status_running], ref: ops.A}]``: the ops (of this DAG) it waits on."""
    found = []
    for index, event in enumerate(spec.events or []):
        ref = event.ref.strip()
        name = ref[4:] if ref.startswith("ops.") else ""
        if name not in op_names:
            raise where.error(
                f"events ref {ref!r}: only `ops.NAME` of an op of this DAG is supported", "events", index
            )
        unsupported = [k for k in event.kinds if not k.startswith("run_status_")]
        if unsupported:
            raise where.error(
                f"event {unsupported[0]!r} is not supported in a DAG: use a run_status_* event",
                "events",
                index,
            )
        found.append((tuple(event.kinds), name))
    return tuple(found)


def templates_ops_references(value: Any) -> set[str]:
    """Ops named by ``{{ ops.NAME... }}`` anywhere in a run's strings."""
    if isinstance(value, str):
        return ops_references(value) if "ops" in value else set()
    if isinstance(value, Mapping):
        return set().union(*(templates_ops_references(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(templates_ops_references(v) for v in value))
    return set()


def _build_op(
    spec: OperationSpec,
    where: Where,
    *,
    dag_path: Path | None,
    chain: tuple[str, ...],
    resolver: ComponentResolver,
    components: Mapping[str, tuple[ComponentSpec, Where]],
    op_names: set[str],
    dag_values: Mapping[str, Any] | None,
    globals_: Mapping[str, Any],
) -> DagOp:
    resolved = resolver.resolve(spec, where, dag_path, chain, dag_components=dict(components))
    data = resolved.data
    nested = None
    if data["run"].get("kind") == "dag":  # a nested DAG: its own ops and graph are checked now
        nested = build_dag(
            data["run"],
            resolved.component_where.at("run"),
            dag_path=resolved.component_path,
            chain=resolved.chain,
            resolver=resolver,
            dag_values=None,
            globals_=globals_,
            inherited=components,
        )
    io = OperationSpec.model_validate({k: data[k] for k in ("inputs", "outputs") if k in data})
    params = check_op_params(
        resolved,
        io,
        spec,
        context=dag_param_context(dag_values, globals_),
        resolve_ref=dag_ref_resolver(op_names, dag_values, None, where),
    )
    if params.missing:
        raise missing_inputs_error(params.missing)
    upstream = set(spec.dependencies or []) | params.upstream_ops()
    for param in params.params.values():
        if param.template:
            upstream |= ops_references(param.template)
    if spec.conditions:
        upstream |= ops_references(spec.conditions)
    upstream |= templates_ops_references(data.get("run"))
    unknown = sorted(set(spec.dependencies or []) - op_names)
    if unknown:
        raise where.error(f"depends on {unknown[0]!r}, which is not an op of this DAG", "dependencies")
    unknown = sorted(upstream - op_names)
    if unknown:
        raise where.error(f"reads ops.{unknown[0]}, but no op of this DAG is named {unknown[0]!r}")
    return DagOp(
        name=spec.name or "",
        resolved=resolved,
        io=io,
        params=params,
        upstream=frozenset(upstream),
        trigger=spec.trigger or "all_succeeded",
        conditions=spec.conditions,
        skip_on_upstream_skip=bool(spec.skip_on_upstream_skip),
        matrix=spec.matrix,
        schedule=spec.schedule,
        events=_event_ops(spec, where, op_names),
        nested=nested,
    )
