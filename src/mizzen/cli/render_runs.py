"""What `mizzen render --target kubernetes` shows: the Kubernetes objects of each run a polyaxonfile
makes, as the agent would create them (``KubernetesExecutor``: the token Secret, then the renderer's
objects), compiled with the paths a run has in a pod.

A single run renders as its objects; a dag as the objects of each op in topological order, with the
values of upstream ops as visible placeholders (``<ops.train.outputs.loss>``); a matrix as its first
trials with their params; a scheduled run as one of its runs. Imported only when the command runs.
"""

from __future__ import annotations

import dataclasses
import re
import uuid as uuidlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mizzen.agent.options import render_options
from mizzen.cli.render_matrix import first_trials
from mizzen.cli.render_placeholders import with_join_placeholders, with_missing_connections
from mizzen.compiler.compile import Compiled, Compiler
from mizzen.compiler.matrix import sample_values
from mizzen.compiler.plan import ConnectionPlan, Plan, RunKind, RuntimeContext
from mizzen.connections_catalog import load_home_connections
from mizzen.errors import MizzenError
from mizzen.executors.base import RunRef
from mizzen.executors.kubernetes.executor import pod_context
from mizzen.executors.kubernetes.objects import token_secret
from mizzen.executors.kubernetes.runs import token_secret_name
from mizzen.render.k8s import RenderOptions, render_plan
from mizzen.settings import Settings
from mizzen.spec import load_files

TOKEN_PLACEHOLDER = "<the run's API token, issued when an agent starts the run>"
API_HOST_PLACEHOLDER = "http://<the Mizzen API>"
NOT_RENDERED = {
    RunKind.TUNER: "a tuner run is started by the scheduler for a sweep; render the sweep's polyaxonfile",
}


@dataclass
class RenderedRun:
    comments: list[str]
    objects: list[dict[str, Any]] = field(default_factory=list)


_OPS_TEMPLATE = re.compile(r"\{\{\s*(ops\.[A-Za-z0-9_-]+\.(?:outputs|inputs)\.[A-Za-z0-9_.-]+)\s*\}\}")


def with_upstream_placeholders(plan: Plan, op: Any) -> Plan:
    """The op's Plan with what upstream ops will provide written as ``<ops.train.outputs.loss>``: the
    op is compiled without upstream values (its templates stay as written), then ``{{ ops.X... }}``
    and ``{{ param }}`` of params that refer to an op are replaced by placeholders."""
    text = _OPS_TEMPLATE.sub(lambda m: f"<{m.group(1)}>", plan.model_dump_json(by_alias=True))
    for name, spec in (op.resolved.operation.params or {}).items():
        if spec.ref and spec.ref.startswith("ops."):
            placeholder = f"<{spec.ref}.{spec.value}>" if spec.value else f"<{spec.ref}>"
            text = re.sub(r"\{\{\s*" + re.escape(name) + r"\s*\}\}", placeholder, text)
    return Plan.model_validate_json(text)


def _run_uuid(*parts: str) -> str:
    """A stable uuid per rendered run, so renders of the same file diff cleanly."""
    return uuidlib.uuid5(uuidlib.NAMESPACE_URL, "mizzen-render:" + "/".join(parts)).hex


