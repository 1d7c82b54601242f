"""tfjob / pytorchjob / mpijob -> Kubeflow training-operator ``kubeflow.org/v1`` custom resources."""

from __future__ import annotations

import re
from typing import Any

from mizzen.compiler.plan import ReplicaPlan, RunKind
from mizzen.errors import ExecutorError
from mizzen.render.k8s.containers import main_container_name
from mizzen.render.k8s.pod import RunRender, render_pod_template

API_VERSION = "kubeflow.org/v1"

# kind -> (resource kind, replica specs field, role -> replica type)
_KINDS: dict[RunKind, tuple[str, str, dict[str, str]]] = {
    RunKind.TFJOB: (
        "TFJob",
        "tfReplicaSpecs",
        {"chief": "Chief", "master": "Master", "ps": "PS", "worker": "Worker", "evaluator": "Evaluator"},
    ),
    RunKind.PYTORCHJOB: ("PyTorchJob", "pytorchReplicaSpecs", {"master": "Master", "worker": "Worker"}),
    RunKind.MPIJOB: ("MPIJob", "mpiReplicaSpecs", {"launcher": "Launcher", "worker": "Worker"}),
}
REPLICA_RESTART_POLICIES = ("Always", "OnFailure", "Never", "ExitCode")
MPI_IMPLEMENTATION = "mizzen.dev/mpi-implementation"


def camel_keys(value: Any) -> Any:
    """snake_case keys -> camelCase, recursively (options written either way in a polyaxonfile)."""
    if isinstance(value, dict):
        return {
            re.sub(r"_([a-z0-9])", lambda m: m.group(1).upper(), k): camel_keys(v) for k, v in value.items()
        }
    if isinstance(value, list):
        return [camel_keys(v) for v in value]
    return value


def _replica_spec(run: RunRender, replica: ReplicaPlan, kind: RunKind) -> dict[str, Any]:
    policy = replica.pod.environment.restart_policy
    if policy is None:
        policy = "OnFailure" if run.plan.termination.max_retries else "Never"
    if policy not in REPLICA_RESTART_POLICIES:
        raise ExecutorError(
            f"role '{replica.role}': restartPolicy '{policy}' is not one of "
            f"{', '.join(REPLICA_RESTART_POLICIES)}"
        )
    # The operator sets the pods' restartPolicy from the replica spec's.
    template = render_pod_template(run, replica, main_container_name(kind, replica.role), restart_policy=None)
    return {"replicas": replica.replicas, "restartPolicy": policy, "template": template}


def _run_policy(run: RunRender) -> dict[str, Any]:
    termination = run.plan.termination
    distributed = run.plan.distributed
    policy: dict[str, Any] = {"backoffLimit": termination.max_retries or 0}
    if termination.timeout is not None:
        policy["activeDeadlineSeconds"] = termination.timeout
    if termination.ttl is not None:
        policy["ttlSecondsAfterFinished"] = termination.ttl
    if distributed and distributed.clean_pod_policy:
        policy["cleanPodPolicy"] = distributed.clean_pod_policy
    if distributed and distributed.scheduling_policy:
        policy["schedulingPolicy"] = camel_keys(distributed.scheduling_policy)
    return policy


def render_kubeflow(run: RunRender) -> list[dict[str, Any]]:
    plan = run.plan
    resource_kind, specs_field, replica_types = _KINDS[plan.kind]
    replica_specs: dict[str, Any] = {}
    for replica in plan.replicas:
        replica_type = replica_types.get(replica.role)
        if replica_type is None:
            raise ExecutorError(
                f"a {plan.kind.value} has no role '{replica.role}': use {', '.join(replica_types)}"
            )
        if replica_type in replica_specs:
            raise ExecutorError(f"a {plan.kind.value} declares role '{replica.role}' twice")
        replica_specs[replica_type] = _replica_spec(run, replica, plan.kind)
    if not replica_specs:
        raise ExecutorError(f"a {plan.kind.value} needs at least one role ({', '.join(replica_types)})")
    spec: dict[str, Any] = {specs_field: replica_specs, "runPolicy": _run_policy(run)}
    distributed = plan.distributed
    meta = run.object_metadata()
    if distributed is not None:
        if plan.kind == RunKind.PYTORCHJOB:
            if distributed.elastic_policy:
                spec["elasticPolicy"] = camel_keys(distributed.elastic_policy)
            if distributed.n_proc_per_node is not None:
                spec["nprocPerNode"] = str(distributed.n_proc_per_node)
        elif plan.kind == RunKind.MPIJOB:
            if distributed.slots_per_worker is not None:
                spec["slotsPerWorker"] = distributed.slots_per_worker
            if distributed.implementation:
                meta["annotations"][MPI_IMPLEMENTATION] = distributed.implementation
        elif plan.kind == RunKind.TFJOB and distributed.success_policy is not None:
            spec["successPolicy"] = distributed.success_policy
    return [{"apiVersion": API_VERSION, "kind": resource_kind, "metadata": meta, "spec": spec}]
