"""The patch types: JSON merge patch, strategic merge patch, JSON patch and (simplified) apply."""

from __future__ import annotations

import copy
import json
from typing import Any

import jsonpatch
import yaml

from .errors import ApiError, bad_request, unsupported_media_type

MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"
APPLY_PATCH_YAML = "application/apply-patch+yaml"
PATCH_TYPES = (JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH, APPLY_PATCH_YAML)
CUSTOM_RESOURCE_PATCH_TYPES = (JSON_PATCH, MERGE_PATCH, APPLY_PATCH_YAML)

# Lists merged by key in a strategic merge patch (the patchMergeKey of the built-in Go types).
_MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "imagePullSecrets": "name",
    "ownerReferences": "uid",
    "conditions": "type",
    "hostAliases": "ip",
    "topologySpreadConstraints": "topologyKey",
    "resourceClaims": "name",
    "containerStatuses": "name",
    "initContainerStatuses": "name",
}
_MERGED_PRIMITIVE_LISTS = {"finalizers"}


def content_type_of(header: str | None) -> str:
    return (header or "").split(";")[0].strip().lower()


def check_patch_type(content_type: str, is_custom: bool) -> None:
    allowed = CUSTOM_RESOURCE_PATCH_TYPES if is_custom else PATCH_TYPES
    if content_type not in allowed:
        raise unsupported_media_type(content_type, list(allowed))


def parse_body(raw: bytes, content_type: str) -> Any:
    try:
        if content_type == APPLY_PATCH_YAML or content_type.endswith("yaml"):
            return yaml.safe_load(raw.decode("utf-8"))
        return json.loads(raw or b"null")
    except (ValueError, yaml.YAMLError) as exc:
        raise bad_request(f"error decoding request body: {exc}") from exc


def merge_patch(original: Any, patch: Any) -> Any:
    """RFC 7386: objects merge, null deletes, anything else (lists included) replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(original) if isinstance(original, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _strip_directives(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_directives(v) for k, v in value.items() if not k.startswith("$") and v is not None}
    if isinstance(value, list):
        return [_strip_directives(v) for v in value]
    return value


def _merge_key(field: str, items: list[Any]) -> str | None:
    if field == "ports":
        sample = next((i for i in items if isinstance(i, dict)), {})
        return "containerPort" if "containerPort" in sample else "port"
    return _MERGE_KEYS.get(field)


def _merge_list(original: list[Any], patch: list[Any], key: str) -> list[Any]:
    result = [copy.deepcopy(item) for item in original]
    for item in patch:
        if not isinstance(item, dict):
            continue
        directive = item.get("$patch")
        index = next(
            (i for i, o in enumerate(result) if isinstance(o, dict) and o.get(key) == item.get(key)), None
        )
        if directive == "delete":
            if index is not None:
                result.pop(index)
        elif index is None:
            result.append(_strip_directives(item))
        else:
            result[index] = strategic_merge_patch(result[index], item)
    return result


def strategic_merge_patch(original: Any, patch: Any) -> Any:
    """Strategic merge: lists with a known merge key merge by it; other lists are replaced."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if patch.get("$patch") == "replace":
        return _strip_directives(patch)
    result = dict(original) if isinstance(original, dict) else {}
    orders: dict[str, list[Any]] = {}
    for key, value in patch.items():
        if key.startswith("$setElementOrder/"):
            orders[key.split("/", 1)[1]] = value
        elif key.startswith("$deleteFromPrimitiveList/"):
            field = key.split("/", 1)[1]
            result[field] = [x for x in result.get(field) or [] if x not in value]
        elif key.startswith("$"):
            continue
        elif value is None or (isinstance(value, dict) and value.get("$patch") == "delete"):
            result.pop(key, None)
        elif isinstance(value, dict):
            result[key] = strategic_merge_patch(result.get(key), value)
        elif isinstance(value, list) and (merge_key := _merge_key(key, value)) is not None:
            result[key] = _merge_list(result.get(key) or [], value, merge_key)
        elif isinstance(value, list) and key in _MERGED_PRIMITIVE_LISTS:
            merged = list(result.get(key) or [])
            result[key] = merged + [v for v in value if v not in merged]
        else:
            result[key] = _strip_directives(value)
    for field, order in orders.items():
        result[field] = _reorder(result.get(field) or [], order, _merge_key(field, order))
    if "$retainKeys" in patch:
        keep = set(patch["$retainKeys"])
        result = {k: v for k, v in result.items() if k in keep}
    return result


def _reorder(items: list[Any], order: list[Any], key: str | None) -> list[Any]:
    def ident(item: Any) -> Any:
        return item.get(key) if key and isinstance(item, dict) else item

    wanted = [ident(o) for o in order]
    ranked = sorted(
        items, key=lambda item: wanted.index(ident(item)) if ident(item) in wanted else len(wanted)
    )
    return ranked


def json_patch(original: Any, operations: Any) -> Any:
    if not isinstance(operations, list):
        raise bad_request("json patch must be a list of operations")
    try:
        return jsonpatch.apply_patch(original, operations)
    except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as exc:
        raise ApiError(
            422, "Invalid", f"the server rejected our request due to an error in our request: {exc}"
        ) from exc


def apply_patch(content_type: str, original: Any, patch: Any) -> Any:
    if content_type == MERGE_PATCH:
        return merge_patch(original, patch)
    if content_type == JSON_PATCH:
        return json_patch(original, patch)
    # strategic merge and (simplified) server-side apply: apply merges the configuration into the live object
    return strategic_merge_patch(original, patch)
