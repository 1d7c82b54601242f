"""The run cache: the key of a run with ``cache:``, computed when the scheduler compiles it.

A run about to start whose key equals that of a succeeded run of its project (finished within
``ttl`` seconds, when given) does not run: it ends ``skipped``, reusing that run's outputs
(``RunSource.use_cache``; the store does the lookup). Every run passes through the scheduler's
compile, so single runs, sweep trials, DAG ops and schedule ticks cache alike, on every executor.

The key is a SHA-256 over:
- the component: its name, version and declared inputs/outputs (names and types);
- the run kind;
- ``io``: the values of the named inputs/outputs (default: every input), as compiled (a trial's
  values, an op's upstream values included);
- ``sections``: the compiled ``containers`` (images, commands, args, env, resources of each
  replica), ``init`` steps and ``connections`` (default: all three).

The run's own uuid is blanked out of that material (it is in paths and env vars), so two runs of
the same spec share a key; anything else that differs per run (``{{ globals.created_at }}`` in a
command, say) makes keys differ. A run whose code was uploaded (``mizzen run -u``) keys on that
upload's run too: the same file with other code never reuses a result.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from mizzen.compiler.plan import Plan
from mizzen.errors import CompileError
from mizzen.scheduler.source import ClaimedRun
from mizzen.schemas.run_meta import CODE_RUN_KEY, UPLOAD_DONE, UPLOAD_KEY

SECTIONS = ("containers", "init", "connections")
KEY_VERSION = "v1"  # bump when the material changes: old entries then never match


def cache_key(plan: Plan, run: ClaimedRun) -> str | None:
    """The run's cache key, or None when it has no ``cache:`` or ``cache.disable`` is true.
    ``CompileError`` names a ``cache.io`` entry that is no input or output."""
    cache = plan.cache
    if cache is None or cache.disable:
        return None
    names = sorted(cache.io) if cache.io is not None else sorted(plan.inputs)
    known = set(plan.params) | set(_declared(run.spec))
    for name in names:
        if name not in known:
            raise CompileError(
                f"cache.io: {name!r} is not an input or output of the component; "
                f"name some of: {', '.join(sorted(known)) or '(it has none)'}"
            )
    material = {
        "component": _component(run.spec),
        "kind": plan.kind.value,
        "io": {name: plan.params.get(name) for name in names},
        "sections": {name: _section(plan, name) for name in sorted(cache.sections or SECTIONS)},
    }
    text = json.dumps(material, sort_keys=True, default=str).replace(run.uuid, "{uuid}")
    if run.meta.get(UPLOAD_KEY) == UPLOAD_DONE:
        text += f"|code:{run.meta.get(CODE_RUN_KEY) or run.uuid}"
    return f"{KEY_VERSION}-{hashlib.sha256(text.encode()).hexdigest()}"


def _component(spec: dict[str, Any] | None) -> dict[str, Any]:
    component = (spec or {}).get("component") or {}
    return {
        "name": component.get("name"),
        "version": component.get("version"),
        "io": _declared(spec),
    }


def _declared(spec: dict[str, Any] | None) -> dict[str, Any]:
    """``{name: type}`` of the component's inputs and outputs."""
    component = (spec or {}).get("component") or {}
    declared: dict[str, Any] = {}
    for group in ("inputs", "outputs"):
        for item in component.get(group) or []:
            if isinstance(item, dict) and item.get("name"):
                declared[str(item["name"])] = item.get("type")
    return declared


def _section(plan: Plan, name: str) -> Any:
    if name == "containers":
        return [
            {
                "role": replica.role,
                "replicas": replica.replicas,
                "main": replica.pod.main.model_dump(mode="json") if replica.pod.main else None,
                "sidecars": [c.model_dump(mode="json") for c in replica.pod.sidecars],
            }
            for replica in plan.replicas
        ]
    if name == "init":
        return [[step.model_dump(mode="json") for step in replica.pod.init] for replica in plan.replicas]
    return {
        "plan": sorted(c.name for c in plan.connections),
        "pods": [sorted(replica.pod.connections) for replica in plan.replicas],
    }
