"""Schema checks: kubernetes-validate's strict schemas for built-in kinds, CRD schemas for the rest.

Both are strict (unknown fields are errors), which is stricter than a real API server (it prunes
unknown fields of custom resources and only warns about those of built-in ones unless asked).
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import json
import re
from collections.abc import Iterable
from typing import Any

import jsonschema
import referencing
from kubernetes_validate import utils as kv_utils

from .errors import Cause
from .resources import ResourceType

OBJECT_META_REF = (
    "https://kubernetes.io/api/_definitions.json#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
)

_format_checker = jsonschema.FormatChecker(formats=())


@_format_checker.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    if isinstance(value, str):
        dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return True


def _schema_dir(kube_version: str) -> str:
    return f"v{kube_version}.0-local-strict"


@functools.cache
def _registry(kube_version: str) -> referencing.Registry:
    definitions = kv_utils.schema_contents(
        f"kubernetes-json-schema/{_schema_dir(kube_version)}/_definitions.json", kube_version
    )
    return referencing.Resource.from_contents(definitions) @ referencing.Registry()


@functools.cache
def _builtin_validator(kube_version: str, api_version: str, kind: str) -> jsonschema.Draft202012Validator:
    # kubernetes-validate names files <kind>-<group's first label>-<version>.json
    flat_api = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    schema = kv_utils.schema_contents(
        f"kubernetes-json-schema/{_schema_dir(kube_version)}/{kind.lower()}-{flat_api}.json", kube_version
    )
    registry = referencing.Resource.from_contents(schema) @ _registry(kube_version)
    return jsonschema.Draft202012Validator(schema, registry=registry, format_checker=_format_checker)


@functools.cache
def _object_meta_validator(kube_version: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(
        {"$ref": OBJECT_META_REF}, registry=_registry(kube_version), format_checker=_format_checker
    )


def strict_crd_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The CRD's structural schema as a JSON Schema that rejects unknown fields."""
    strict = _strictify(copy.deepcopy(schema))
    props = strict.setdefault("properties", {})
    props.setdefault("apiVersion", {"type": "string"})
    props.setdefault("kind", {"type": "string"})
    # metadata is checked against ObjectMeta separately, as the API server does for custom resources
    props["metadata"] = {"type": "object"}
    strict.setdefault("type", "object")
    if "x-kubernetes-preserve-unknown-fields" not in strict:
        strict["additionalProperties"] = False
    return strict


def _strictify(node: Any) -> Any:
    if isinstance(node, list):
        return [_strictify(item) for item in node]
    if not isinstance(node, dict):
        return node
    for key, value in list(node.items()):
        if key in ("properties", "patternProperties"):
            node[key] = {name: _strictify(sub) for name, sub in value.items()}
        elif key not in ("default", "example", "enum"):
            node[key] = _strictify(value)
    if node.get("nullable"):
        node.pop("nullable")
        node = {"anyOf": [{"type": "null"}, node]}
        return node
    if node.get("x-kubernetes-int-or-string") and "anyOf" not in node:
        node["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if node.get("x-kubernetes-embedded-resource"):
        props = node.setdefault("properties", {})
        props.setdefault("apiVersion", {"type": "string"})
        props.setdefault("kind", {"type": "string"})
        props.setdefault("metadata", {"type": "object"})
    if (
        node.get("type") == "object"
        and "properties" in node
        and "additionalProperties" not in node
        and not node.get("x-kubernetes-preserve-unknown-fields")
    ):
        node["additionalProperties"] = False
    return node


# Keyed by id(schema); the schema is kept alive alongside so the id cannot be reused.
_crd_validators: dict[int, tuple[dict[str, Any], jsonschema.Draft7Validator]] = {}


def _crd_validator(schema: dict[str, Any]) -> jsonschema.Draft7Validator:
    cached = _crd_validators.get(id(schema))
    if cached is None or cached[0] is not schema:
        validator = jsonschema.Draft7Validator(strict_crd_schema(schema), format_checker=_format_checker)
        cached = _crd_validators[id(schema)] = (schema, validator)
    return cached[1]


def field_path(parts: Iterable[Any]) -> str:
    path = ""
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def _to_causes(errors: Iterable[jsonschema.ValidationError], prefix: str = "") -> list[Cause]:
    causes = []
    for error in sorted(errors, key=lambda e: list(map(str, e.absolute_path))):
        base = field_path(error.absolute_path)
        if prefix:
            base = f"{prefix}.{base}" if base else prefix
        if error.validator == "additionalProperties":
            for name in re.findall(r"'([^']+)'", error.message.split("(")[-1]):
                where = f"{base}.{name}" if base else name
                causes.append(Cause(where, f'Invalid value: unknown field "{where}"', "FieldValueInvalid"))
        elif error.validator == "required":
            missing = re.findall(r"'([^']+)' is a required property", error.message)
            for name in missing or ["?"]:
                where = f"{base}.{name}" if base else name
                causes.append(Cause(where, "Required value", "FieldValueRequired"))
        elif error.validator == "enum":
            allowed = ", ".join(json.dumps(v) for v in error.validator_value)
            causes.append(
                Cause(
                    base,
                    f"Unsupported value: {json.dumps(error.instance)}: supported values: {allowed}",
                    "FieldValueNotSupported",
                )
            )
        else:
            value = json.dumps(error.instance)
            if len(value) > 80:
                value = value[:77] + "..."
            causes.append(Cause(base, f"Invalid value: {value}: {error.message}", "FieldValueInvalid"))
    return causes


class SchemaChecker:
    """Checks whole objects; returns the failures as Status causes naming each field."""

    def __init__(self, kube_version: str) -> None:
        self.kube_version = kube_version

    def check(self, obj: dict[str, Any], rtype: ResourceType) -> list[Cause]:
        if rtype.is_custom:
            return self._check_custom(obj, rtype)
        validator = _builtin_validator(self.kube_version, rtype.api_version, rtype.kind)
        return _to_causes(validator.iter_errors(obj))

    def _check_custom(self, obj: dict[str, Any], rtype: ResourceType) -> list[Cause]:
        causes: list[Cause] = []
        if rtype.schema is not None:
            validator = _crd_validator(rtype.schema)
            causes.extend(_to_causes(validator.iter_errors(obj)))
        meta = obj.get("metadata")
        if meta is not None:
            causes.extend(_to_causes(_object_meta_validator(self.kube_version).iter_errors(meta), "metadata"))
        return causes


def apply_crd_defaults(obj: Any, schema: dict[str, Any] | None) -> Any:
    """Fill `default`s from a structural schema and drop nulls of non-nullable fields, as the server does."""
    if schema is None or not isinstance(obj, dict | list):
        return obj
    if isinstance(obj, list):
        items = schema.get("items")
        return [apply_crd_defaults(item, items) if isinstance(items, dict) else item for item in obj]
    props: dict[str, Any] = schema.get("properties", {})
    for name, sub in props.items():
        if name not in obj and "default" in sub:
            obj[name] = copy.deepcopy(sub["default"])
        if name in obj and obj[name] is None and not sub.get("nullable"):
            del obj[name]
        elif name in obj:
            obj[name] = apply_crd_defaults(obj[name], sub)
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        for name in [n for n in obj if n not in props]:
            obj[name] = apply_crd_defaults(obj[name], extra)
    return obj
