"""The API server's validation rules that its JSON schemas do not carry (names, label syntax,
volume references, unique mount paths and ports, extended resources, selectors, restart policies).

Each rule is the one the API server applies (k8s.io/apimachinery validation and the core/batch/apps
validators); a message names the field like the server's 422 causes do.
"""

from __future__ import annotations

import re
from typing import Any

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
IANA_SVC_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
ENV_VAR_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
QUANTITY = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)(([KMGTPE]i)|[numkMGTPE]|[eE][+-]?\d+)?$")
NATIVE_RESOURCES = ("cpu", "memory", "ephemeral-storage", "pods", "storage")
POD_RESTART_POLICIES = ("Always", "OnFailure", "Never")


def _qualified_key(key: str) -> str | None:
    """Why ``key`` is not a valid label/annotation key (None when it is)."""
    prefix, _, name = key.rpartition("/")
    if prefix and (len(prefix) > 253 or not DNS1123_SUBDOMAIN.match(prefix)):
        return f"key prefix {prefix!r} is not a DNS-1123 subdomain"
    if not name or len(name) > 63 or not QUALIFIED_NAME.match(name):
        return f"key {key!r}: the name part must be 1-63 alphanumerics, '-', '_' or '.'"
    return None


def metadata_problems(meta: dict[str, Any], field: str, name_rule: str | None) -> list[str]:
    found: list[str] = []
    name = meta.get("name")
    if name_rule and name is not None:
        pattern, limit = {
            "subdomain": (DNS1123_SUBDOMAIN, 253),
            "label": (DNS1123_LABEL, 63),
            "dns1035": (DNS1035_LABEL, 63),
        }[name_rule]
        if len(name) > limit or not pattern.match(name):
            found.append(f"{field}.name: {name!r} is not a valid DNS name ({name_rule}, <= {limit})")
    for key, value in (meta.get("labels") or {}).items():
        why = _qualified_key(key)
        if why:
            found.append(f"{field}.labels: {why}")
        if not isinstance(value, str) or len(value) > 63 or not LABEL_VALUE.match(value):
            found.append(f"{field}.labels[{key}]: {value!r} is not a valid label value")
    for key in meta.get("annotations") or {}:
        why = _qualified_key(key)
        if why:
            found.append(f"{field}.annotations: {why}")
    return found


def _resource_problems(resources: dict[str, Any], field: str) -> list[str]:
    found: list[str] = []
    requests, limits = resources.get("requests") or {}, resources.get("limits") or {}
    for kind, values in (("requests", requests), ("limits", limits)):
        for resource, quantity in values.items():
            if not QUANTITY.match(str(quantity)):
                found.append(f"{field}.{kind}[{resource}]: {quantity!r} is not a quantity")
    for resource, quantity in requests.items():
        native = resource in NATIVE_RESOURCES or resource.startswith(("hugepages-", "kubernetes.io/"))
        if not native and str(limits.get(resource)) != str(quantity):
            found.append(f"{field}.requests[{resource}]: must equal the limit for an extended resource")
    return found


def _container_problems(container: dict[str, Any], field: str, volumes: set[str]) -> list[str]:
    found: list[str] = []
    mount_paths: set[str] = set()
    for index, mount in enumerate(container.get("volumeMounts") or []):
        where = f"{field}.volumeMounts[{index}]"
        if mount.get("name") not in volumes:
            found.append(f"{where}.name: volume {mount.get('name')!r} is not in the pod's volumes")
        path = mount.get("mountPath", "")
        if path in mount_paths:
            found.append(f"{where}.mountPath: {path!r} must be unique")
        mount_paths.add(path)
    port_names: set[str] = set()
    for index, port in enumerate(container.get("ports") or []):
        name = port.get("name")
        if name is not None:
            valid = len(name) <= 15 and IANA_SVC_NAME.match(name) and "--" not in name
            if not valid or not re.search("[a-z]", name):
                found.append(f"{field}.ports[{index}].name: {name!r} is not an IANA service name")
            if name in port_names:
                found.append(f"{field}.ports[{index}].name: {name!r} must be unique")
            port_names.add(name)
        if not 0 < int(port.get("containerPort", 0)) < 65536:
            found.append(f"{field}.ports[{index}].containerPort: out of range")
    for index, var in enumerate(container.get("env") or []):
        if not ENV_VAR_NAME.match(var.get("name", "")):
            found.append(f"{field}.env[{index}].name: {var.get('name')!r} is not a valid variable name")
    found += _resource_problems(container.get("resources") or {}, f"{field}.resources")
    return found


