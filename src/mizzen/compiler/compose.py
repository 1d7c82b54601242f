"""One effective polyaxonfile from an operation laid over its (resolved) component.

As in the reference: the operation's own sections patch the component's with the operation's
``patchStrategy`` (``post_merge`` by default), its ``run`` patches the component's run, the 2.x
top-level shortcuts (``container``, ``cmd``, ``env``, ``resources``, ``ports``, ``init``,
``connections``, ``sidecars``, ``volumes``, ``environment``) patch the main container / the run, and
``runPatch`` comes last: on a distributed run, its pod sections (``container``, ``init``...) patch
every replica, as the reference does, and a section the run's kind does not have is an error, never
dropped. A file whose layers hold no run at all is rejected here.
"""

from __future__ import annotations

from functools import cache
from typing import Any, get_args

from mizzen.compiler.locate import Where
from mizzen.compiler.pod import MAIN_ROLE, REPLICA_ROLES
from mizzen.spec import ComponentSpec, OperationSpec, RunSpec
from mizzen.spec.overlay import merge

DEFAULT_STRATEGY = "post_merge"

SHORTCUTS = (
    "container",
    "cmd",
    "env",
    "resources",
    "ports",
    "environment",
    "init",
    "connections",
    "sidecars",
    "volumes",
)
# Operation sections that never patch the component (they drive the run or were resolved already;
# the shortcuts patch the run instead).
_NOT_PATCHED = frozenset(
    {
        "kind", "component", "hubRef", "pathRef", "urlRef", "dagRef", "isPreset", "patchStrategy",
        "run", "runPatch", "strictParams", "version", "params", "matrix", "schedule", "events",
        "joins", "dependencies", "trigger", "conditions", "skipOnUpstreamSkip", *SHORTCUTS,
    }
)  # fmt: skip


def merge_named(base: Any, patch: Any, strategy: str) -> Any:
    """``merge``, except that lists of named items (inputs, env, ...) merge item by item."""
    if isinstance(base, list) and isinstance(patch, list) and _named(base) and _named(patch):
        merged = list(base)
        index = {item["name"]: position for position, item in enumerate(merged)}
        for item in patch:
            if item["name"] in index:
                merged[index[item["name"]]] = merge(merged[index[item["name"]]], item, strategy)
            else:
                merged.append(item)
        return merged
    return merge(base, patch, strategy)


def _named(items: list[Any]) -> bool:
    return bool(items) and all(isinstance(i, dict) and isinstance(i.get("name"), str) for i in items)


def _has_shortcuts(data: dict[str, Any]) -> bool:
    return any(key in data for key in SHORTCUTS)


def apply_shortcuts(run: dict[str, Any] | None, data: dict[str, Any], strategy: str) -> dict[str, Any] | None:
    """The 2.x top-level shortcuts of one layer, applied to the run (a job when there is none)."""
    if not _has_shortcuts(data):
        return run
    if run is None:
        run = {"kind": "service" if data.get("ports") else "job"}
    run = dict(run)
    container: dict[str, Any] = dict(data.get("container") or {})
    if "cmd" in data:
        container["command"] = data["cmd"]
    if "env" in data:
        container["env"] = [{"name": k, "value": v} for k, v in data["env"].items()]
    if "resources" in data:
        limits = {("nvidia.com/gpu" if k == "gpu" else k): v for k, v in data["resources"].items()}
        requests = {k: v for k, v in limits.items() if k != "nvidia.com/gpu"}
        container["resources"] = {"limits": limits, **({"requests": requests} if requests else {})}
    target = _main_pod(run)
    if container:
        target["container"] = merge_named(target.get("container"), container, strategy)
    for key in ("init", "connections", "sidecars", "volumes", "environment"):
        if key in data:
            target[key] = merge_named(target.get(key), data[key], strategy)
    if "ports" in data and run.get("kind") == "service":
        run["ports"] = merge(run.get("ports"), data["ports"], strategy)
    return run


def _main_pod(run: dict[str, Any]) -> dict[str, Any]:
    """The part of a run the shortcuts patch: the run itself, or the main replica of a distributed run."""
    role = MAIN_ROLE.get(run.get("kind") or "")
    if role is None:
        return run
    replica = dict(run.get(role) or {})
    run[role] = replica
    return replica


