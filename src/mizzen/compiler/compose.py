"""One effective polyaxonfile from an operation laid over its (resolved) component.

As in the reference: the operation's own sections patch the component's with the operation's
``patchStrategy`` (``post_merge`` by default), its ``run`` patches the component's run, the 2.x
top-level shortcuts (``container``, ``cmd``, ``env``, ``resources``, ``ports``, ``init``,
``connections``, ``sidecars``, ``volumes``, ``environment``) patch the main container / the run, and
``runPatch`` comes last. A file whose layers hold no run at all is rejected here.
"""

from __future__ import annotations

from typing import Any

from mizzen.compiler.locate import Where
from mizzen.compiler.pod import MAIN_ROLE
from mizzen.spec import ComponentSpec, OperationSpec
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
        run = merge_named(run, patch, strategy)
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