class KubernetesRender:
    def __init__(
        self,
        settings: Settings,
        env: Mapping[str, str],
        namespace: str,
        connections: Mapping[str, ConnectionPlan] | None = None,
    ) -> None:
        self.settings = settings
        self.namespace = namespace
        self.connections = (
            dict(connections) if connections is not None else load_home_connections(settings.home)
        )
        self.notes: list[str] = []
        self.warnings: list[str] = []  # also printed on stderr
        self.options = self._options(env)

    def _options(self, env: Mapping[str, str]) -> RenderOptions:
        try:
            options = render_options(self.settings, env, self.namespace)
        except MizzenError as error:
            self.notes.append(f"rendered without the artifacts store: {error}")
            options = RenderOptions(init_image=self.settings.init_image, namespace=self.namespace)
        api_host = self.settings.host or API_HOST_PLACEHOLDER
        return options.model_copy(update={"api_host": api_host})

    def context(self, uuid: str, name: str | None, project: str) -> RuntimeContext:
        """The RuntimeContext the Kubernetes executor gives a run (the same paths)."""
        run = RunRef(uuid=uuid, project=project, name=name)
        api_host = self.options.api_host or API_HOST_PLACEHOLDER
        return pod_context(run, self.namespace, self.options.artifacts_store, api_host)

    def objects(self, plan: Plan, context: RuntimeContext) -> list[dict[str, Any]]:
        """What the agent creates for the run: its token Secret, then the run's objects."""
        options = self.options.model_copy(update={"token_secret": token_secret_name(context.uuid)})
        return [token_secret(plan, context, options, TOKEN_PLACEHOLDER), *render_plan(plan, context, options)]

    def run(self, comments: list[str], plan: Plan, context: RuntimeContext) -> RenderedRun:
        """One run's objects, connections missing from the catalog shown as placeholders."""
        plan, warnings = with_missing_connections(plan)
        self.warnings += warnings
        return RenderedRun(comments + warnings, self.objects(plan, context))

    # -- what a file makes -----------------------------------------------------------------------

    def render(
        self, files: Sequence[Path], params: Mapping[str, Any], project: str, trials: int
    ) -> list[RenderedRun]:
        label = files[0].name
        top = self.context(_run_uuid(str(files[0])), None, project)
        compiler = Compiler.from_settings(self.settings, top, self.connections, strict=False)
        compiled = compiler.compile_loaded(load_files(list(files)), params)
        if compiled.kind in NOT_RENDERED:
            raise MizzenError(f"{label}: {NOT_RENDERED[compiled.kind]}")
        if compiled.dag is not None:
            return self._dag(compiled, compiler, project, label)
        if compiled.matrix is not None:
            return self._matrix(compiled, compiler, project, label, trials)
        assert compiled.plan is not None
        comments = [f"run: {compiled.name or label} ({compiled.kind.value})"]
        if compiled.schedule is not None:
            comments.append(f"one run of its schedule ({_schedule_text(compiled.schedule)})")
        context = self.context(top.uuid, compiled.name, project)
        self.warnings += _warnings(compiled)
        return [self.run(comments + _warnings(compiled), compiled.plan, context)]

    def _matrix(
        self, compiled: Compiled, compiler: Compiler, project: str, label: str, trials: int
    ) -> list[RenderedRun]:
        matrix = compiled.matrix
        chosen = first_trials(matrix, trials)
        rendered = []
        for index, values in enumerate(chosen, start=1):
            context = self.context(_run_uuid(label, "trial", str(index)), compiled.name, project)
            plan = dataclasses.replace(compiler, context=context).compile_trial(compiled, values)
            shown = ", ".join(f"{name}={value}" for name, value in values.items())
            comment = f"trial {index} of the {matrix.kind} sweep {compiled.name or label}: {shown}"
            rendered.append(self.run([comment], plan, context))
        return rendered

    def _dag(self, compiled: Compiled, compiler: Compiler, project: str, label: str) -> list[RenderedRun]:
        assert compiled.dag is not None
        rendered = []
        for name in compiled.dag.graph.order:
            op = compiled.dag.ops[name]
            comments = [f"op: {name} ({op.kind})"]
            if op.upstream:
                comments.append(f"after: {', '.join(sorted(op.upstream))} (trigger {op.trigger})")
            if op.conditions:
                comments.append(f"runs only if: {op.conditions}")
            values = None
            if op.matrix is not None:
                values = sample_values(op.matrix)
                comments.append(f"its own {op.matrix.kind} sweep; one trial shown: {values}")
            context = self.context(_run_uuid(label, "op", name), name, project)
            op_compiler = dataclasses.replace(compiler, context=context)
            plan = op_compiler.compile_dag_op(compiled, name, upstream={}, values=values)
            plan = with_upstream_placeholders(plan, op)
            plan, joins = with_join_placeholders(plan, op.resolved.operation)
            comments += joins
            if plan.kind == RunKind.DAG:
                comments.append("a nested dag: render its own polyaxonfile to see its ops")
                rendered.append(RenderedRun(comments))
                continue
            if any(replica.pod.main is None for replica in plan.replicas):
                warning = f"warning: op '{name}' has no container to start{_inline_note(op)}"
                self.warnings.append(warning)
                rendered.append(RenderedRun([*comments, warning]))
                continue
            rendered.append(self.run(comments, plan, context))
        return rendered


def _inline_note(op: Any) -> str:
    """Why an op with both an inline component and a hubRef runs the inline one."""
    operation = op.resolved.operation
    if operation.component is None or not operation.hub_ref:
        return ""
    return (
        f": its inline component is used, not hubRef '{operation.hub_ref}' (as in Polyaxon, an "
        "inline component wins), and it defines none; nothing is rendered for it"
    )


def _warnings(compiled: Compiled) -> list[str]:
    return [f"warning: {warning}" for warning in compiled.warnings]


def _schedule_text(schedule: Any) -> str:
    if schedule.kind == "cron":
        return f"cron '{schedule.cron}'"
    if schedule.kind == "interval":
        return f"every {schedule.frequency}"
    return f"at {schedule.start_at}"
