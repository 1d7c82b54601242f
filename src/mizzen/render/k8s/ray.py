"""raycluster -> KubeRay ``ray.io/v1`` RayCluster, or a RayJob (cluster embedded) with an entrypoint."""

from __future__ import annotations

from typing import Any

import yaml

from mizzen.compiler.plan import ReplicaPlan, RunKind
from mizzen.errors import ExecutorError
from mizzen.render.k8s.containers import main_container_name
from mizzen.render.k8s.names import dns_label
from mizzen.render.k8s.pod import RunRender, render_pod_template

API_VERSION = "ray.io/v1"


def _template(run: RunRender, replica: ReplicaPlan) -> dict[str, Any]:
    name = main_container_name(RunKind.RAYCLUSTER, replica.role)
    policy = replica.pod.environment.restart_policy
    return render_pod_template(run, replica, name, restart_policy=policy)


def _start_params(replica: ReplicaPlan) -> dict[str, str]:
    return {key: str(value) for key, value in replica.ray_start_params.items()}


def _worker_group(run: RunRender, replica: ReplicaPlan, group_name: str) -> dict[str, Any]:
    minimum = replica.min_replicas if replica.min_replicas is not None else replica.replicas
    maximum = replica.max_replicas if replica.max_replicas is not None else max(replica.replicas, minimum)
    if minimum > maximum:
        raise ExecutorError(
            f"ray worker group '{group_name}': minReplicas ({minimum}) is above maxReplicas ({maximum})"
        )
    return {
        "groupName": group_name,
        "replicas": min(max(replica.replicas, minimum), maximum),
        "minReplicas": minimum,
        "maxReplicas": maximum,
        "rayStartParams": _start_params(replica),
        "template": _template(run, replica),
    }


def cluster_spec(run: RunRender) -> dict[str, Any]:
    plan = run.plan
    heads = [r for r in plan.replicas if r.role == "head"]
    workers = [r for r in plan.replicas if r.role != "head"]
    if len(heads) != 1:
        raise ExecutorError(f"a ray cluster needs exactly one head, this run has {len(heads)}")
    unknown = sorted({r.role for r in workers} - {"worker"})
    if unknown:
        raise ExecutorError(f"a ray cluster has roles head and worker, not {', '.join(unknown)}")
    head = heads[0]
    spec: dict[str, Any] = {}
    if plan.distributed and plan.distributed.ray_version:
        spec["rayVersion"] = plan.distributed.ray_version
    spec["headGroupSpec"] = {"rayStartParams": _start_params(head), "template": _template(run, head)}
    groups: list[dict[str, Any]] = []
    for index, replica in enumerate(workers):
        default = "worker" if len(workers) == 1 else f"worker-{index}"
        group_name = dns_label(replica.group or default)
        if any(g["groupName"] == group_name for g in groups):
            raise ExecutorError(f"two ray worker groups are named '{group_name}'")
        groups.append(_worker_group(run, replica, group_name))
    if groups:
        spec["workerGroupSpecs"] = groups
    return spec


def render_ray(run: RunRender) -> list[dict[str, Any]]:
    distributed = run.plan.distributed
    cluster = cluster_spec(run)
    if distributed is None or not distributed.entrypoint:
        return [
            {
                "apiVersion": API_VERSION,
                "kind": "RayCluster",
                "metadata": run.object_metadata(),
                "spec": cluster,
            }
        ]
    termination = run.plan.termination
    spec: dict[str, Any] = {"entrypoint": distributed.entrypoint}
    if distributed.runtime_env:
        spec["runtimeEnvYAML"] = yaml.safe_dump(distributed.runtime_env, sort_keys=True)
    if distributed.metadata:
        spec["metadata"] = {str(k): str(v) for k, v in distributed.metadata.items()}
    spec["shutdownAfterJobFinishes"] = True
    if termination.ttl is not None:
        spec["ttlSecondsAfterFinished"] = termination.ttl
    if termination.timeout is not None:
        spec["activeDeadlineSeconds"] = termination.timeout
    if termination.max_retries:
        spec["backoffLimit"] = termination.max_retries
    spec["rayClusterSpec"] = cluster
    return [{"apiVersion": API_VERSION, "kind": "RayJob", "metadata": run.object_metadata(), "spec": spec}]
