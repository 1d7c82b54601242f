"""Kubeflow training-operator (v1) jobs: pods <job>-<replica type>-<index>, a headless service each,
and the Created/Running/Restarting/Succeeded/Failed conditions the operator writes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..api import now
from ..resources import ResourceType
from ..store import Obj
from .base import ControllerContext, phase, set_condition


@dataclass(frozen=True)
class Framework:
    kind: str
    specs_field: str
    container: str
    port_name: str
    port: int
    services: bool = True


FRAMEWORKS = {
    f.kind: f
    for f in (
        Framework("PyTorchJob", "pytorchReplicaSpecs", "pytorch", "pytorchjob-port", 23456),
        Framework("TFJob", "tfReplicaSpecs", "tensorflow", "tfjob-port", 2222),
        Framework("MPIJob", "mpiReplicaSpecs", "mpi", "mpijob-port", 9999, services=False),
        Framework("XGBoostJob", "xgbReplicaSpecs", "xgboost", "xgboostjob-port", 9999),
        Framework("PaddleJob", "paddleReplicaSpecs", "paddle", "master", 36543),
    )
}
# replica types whose success is the job's success, in order of precedence
_LEADERS = ("Master", "Chief", "Launcher")


def _condition(kind: str, reason: str, message: str, stamp: str, status: str = "True") -> Obj:
    return {
        "type": kind,
        "status": status,
        "reason": reason,
        "message": message,
        "lastUpdateTime": stamp,
        "lastTransitionTime": stamp,
    }


class KubeflowController:
    group = "kubeflow.org"
    kinds = tuple(FRAMEWORKS)

    def __init__(self, ctx: ControllerContext) -> None:
        self.ctx = ctx
        self.svc_type = ctx.api.rtype("v1", "Service")

    def reconcile(self, rtype: ResourceType, namespace: str, name: str) -> None:
        job = self.ctx.api.try_get(rtype, namespace, name)
        if job is None or job["metadata"].get("deletionTimestamp") or rtype.version != "v1":
            return
        fw = FRAMEWORKS[rtype.kind]
        specs: dict[str, Obj] = (job.get("spec") or {}).get(fw.specs_field) or {}
        stamp = now()
        status: dict[str, Any] = json.loads(json.dumps(job.get("status") or {}))
        conditions = list(status.get("conditions") or [])
        if not any(c["type"] == "Created" for c in conditions):
            conditions.append(
                _condition("Created", f"{fw.kind}Created", f"{fw.kind} {name} is created.", stamp)
            )
        finished = any(c["type"] in ("Succeeded", "Failed") and c["status"] == "True" for c in conditions)
        pods = self.ctx.owned(self.ctx.pod_type, job)
        by_name = {p["metadata"]["name"]: p for p in pods}
        if not finished:
            status.setdefault("startTime", stamp)
            self._create_missing(job, fw, specs, by_name)
            pods = self.ctx.owned(self.ctx.pod_type, job)
        replica_statuses: dict[str, Any] = {}
        counts: dict[str, dict[str, int]] = {}
        for rtype_name in specs:
            members = [
                p
                for p in pods
                if p["metadata"]["labels"].get("training.kubeflow.org/replica-type") == rtype_name.lower()
            ]
            count = {
                "active": sum(1 for p in members if phase(p) in ("Pending", "Running")),
                "succeeded": sum(1 for p in members if phase(p) == "Succeeded"),
                "failed": sum(1 for p in members if phase(p) == "Failed"),
            }
            counts[rtype_name] = count
            entry: dict[str, Any] = {k: v for k, v in count.items() if v}
            entry["labelSelector"] = {"matchLabels": self._labels(fw, name, rtype_name)}
            replica_statuses[rtype_name] = entry
        status["replicaStatuses"] = replica_statuses
        if not finished:
            conditions = self._conditions(job, fw, specs, counts, conditions, stamp, status)
        status["conditions"] = conditions
        status["lastReconcileTime"] = status.get("lastReconcileTime", stamp)
        if (
            any(c["type"] in ("Succeeded", "Failed") and c["status"] == "True" for c in conditions)
            and not finished
        ):
            status["completionTime"] = stamp
            self._clean_pods(job, pods)
        self.ctx.update_status(rtype, job, status)

    def _labels(self, fw: Framework, name: str, replica_type: str) -> dict[str, str]:
        return {
            "training.kubeflow.org/job-name": name,
            "training.kubeflow.org/operator-name": f"{fw.kind.lower()}-controller",
            "training.kubeflow.org/replica-type": replica_type.lower(),
        }

    def _create_missing(
        self, job: Obj, fw: Framework, specs: dict[str, Obj], existing: dict[str, Obj]
    ) -> None:
        name = job["metadata"]["name"]
        world = sum(int(s.get("replicas", 1)) for s in specs.values())
        rank_offset = 0
        for replica_type, spec in sorted(specs.items(), key=lambda item: item[0] not in _LEADERS):
            replicas = int(spec.get("replicas", 1))
            for index in range(replicas):
                pod_name = f"{name}-{replica_type.lower()}-{index}"
                if pod_name in existing:
                    continue
                labels = {
                    **self._labels(fw, name, replica_type),
                    "training.kubeflow.org/replica-index": str(index),
                }
                if replica_type in _LEADERS or (
                    replica_type == "Worker" and "Master" not in specs and index == 0 and fw.kind != "TFJob"
                ):
                    labels["training.kubeflow.org/job-role"] = "master"
                pod = self.ctx.pod_from_template(spec.get("template") or {}, labels=labels)
                pod["metadata"]["name"] = pod_name
                policy = spec.get("restartPolicy", "Never")
                pod["spec"]["restartPolicy"] = "Never" if policy == "ExitCode" else policy
                if fw.kind == "PyTorchJob":
                    self._pytorch_env(pod, fw, name, world, rank_offset + index)
                self.ctx.create_owned(self.ctx.pod_type, job, pod, f"{fw.kind.lower()}-controller")
                if fw.services:
                    self._create_service(job, fw, pod_name, labels)
            rank_offset += replicas

    def _pytorch_env(self, pod: Obj, fw: Framework, name: str, world: int, rank: int) -> None:
        for container in pod["spec"]["containers"]:
            if container["name"] != fw.container:
                continue
            env = [
                e
                for e in container.get("env") or []
                if e["name"] not in ("MASTER_ADDR", "MASTER_PORT", "WORLD_SIZE", "RANK")
            ]
            env += [
                {"name": "MASTER_PORT", "value": str(fw.port)},
                {"name": "MASTER_ADDR", "value": f"{name}-master-0"},
                {"name": "WORLD_SIZE", "value": str(world)},
                {"name": "RANK", "value": str(rank)},
                {"name": "PYTHONUNBUFFERED", "value": "1"},
            ]
            container["env"] = env

    def _create_service(self, job: Obj, fw: Framework, pod_name: str, labels: dict[str, str]) -> None:
        service = {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": pod_name, "labels": labels},
            "spec": {
                "clusterIP": "None",
                "selector": labels,
                "ports": [{"name": fw.port_name, "port": fw.port}],
            },
        }
        self.ctx.create_owned(self.svc_type, job, service, f"{fw.kind.lower()}-controller")

    def _conditions(
        self,
        job: Obj,
        fw: Framework,
        specs: dict[str, Obj],
        counts: dict[str, dict[str, int]],
        conditions: list[Obj],
        stamp: str,
        status: Obj,
    ) -> list[Obj]:
        name, namespace = job["metadata"]["name"], job["metadata"]["namespace"]
        for replica_type, count in counts.items():
            if count["failed"]:
                message = (
                    f"{fw.kind} {namespace}/{name} has failed because {count['failed']} {replica_type} "
                    "replica(s) failed."
                )
                self.ctx.events.record(
                    job, "Normal", f"{fw.kind}Failed", message, f"{fw.kind.lower()}-controller"
                )
                return self._final(conditions, _condition("Failed", f"{fw.kind}Failed", message, stamp))
        leader = next((t for t in _LEADERS if t in specs), None)
        if leader is not None:
            done = counts[leader]["succeeded"] >= int(specs[leader].get("replicas", 1))
        elif fw.kind == "TFJob":
            done = any(
                p
                for p in self.ctx.owned(self.ctx.pod_type, job)
                if p["metadata"]["labels"].get("training.kubeflow.org/replica-type") == "worker"
                and p["metadata"]["labels"].get("training.kubeflow.org/replica-index") == "0"
                and phase(p) == "Succeeded"
            )
        else:
            done = all(counts[t]["succeeded"] >= int(s.get("replicas", 1)) for t, s in specs.items())
        if done:
            message = f"{fw.kind} {namespace}/{name} successfully completed."
            self.ctx.events.record(
                job, "Normal", f"{fw.kind}Succeeded", message, f"{fw.kind.lower()}-controller"
            )
            return self._final(conditions, _condition("Succeeded", f"{fw.kind}Succeeded", message, stamp))
        running = any(p for p in self.ctx.owned(self.ctx.pod_type, job) if phase(p) == "Running")
        if running:
            return set_condition(
                conditions,
                _condition(
                    "Running", f"{fw.kind}Running", f"{fw.kind} {namespace}/{name} is running.", stamp
                ),
            )
        return conditions

    def _final(self, conditions: list[Obj], final: Obj) -> list[Obj]:
        updated = [
            {**c, "status": "False"} if c["type"] == "Running" and c["status"] == "True" else c
            for c in conditions
        ]
        return set_condition(updated, final)

    def _clean_pods(self, job: Obj, pods: list[Obj]) -> None:
        policy = ((job.get("spec") or {}).get("runPolicy") or {}).get("cleanPodPolicy", "None")
        for pod in pods:
            if policy == "All" or (policy == "Running" and phase(pod) in ("Pending", "Running")):
                self.ctx.deleter.delete_quietly(self.ctx.pod_type, pod)
