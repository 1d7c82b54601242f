"""Offline validation of Kubernetes objects, stricter than a real API server.

- Built-in kinds (core, batch, apps, rbac, ...): kubernetes-validate's strict JSON schemas, for the
  newest Kubernetes version the installed package knows.
- Custom resources: the ``openAPIV3Schema`` of the vendored CRDs (``MIZZEN_K8S_CRDS_DIR``, else
  ``shared/k8s/crds`` inside or beside the checkout), made strict as the API double makes them
  (``k8s_double.validation.strict_crd_schema``): every object node that lists its properties
  rejects others (the API server would silently prune them). ``metadata`` is checked
  against ObjectMeta and every embedded pod template against the core PodTemplate schema.
- The API server's own rules that no schema expresses (names, labels, mounts, ports, selectors...):
  ``k8s_rules``.

Use ``problems(obj)`` for a list of messages or ``assert_valid(obj)`` in tests.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate

import k8s_rules
import shared_data
from k8s_double.crds import shared_crd
from k8s_double.validation import strict_crd_schema

KUBERNETES_VERSION = kubernetes_validate.latest_version()


class InvalidObject(AssertionError):
    pass


def crds_dir() -> Path:
    return shared_data.crds_dir()


@functools.cache
def _crd_schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> the version's openAPIV3Schema, for every vendored CRD."""
    schemas: dict[tuple[str, str], dict[str, Any]] = {}
    for path in sorted(crds_dir().glob("*.yaml")):
        crd = shared_crd(path)  # parsed once per process (and cached across processes) with the double
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            if version.get("served", True):
                schemas[(f"{group}/{version['name']}", kind)] = version["schema"]["openAPIV3Schema"]
    return schemas


@functools.cache
def _crd_validator(api_version: str, kind: str) -> jsonschema.Draft7Validator:
    schema = _crd_schemas().get((api_version, kind))
    if schema is None:
        raise InvalidObject(f"no CRD defines {kind} in {api_version} (looked in {crds_dir()})")
    return jsonschema.Draft7Validator(strict_crd_schema(schema))


def is_builtin(api_version: str) -> bool:
    group = api_version.rpartition("/")[0]
    return group == "" or "." not in group or group.endswith(".k8s.io")


def _path(parts: Iterable[Any]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts).lstrip(".")


def _builtin_problems(obj: dict[str, Any], what: str) -> list[str]:
    try:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as error:
        return [f"{what}: {_path(error.path) or '(root)'}: {error.message}"]
    except kubernetes_validate.SchemaNotFoundError as error:
        return [f"{what}: {error.message}"]
    return []


def _meta_problems(meta: Any, what: str) -> list[str]:
    probe = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta}
    return _builtin_problems(probe, f"{what} metadata")


def pod_templates(obj: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(field path, {"metadata", "spec"}) for every pod the object describes."""
    kind, spec = obj.get("kind"), obj.get("spec") or {}
    if kind in ("Job", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"):
        yield "spec.template", spec.get("template") or {}
    elif kind in ("TFJob", "PyTorchJob", "MPIJob", "XGBoostJob", "PaddleJob"):
        for field, replicas in spec.items():
            if field.endswith("ReplicaSpecs"):
                for role, replica in replicas.items():
                    yield f"spec.{field}.{role}.template", replica.get("template") or {}
    elif kind == "RayCluster":
        yield from _ray_templates(spec, "spec")
    elif kind == "RayJob":
        yield from _ray_templates(spec.get("rayClusterSpec") or {}, "spec.rayClusterSpec")
    elif kind == "DaskCluster":
        yield from _dask_templates(spec, "spec")
    elif kind == "DaskJob":
        job = spec.get("job") or {}
        yield "spec.job", {"metadata": job.get("metadata") or {}, "spec": job.get("spec")}
        yield from _dask_templates((spec.get("cluster") or {}).get("spec") or {}, "spec.cluster.spec")


def _ray_templates(spec: dict[str, Any], base: str) -> Iterator[tuple[str, dict[str, Any]]]:
    yield f"{base}.headGroupSpec.template", (spec.get("headGroupSpec") or {}).get("template") or {}
    for index, group in enumerate(spec.get("workerGroupSpecs") or []):
        yield f"{base}.workerGroupSpecs[{index}].template", group.get("template") or {}


def _dask_templates(spec: dict[str, Any], base: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for role in ("scheduler", "worker"):
        part = spec.get(role) or {}
        yield f"{base}.{role}", {"metadata": part.get("metadata") or {}, "spec": part.get("spec")}


def problems(obj: dict[str, Any]) -> list[str]:
    """Everything a strict API server (and the operators' CRDs) would reject in ``obj``."""
    if not isinstance(obj, dict) or not obj.get("apiVersion") or not obj.get("kind"):
        return ["not a Kubernetes object: apiVersion and kind are required"]
    api_version, kind = obj["apiVersion"], obj["kind"]
    what = f"{kind} {(obj.get('metadata') or {}).get('name', '?')}"
    found: list[str] = []
    if is_builtin(api_version):
        found += _builtin_problems(obj, what)
    else:
        validator = _crd_validator(api_version, kind)
        errors = sorted(validator.iter_errors(obj), key=lambda e: _path(e.absolute_path))
        found += [f"{what}: {_path(e.absolute_path) or '(root)'}: {e.message}" for e in errors]
        found += _meta_problems(obj.get("metadata") or {}, what)
        for path, template in pod_templates(obj):
            probe = {"apiVersion": "v1", "kind": "PodTemplate", "metadata": {"name": "probe"}}
            found += _builtin_problems({**probe, "template": template}, f"{what} {path}")
    found += [f"{what}: {problem}" for problem in k8s_rules.problems(obj, list(pod_templates(obj)))]
    return found


def assert_valid(objects: dict[str, Any] | Iterable[dict[str, Any]]) -> None:
    items = [objects] if isinstance(objects, dict) else list(objects)
    found = [problem for obj in items for problem in problems(obj)]
    if found:
        raise InvalidObject("\n".join(found))
