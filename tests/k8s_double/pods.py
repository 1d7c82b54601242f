"""The scheduler's and kubelet's side of a pod's life: binding, container states, phases and conditions."""

from __future__ import annotations

import hashlib
import itertools
from typing import Any

from .api import ObjectApi, copy_obj, now
from .events import EventRecorder
from .logs import LogStore
from .store import Obj

TERMINAL = ("Succeeded", "Failed")


def _digest(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()


def _image_id(image: str) -> str:
    repo = image.split("@", maxsplit=1)[0]
    if ":" in repo.rsplit("/", 1)[-1]:
        repo = repo.rsplit(":", 1)[0]
    if "/" not in repo:
        repo = f"docker.io/library/{repo}"
    return f"{repo}@sha256:{_digest('image', image)}"


def condition(
    kind: str, status: bool, stamp: str, reason: str | None = None, message: str | None = None
) -> dict[str, Any]:
    found: dict[str, Any] = {
        "type": kind,
        "status": "True" if status else "False",
        "lastTransitionTime": stamp,
    }
    if reason:
        found["reason"] = reason
    if message:
        found["message"] = message
    return found


def merge_conditions(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """New conditions keep their lastTransitionTime when their status did not change."""
    previous = {c["type"]: c for c in old}
    merged = []
    for cond in new:
        before = previous.get(cond["type"])
        if before is not None and before.get("status") == cond["status"]:
            stamp = before.get("lastTransitionTime", cond["lastTransitionTime"])
            merged.append({**cond, "lastTransitionTime": stamp})
        else:
            merged.append(cond)
    return merged


class Kubelet:
    """Drives pod status the way the scheduler and the kubelet report it; tests call it through the double."""

    def __init__(self, api: ObjectApi, logs: LogStore, events: EventRecorder) -> None:
        self.api = api
        self.logs = logs
        self.events = events
        self.pod_type = api.rtype("v1", "Pod")
        self.node_type = api.rtype("v1", "Node")
        self._pod_ips = itertools.count(2)

    # -- lookups ----------------------------------------------------------------------------
    def pod(self, namespace: str, name: str) -> Obj:
        return self.api.get(self.pod_type, namespace, name)

    def nodes(self) -> list[Obj]:
        return self.api.list(self.node_type, None)

    def _pick_node(self, pod: Obj) -> Obj:
        nodes = self.nodes()
        if not nodes:
            raise RuntimeError("the double has no nodes to schedule on; add one with add_node()")
        wants_gpu = any(
            "nvidia.com/gpu" in ((c.get("resources") or {}).get("limits") or {})
            for c in pod["spec"]["containers"]
        )
        for node in nodes:
            has_gpu = "nvidia.com/gpu" in (node.get("status") or {}).get("capacity", {})
            if has_gpu == wants_gpu:
                return node
        return nodes[0]

    def _node_ip(self, node: Obj) -> str:
        for address in (node.get("status") or {}).get("addresses") or []:
            if address.get("type") == "InternalIP":
                return str(address["address"])
        return "10.0.0.1"

    # -- scheduling -------------------------------------------------------------------------
    def schedule(self, namespace: str, name: str, node_name: str | None = None) -> Obj:
        with self.api.store.transaction():
            pod = self.pod(namespace, name)
            if pod["spec"].get("nodeName"):
                return pod
            node = self.api.get(self.node_type, "", node_name) if node_name else self._pick_node(pod)
            stamp = now()
            updated = copy_obj(pod)
            updated["spec"]["nodeName"] = node["metadata"]["name"]
            status = updated.setdefault("status", {})
            status["phase"] = "Pending"
            status["conditions"] = merge_conditions(
                status.get("conditions") or [], [condition("PodScheduled", True, stamp)]
            )
            written = self.api.write(self.pod_type, updated)
            self.events.record(
                written,
                "Normal",
                "Scheduled",
                f"Successfully assigned {namespace}/{name} to {node['metadata']['name']}",
                "default-scheduler",
            )
            return written

    # -- container states -------------------------------------------------------------------
    def container_status(
        self,
        pod: Obj,
        container: Obj,
        state: dict[str, Any],
        *,
        ready: bool = False,
        restart_count: int = 0,
        last_state: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        started = "running" in state
        entry: dict[str, Any] = {
            "name": container["name"],
            "image": container["image"],
            "imageID": "" if "waiting" in state and not restart_count else _image_id(container["image"]),
            "ready": ready,
            "restartCount": restart_count,
            "started": started,
            "state": state,
            "lastState": last_state or {},
        }
        if entry["imageID"]:
            entry["containerID"] = "containerd://" + _digest(
                pod["metadata"]["uid"], container["name"], str(restart_count)
            )
        return entry

    def write_status(self, pod: Obj, **fields: Any) -> Obj:
        updated = copy_obj(pod)
        status = updated.setdefault("status", {})
        for key, value in fields.items():
            if value is None:
                status.pop(key, None)
            else:
                status[key] = value
        return self.api.write(self.pod_type, updated)

    def _network(self, pod: Obj) -> dict[str, Any]:
        status = pod.get("status") or {}
        node = self.api.get(self.node_type, "", pod["spec"]["nodeName"])
        host_ip = self._node_ip(node)
        pod_ip = status.get("podIP")
        if not pod_ip:
            index = next(self._pod_ips)
            pod_ip = f"10.244.{index // 250}.{index % 250 + 1}"
        return {
            "hostIP": host_ip,
            "hostIPs": [{"ip": host_ip}],
            "podIP": pod_ip,
            "podIPs": [{"ip": pod_ip}],
            "startTime": status.get("startTime") or now(),
        }

    # -- phases -----------------------------------------------------------------------------
    def set_phase(
        self,
        namespace: str,
        name: str,
        phase: str,
        *,
        node: str | None = None,
        exit_code: int | None = None,
        reason: str | None = None,
        message: str | None = None,
    ) -> Obj:
        with self.api.store.transaction():
            if phase == "Pending":
                pod = self.schedule(namespace, name, node) if node else self.pod(namespace, name)
                return self._pending(pod)
            pod = self.schedule(namespace, name, node)
            if phase == "Running":
                return self._running(pod)
            if phase == "Succeeded":
                return self._terminated(pod, "Succeeded", 0, reason or "Completed", message)
            if phase == "Failed":
                code = 1 if exit_code is None else exit_code
                return self._terminated(pod, "Failed", code, reason or "Error", message)
            if phase == "Unknown":
                return self.write_status(pod, phase="Unknown", reason=reason, message=message)
            raise ValueError(
                f"unknown pod phase {phase!r}: use Pending, Running, Succeeded, Failed or Unknown"
            )

    def _pending(self, pod: Obj) -> Obj:
        waiting = {"waiting": {"reason": "ContainerCreating"}}
        statuses = [self.container_status(pod, c, waiting) for c in pod["spec"]["containers"]]
        return self.write_status(
            pod, phase="Pending", containerStatuses=statuses if pod["spec"].get("nodeName") else None
        )

    def _running(self, pod: Obj) -> Obj:
        stamp = now()
        first_start = (pod.get("status") or {}).get("phase") != "Running"
        statuses = [
            self.container_status(pod, c, {"running": {"startedAt": stamp}}, ready=True)
            for c in pod["spec"]["containers"]
        ]
        init = [
            self._init_status(pod, c, stamp, finished=False) for c in pod["spec"].get("initContainers") or []
        ]
        conditions = merge_conditions(
            pod["status"].get("conditions") or [],
            [
                condition("PodReadyToStartContainers", True, stamp),
                condition("Initialized", True, stamp),
                condition("Ready", True, stamp),
                condition("ContainersReady", True, stamp),
                condition("PodScheduled", True, stamp),
            ],
        )
        written = self.write_status(
            pod,
            phase="Running",
            conditions=conditions,
            containerStatuses=statuses,
            initContainerStatuses=init or None,
            reason=None,
            message=None,
            **self._network(pod),
        )
        if first_start:
            node = pod["spec"]["nodeName"]
            for container in pod["spec"]["containers"]:
                image = container["image"]
                self.events.record(
                    written,
                    "Normal",
                    "Pulled",
                    f'Container image "{image}" already present on machine',
                    "kubelet",
                    node,
                )
                self.events.record(
                    written, "Normal", "Created", f"Created container: {container['name']}", "kubelet", node
                )
                self.events.record(
                    written, "Normal", "Started", f"Started container {container['name']}", "kubelet", node
                )
        return written

    def _terminated(
        self,
        pod: Obj,
        phase: str,
        exit_code: int,
        reason: str,
        message: str | None,
        *,
        pod_status: dict[str, Any] | None = None,
        extra_conditions: tuple[dict[str, Any], ...] = (),
    ) -> Obj:
        """All containers terminated with `exit_code`/`reason`, in one status write; `pod_status` adds
        pod-level fields (reason/message) and `extra_conditions` conditions such as DisruptionTarget."""
        stamp = now()
        previous = {s["name"]: s for s in (pod.get("status") or {}).get("containerStatuses") or []}
        statuses = []
        for container in pod["spec"]["containers"]:
            before = previous.get(container["name"], {})
            started = (before.get("state") or {}).get("running", {}).get("startedAt", stamp)
            terminated: dict[str, Any] = {
                "exitCode": exit_code,
                "reason": reason,
                "startedAt": started,
                "finishedAt": stamp,
            }
            if message and phase == "Failed":
                terminated["message"] = message
            terminated["containerID"] = "containerd://" + _digest(
                pod["metadata"]["uid"], container["name"], "0"
            )
            statuses.append(
                self.container_status(
                    pod, container, {"terminated": terminated}, restart_count=before.get("restartCount", 0)
                )
            )
        why = "PodCompleted" if phase == "Succeeded" else "PodFailed"
        conditions = merge_conditions(
            pod["status"].get("conditions") or [],
            [
                condition("PodReadyToStartContainers", False, stamp),
                condition("Initialized", True, stamp),
                condition("Ready", False, stamp, why),
                condition("ContainersReady", False, stamp, why),
                condition("PodScheduled", True, stamp),
                *extra_conditions,
            ],
        )
        init = [
            self._init_status(pod, c, stamp, finished=True) for c in pod["spec"].get("initContainers") or []
        ]
        return self.write_status(
            pod,
            phase=phase,
            conditions=conditions,
            containerStatuses=statuses,
            initContainerStatuses=init or None,
            **self._network(pod),
            **(pod_status or {}),
        )

    def terminate(
        self,
        namespace: str,
        name: str,
        exit_code: int,
        reason: str,
        *,
        pod_status: dict[str, Any] | None = None,
        extra_conditions: tuple[dict[str, Any], ...] = (),
    ) -> Obj:
        """Fail the pod (scheduling it first if needed) with extra pod-level status, in one write."""
        with self.api.store.transaction():
            pod = self.schedule(namespace, name)
            return self._terminated(
                pod,
                "Failed",
                exit_code,
                reason,
                None,
                pod_status=pod_status,
                extra_conditions=extra_conditions,
            )

    def _init_status(self, pod: Obj, container: Obj, stamp: str, *, finished: bool) -> dict[str, Any]:
        """Init containers have completed once the pod runs; native sidecars (restartPolicy Always)
        run beside the main containers and are stopped after them."""
        sidecar = container.get("restartPolicy") == "Always"
        if sidecar and not finished:
            return self.container_status(pod, container, {"running": {"startedAt": stamp}}, ready=True)
        completed = {"exitCode": 0, "reason": "Completed", "startedAt": stamp, "finishedAt": stamp}
        return self.container_status(pod, container, {"terminated": completed}, ready=not sidecar)
