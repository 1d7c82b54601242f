"""What a fresh cluster already has: system namespaces, nodes, the kubernetes Service and the CRDs."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path
from typing import Any

from .api import ObjectApi, now
from .crds import shared_crd, stored_form
from .errors import invalid
from .semantics import check as semantic_check

SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
_validated_crds: set[str] = set()
_validated_lock = threading.Lock()


def node_manifest(
    name: str,
    *,
    index: int,
    cpu: str = "8",
    memory: str = "32Gi",
    gpus: int = 0,
    labels: dict[str, str] | None = None,
    taints: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    capacity = {"cpu": cpu, "memory": memory, "pods": "110", "ephemeral-storage": "100Gi"}
    if gpus:
        capacity["nvidia.com/gpu"] = str(gpus)
    stamp = now()
    node_labels = {
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/os": "linux",
        "beta.kubernetes.io/arch": "amd64",
        **(labels or {}),
    }
    spec: dict[str, Any] = {"podCIDR": f"10.244.{index}.0/24", "podCIDRs": [f"10.244.{index}.0/24"]}
    if taints:
        spec["taints"] = taints
    conditions = [
        ("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
        ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
        ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
        ("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
    ]
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": node_labels},
        "spec": spec,
        "status": {
            "capacity": capacity,
            "allocatable": dict(capacity),
            "conditions": [
                {
                    "type": kind,
                    "status": status,
                    "reason": reason,
                    "message": message,
                    "lastHeartbeatTime": stamp,
                    "lastTransitionTime": stamp,
                }
                for kind, status, reason, message in conditions
            ],
            "addresses": [
                {"type": "InternalIP", "address": f"10.0.0.{index + 10}"},
                {"type": "Hostname", "address": name},
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "architecture": "amd64",
                "bootID": str(uuid.uuid5(uuid.NAMESPACE_DNS, name + "/boot")),
                "containerRuntimeVersion": "containerd://1.7.24",
                "kernelVersion": "6.1.0",
                "kubeProxyVersion": "",
                "kubeletVersion": "v1.33.0",
                "machineID": uuid.uuid5(uuid.NAMESPACE_DNS, name).hex,
                "operatingSystem": "linux",
                "osImage": "Debian GNU/Linux 12 (bookworm)",
                "systemUUID": str(uuid.uuid5(uuid.NAMESPACE_DNS, name + "/system")),
            },
        },
    }


def install_crd_file(api: ObjectApi, path: Path) -> dict[str, Any]:
    """Store a vendored CRD. Its (large, shared) spec is schema-checked once per process."""
    crd = stored_form(shared_crd(path))
    rtype = api.rtype("apiextensions.k8s.io/v1", "CustomResourceDefinition")
    with _validated_lock:
        key = str(path)
        if key not in _validated_crds:
            causes = api.checker.check(crd, rtype) + semantic_check(crd, rtype)
            if causes:
                raise invalid(rtype, crd["metadata"]["name"], causes)
            _validated_crds.add(key)
    meta = crd["metadata"]
    meta.update({"uid": str(uuid.uuid4()), "creationTimestamp": now(), "generation": 1})
    return api.store.put(rtype.key, crd, added=True)


def bootstrap(api: ObjectApi, crd_files: list[Path], nodes: int) -> None:
    ns_type = api.rtype("v1", "Namespace")
    with api.store.transaction():
        for name in SYSTEM_NAMESPACES:
            api.create(ns_type, "", {"metadata": {"name": name}})
        node_type = api.rtype("v1", "Node")
        for index in range(1, nodes + 1):
            api.create(node_type, "", node_manifest(f"node-{index}", index=index), keep_status=True)
        api.create(
            api.rtype("v1", "Service"),
            "default",
            {
                "metadata": {
                    "name": "kubernetes",
                    "labels": {"component": "apiserver", "provider": "kubernetes"},
                },
                "spec": {
                    "clusterIP": "10.96.0.1",
                    "ports": [{"name": "https", "port": 443, "targetPort": 6443}],
                },
            },
        )
        for path in crd_files:
            install_crd_file(api, path)
