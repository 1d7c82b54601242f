"""Which hooks a finished run has, whether they trigger, and the notifier run each one starts.

A run's hooks are read from its spec as the scheduler compiles it: a single run's (operation or
component ``hooks:``), a DAG op's own component for an op's run, a pipeline's for the pipeline. A
sweep's trials have none of their own (the sweep notifies once, when it ends); runs a hook started
(kind ``notifier``) never start hooks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mizzen.compiler.compile import Compiler
from mizzen.compiler.templating import Deferred, TemplateError, evaluate, has_template, render
from mizzen.schemas.pipelines import DAG_OP_KEY, TRIAL_KEY
from mizzen.schemas.statuses import DONE_STATUSES, RunStatus
from mizzen.spec import HookSpec, load_dict
from mizzen.store.records import ConditionRecord, RunRecord

NOTIFIER_KIND = "notifier"
DEFAULT_TRIGGER = "done"  # Polyaxon's hooks fire when the run is done unless they say which status


class HookError(ValueError):
    """A hook that cannot fire as written (its conditions or params do not render): recorded."""


def hooks_of(run: RunRecord, compiler: Compiler) -> list[HookSpec]:
    """The hooks of ``run`` (none for a trial, a notifier, a run without a spec naming hooks)."""
    if run.kind == NOTIFIER_KIND or run.meta.get(TRIAL_KEY) or not run.spec or not _mentions_hooks(run.spec):
        return []
    op_name = run.meta.get(DAG_OP_KEY)
    loaded = load_dict(dict(run.spec), source=f"run {run.uuid[:12]}")
    # A DAG op's params are the op's, not the DAG's inputs: the DAG compiles without them.
    compiled = compiler.compile_loaded(loaded, {} if op_name else run.params, require_inputs=False)
    if op_name:
        if compiled.dag is None or op_name not in compiled.dag.ops:
            return []
        data = compiled.dag.ops[op_name].resolved.data
    else:
        data = compiled.resolved.data
    return [HookSpec.model_validate(hook) for hook in data.get("hooks") or []]


def triggers(hook: HookSpec, status: RunStatus) -> bool:
    trigger = hook.trigger or DEFAULT_TRIGGER
    return status in DONE_STATUSES if trigger == DEFAULT_TRIGGER else trigger == status.value


def notification_of(
    run: RunRecord, condition: ConditionRecord | None, hook: HookSpec, api_url: str | None
) -> dict[str, Any]:
    """What a notifier receives (the ``notification`` param): the run, the condition that ended it,
    the hook. The generic webhook posts exactly this."""
    return {
        "event": f"run_status_{run.status.value}",
        "run": {
            "uuid": run.uuid,
            "name": run.name,
            "project": run.project,
            "kind": run.kind,
            "status": run.status.value,
            "params": dict(run.params),
            "inputs": dict(run.inputs),
            "outputs": dict(run.outputs),
            "pipeline_uuid": run.pipeline_uuid,
            "created_at": _iso(run.created_at),
            "started_at": _iso(run.started_at),
            "finished_at": _iso(run.finished_at),
            "duration": run.duration,
            "url": f"{api_url.rstrip('/')}/api/v1/runs/{run.uuid}" if api_url else None,
        },
        "condition": {
            "status": condition.type.value if condition else run.status.value,
            "reason": condition.reason if condition else None,
            "message": condition.message if condition else None,
            "time": _iso(condition.time) if condition else None,
        },
        "hook": {
            "hubRef": hook.hub_ref,
            "trigger": hook.trigger or DEFAULT_TRIGGER,
            "connection": hook.connection,
        },
    }


def conditions_hold(hook: HookSpec, notification: Mapping[str, Any]) -> bool:
    """A hook's ``conditions`` (Jinja: ``{{ status == 'succeeded' and outputs.loss < 0.1 }}``) over
    the run: ``status``, ``outputs``, ``inputs``, ``params``, ``run``, ``condition``; True without any."""
    if not hook.conditions:
        return True
    try:
        return bool(evaluate(hook.conditions, _context(notification)))
    except (TemplateError, Deferred) as error:
        raise HookError(f"conditions {hook.conditions!r}: {error}") from None


def notifier_spec(run: RunRecord, hook: HookSpec, notification: Mapping[str, Any]) -> dict[str, Any]:
    """The operation a hook runs: its hub component, the hook's params (templates rendered over the
    run) and the notification as the context-only param ``notification``."""
    context = _context(notification)
    params: dict[str, Any] = {}
    for name, param in (hook.params or {}).items():
        entry = param.model_dump(by_alias=True, exclude_none=True)
        value = entry.get("value")
        if isinstance(value, str) and has_template(value):
            try:
                entry["value"] = render(value, context)
            except (TemplateError, Deferred) as error:
                raise HookError(f"param {name!r}: {error}") from None
        params[name] = entry
    params["notification"] = {"value": dict(notification), "contextOnly": True}
    spec: dict[str, Any] = {
        "version": 1.1,
        "kind": "operation",
        "name": f"{run.name or run.uuid[:12]}-hook",
        "hubRef": hook.hub_ref,
        "params": params,
    }
    if hook.connection:  # its credentials (MIZZEN_NOTIFIER_URL...) reach the notifier's env
        spec["runPatch"] = {"connections": [hook.connection]}
    for key, value in (("presets", hook.presets), ("queue", hook.queue), ("namespace", hook.namespace)):
        if value:
            spec[key] = value
    return spec


def _context(notification: Mapping[str, Any]) -> dict[str, Any]:
    run = notification.get("run") or {}
    return {
        "status": run.get("status"),
        "outputs": run.get("outputs") or {},
        "inputs": run.get("inputs") or {},
        "params": run.get("params") or {},
        "run": run,
        "condition": notification.get("condition") or {},
        "globals": {"uuid": run.get("uuid"), "name": run.get("name"), "project_name": run.get("project")},
    }


def _mentions_hooks(value: Any) -> bool:
    if isinstance(value, dict):
        return "hooks" in value or any(_mentions_hooks(v) for v in value.values())
    if isinstance(value, list):
        return any(_mentions_hooks(v) for v in value)
    return False


def _iso(moment: Any) -> str | None:
    return moment.isoformat() if moment is not None else None
