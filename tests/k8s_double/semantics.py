"""Validation the API server does beyond the JSON schema: names, labels, pods, immutable fields."""

from __future__ import annotations

import itertools
import re
from typing import Any

from .errors import Cause
from .resources import ResourceType

Obj = dict[str, Any]

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_QUANTITY = re.compile(r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$")
_LABEL_KINDS = {"Namespace", "Service"}  # names must be DNS-1123 labels, not subdomains
_DNS_LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
    "start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
    "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
_DNS_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and "
    "must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation "
    "is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)


def _check_name(name: Any, kind: str, causes: list[Cause]) -> None:
    if not isinstance(name, str) or not name:
        causes.append(
            Cause("metadata.name", "Required value: name or generateName is required", "FieldValueRequired")
        )
        return
    as_label = kind in _LABEL_KINDS
    pattern, limit = (DNS_LABEL, 63) if as_label else (DNS_SUBDOMAIN, 253)
    if len(name) > limit or not pattern.match(name):
        message = _DNS_LABEL_MSG if as_label else _DNS_SUBDOMAIN_MSG
        if len(name) > limit:
            message = f"must be no more than {limit} characters"
        causes.append(Cause("metadata.name", f'Invalid value: "{name}": {message}'))


def _check_labels(labels: Any, causes: list[Cause]) -> None:
    for key, value in (labels or {}).items():
        prefix, _, name = key.rpartition("/")
        if (prefix and not DNS_SUBDOMAIN.match(prefix)) or len(name) > 63 or not _LABEL_NAME.match(name):
            causes.append(
                Cause(
                    "metadata.labels",
                    f'Invalid value: "{key}": name part must consist of '
                    "alphanumeric characters, '-', '_' or '.', and must start and end with an "
                    "alphanumeric character",
                )
            )
        if not isinstance(value, str) or (value and (len(value) > 63 or not _LABEL_NAME.match(value))):
            causes.append(
                Cause(
                    "metadata.labels",
                    f'Invalid value: "{value}": a valid label must be an empty '
                    "string or consist of alphanumeric characters, '-', '_' or '.', and must start "
                    "and end with an alphanumeric character",
                )
            )


def _check_pod_spec(spec: Any, path: str, causes: list[Cause], restart_policies: tuple[str, ...]) -> None:
    if not isinstance(spec, dict):
        return
    containers = spec.get("containers") or []
    if not containers:
        causes.append(Cause(f"{path}.containers", "Required value", "FieldValueRequired"))
    seen: set[str] = set()
    all_containers = itertools.chain(
        (("initContainers", i, c) for i, c in enumerate(spec.get("initContainers") or [])),
        (("containers", i, c) for i, c in enumerate(containers)),
    )
    for field, index, container in all_containers:
        where = f"{path}.{field}[{index}]"
        name = container.get("name", "")
        if not DNS_LABEL.match(name or ""):
            causes.append(Cause(f"{where}.name", f'Invalid value: "{name}": {_DNS_LABEL_MSG}'))
        elif name in seen:
            causes.append(Cause(f"{where}.name", f'Duplicate value: "{name}"', "FieldValueDuplicate"))
        seen.add(name)
        if not container.get("image"):
            causes.append(Cause(f"{where}.image", "Required value", "FieldValueRequired"))
        resources = container.get("resources") or {}
        for section in ("limits", "requests"):
            for resource, quantity in (resources.get(section) or {}).items():
                if not _QUANTITY.match(str(quantity)):
                    causes.append(
                        Cause(
                            f"{where}.resources.{section}[{resource}]",
                            f'Invalid value: "{quantity}": quantities must match the regular expression '
                            "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
                        )
                    )
    policy = spec.get("restartPolicy")
    if policy not in restart_policies:
        allowed = ", ".join(f'"{p}"' for p in restart_policies)
        if policy is None:
            causes.append(
                Cause(
                    f"{path}.restartPolicy", f"Required value: valid values: {allowed}", "FieldValueRequired"
                )
            )
        else:
            causes.append(
                Cause(
                    f"{path}.restartPolicy",
                    f'Unsupported value: "{policy}": supported values: {allowed}',
                    "FieldValueNotSupported",
                )
            )


def check(obj: Obj, rtype: ResourceType) -> list[Cause]:
    causes: list[Cause] = []
    meta = obj.get("metadata") or {}
    _check_name(meta.get("name"), rtype.kind, causes)
    _check_labels(meta.get("labels"), causes)
    spec = obj.get("spec") or {}
    if rtype.api_version == "v1" and rtype.kind == "Pod":
        _check_pod_spec(spec, "spec", causes, ("Always", "OnFailure", "Never"))
    elif rtype.api_version == "batch/v1" and rtype.kind == "Job":
        _check_pod_spec(
            (spec.get("template") or {}).get("spec"), "spec.template.spec", causes, ("OnFailure", "Never")
        )
    elif rtype.api_version == "apps/v1" and rtype.kind in ("Deployment", "ReplicaSet", "StatefulSet"):
        _check_pod_spec((spec.get("template") or {}).get("spec"), "spec.template.spec", causes, ("Always",))
        _check_selector(spec, causes)
    elif rtype.kind == "CustomResourceDefinition":
        expected = f"{spec.get('names', {}).get('plural')}.{spec.get('group')}"
        if meta.get("name") != expected:
            causes.append(
                Cause(
                    "metadata.name",
                    f'Invalid value: "{meta.get("name")}": must be spec.names.plural+"."+spec.group',
                )
            )
    return causes


def _check_selector(spec: Obj, causes: list[Cause]) -> None:
    selector = spec.get("selector")
    if not selector:
        causes.append(Cause("spec.selector", "Required value", "FieldValueRequired"))
        return
    labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    wanted = selector.get("matchLabels") or {}
    if any(labels.get(k) != v for k, v in wanted.items()):
        causes.append(
            Cause(
                "spec.template.metadata.labels",
                f"Invalid value: {labels}: `selector` does not match template `labels`",
            )
        )


# Pod spec fields a Pod update may change.
_POD_MUTABLE = ("activeDeadlineSeconds", "tolerations", "terminationGracePeriodSeconds")


def check_update(old: Obj, new: Obj, rtype: ResourceType) -> list[Cause]:
    causes: list[Cause] = []
    if rtype.api_version == "v1" and rtype.kind == "Pod":
        strip = {k: v for k, v in (old.get("spec") or {}).items() if k not in _POD_MUTABLE}
        strip_new = {k: v for k, v in (new.get("spec") or {}).items() if k not in _POD_MUTABLE}
        for section in ("containers", "initContainers"):
            for spec in (strip, strip_new):
                spec[section] = [
                    {k: v for k, v in c.items() if k != "image"} for c in spec.get(section) or []
                ]
        if strip != strip_new:
            causes.append(
                Cause(
                    "spec",
                    "Forbidden: pod updates may not change fields other than `spec.containers[*].image`,"
                    "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only "
                    "additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be "
                    "set to 1 if it was previously negative)",
                    "FieldValueForbidden",
                )
            )
    elif rtype.api_version == "batch/v1" and rtype.kind == "Job":
        for field in ("template", "selector", "completionMode"):
            if (old.get("spec") or {}).get(field) != (new.get("spec") or {}).get(field):
                causes.append(Cause(f"spec.{field}", "Invalid value: field is immutable"))
    elif (
        rtype.api_version == "apps/v1"
        and rtype.kind == "Deployment"
        and (old.get("spec") or {}).get("selector") != (new.get("spec") or {}).get("selector")
    ):
        causes.append(Cause("spec.selector", "Invalid value: field is immutable"))
    return causes
