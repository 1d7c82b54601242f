"""Compile polyaxonfiles: resolve, check params, render templates, build the Plan.

``compile_files`` is what ``mizzen check`` and ``mizzen run`` call. Its ``Compiled`` result holds
the Plan of a single run, or the structure the scheduler expands (``matrix``, ``dag``,
``schedule``); the scheduler then calls ``compile_trial`` for each trial of a sweep and
``compile_dag_op`` for each op of a DAG once its upstream values exist.

``strict=False`` (checking) keeps a template that cannot be rendered yet as written and reports it
as a warning (the reference does not render the run section when checking); ``strict=True`` (an
executor compiling what it will run) makes it a located error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

from mizzen.compiler.build import build_plan
from mizzen.compiler.build_image import with_built_image
from mizzen.compiler.compose import compose
from mizzen.compiler.contexts import build_context, globals_of
from mizzen.compiler.dag import (
    DagOp,
    DagStructure,
    build_dag,
    check_op_params,
    dag_param_context,
    dag_ref_resolver,
    join_param_names,
    uncollected_joins_error,
    with_run_paths,
)
from mizzen.compiler.lint import empty_connections, legacy_resources
from mizzen.compiler.locate import Where
from mizzen.compiler.matrix import matrix_names, sample_values
from mizzen.compiler.params import (
    MissingInput,
    ParamsResult,
    ResolvedParam,
    missing_inputs_error,
    resolve_params,
)
from mizzen.compiler.plan import ConnectionPlan, Plan, RunKind, RuntimeContext
from mizzen.compiler.pod import split_run_commands
from mizzen.compiler.refs import RefResolver
from mizzen.compiler.resolve import ComponentResolver, Resolved
from mizzen.compiler.templating import Deferred, TemplateError, evaluate, render_structure
from mizzen.errors import CompileError, SpecProblem
from mizzen.schemas.pipelines import DAG, MATRIX, SCHEDULE
from mizzen.spec import Loaded, OperationSpec, load_dict, load_files

# Top-level sections rendered with the run's context (hooks, conditions and joins are rendered by
# the scheduler when they fire).
_RENDERED_SECTIONS = (
    "name",
    "description",
    "tags",
    "queue",
    "namespace",
    "cost",
    "isApproved",
    "termination",
    "plugins",
    "cache",
)


@dataclass
class Compiled:
    """A checked polyaxonfile: one run's Plan, or the structure that makes many."""

    kind: RunKind
    operation: OperationSpec  # the effective operation (refs resolved, component merged)
    resolved: Resolved
    params: dict[str, ResolvedParam]
    plan: Plan | None = None  # None for sweeps (one Plan per trial: compile_trial)
    matrix: Any = None  # MatrixSpec
    dag: DagStructure | None = None
    schedule: Any = None  # ScheduleSpec
    missing_inputs: list[MissingInput] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    compiler: Compiler | None = None

    @property
    def name(self) -> str | None:
        return self.resolved.data.get("name")

    @property
    def pipeline_kind(self) -> str | None:
        """The pipeline it runs as (``schedule``, ``matrix``, ``dag``), or None for a single run."""
        if self.schedule is not None:
            return SCHEDULE
        if self.matrix is not None:
            return MATRIX
        if self.dag is not None:
            return DAG
        return None


