"""daskcluster -> ``kubernetes.dask.org/v1`` DaskCluster, or a DaskJob when the run has a job role.

The Dask CRDs embed an older PodSpec that cannot express native sidecars, so Mizzen's sidecar is a
plain container there.
"""

from __future__ import annotations

from typing import Any

from mizzen.compiler.plan import ReplicaPlan, RunKind
from mizzen.errors import ExecutorError
from mizzen.render.k8s.containers import main_container_name
from mizzen.render.k8s.pod import RunRender, pod_template_metadata, render_pod_spec

API_VERSION = "kubernetes.dask.org/v1"
SCHEDULER_PORTS = {8786: "tcp-comm", 8787: "http-dashboard"}
ROLES = ("scheduler", "worker", "job")


def _pod(run: RunRender, replica: ReplicaPlan, restart_policy: str | None) -> dict[str, Any]:
    name = main_container_name(RunKind.DASKCLUSTER, replica.role)
    return render_pod_spec(run, replica, name, restart_policy=restart_policy, native_sidecars=False)


def _name_scheduler_ports(container: dict[str, Any]) -> dict[int, str]:
    """Declare the scheduler's ports, named; the CRD types a service targetPort as a port name."""
    ports = container.setdefault("ports", [])
    names: dict[int, str] = {}
    for number, default in SCHEDULER_PORTS.items():
        entry = next((p for p in ports if p["containerPort"] == number), None)
        if entry is None:
            entry = {"containerPort": number, "protocol": "TCP"}
            ports.append(entry)
        if "name" not in entry:
            if any(p.get("name") == default for p in ports):
                raise ExecutorError(f"the dask scheduler names another port '{default}'")
            entry["name"] = default
        names[number] = entry["name"]
    return names


def _cluster_spec(
    run: RunRender, scheduler: ReplicaPlan, worker: ReplicaPlan, cluster_name: str
) -> dict[str, Any]:
    scheduler_pod = _pod(run, scheduler, scheduler.pod.environment.restart_policy)
    target_ports = _name_scheduler_ports(scheduler_pod["containers"][0])
    service = {
        "type": "ClusterIP",
        "selector": {"dask.org/cluster-name": cluster_name, "dask.org/component": "scheduler"},
        "ports": [
            {"name": name, "protocol": "TCP", "port": number, "targetPort": target_ports[number]}
            for number, name in SCHEDULER_PORTS.items()
        ],
    }
    return {
        "worker": {
            "replicas": worker.replicas,
            "metadata": pod_template_metadata(run, worker),
            "spec": _pod(run, worker, worker.pod.environment.restart_policy),
        },
        "scheduler": {
            "metadata": pod_template_metadata(run, scheduler),
            "spec": scheduler_pod,
            "service": service,
        },
    }


def render_dask(run: RunRender) -> list[dict[str, Any]]:
    roles: dict[str, ReplicaPlan] = {}
    for replica in run.plan.replicas:
        if replica.role not in ROLES:
            raise ExecutorError(f"a dask cluster has roles {', '.join(ROLES)}, not '{replica.role}'")
        if replica.role in roles:
            raise ExecutorError(f"a dask cluster declares role '{replica.role}' twice")
        roles[replica.role] = replica
    missing = [role for role in ("scheduler", "worker") if role not in roles]
    if missing:
        raise ExecutorError(f"a dask cluster needs a {' and a '.join(missing)}")
    # A DaskJob's cluster carries the job's name: the scheduler service selects on it.
    cluster = _cluster_spec(run, roles["scheduler"], roles["worker"], run.name)
    job = roles.get("job")
    if job is None:
        return [
            {
                "apiVersion": API_VERSION,
                "kind": "DaskCluster",
                "metadata": run.object_metadata(),
                "spec": cluster,
            }
        ]
    policy = job.pod.environment.restart_policy or (
        "OnFailure" if run.plan.termination.max_retries else "Never"
    )
    spec = {
        "job": {"metadata": pod_template_metadata(run, job), "spec": _pod(run, job, policy)},
        "cluster": {"spec": cluster},
    }
    return [{"apiVersion": API_VERSION, "kind": "DaskJob", "metadata": run.object_metadata(), "spec": spec}]
