"""Scripted pod scenarios: what a cluster reports when scheduling, pulling or running goes wrong."""

from __future__ import annotations

from .api import copy_obj, now
from .pods import Kubelet, condition, merge_conditions
from .store import Obj


class Scenarios:
    def __init__(self, kubelet: Kubelet) -> None:
        self.kubelet = kubelet
        self.api = kubelet.api
        self.events = kubelet.events

    def _container(self, pod: Obj, name: str | None) -> Obj:
        containers = pod["spec"]["containers"]
        if name is None:
            return containers[0]
        for container in containers:
            if container["name"] == name:
                return container
        raise ValueError(f"pod {pod['metadata']['name']} has no container {name!r}")

    def unschedulable(self, namespace: str, name: str, resource: str = "nvidia.com/gpu") -> Obj:
        """PodScheduled=False/Unschedulable and a FailedScheduling event, as kube-scheduler reports."""
        with self.api.store.transaction():
            pod = self.kubelet.pod(namespace, name)
            count = len(self.kubelet.nodes())
            message = (
                f"0/{count} nodes are available: {count} Insufficient {resource}. preemption: 0/{count} "
                f"nodes are available: {count} No preemption victims found for incoming pod."
            )
            stamp = now()
            conditions = merge_conditions(
                (pod.get("status") or {}).get("conditions") or [],
                [condition("PodScheduled", False, stamp, "Unschedulable", message)],
            )
            written = self.kubelet.write_status(pod, phase="Pending", conditions=conditions)
            self.events.record(written, "Warning", "FailedScheduling", message, "default-scheduler")
            return written

    def image_pull_backoff(self, namespace: str, name: str, container: str | None = None) -> Obj:
        with self.api.store.transaction():
            pod = self.kubelet.schedule(namespace, name)
            target = self._container(pod, container)
            image = target["image"]
            node = pod["spec"]["nodeName"]
            error = (
                f'Failed to pull image "{image}": rpc error: code = NotFound desc = failed to pull and '
                f'unpack image "{image}": not found'
            )
            statuses = [
                self.kubelet.container_status(
                    pod,
                    c,
                    {
                        "waiting": {
                            "reason": "ImagePullBackOff",
                            "message": f'Back-off pulling image "{image}"',
                        }
                    }
                    if c is target
                    else {"waiting": {"reason": "ContainerCreating"}},
                )
                for c in pod["spec"]["containers"]
            ]
            stamp = now()
            conditions = merge_conditions(
                pod["status"].get("conditions") or [],
                [
                    condition("PodReadyToStartContainers", True, stamp),
                    condition("Initialized", True, stamp),
                    condition(
                        "Ready",
                        False,
                        stamp,
                        "ContainersNotReady",
                        f"containers with unready status: [{target['name']}]",
                    ),
                    condition(
                        "ContainersReady",
                        False,
                        stamp,
                        "ContainersNotReady",
                        f"containers with unready status: [{target['name']}]",
                    ),
                    condition("PodScheduled", True, stamp),
                ],
            )
            written = self.kubelet.write_status(
                pod, phase="Pending", containerStatuses=statuses, conditions=conditions
            )
            self.events.record(written, "Normal", "Pulling", f'Pulling image "{image}"', "kubelet", node)
            self.events.record(written, "Warning", "Failed", error, "kubelet", node)
            self.events.record(written, "Warning", "Failed", "Error: ErrImagePull", "kubelet", node)
            self.events.record(
                written, "Normal", "BackOff", f'Back-off pulling image "{image}"', "kubelet", node
            )
            self.events.record(written, "Warning", "Failed", "Error: ImagePullBackOff", "kubelet", node)
            return written

    def crash_loop_backoff(
        self, namespace: str, name: str, container: str | None = None, restarts: int = 3, exit_code: int = 1
    ) -> Obj:
        with self.api.store.transaction():
            pod = self.kubelet.set_phase(namespace, name, "Running")
            target = self._container(pod, container)
            stamp = now()
            last = {
                "terminated": {
                    "exitCode": exit_code,
                    "reason": "Error",
                    "startedAt": stamp,
                    "finishedAt": stamp,
                }
            }
            backoff = min(10 * 2 ** (restarts - 1), 300)
            waiting = {
                "waiting": {
                    "reason": "CrashLoopBackOff",
                    "message": f"back-off {backoff}s restarting failed container={target['name']} "
                    f"pod={name}_{namespace}({pod['metadata']['uid']})",
                }
            }
            self.kubelet.logs.restart(pod, target["name"])
            return self._replace_container(
                pod,
                target,
                waiting,
                last,
                restarts,
                "BackOff",
                f"Back-off restarting failed container {target['name']} in pod "
                f"{name}_{namespace}({pod['metadata']['uid']})",
            )

    def _replace_container(
        self, pod: Obj, target: Obj, state: Obj, last: Obj, restarts: int, reason: str, message: str
    ) -> Obj:
        statuses = []
        for entry in pod["status"]["containerStatuses"]:
            if entry["name"] == target["name"]:
                statuses.append(
                    self.kubelet.container_status(pod, target, state, restart_count=restarts, last_state=last)
                )
            else:
                statuses.append(entry)
        stamp = now()
        unready = f"containers with unready status: [{target['name']}]"
        conditions = merge_conditions(
            pod["status"]["conditions"],
            [
                condition("PodReadyToStartContainers", True, stamp),
                condition("Initialized", True, stamp),
                condition("Ready", False, stamp, "ContainersNotReady", unready),
                condition("ContainersReady", False, stamp, "ContainersNotReady", unready),
                condition("PodScheduled", True, stamp),
            ],
        )
        written = self.kubelet.write_status(pod, containerStatuses=statuses, conditions=conditions)
        self.events.record(written, "Warning", reason, message, "kubelet", pod["spec"]["nodeName"])
        return written

    def oom_killed(self, namespace: str, name: str, container: str | None = None) -> Obj:
        """The container exceeds its memory limit: exit 137, OOMKilled. The pod fails if it never restarts."""
        with self.api.store.transaction():
            pod = self.kubelet.set_phase(namespace, name, "Running")
            target = self._container(pod, container)
            if pod["spec"].get("restartPolicy", "Always") == "Never":
                return self.kubelet.set_phase(namespace, name, "Failed", exit_code=137, reason="OOMKilled")
            stamp = now()
            last = {
                "terminated": {
                    "exitCode": 137,
                    "reason": "OOMKilled",
                    "startedAt": stamp,
                    "finishedAt": stamp,
                }
            }
            waiting = {
                "waiting": {
                    "reason": "CrashLoopBackOff",
                    "message": f"back-off 10s restarting failed container={target['name']}",
                }
            }
            return self._replace_container(
                pod,
                target,
                waiting,
                last,
                1,
                "BackOff",
                f"Back-off restarting failed container {target['name']} in pod {name}_{namespace}",
            )

    def evicted(self, namespace: str, name: str, resource: str = "memory") -> Obj:
        with self.api.store.transaction():
            pod = self.kubelet.schedule(namespace, name)
            target = pod["spec"]["containers"][0]["name"]
            message = (
                f"The node was low on resource: {resource}. Threshold quantity: 100Mi, available: 40Mi. "
                f"Container {target} was using 3Gi, request is 0, has larger consumption of {resource}. "
            )
            disruption = condition("DisruptionTarget", True, now(), "TerminationByKubelet", message)
            written = self.kubelet.terminate(
                namespace,
                name,
                137,
                "Error",
                pod_status={"reason": "Evicted", "message": message},
                extra_conditions=(disruption,),
            )
            self.events.record(written, "Warning", "Evicted", message, "kubelet", pod["spec"]["nodeName"])
            return written

    def node_lost(self, namespace: str, name: str, evict: bool = True) -> Obj | None:
        """The pod's node stops reporting: node NotReady/Unknown, the pod not ready, then (evict=True)
        the taint manager deletes it and the pod garbage collector fails and removes it."""
        with self.api.store.transaction():
            pod = self.kubelet.schedule(namespace, name)
            node_name = pod["spec"]["nodeName"]
            self.mark_node_unreachable(node_name)
            stamp = now()
            conditions = merge_conditions(
                pod["status"].get("conditions") or [],
                [c for c in pod["status"].get("conditions") or [] if c["type"] != "Ready"]
                + [
                    condition(
                        "Ready",
                        False,
                        stamp,
                        "NodeLost",
                        f"Node {node_name} which was running pod {name} is unresponsive",
                    )
                ],
            )
            pod = self.kubelet.write_status(pod, conditions=conditions)
            if not evict:
                return pod
            disruption = condition(
                "DisruptionTarget",
                True,
                stamp,
                "DeletionByTaintManager",
                "Taint manager: deleting due to NoExecute taint",
            )
            pod = self.kubelet.write_status(pod, conditions=[*pod["status"]["conditions"], disruption])
            marked = copy_obj(pod)
            marked["metadata"]["deletionTimestamp"] = stamp
            marked["metadata"]["deletionGracePeriodSeconds"] = 30
            pod = self.api.write(self.kubelet.pod_type, marked)
            pod = self.kubelet.write_status(pod, phase="Failed")
            self.events.record(
                pod,
                "Normal",
                "TaintManagerEviction",
                f"Marking for deletion Pod {namespace}/{name}",
                "taint-eviction-controller",
            )
            self.api.store.remove(self.kubelet.pod_type.key, namespace, name)
            return None

    def mark_node_unreachable(self, node_name: str) -> Obj:
        node = self.api.get(self.kubelet.node_type, "", node_name)
        updated = copy_obj(node)
        stamp = now()
        status = updated.setdefault("status", {})
        status["conditions"] = [
            {
                **c,
                "status": "Unknown",
                "reason": "NodeStatusUnknown",
                "message": "Kubelet stopped posting node status.",
                "lastTransitionTime": stamp,
            }
            if c["type"] == "Ready"
            else c
            for c in status.get("conditions") or []
        ]
        spec = updated.setdefault("spec", {})
        taints = [t for t in spec.get("taints") or [] if t["key"] != "node.kubernetes.io/unreachable"]
        spec["taints"] = [
            *taints,
            {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute", "timeAdded": stamp},
        ]
        return self.api.write(self.kubelet.node_type, updated)
