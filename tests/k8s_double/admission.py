"""Admission plugins that matter to workloads: ServiceAccount and Priority."""

from __future__ import annotations

from .api import ObjectApi
from .errors import forbidden
from .resources import ResourceType
from .store import Obj


def install(api: ObjectApi) -> None:
    sa_type = api.rtype("v1", "ServiceAccount")
    priority_type = api.rtype("scheduling.k8s.io/v1", "PriorityClass")

    def pods(rtype: ResourceType, obj: Obj, old: Obj | None) -> None:
        if old is not None or rtype.kind != "Pod" or rtype.group:
            return
        meta, spec = obj["metadata"], obj["spec"]
        namespace, name = meta["namespace"], meta.get("name", "")
        account = spec.get("serviceAccountName", "default")
        if api.try_get(sa_type, namespace, account) is None:
            raise forbidden(
                f'pods "{name}" is forbidden: error looking up service account {namespace}/{account}: '
                f'serviceaccount "{account}" not found'
            )
        priority_class = spec.get("priorityClassName")
        if priority_class:
            found = api.try_get(priority_type, "", priority_class)
            if found is None:
                raise forbidden(
                    f'pods "{name}" is forbidden: no PriorityClass with name {priority_class} was found'
                )
            spec["priority"] = found.get("value", 0)
            spec.setdefault("preemptionPolicy", found.get("preemptionPolicy", "PreemptLowerPriority"))

    api.admission.append(pods)
