"""Cluster state -> a Mizzen status with a reason, per kind of top-level object. Pure functions.

A run's state is its top-level object (Job, Deployment, PyTorchJob, ...) as its controller reports it,
plus its pods for the "why": a pending run is unschedulable or pulling an image, a failed run failed
with an exit code, was OOMKilled, evicted or lost with its node.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mizzen.executors.kubernetes import pods as pod_state
from mizzen.executors.kubernetes.pods import DisplayName, Pod, PodFailure, PodProblem
from mizzen.schemas.statuses import DONE_STATUSES, RunStatus

S = RunStatus


@dataclass(frozen=True)
class Verdict:
    status: RunStatus
    reason: str | None = None
    message: str | None = None
    problem: PodProblem | None = None

    @property
    def final(self) -> bool:
        return self.status in DONE_STATUSES


@dataclass
class Snapshot:
    """What the executor knows of one run right now."""

    primary: dict[str, Any] | None  # the top-level object, None when it is gone
    pods: list[Pod]
    display: DisplayName
    last_failure: tuple[str | None, PodFailure] | None = None  # (replica, why) of the newest failed pod


def _true_conditions(obj: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        c.get("type", ""): c
        for c in (obj.get("status") or {}).get("conditions") or []
        if str(c.get("status")) == "True"
    }


def _failed(snapshot: Snapshot, fallback_reason: str, fallback_message: str) -> Verdict:
    """FAILED with the newest pod failure as the reason (the object's own message as the fallback)."""
    if snapshot.last_failure is not None:
        replica, why = snapshot.last_failure
        message = f"{replica}: {why.message}" if replica else why.message
        if fallback_message and fallback_message not in message:
            message = f"{message} ({fallback_message})"
        return Verdict(S.FAILED, why.reason, message)
    return Verdict(S.FAILED, fallback_reason, fallback_message or fallback_reason)


def _deadline(seconds: Any, message: str) -> Verdict:
    return Verdict(
        S.FAILED, f"deadline exceeded: timeout after {seconds}s", message or "the run ran past its timeout"
    )


def _ended(
    snapshot: Snapshot,
    done: dict[str, dict[str, Any]],
    succeeded: str,
    past_deadline: Callable[[str, str], bool],
    deadline_seconds: Any,
) -> Verdict | None:
    """The end a controller reports with a ``succeeded`` or ``Failed`` condition (None: not ended).
    ``past_deadline(reason, message)`` tells a failure by timeout from the others."""
    if succeeded in done:
        return Verdict(S.SUCCEEDED)
    failed = done.get("Failed")
    if failed is None:
        return None
    reason, message = failed.get("reason"), str(failed.get("message") or "")
    if past_deadline(str(reason), message):
        return _deadline(deadline_seconds, message)
    return _failed(snapshot, str(reason or "failed"), message)


def _active(snapshot: Snapshot, *, ready: bool | None = None) -> Verdict:
    """A run that is not done: its pods' problem if any, else how far its pods got.

    ``ready``: what the controller says (False caps the run at STARTING even when pods run).
    """
    found = pod_state.worst_problem(snapshot.pods, snapshot.display)
    if found is not None:
        status = S.WARNING if ready and found.status == S.UNSCHEDULABLE else found.status
        return Verdict(status, found.reason, found.message, found)
    if ready:
        return Verdict(S.RUNNING)
    progress = pod_state.progress(snapshot.pods)
    if ready is False and progress == S.RUNNING:
        return Verdict(S.STARTING)
    return Verdict(progress)


def job_verdict(snapshot: Snapshot) -> Verdict:
    job = snapshot.primary or {}
    deadline = (job.get("spec") or {}).get("activeDeadlineSeconds")
    ended = _ended(
        snapshot,
        _true_conditions(job),
        "Complete",
        lambda reason, _message: reason == "DeadlineExceeded",
        deadline,
    )
    return ended if ended is not None else _active(snapshot)


def deployment_verdict(snapshot: Snapshot) -> Verdict:
    deployment = snapshot.primary or {}
    status = deployment.get("status") or {}
    conditions = {c.get("type"): c for c in status.get("conditions") or []}
    progressing = conditions.get("Progressing") or {}
    if progressing.get("status") == "False" and progressing.get("reason") == "ProgressDeadlineExceeded":
        message = str(progressing.get("message") or "the service did not become available in time")
        return Verdict(S.WARNING, "progress deadline exceeded", message)
    available = str((conditions.get("Available") or {}).get("status")) == "True"
    verdict = _active(snapshot, ready=available)
    if verdict.status == S.RUNNING:
        wanted = (deployment.get("spec") or {}).get("replicas", 1)
        ready = status.get("readyReplicas", 0)
        return Verdict(S.RUNNING, None, f"service available: {ready}/{wanted} replicas ready")
    return verdict


def kubeflow_verdict(snapshot: Snapshot) -> Verdict:
    job = snapshot.primary or {}
    done = _true_conditions(job)
    deadline = ((job.get("spec") or {}).get("runPolicy") or {}).get("activeDeadlineSeconds")
    ended = _ended(
        snapshot,
        done,
        "Succeeded",
        lambda reason, message: "deadline" in message.lower() or "Deadline" in reason,
        deadline,
    )
    if ended is not None:
        return ended
    restarting = done.get("Restarting")
    if restarting is not None and "Running" not in done:
        return Verdict(
            S.RETRYING, "restarting", str(restarting.get("message") or "restarting failed replicas")
        )
    return _active(snapshot, ready=True if "Running" in done else None)


def ray_cluster_verdict(snapshot: Snapshot) -> Verdict:
    status = (snapshot.primary or {}).get("status") or {}
    state = str(status.get("state") or "").lower()
    if state == "failed":
        reason = str(status.get("reason") or "")
        return _failed(snapshot, f"ray cluster failed: {reason}".rstrip(": "), reason)
    return _active(snapshot, ready=state == "ready")


def ray_job_verdict(snapshot: Snapshot) -> Verdict:
    status = (snapshot.primary or {}).get("status") or {}
    job_status = str(status.get("jobStatus") or "").upper()
    deployment = str(status.get("jobDeploymentStatus") or "")
    message = str(status.get("message") or "")
    if job_status == "SUCCEEDED":
        return Verdict(S.SUCCEEDED)
    if job_status == "FAILED" or deployment == "Failed":
        if "deadline" in message.lower():
            return _deadline(
                ((snapshot.primary or {}).get("spec") or {}).get("activeDeadlineSeconds"), message
            )
        return _failed(snapshot, "ray job failed", message)
    if job_status == "STOPPED":
        return Verdict(S.FAILED, "ray job stopped", message or "the ray job was stopped outside Mizzen")
    return _active(snapshot, ready=True if job_status == "RUNNING" else None)


def dask_cluster_verdict(snapshot: Snapshot) -> Verdict:
    phase = str(((snapshot.primary or {}).get("status") or {}).get("phase") or "")
    if phase == "Failed":
        return _failed(snapshot, "dask cluster failed", "")
    return _active(snapshot, ready=phase == "Running")


def dask_job_verdict(snapshot: Snapshot) -> Verdict:
    job_status = str(((snapshot.primary or {}).get("status") or {}).get("jobStatus") or "")
    if job_status == "Successful":
        return Verdict(S.SUCCEEDED)
    if job_status == "Failed":
        return _failed(snapshot, "dask job failed", "")
    return _active(snapshot, ready=True if job_status == "Running" else None)


VERDICTS: dict[str, Callable[[Snapshot], Verdict]] = {
    "Job": job_verdict,
    "Deployment": deployment_verdict,
    "TFJob": kubeflow_verdict,
    "PyTorchJob": kubeflow_verdict,
    "MPIJob": kubeflow_verdict,
    "RayCluster": ray_cluster_verdict,
    "RayJob": ray_job_verdict,
    "DaskCluster": dask_cluster_verdict,
    "DaskJob": dask_job_verdict,
}


def verdict(kind: str, snapshot: Snapshot) -> Verdict:
    return VERDICTS[kind](snapshot)
