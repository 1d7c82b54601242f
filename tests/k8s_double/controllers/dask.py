"""dask-kubernetes operator: DaskCluster -> scheduler Deployment + Service and worker Deployments;
DaskJob -> a DaskCluster and the runner pod whose phase decides the jobStatus.

The real operator puts workers under a DaskWorkerGroup (<cluster>-default); that CRD is not vendored,
so here the worker Deployments are owned by the DaskCluster directly (same names and labels)."""

from __future__ import annotations

import secrets
from typing import Any

from ..api import copy_obj, now
from ..resources import ResourceType
from ..store import Obj
from .base import ControllerContext, has_condition, phase

COMPONENT = "dask-kubernetes-operator"


class DaskController:
    group = "kubernetes.dask.org"
    kinds: tuple[str, ...] = ("DaskCluster", "DaskJob")

    def __init__(self, ctx: ControllerContext) -> None:
        self.ctx = ctx
        self.deploy_type = ctx.api.rtype("apps/v1", "Deployment")
        self.svc_type = ctx.api.rtype("v1", "Service")

    def reconcile(self, rtype: ResourceType, namespace: str, name: str) -> None:
        obj = self.ctx.api.try_get(rtype, namespace, name)
        if obj is None or obj["metadata"].get("deletionTimestamp"):
            return
        if rtype.kind == "DaskCluster":
            self._cluster(rtype, obj)
        else:
            self._job(rtype, obj)

    def _deployment(self, name: str, labels: dict[str, str], pod_spec: Obj, replicas: int) -> Obj:
        return {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name, "labels": labels},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": labels},
                "template": {"metadata": {"labels": labels}, "spec": copy_obj(pod_spec)},
            },
        }

    def _cluster(self, rtype: ResourceType, cluster: Obj) -> None:
        api, namespace, name = self.ctx.api, cluster["metadata"]["namespace"], cluster["metadata"]["name"]
        spec = cluster.get("spec") or {}
        base = {"dask.org/cluster-name": name}
        scheduler_labels = {**base, "dask.org/component": "scheduler"}
        scheduler = api.try_get(self.deploy_type, namespace, f"{name}-scheduler")
        if scheduler is None:
            scheduler = self.ctx.create_owned(
                self.deploy_type,
                cluster,
                self._deployment(f"{name}-scheduler", scheduler_labels, spec["scheduler"]["spec"], 1),
                COMPONENT,
            )
        if api.try_get(self.svc_type, namespace, f"{name}-scheduler") is None:
            service_spec = copy_obj((spec.get("scheduler") or {}).get("service") or {})
            service_spec["selector"] = scheduler_labels
            self.ctx.create_owned(
                self.svc_type,
                cluster,
                {
                    "apiVersion": "v1",
                    "kind": "Service",
                    "metadata": {"name": f"{name}-scheduler", "labels": scheduler_labels},
                    "spec": service_spec,
                },
                COMPONENT,
            )
        group = f"{name}-default"
        worker_labels = {**base, "dask.org/component": "worker", "dask.org/workergroup-name": group}
        workers = [
            d
            for d in self.ctx.owned(self.deploy_type, cluster)
            if d["metadata"]["labels"].get("dask.org/component") == "worker"
        ]
        wanted = int((spec.get("worker") or {}).get("replicas", 1))
        for _ in range(wanted - len(workers)):
            worker_name = f"{group}-worker-{secrets.token_hex(5)}"
            labels = {**worker_labels, "dask.org/worker-name": worker_name}
            self.ctx.create_owned(
                self.deploy_type,
                cluster,
                self._deployment(worker_name, labels, spec["worker"]["spec"], 1),
                COMPONENT,
            )
        for extra in workers[wanted:] if wanted < len(workers) else []:
            self.ctx.deleter.delete_quietly(self.deploy_type, extra)
        running = scheduler is not None and has_condition(scheduler, "Available")
        status = {**(cluster.get("status") or {}), "phase": "Running" if running else "Created"}
        self.ctx.update_status(rtype, cluster, status)

    def _job(self, rtype: ResourceType, job: Obj) -> None:
        api, namespace, name = self.ctx.api, job["metadata"]["namespace"], job["metadata"]["name"]
        spec = job.get("spec") or {}
        status: dict[str, Any] = dict(job.get("status") or {"jobStatus": "JobCreated"})
        if status.get("jobStatus") in ("Successful", "Failed"):
            return
        cluster_type = api.rtype("kubernetes.dask.org/v1", "DaskCluster")
        cluster = api.try_get(cluster_type, namespace, name)
        if cluster is None:
            cluster = self.ctx.create_owned(
                cluster_type,
                job,
                {
                    "apiVersion": "kubernetes.dask.org/v1",
                    "kind": "DaskCluster",
                    "metadata": {"name": name, "labels": {"dask.org/cluster-name": name}},
                    "spec": copy_obj((spec.get("cluster") or {}).get("spec") or {}),
                },
                COMPONENT,
            )
            status.update({"clusterName": name, "jobStatus": "ClusterCreated"})
        runner_name = f"{name}-runner"
        runner = api.try_get(self.ctx.pod_type, namespace, runner_name)
        if runner is None and cluster is not None and (cluster.get("status") or {}).get("phase") == "Running":
            pod = {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "name": runner_name,
                    "labels": {"dask.org/cluster-name": name, "dask.org/component": "job-runner"},
                },
                "spec": copy_obj(spec["job"]["spec"]),
            }
            for container in pod["spec"]["containers"]:
                container.setdefault("env", []).append(
                    {
                        "name": "DASK_SCHEDULER_ADDRESS",
                        "value": f"tcp://{name}-scheduler.{namespace}.svc.cluster.local:8786",
                    }
                )
            runner = self.ctx.create_owned(self.ctx.pod_type, job, pod, COMPONENT)
        if runner is not None:
            status["jobRunnerPodName"] = runner_name
            runner_phase = phase(runner)
            if runner_phase == "Running":
                status["jobStatus"] = "Running"
                status.setdefault("startTime", now())
            elif runner_phase in ("Succeeded", "Failed"):
                status["jobStatus"] = "Successful" if runner_phase == "Succeeded" else "Failed"
                status["endTime"] = now()
                status.setdefault("startTime", status["endTime"])
        self.ctx.update_status(rtype, job, status)
        if status["jobStatus"] in ("Successful", "Failed") and cluster is not None:
            self.ctx.deleter.delete_quietly(cluster_type, cluster)
