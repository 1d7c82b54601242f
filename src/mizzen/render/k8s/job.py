"""job (and notifier/cleaner, which are jobs) -> batch/v1 Job."""

from __future__ import annotations

from typing import Any

from mizzen.errors import ExecutorError
from mizzen.render.k8s.containers import MAIN_CONTAINER
from mizzen.render.k8s.pod import RunRender, render_pod_template

JOB_RESTART_POLICIES = ("Never", "OnFailure")


def render_job(run: RunRender) -> list[dict[str, Any]]:
    plan = run.plan
    replica = plan.main
    termination = plan.termination
    policy = replica.pod.environment.restart_policy or "Never"
    if policy not in JOB_RESTART_POLICIES:
        raise ExecutorError(
            f"environment.restartPolicy '{policy}' is not allowed for a job: use Never or OnFailure"
        )
    if termination.pod_failure_policy and policy != "Never":
        raise ExecutorError(
            "termination.podFailurePolicy needs environment.restartPolicy Never "
            f"(it is '{policy}'): Kubernetes only applies a pod failure policy to pods that never restart"
        )
    spec: dict[str, Any] = {"backoffLimit": termination.max_retries or 0}
    if termination.timeout is not None:
        spec["activeDeadlineSeconds"] = termination.timeout
    if termination.ttl is not None:
        spec["ttlSecondsAfterFinished"] = termination.ttl
    if termination.pod_failure_policy:
        spec["podFailurePolicy"] = termination.pod_failure_policy
    spec["template"] = render_pod_template(run, replica, MAIN_CONTAINER, restart_policy=policy)
    return [
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": run.object_metadata(user=replica.pod.environment),
            "spec": spec,
        }
    ]
