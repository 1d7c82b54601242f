"""Several ``-f`` files: the first is the main polyaxonfile, the next ones are presets laid over it.

Each preset is merged at the data level following its ``patchStrategy`` (``replace`` by default,
as in Polyaxon). Mappings are merged key by key at every depth; where both sides hold a value:

- ``replace``: the preset's value wins;
- ``isnull``: the main value is kept (the preset only fills what is missing or null);
- ``post_merge``: lists are concatenated (main then preset), other values: the preset wins;
- ``pre_merge``: lists are concatenated (preset then main), other values: the main file wins.

A preset's ``runPatch`` goes into the main file's inline run when there is one (so ``isnull`` is
judged against it); otherwise into the operation's ``runPatch``, for the compiler to apply once the
referenced component is resolved. Operation-only sections (params, matrix...) laid over a component
turn it into an operation wrapping that component.
"""

from __future__ import annotations

from typing import Any

from mizzen.errors import SpecError, SpecProblem
from mizzen.spec.sourcemap import FieldPath, SourceMap

DEFAULT_STRATEGY = "replace"
_PRESET_META = ("version", "kind", "isPreset", "is_preset", "patchStrategy", "patch_strategy")
_REF_KEYS = (
    "hubRef",
    "pathRef",
    "urlRef",
    "dagRef",
    "component",
    "hub_ref",
    "path_ref",
    "url_ref",
    "dag_ref",
)
_OPERATION_ONLY = frozenset(
    {"params", "schedule", "events", "matrix", "joins", "dependencies", "trigger", "conditions",
     "skipOnUpstreamSkip", "skip_on_upstream_skip"}
)  # fmt: skip


def merge(base: Any, patch: Any, strategy: str = DEFAULT_STRATEGY) -> Any:
    """Merge ``patch`` into ``base`` (neither is modified) following ``strategy``."""
    if isinstance(base, dict) and isinstance(patch, dict):
        out = dict(base)
        for key, value in patch.items():
            out[key] = merge(out[key], value, strategy) if key in out else value
        return out
    if base is None:
        return patch
    if patch is None:
        return base
    if strategy == "isnull":
        return base
    if strategy == "replace":
        return patch
    if isinstance(base, list) and isinstance(patch, list):
        return base + patch if strategy == "post_merge" else patch + base
    return patch if strategy == "post_merge" else base


def inline_run_path(data: dict[str, Any]) -> FieldPath | None:
    """Where the run of the main file is written, if it is written in the file."""
    if isinstance(data.get("run"), dict):
        return ("run",)
    component = data.get("component")
    if isinstance(component, dict) and isinstance(component.get("run"), dict):
        return ("component", "run")
    return None


def apply_preset(
    main: dict[str, Any], main_map: SourceMap, preset: dict[str, Any], preset_map: SourceMap
) -> tuple[dict[str, Any], SourceMap]:
    """Lay one preset over the main data; returns the merged data and its source map."""
    strategy = preset.get("patchStrategy", preset.get("patch_strategy")) or DEFAULT_STRATEGY
    for key in _REF_KEYS:
        if key in preset:
            file, line, column = preset_map.locate_key((key,))
            raise SpecError(
                SpecProblem(
                    f"a preset cannot set '{key}': only the main file (the first -f) says what runs",
                    file, line, column, key,
                )
            )  # fmt: skip
    data = dict(main)
    source_map = main_map.copy()
    if data.get("kind") == "component" and any(key in _OPERATION_ONLY for key in preset):
        data, source_map = _wrap_component(data, source_map)

    sections = {k: v for k, v in preset.items() if k not in _PRESET_META}
    run_patch = sections.pop("runPatch", sections.pop("run_patch", None))
    for key, value in sections.items():
        data[key] = merge(data.get(key), value, strategy)
        keep = strategy in ("isnull", "pre_merge") and key in main
        _overlay_marks(source_map, preset_map, (key,), (key,), keep_main=keep)
    if run_patch is not None:
        target = inline_run_path(data) or ("runPatch",)
        patch_key = "runPatch" if "runPatch" in preset else "run_patch"
        _set_at(data, target, merge(_get_at(data, target), run_patch, strategy))
        keep = strategy in ("isnull", "pre_merge")
        _overlay_marks(source_map, preset_map, (patch_key,), target, keep_main=keep)
    return data, source_map


def _wrap_component(data: dict[str, Any], source_map: SourceMap) -> tuple[dict[str, Any], SourceMap]:
    component = {k: v for k, v in data.items() if k not in ("version", "kind")}
    wrapped: dict[str, Any] = {"kind": "operation", "component": component}
    if "version" in data:
        wrapped = {"version": data["version"], **wrapped}
    moved = SourceMap(source_map.file)
    for path, mark in source_map.marks.items():
        if path and path[0] in ("version", "kind"):
            moved.add(path, mark)
        elif path:
            moved.add(("component", *path), mark)
        else:
            moved.add(path, mark)
    return wrapped, moved


def _overlay_marks(
    target: SourceMap, preset_map: SourceMap, old: FieldPath, new: FieldPath, *, keep_main: bool
) -> None:
    for sub_path, mark in preset_map.subtree(old).items():
        path = new + sub_path
        if keep_main and path in target.marks:
            continue
        target.marks[path] = mark


def _get_at(data: dict[str, Any], path: FieldPath) -> Any:
    node: Any = data
    for part in path:
        node = node.get(part) if isinstance(node, dict) else None
    return node


def _set_at(data: dict[Any, Any], path: FieldPath, value: Any) -> None:
    node = data
    for part in path[:-1]:
        child = node.get(part)
        child = dict(child) if isinstance(child, dict) else {}
        node[part] = child
        node = child
    node[path[-1]] = value