def pod_spec_problems(
    spec: dict[str, Any], field: str, claim_templates: frozenset[str] = frozenset()
) -> list[str]:
    """``claim_templates``: volumes a StatefulSet adds to each pod from its volumeClaimTemplates."""
    found: list[str] = []
    volumes: set[str] = set(claim_templates)
    for index, volume in enumerate(spec.get("volumes") or []):
        name = volume.get("name", "")
        if not DNS1123_LABEL.match(name) or len(name) > 63:
            found.append(f"{field}.volumes[{index}].name: {name!r} is not a DNS-1123 label")
        if name in volumes:
            found.append(f"{field}.volumes[{index}].name: {name!r} is declared twice")
        volumes.add(name)
    names: set[str] = set()
    for group in ("initContainers", "containers"):
        for index, container in enumerate(spec.get(group) or []):
            where = f"{field}.{group}[{index}]"
            name = container.get("name", "")
            if not DNS1123_LABEL.match(name) or len(name) > 63:
                found.append(f"{where}.name: {name!r} is not a DNS-1123 label")
            if name in names:
                found.append(f"{where}.name: {name!r} is used by two containers")
            names.add(name)
            policy = container.get("restartPolicy")
            if policy is not None and (group == "containers" or policy != "Always"):
                found.append(f"{where}.restartPolicy: only an init container may set it, to Always")
            found += _container_problems(container, where, volumes)
    if not spec.get("containers"):
        found.append(f"{field}.containers: at least one container is required")
    policy = spec.get("restartPolicy")
    if policy is not None and policy not in POD_RESTART_POLICIES:
        found.append(f"{field}.restartPolicy: {policy!r} is not one of {POD_RESTART_POLICIES}")
    return found


def _kind_problems(obj: dict[str, Any]) -> list[str]:
    kind, spec = obj.get("kind"), obj.get("spec") or {}
    found: list[str] = []
    template_spec = (spec.get("template") or {}).get("spec") or {}
    if kind == "Job":
        policy = template_spec.get("restartPolicy")
        if policy not in ("Never", "OnFailure"):
            found.append(f"spec.template.spec.restartPolicy: a Job needs Never or OnFailure, not {policy!r}")
        if spec.get("podFailurePolicy") and policy != "Never":
            found.append("spec.podFailurePolicy: needs spec.template.spec.restartPolicy Never")
    if kind in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"):
        selector = (spec.get("selector") or {}).get("matchLabels") or {}
        labels = (spec.get("template") or {}).get("metadata", {}).get("labels") or {}
        if not selector or any(labels.get(k) != v for k, v in selector.items()):
            found.append("spec.selector: must match spec.template.metadata.labels")
        if template_spec.get("restartPolicy", "Always") != "Always":
            found.append(f"spec.template.spec.restartPolicy: a {kind} only allows Always")
    if kind == "Service":
        ports = spec.get("ports") or []
        names = [p.get("name") for p in ports]
        if len(ports) > 1 and (None in names or len(set(names)) != len(names)):
            found.append("spec.ports: with several ports, each needs a unique name")
        for index, port in enumerate(ports):
            name = port.get("name")
            if name is not None and (len(name) > 63 or not DNS1123_LABEL.match(name)):
                found.append(f"spec.ports[{index}].name: {name!r} is not a DNS-1123 label")
    return found


def problems(obj: dict[str, Any], templates: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """Rule violations in ``obj``; ``templates`` are its pod templates as (path, template)."""
    kind = obj.get("kind")
    name_rule = {"Service": "dns1035", "Job": "label", "Namespace": "label"}.get(str(kind), "subdomain")
    found = metadata_problems(obj.get("metadata") or {}, "metadata", name_rule)
    if not (obj.get("metadata") or {}).get("name"):
        found.append("metadata.name: required")
    claims = frozenset(t["metadata"]["name"] for t in (obj.get("spec") or {}).get("volumeClaimTemplates", []))
    for path, template in templates:
        found += metadata_problems(template.get("metadata") or {}, f"{path}.metadata", None)
        found += pod_spec_problems(template.get("spec") or {}, f"{path}.spec", claims)
    return found + _kind_problems(obj)