@dataclass
class Compiler:
    """Settings of one compilation: where refs are found, the run's context, the connections."""

    refs: RefResolver = field(default_factory=RefResolver)
    context: RuntimeContext = field(default_factory=RuntimeContext)
    connections: Mapping[str, ConnectionPlan] = field(default_factory=dict)
    strict: bool = False

    @classmethod
    def from_settings(
        cls,
        settings: Any = None,
        context: RuntimeContext | None = None,
        connections: Mapping[str, ConnectionPlan] | Sequence[ConnectionPlan] | None = None,
        strict: bool = False,
    ) -> Compiler:
        refs = RefResolver(
            hub_folders=tuple(settings.hub_folders) if settings is not None else (),
            url_mirrors=dict(settings.url_mirror_map) if settings is not None else {},
        )
        if connections is not None and not isinstance(connections, Mapping):
            connections = {c.name: c for c in connections}
        return cls(refs, context or RuntimeContext(), dict(connections or {}), strict)

    # -- entry points ---------------------------------------------------------------------------

    def compile_loaded(
        self, loaded: Loaded, params: Mapping[str, Any] | None = None, require_inputs: bool = True
    ) -> Compiled:
        spec = loaded.spec
        top = Where(loaded, "", str(loaded.path) if loaded.path else None)
        resolver = ComponentResolver(self.refs)
        if isinstance(spec, OperationSpec):
            resolved = resolver.resolve(spec, top, loaded.path)
        else:  # a component runs as an operation with nothing of its own
            resolved = Resolved(OperationSpec(), compose(None, spec, top), top, top, loaded.path)
        return self._compile_resolved(resolved, resolver, dict(params or {}), require_inputs)

    def _compile_resolved(
        self,
        resolved: Resolved,
        resolver: ComponentResolver,
        cli_params: dict[str, Any],
        require_inputs: bool,
    ) -> Compiled:
        data = resolved.data
        sections = {
            k: data[k] for k in ("inputs", "outputs", "params", "matrix", "schedule", "joins") if k in data
        }
        operation = OperationSpec.model_validate(sections)
        kind = RunKind(data["run"]["kind"])
        matrix = operation.matrix
        globals_ = globals_of(self.context)
        clash = sorted(set(cli_params) & matrix_names(matrix))
        if clash:  # the sweep gives each trial its own value: a -P would be shown but never used
            raise resolved.where.error(
                f"-P {clash[0]}: {clash[0]!r} is a param of the matrix, which sets it for each trial; "
                f"remove -P {clash[0]}, or take {clash[0]!r} out of the matrix",
                "matrix",
            )
        result = check_op_params(
            resolved,
            operation,
            operation,
            cli_params=cli_params,
            context=dag_param_context(None, globals_),
            resolve_ref=dag_ref_resolver(set(), None, None, resolved.where),
        )
        compiled = Compiled(
            kind=kind,
            operation=operation,
            resolved=resolved,
            params=result.params,
            matrix=matrix,
            schedule=operation.schedule,
            missing_inputs=result.missing,
            warnings=list(result.warnings)
            + _named_presets_warning(data, resolved.where)
            + _legacy_resources_warnings(resolved),
            compiler=self,
        )
        if result.missing and require_inputs:
            raise missing_inputs_error(result.missing)
        run_where = resolved.component_where.at("run")
        if kind == RunKind.DAG:
            dag_values = _dag_values(result.params, globals_)
            compiled.dag = build_dag(
                data["run"],
                run_where,
                dag_path=resolved.component_path,
                chain=resolved.chain,
                resolver=resolver,
                dag_values=dag_values,
                globals_=globals_,
            )
            compiled.plan = self._plan(resolved, result, warnings=compiled.warnings, dag=True)
        elif matrix is not None:
            trial = self._trial_params(result, sample_values(matrix))
            self._plan(resolved, trial, warnings=compiled.warnings)  # a sample trial must compile
        elif not result.missing:
            compiled.plan = self._plan(resolved, result, warnings=compiled.warnings)
        return compiled

    def compile_trial(self, compiled: Compiled, values: Mapping[str, Any]) -> Plan:
        """The Plan of one trial of a sweep, ``values`` being the params the tuner suggested."""
        trial = self._trial_params(ParamsResult(params=compiled.params), values)
        return self._plan(compiled.resolved, trial, warnings=compiled.warnings)

    def compile_dag_op(
        self,
        compiled: Compiled,
        op_name: str,
        upstream: Mapping[str, Mapping[str, Any]] | None = None,
        values: Mapping[str, Any] | None = None,
    ) -> Plan:
        """The Plan of one op of a DAG; ``upstream[op] = {"outputs": {...}, "inputs": {...}}``.

        ``values`` are trial values when the op has its own matrix.
        """
        upstream = with_run_paths(upstream or {}, self.context)
        op, result, dag_values = self.op_params(compiled, op_name, upstream, values)
        waiting = [
            p for p in result.params.values() if p.source == "deferred" and (p.ref or "").startswith("ops.")
        ]
        if waiting and self.strict:
            raise CompileError(
                [
                    op.resolved.where.problem(
                        f"{p.ref}.{p.ref_path or ''} is not known yet", "params", p.name
                    )
                    for p in waiting
                ]
            )
        return self._plan(
            op.resolved, result, warnings=compiled.warnings, ops=upstream or {}, dag_values=dag_values
        )

    def op_conditions_met(
        self, compiled: Compiled, op_name: str, upstream: Mapping[str, Mapping[str, Any]] | None = None
    ) -> bool:
        """Whether an op's ``conditions`` (``{{ upstream_loss > max_loss }}``) hold; True without any.

        The expression sees the op's params by name (plain values), ``ops``, ``dag`` and ``globals``.
        """
        upstream = with_run_paths(upstream or {}, self.context)
        op, result, dag_values = self.op_params(compiled, op_name, upstream, None)
        if not op.conditions:
            return True
        context = _known_values(result.params)
        context |= {"globals": dag_values["globals"], "dag": dag_values, "ops": dict(upstream or {})}
        try:
            return bool(evaluate(op.conditions, context))
        except (TemplateError, Deferred) as exc:
            message = f"cannot evaluate {op.conditions!r}: {exc}"
            raise op.resolved.where.error(message, "conditions") from None

    def op_context(
        self, compiled: Compiled, op_name: str, upstream: Mapping[str, Mapping[str, Any]] | None = None
    ) -> tuple[DagOp, dict[str, Any]]:
        """An op and what its conditions and joins see: its params by name (plain values), ``ops``,
        ``dag`` and ``globals``."""
        op, result, dag_values = self.op_params(compiled, op_name, upstream, None)
        context = _known_values(result.params)
        context |= {"globals": dag_values["globals"], "dag": dag_values, "ops": dict(upstream or {})}
        return op, context

    def op_params(
        self,
        compiled: Compiled,
        op_name: str,
        upstream: Mapping[str, Mapping[str, Any]] | None,
        values: Mapping[str, Any] | None,
    ) -> tuple[DagOp, ParamsResult, dict[str, Any]]:
        if compiled.dag is None or op_name not in compiled.dag.ops:
            raise CompileError(f"no op named {op_name!r} in this DAG")
        op: DagOp = compiled.dag.ops[op_name]
        dag_values = _dag_values(compiled.params, globals_of(self.context))
        result = resolve_params(
            op.io.inputs,
            op.io.outputs,
            op.resolved.operation.params,
            where=op.resolved.component_where,
            params_where=op.resolved.where,
            cli_params=dict(values or {}),
            matrix_names=set() if values else matrix_names(op.matrix),
            # Joins are not collected yet: checking leaves their inputs unset, a run requires them.
            join_names=() if self.strict else join_param_names(op.resolved.operation),
            context=dag_param_context(dag_values, dag_values["globals"], upstream),
            resolve_ref=dag_ref_resolver(
                set(compiled.dag.ops), dag_values, upstream or {}, op.resolved.where
            ),
        )
        if result.missing:
            raise uncollected_joins_error(result.missing, op.resolved.operation) or missing_inputs_error(
                result.missing
            )
        return op, result, dag_values

    # -- internals ------------------------------------------------------------------------------

    @staticmethod
    def _trial_params(result: ParamsResult, values: Mapping[str, Any]) -> ParamsResult:
        params = dict(result.params)
        for name, value in values.items():
            base = params.get(name)
            if base is None:
                params[name] = ResolvedParam(name=name, kind="context", value=value, source="param")
            else:
                params[name] = ResolvedParam(**{**base.__dict__, "value": value, "source": "param"})
        return ParamsResult(params=params)

    def _plan(
        self,
        resolved: Resolved,
        result: ParamsResult,
        *,
        warnings: list[str],
        dag: bool = False,
        ops: Mapping[str, Any] | None = None,
        dag_values: Mapping[str, Any] | None = None,
    ) -> Plan:
        data = resolved.data
        run = data["run"]
        run_where = resolved.component_where.at("run")
        ports = (
            [p for p in run.get("ports") or [] if isinstance(p, int)] if run.get("kind") == "service" else []
        )
        context = build_context(
            result.params,
            self.context,
            self.connections,
            ports=ports,
            ops=ops,
            dag=dag_values,
            in_dag=dag_values is not None,
        )
        problems: list[SpecProblem] = []

        def render_at(value: Any, where: Where) -> Any:
            """Render ``value``; what cannot be rendered is an error when strict, else a warning."""

            def report(path: str, message: str, kept: str = "") -> None:
                if self.strict:
                    problems.append(where.problem(message, path))
                else:
                    warnings.append(where.problem(message + kept, path).render())

            return render_structure(
                value,
                context,
                on_deferred=lambda path, ref: report(path, f"cannot be rendered before {ref} is known"),
                on_error=lambda path, error: report(
                    path, str(error), " (kept as written; it fails when the run starts)"
                ),
            )

        top = render_at({k: data[k] for k in _RENDERED_SECTIONS if k in data}, resolved.where)
        to_render = {k: v for k, v in run.items() if not (dag and k in ("operations", "components"))}
        if not dag:
            to_render = split_run_commands(to_render, run_where)
        rendered_run = render_at(to_render, run_where)
        for path, written in empty_connections(to_render, rendered_run):
            fix = "(give the param it reads a connection)"
            if self.strict:
                message = f"connection {written!r} renders to nothing, so the run cannot start {fix}"
                problems.append(run_where.problem(message, *path))
            else:
                message = f"connection {written!r} renders to nothing: a run would be refused {fix}"
                warnings.append(run_where.problem(message, *path).render())
        if problems:
            raise CompileError(problems)
        if dag:
            return Plan(
                kind=RunKind.DAG,
                name=top.get("name"),
                description=top.get("description"),
                tags=[str(t) for t in top.get("tags") or []],
                queue=top.get("queue"),
                namespace=top.get("namespace"),
                params=_known_values(result.params),
                inputs=_known_values(result.params, "input"),
                outputs=_known_values(result.params, "output"),
            )
        plan = build_plan(
            top,
            rendered_run,
            result.params,
            connections=self.connections,
            op_where=resolved.where,
            run_where=run_where,
            # Init steps write below globals.artifacts_path, as in Polyaxon: a git init lands in
            # {{ globals.artifacts_path }}/<repo>, which real polyaxonfiles use as their workingDir.
            context_path=self.context.artifacts_path,
        )
        plan, unknown = with_built_image(plan, data.get("build"), self.context, self.connections)
        warnings += [resolved.where.problem(message, "build", "connection").render() for message in unknown]
        return plan