# The sections of a pod, which a distributed run has in each replica rather than at its top.
POD_SECTIONS = ("container", "environment", "init", "sidecars", "connections", "volumes")


@cache
def run_sections() -> dict[str, frozenset[str]]:
    """The sections each run kind has (camelCase), read from the spec's run models."""
    models = get_args(get_args(RunSpec)[0])
    return {
        get_args(model.model_fields["kind"].annotation)[0]: frozenset(
            field.alias or name for name, field in model.model_fields.items()
        )
        for model in models
    }


def _replica_pods(run: dict[str, Any]) -> list[dict[str, Any]]:
    """The replicas of a distributed run, each a copy now held by ``run`` (patched in place)."""
    kind = run.get("kind") or ""
    pods = []
    for role in REPLICA_ROLES.get(kind, ("head",) if kind == "raycluster" else ()):
        if isinstance(run.get(role), dict):
            run[role] = dict(run[role])
            pods.append(run[role])
    if kind == "raycluster" and isinstance(run.get("workers"), dict):
        run["workers"] = {group: dict(spec or {}) for group, spec in run["workers"].items()}
        pods += list(run["workers"].values())
    return pods


def apply_run_patch(
    run: dict[str, Any], patch: dict[str, Any], strategy: str, where: Where
) -> dict[str, Any]:
    """``runPatch`` over ``run``. On a distributed run its pod sections patch every replica."""
    kind = run.get("kind") or ""
    known = run_sections().get(kind, frozenset())
    pods_patch = {}
    if kind in REPLICA_ROLES or kind == "raycluster":
        pods_patch = {key: patch.pop(key) for key in POD_SECTIONS if key in patch}
    for key in patch:
        if key not in known:
            raise where.error(f"a {kind} run has no '{key}' section, so this patch cannot apply", key)
    run = merge_named(run, patch, strategy)
    if pods_patch:
        run = dict(run)
        replicas = _replica_pods(run)
        if not replicas:
            raise where.error(f"the {kind} run has no replica for {sorted(pods_patch)} to patch")
        for replica in replicas:
            for key, value in pods_patch.items():
                replica[key] = merge_named(replica.get(key), value, strategy)
    return run


def compose(
    operation: OperationSpec | None,
    component: ComponentSpec | OperationSpec | None,
    op_where: Where,
) -> dict[str, Any]:
    """The effective polyaxonfile (camelCase data) of ``operation`` over ``component``."""
    layer = operation.dump() if operation is not None else {}
    effective: dict[str, Any] = component.dump() if component is not None else {}
    effective.pop("kind", None)
    strategy = layer.get("patchStrategy") or DEFAULT_STRATEGY
    for key, value in layer.items():
        if key in _NOT_PATCHED:
            continue
        effective[key] = merge_named(effective.get(key), value, strategy) if key in effective else value
    effective["strictParams"] = bool(effective.get("strictParams")) or bool(layer.get("strictParams"))
    run = effective.get("run")
    if "run" in layer:
        own = layer["run"]
        run = own if run is None or run.get("kind") != own.get("kind") else merge_named(run, own, strategy)
    # a component written with shortcuts (no run section) gets its run from them first
    run = apply_shortcuts(run, {k: effective.pop(k) for k in SHORTCUTS if k in effective}, strategy)
    run = apply_shortcuts(run, layer, strategy)
    if "runPatch" in layer:
        if run is None:
            raise op_where.error(
                "runPatch needs a run to patch: this file has no component with a run "
                "(use it as an overlay: mizzen check -f MAIN.yaml -f THIS.yaml)",
                "runPatch",
            )
        patch = dict(layer["runPatch"])
        patch_kind = patch.pop("kind", None)
        if patch_kind is not None and patch_kind != run.get("kind"):
            raise op_where.error(
                f"runPatch is for a {patch_kind} run, but the component runs a {run.get('kind')}",
                "runPatch.kind",
            )
        run = apply_run_patch(run, patch, strategy, op_where.at("runPatch"))
    if run is None:
        raise op_where.error(
            "nothing to run: the file has no 'run' section (nor a component with one); "
            "a file with only presets is used as an overlay: mizzen check -f MAIN.yaml -f THIS.yaml"
        )
    effective["run"] = run
    for key in ("params", "matrix", "schedule", "events", "joins", "dependencies", "trigger", "conditions"):
        if key in layer:
            effective[key] = layer[key]
    return effective
