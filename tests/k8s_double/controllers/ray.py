"""KubeRay: RayCluster -> head pod, worker pods per group and the head service; RayJob -> a RayCluster
plus the submitter batch Job, with jobDeploymentStatus/jobStatus following that Job."""

from __future__ import annotations

from typing import Any

from ..api import copy_obj, now, random_suffix
from ..resources import ResourceType
from ..store import Obj
from .base import ControllerContext, has_condition, is_active, is_ready, phase, set_condition

COMPONENT = "raycluster-controller"
_HEAD_PORTS = (("client", 10001), ("dashboard", 8265), ("gcs-server", 6379), ("metrics", 8080))


def _ray_condition(kind: str, status: bool, reason: str, message: str, stamp: str) -> Obj:
    return {
        "type": kind,
        "status": "True" if status else "False",
        "reason": reason,
        "message": message,
        "lastTransitionTime": stamp,
    }


class RayController:
    group = "ray.io"
    kinds: tuple[str, ...] = ("RayCluster", "RayJob")

    def __init__(self, ctx: ControllerContext) -> None:
        self.ctx = ctx
        self.svc_type = ctx.api.rtype("v1", "Service")
        self.job_type = ctx.api.rtype("batch/v1", "Job")

    def reconcile(self, rtype: ResourceType, namespace: str, name: str) -> None:
        obj = self.ctx.api.try_get(rtype, namespace, name)
        if obj is None or obj["metadata"].get("deletionTimestamp"):
            return
        if rtype.kind == "RayCluster":
            self._cluster(rtype, obj)
        else:
            self._job(rtype, obj)

    # -- RayCluster -------------------------------------------------------------------------
    def _labels(self, cluster: str, node_type: str, group: str) -> dict[str, str]:
        return {
            "ray.io/cluster": cluster,
            "ray.io/node-type": node_type,
            "ray.io/group": group,
            "ray.io/identifier": f"{cluster}-{node_type}",
            "ray.io/is-ray-node": "yes",
            "app.kubernetes.io/created-by": "kuberay-operator",
            "app.kubernetes.io/name": "kuberay",
        }

    def _cluster(self, rtype: ResourceType, cluster: Obj) -> None:
        name = cluster["metadata"]["name"]
        spec = cluster.get("spec") or {}
        pods = self.ctx.owned(self.ctx.pod_type, cluster)
        for pod in pods:
            if phase(pod) in ("Succeeded", "Failed"):
                self.ctx.deleter.delete_quietly(self.ctx.pod_type, pod)
        pods = [p for p in pods if is_active(p)]
        head = [p for p in pods if p["metadata"]["labels"].get("ray.io/node-type") == "head"]
        if not head and not spec.get("suspend"):
            pod = self.ctx.pod_from_template(
                spec["headGroupSpec"]["template"], labels=self._labels(name, "head", "headgroup")
            )
            pod["metadata"]["generateName"] = f"{name}-head-"
            created = self.ctx.create_owned(self.ctx.pod_type, cluster, pod, COMPONENT)
            head = [created] if created else []
        service_name = f"{name}-head-svc"
        service = self.ctx.api.try_get(self.svc_type, cluster["metadata"]["namespace"], service_name)
        if service is None:
            service = self.ctx.create_owned(
                self.svc_type,
                cluster,
                {
                    "apiVersion": "v1",
                    "kind": "Service",
                    "metadata": {
                        "name": service_name,
                        "labels": {"ray.io/cluster": name, "ray.io/node-type": "head"},
                    },
                    "spec": {
                        "selector": {"ray.io/cluster": name, "ray.io/node-type": "head"},
                        "ports": [{"name": n, "port": p} for n, p in _HEAD_PORTS],
                    },
                },
                COMPONENT,
            )
        desired = minimum = maximum = ready_workers = 0
        for group in spec.get("workerGroupSpecs") or []:
            group_name = group["groupName"]
            replicas = int(group.get("replicas", group.get("minReplicas", 0)))
            if group.get("suspend") or spec.get("suspend"):
                replicas = 0
            desired += replicas
            minimum += int(group.get("minReplicas", 0))
            maximum += int(group.get("maxReplicas", 2147483647)) if "maxReplicas" in group else replicas
            members = [
                p
                for p in pods
                if p["metadata"]["labels"].get("ray.io/group") == group_name
                and p["metadata"]["labels"].get("ray.io/node-type") == "worker"
            ]
            for _ in range(replicas - len(members)):
                pod = self.ctx.pod_from_template(
                    group["template"], labels=self._labels(name, "worker", group_name)
                )
                pod["metadata"]["generateName"] = f"{name}-{group_name}-worker-"
                created = self.ctx.create_owned(self.ctx.pod_type, cluster, pod, COMPONENT)
                if created:
                    members.append(created)
            ready_workers += sum(1 for p in members if is_ready(p))
        stamp = now()
        status: dict[str, Any] = dict(cluster.get("status") or {})
        head_ready = bool(head) and is_ready(head[0])
        all_ready = head_ready and ready_workers >= desired
        conditions = list(status.get("conditions") or [])
        conditions = set_condition(
            conditions,
            _ray_condition(
                "HeadPodReady",
                head_ready,
                "HeadPodRunningAndReady" if head_ready else "HeadPodNotReady",
                "" if head_ready else "Head pod is not ready",
                stamp,
            ),
        )
        if not any(c["type"] == "RayClusterProvisioned" and c["status"] == "True" for c in conditions):
            conditions = set_condition(
                conditions,
                _ray_condition(
                    "RayClusterProvisioned",
                    all_ready,
                    "AllPodRunningAndReadyFirstTime" if all_ready else "RayClusterPodsProvisioning",
                    "All Ray Pods are ready for the first time"
                    if all_ready
                    else "RayCluster Pods are being provisioned for first time",
                    stamp,
                ),
            )
        for cond in conditions:
            if not cond.get("message"):
                cond["message"] = cond["reason"]
        status.update(
            {
                "desiredWorkerReplicas": desired,
                "minWorkerReplicas": minimum,
                "maxWorkerReplicas": maximum,
                "readyWorkerReplicas": ready_workers,
                "availableWorkerReplicas": ready_workers,
                "conditions": conditions,
                "observedGeneration": cluster["metadata"].get("generation", 1),
                "endpoints": {n: str(p) for n, p in _HEAD_PORTS},
            }
        )
        head_status: dict[str, str] = {"serviceName": service_name}
        if service is not None:
            head_status["serviceIP"] = service["spec"].get("clusterIP", "")
        if head:
            head_status["podName"] = head[0]["metadata"]["name"]
            if (head[0].get("status") or {}).get("podIP"):
                head_status["podIP"] = head[0]["status"]["podIP"]
        status["head"] = head_status
        if all_ready:
            status["state"] = "ready"
            status.setdefault("stateTransitionTimes", {})["ready"] = status.get(
                "stateTransitionTimes", {}
            ).get("ready", stamp)
        if status != cluster.get("status"):
            status["lastUpdateTime"] = stamp
        self.ctx.update_status(rtype, cluster, status)

    # -- RayJob -----------------------------------------------------------------------------
    def _job(self, rtype: ResourceType, job: Obj) -> None:
        api = self.ctx.api
        namespace, name = job["metadata"]["namespace"], job["metadata"]["name"]
        spec = job.get("spec") or {}
        status: dict[str, Any] = dict(job.get("status") or {})
        if status.get("jobDeploymentStatus") in ("Complete", "Failed"):
            return
        stamp = now()
        cluster_type = api.rtype(f"ray.io/{rtype.storage_version or 'v1'}", "RayCluster")
        if not status.get("rayClusterName"):
            status.update(
                {
                    "rayClusterName": f"{name}-{random_suffix()}",
                    "jobId": f"{name}-{random_suffix(8)}",
                    "jobDeploymentStatus": "Initializing",
                    "startTime": stamp,
                }
            )
        cluster_name = status["rayClusterName"]
        cluster = api.try_get(cluster_type, namespace, cluster_name)
        if cluster is None and spec.get("rayClusterSpec"):
            cluster = self.ctx.create_owned(
                cluster_type,
                job,
                {
                    "apiVersion": cluster_type.api_version,
                    "kind": "RayCluster",
                    "metadata": {
                        "name": cluster_name,
                        "labels": {
                            "ray.io/originated-from-crd": "RayJob",
                            "ray.io/originated-from-cr-name": name,
                        },
                    },
                    "spec": copy_obj(spec["rayClusterSpec"]),
                },
                "rayjob-controller",
            )
        if cluster is not None and cluster.get("status"):
            status["rayClusterStatus"] = cluster["status"]
            status["dashboardURL"] = f"{cluster_name}-head-svc.{namespace}.svc.cluster.local:8265"
        submitter = api.try_get(self.job_type, namespace, name)
        ready = cluster is not None and (cluster.get("status") or {}).get("state") == "ready"
        if submitter is None and ready:
            head_image = spec["rayClusterSpec"]["headGroupSpec"]["template"]["spec"]["containers"][0]["image"]
            submitter = self.ctx.create_owned(
                self.job_type,
                job,
                {
                    "apiVersion": "batch/v1",
                    "kind": "Job",
                    "metadata": {"name": name},
                    "spec": {
                        "backoffLimit": 2,
                        "template": {
                            "spec": {
                                "restartPolicy": "Never",
                                "containers": [
                                    {
                                        "name": "ray-job-submitter",
                                        "image": head_image,
                                        "command": [
                                            "ray",
                                            "job",
                                            "submit",
                                            "--address",
                                            f"http://{cluster_name}-head-svc.{namespace}.svc.cluster.local:8265",
                                            "--submission-id",
                                            status["jobId"],
                                            "--",
                                            "bash",
                                            "-c",
                                            spec.get("entrypoint", ""),
                                        ],
                                    }
                                ],
                            }
                        },
                    },
                },
                "rayjob-controller",
            )
            status["jobDeploymentStatus"] = "Running"
            status["jobStatus"] = "PENDING"
        if submitter is not None:
            submitter_pods = [
                p for p in self.ctx.owned(self.ctx.pod_type, submitter) if phase(p) == "Running"
            ]
            if has_condition(submitter, "Complete"):
                status.update(
                    {
                        "jobStatus": "SUCCEEDED",
                        "jobDeploymentStatus": "Complete",
                        "endTime": stamp,
                        "message": "Job finished successfully.",
                        "succeeded": 1,
                    }
                )
            elif has_condition(submitter, "Failed"):
                status.update(
                    {
                        "jobStatus": "FAILED",
                        "jobDeploymentStatus": "Failed",
                        "endTime": stamp,
                        "reason": "AppFailed",
                        "message": "the submitter Job failed",
                        "failed": 1,
                    }
                )
            elif submitter_pods:
                status["jobStatus"] = "RUNNING"
        status["observedGeneration"] = job["metadata"].get("generation", 1)
        self.ctx.update_status(rtype, job, status)
        if (
            status.get("jobDeploymentStatus") in ("Complete", "Failed")
            and spec.get("shutdownAfterJobFinishes")
            and cluster
        ):
            self.ctx.deleter.delete_quietly(cluster_type, cluster)
