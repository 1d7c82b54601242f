"""Compile a claimed run into the Plan its executor runs, with that executor's RuntimeContext."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from mizzen.compiler.compile import Compiler
from mizzen.compiler.plan import ConnectionPlan, InitStep, Plan, RuntimeContext
from mizzen.errors import CompileError
from mizzen.scheduler.joins import JOINS_KEY
from mizzen.scheduler.loop import CompileRun
from mizzen.scheduler.source import ClaimedRun
from mizzen.schemas.pipelines import DAG_OP_KEY, TICK_KEY, TRIAL_KEY, UPSTREAM_KEY
from mizzen.schemas.run_meta import CODE_RUN_KEY, UPLOAD_DONE, UPLOAD_KEY
from mizzen.settings import Settings
from mizzen.spec import load_dict
from mizzen.store.records import RunRecord

UPLOADS_FOLDER = "uploads"  # in the run's artifacts: the code `mizzen run -u` uploaded
CODE_FOLDER = "code"  # in the run's context: where that code is copied before the run starts
# (the local executor drops that copy when the run ends: executors.local.layout.UPLOADED_CODE_FOLDER)


def run_compiler(settings: Settings, connections: Mapping[str, ConnectionPlan] | None = None) -> CompileRun:
    def compile_run(run: ClaimedRun, context: RuntimeContext) -> Plan:
        if not run.spec:
            raise CompileError(f"run {run.uuid} has no polyaxonfile to compile")
        loaded = load_dict(run.spec, source=f"run {run.uuid[:12]}")
        due = (run.meta.get(TICK_KEY) or {}).get("due")
        if due:  # a schedule's tick: `{{ globals.schedule_at }}` is the time it was due
            context = context.model_copy(update={"schedule_at": due})
        compiler = Compiler.from_settings(settings, context=context, connections=connections, strict=True)
        trial = run.meta.get(TRIAL_KEY) or {}
        values = dict(trial.get("values") or {})
        # A trial's params show its values; they reach the compiler as the trial's, not as -P.
        params = {k: v for k, v in run.params.items() if k not in values}
        # Values its joins collected when it was claimed (scheduler.joins): ordinary values now.
        joined = dict((run.meta.get(JOINS_KEY) or {}).get("values") or {})
        op_name = run.meta.get(DAG_OP_KEY)
        compiled = compiler.compile_loaded(loaded, params if op_name else {**params, **joined})
        if op_name:
            upstream = run.meta.get(UPSTREAM_KEY) or {}
            plan = compiler.compile_dag_op(compiled, op_name, upstream, {**values, **joined} or None)
        elif values or compiled.matrix is not None:
            plan = compiler.compile_trial(compiled, values)
        elif compiled.plan is None:
            raise CompileError(
                f"a {compiled.kind.value} cannot run as a single run; "
                "submit it with `mizzen run` so it is expanded"
            )
        else:
            plan = compiled.plan
        if run.meta.get(UPLOAD_KEY) == UPLOAD_DONE:
            plan = with_uploaded_code(plan, run.meta.get(CODE_RUN_KEY) or run.uuid, context)
        return plan

    return compile_run


def pipeline_compiler(
    settings: Settings, connections: Mapping[str, ConnectionPlan] | None = None
) -> Callable[[RunRecord], Compiler]:
    """The compiler a pipeline driver reads a pipeline's structure with (not strict: a template
    that reads an op's outputs is rendered when the op runs)."""

    def compiler_for(pipeline: RunRecord) -> Compiler:
        context = RuntimeContext(
            project_name=pipeline.project,
            project_uuid=pipeline.project_uuid,
            uuid=pipeline.uuid,
            name=pipeline.name,
        )
        return Compiler.from_settings(settings, context=context, connections=connections)

    return compiler_for


def with_uploaded_code(plan: Plan, uuid: str, context: RuntimeContext) -> Plan:
    """Copy the folder uploaded to run ``uuid`` (this run, or the original of a restart or copy)
    into the run's context first, and run from there unless the polyaxonfile says where to run."""
    code_path = f"{context.context_path.rstrip('/')}/{CODE_FOLDER}"
    step = InitStep(
        kind="paths",
        name="init-uploads",
        path=context.context_path,
        paths=[[f"{uuid}/{UPLOADS_FOLDER}", CODE_FOLDER]],
    )
    plan = plan.model_copy(deep=True)
    for replica in plan.replicas:
        replica.pod.init.insert(0, step)
        containers = [c for c in [replica.pod.main] if c is not None]
        for container in containers:
            if not container.working_dir:
                container.working_dir = code_path
    return plan