def _known_values(params: Mapping[str, ResolvedParam], kind: str | None = None) -> dict[str, Any]:
    """The values known now (of one kind of param, or of all), by name."""
    return {n: p.value for n, p in params.items() if not p.is_deferred and kind in (None, p.kind)}


def _dag_values(params: Mapping[str, ResolvedParam], globals_: Mapping[str, Any]) -> dict[str, Any]:
    """``dag.*`` in the templates and ``ref: dag`` params of a DAG's ops."""
    return {"inputs": _known_values(params), "globals": globals_}


def _legacy_resources_warnings(resolved: Resolved) -> list[str]:
    """The v1 resources form, converted: said once per place it is written."""
    warnings: list[str] = []
    written = (resolved.where.loaded, resolved.component_where.loaded)
    files = {id(loaded): loaded for loaded in written if isinstance(loaded, Loaded)}
    for loaded in files.values():
        for path in legacy_resources(loaded.raw):
            message = (
                "the v1 form {cpu: {requests: 1, limits: 2}} is read as requests: {cpu: 1} and "
                "limits: {cpu: 2} (Polyaxon 2.x drops it); write it that way"
            )
            warnings.append(loaded.problem(list(path), message).render())
    return warnings


def _named_presets_warning(data: Mapping[str, Any], where: Where) -> list[str]:
    """Named presets (``presets: [gpu]``) live in the server's catalog; files are laid with ``-f``."""
    names = [str(name) for name in data.get("presets") or []]
    if not names:
        return []
    message = (
        f"presets {names} are named here and applied by the server that runs the operation; "
        "to check them locally, lay their files over this one with -f"
    )
    return [where.problem(message, "presets").render()]


def compile_files(
    paths: Sequence[str | PathLike[str]],
    params: Mapping[str, Any] | None = None,
    settings: Any = None,
    context: RuntimeContext | None = None,
    connections: Mapping[str, ConnectionPlan] | Sequence[ConnectionPlan] | None = None,
    *,
    strict: bool = False,
    require_inputs: bool = True,
) -> Compiled:
    """Load ``paths`` (the main file, then overlays), resolve and compile them.

    ``params`` are ``-P`` values (strings are coerced by the input's type). ``settings`` is a
    ``mizzen.settings.Settings`` (hub folders, URL mirrors); ``context`` the RuntimeContext of the
    run (a default one for checking); ``connections`` the catalog (unknown names are carried).
    Raises SpecError/CompileError with located problems.
    """
    compiler = Compiler.from_settings(settings, context, connections, strict)
    loaded = load_files([Path(p) for p in paths])
    return compiler.compile_loaded(loaded, params, require_inputs)


def compile_operation(
    operation: Loaded | OperationSpec,
    params: Mapping[str, Any] | None = None,
    context: RuntimeContext | None = None,
    connections: Mapping[str, ConnectionPlan] | Sequence[ConnectionPlan] | None = None,
    *,
    settings: Any = None,
    strict: bool = True,
) -> Plan:
    """The Plan of a single run (no matrix, not a DAG), e.g. from the SDK's dict or a stored spec."""
    compiler = Compiler.from_settings(settings, context, connections, strict)
    if isinstance(operation, OperationSpec):
        operation = load_dict(operation)
    compiled = compiler.compile_loaded(operation, params)
    if compiled.plan is None or compiled.kind == RunKind.DAG:
        what = "a sweep (matrix)" if compiled.matrix is not None else f"a {compiled.kind.value}"
        raise CompileError(f"this operation is {what}: its runs are compiled one by one by the scheduler")
    return compiled.plan


__all__ = ["Compiled", "Compiler", "compile_files", "compile_operation"]
