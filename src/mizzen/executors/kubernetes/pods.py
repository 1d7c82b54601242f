"""What a pod says about a run: where it is in its life and, when something is wrong, why.

Pure functions over the pod's JSON. Reasons are short and human ("exit code 3", "unschedulable: 0/5
nodes are available: 5 Insufficient nvidia.com/gpu."); messages say more.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mizzen.schemas.statuses import RunStatus

Pod = dict[str, Any]
# k8s container name -> the name a user knows (the Plan's "main" for "mizzen-main")
DisplayName = Callable[[str], str]

IMAGE_PULL_WAITING = frozenset({"ImagePullBackOff", "ErrImagePull", "InvalidImageName", "ErrImageNeverPull"})
# Waiting reasons that no retry fixes: fail at once.
IMAGE_PULL_FATAL = frozenset({"InvalidImageName", "ErrImageNeverPull"})
CONFIG_WAITING = frozenset({"CreateContainerConfigError", "CreateContainerError", "RunContainerError"})


@dataclass(frozen=True)
class PodProblem:
    """Something that keeps an active pod from running well."""

    status: RunStatus  # UNSCHEDULABLE or WARNING
    reason: str
    message: str
    kind: str  # unschedulable | image-pull | crash-loop | config | node-lost
    fatal: bool = False  # retrying cannot help (an invalid image name)


def phase(pod: Pod) -> str:
    return str((pod.get("status") or {}).get("phase") or "Pending")


def is_finished(pod: Pod) -> bool:
    return phase(pod) in ("Succeeded", "Failed")


def conditions(pod: Pod) -> dict[str, dict[str, Any]]:
    return {c.get("type", ""): c for c in (pod.get("status") or {}).get("conditions") or []}


def container_statuses(pod: Pod, *, init: bool = False) -> list[dict[str, Any]]:
    status = pod.get("status") or {}
    return list(status.get("initContainerStatuses" if init else "containerStatuses") or [])


def _has_started(entry: dict[str, Any]) -> bool:
    """A container status says the container runs, ran, or restarted."""
    state = entry.get("state") or {}
    return "running" in state or "terminated" in state or bool(entry.get("restartCount"))


def started_containers(pod: Pod) -> list[tuple[str, int]]:
    """(container, restartCount) of every container, init ones first, that has started at least once."""
    return [
        (str(entry["name"]), int(entry.get("restartCount") or 0))
        for entry in container_statuses(pod, init=True) + container_statuses(pod)
        if _has_started(entry)
    ]


def has_run(pod: Pod) -> bool:
    """A main container ran (or runs): the user's code started."""
    return any(_has_started(entry) for entry in container_statuses(pod))


def _first_sentence(message: str) -> str:
    """Kube-scheduler messages append the preemption verdict: keep what a user needs."""
    head = message.split(" preemption:", 1)[0].strip()
    return head


def node_lost(pod: Pod) -> str | None:
    """The message when the pod's node stopped answering (NodeLost / taint manager eviction)."""
    found = conditions(pod)
    ready = found.get("Ready") or {}
    if ready.get("reason") == "NodeLost":
        return str(ready.get("message") or "the node stopped answering")
    disruption = found.get("DisruptionTarget") or {}
    if disruption.get("status") == "True" and disruption.get("reason") == "DeletionByTaintManager":
        return str(disruption.get("message") or "the node stopped answering")
    if (pod.get("status") or {}).get("reason") == "NodeLost":
        return str((pod.get("status") or {}).get("message") or "the node stopped answering")
    return None


def problem(pod: Pod, display: DisplayName) -> PodProblem | None:
    """Why an active pod is stuck or unwell, if it is."""
    if is_finished(pod):
        return None
    scheduled = conditions(pod).get("PodScheduled") or {}
    if scheduled.get("status") == "False" and scheduled.get("reason") == "Unschedulable":
        message = str(scheduled.get("message") or "no node fits the pod")
        return PodProblem(
            RunStatus.UNSCHEDULABLE, f"unschedulable: {_first_sentence(message)}", message, "unschedulable"
        )
    lost = node_lost(pod)
    if lost is not None:
        return PodProblem(RunStatus.WARNING, "node lost", lost, "node-lost")
    for entry in container_statuses(pod, init=True) + container_statuses(pod):
        waiting = (entry.get("state") or {}).get("waiting") or {}
        why = str(waiting.get("reason") or "")
        message = str(waiting.get("message") or "")
        name = display(str(entry.get("name")))
        if why in IMAGE_PULL_WAITING:
            detail = message or f"cannot pull {entry.get('image')}"
            return PodProblem(
                RunStatus.WARNING,
                f"image pull failed: {why}: {detail}",
                f"container {name}: {why}: {detail}",
                "image-pull",
                fatal=why in IMAGE_PULL_FATAL,
            )
        if why == "CrashLoopBackOff":
            restarts = int(entry.get("restartCount") or 0)
            last = ((entry.get("lastState") or {}).get("terminated")) or {}
            ended = termination_reason(last, name) if last else "it ended"
            return PodProblem(
                RunStatus.WARNING,
                f"crash loop: {name} restarted {restarts} times",
                f"container {name} keeps failing ({ended}); {message}".rstrip("; "),
                "crash-loop",
            )
        if why in CONFIG_WAITING:
            return PodProblem(
                RunStatus.WARNING, f"cannot start {name}: {why}", f"{why}: {message}".rstrip(": "), "config"
            )
    return None


def termination_reason(terminated: dict[str, Any], name: str) -> str:
    code = int(terminated.get("exitCode") or 0)
    if terminated.get("reason") == "OOMKilled":
        return f"OOMKilled: container {name} exceeded its memory limit"
    return f"exit code {code}"


@dataclass(frozen=True)
class PodFailure:
    reason: str
    message: str


def failure(pod: Pod, display: DisplayName) -> PodFailure | None:
    """Why a pod failed (phase Failed, or a main container that ended badly), if it did."""
    status = pod.get("status") or {}
    if status.get("reason") == "Evicted":
        message = str(status.get("message") or "the node ran short of resources")
        return PodFailure(f"evicted: {message.strip()}", message)
    lost = node_lost(pod)
    if lost is not None and phase(pod) == "Failed":
        return PodFailure("node lost", lost)
    if status.get("reason") == "DeadlineExceeded":
        deadline = (pod.get("spec") or {}).get("activeDeadlineSeconds")
        return PodFailure(f"deadline exceeded: timeout after {deadline}s", str(status.get("message") or ""))
    for entry in container_statuses(pod, init=True):
        terminated = (entry.get("state") or {}).get("terminated") or {}
        if terminated and int(terminated.get("exitCode") or 0) != 0:
            name = display(str(entry.get("name")))
            why = termination_reason(terminated, name)
            return PodFailure(f"init container {name} failed: {why}", _detail(terminated, why))
    for entry in container_statuses(pod):
        terminated = (entry.get("state") or {}).get("terminated") or {}
        if terminated and (
            int(terminated.get("exitCode") or 0) != 0 or terminated.get("reason") == "OOMKilled"
        ):
            name = display(str(entry.get("name")))
            why = termination_reason(terminated, name)
            return PodFailure(why, f"container {name}: {_detail(terminated, why)}")
    if phase(pod) == "Failed":
        message = str(status.get("message") or status.get("reason") or "the pod failed")
        return PodFailure(f"pod failed: {message}", message)
    return None


def _detail(terminated: dict[str, Any], why: str) -> str:
    message = str(terminated.get("message") or "").strip()
    return f"{why}: {message}" if message else why


def progress(pods: list[Pod]) -> RunStatus:
    """Where active pods are, without problems: SCHEDULED (waiting for a node), STARTING, RUNNING."""
    active = [p for p in pods if not is_finished(p) and not p["metadata"].get("deletionTimestamp")]
    if any(phase(p) == "Running" for p in active):
        return RunStatus.RUNNING
    if any((p.get("spec") or {}).get("nodeName") for p in active):
        return RunStatus.STARTING
    return RunStatus.SCHEDULED


def worst_problem(pods: list[Pod], display: DisplayName) -> PodProblem | None:
    """The problem to show first: unschedulable, then image pulls, then the rest."""
    order = ("unschedulable", "image-pull", "config", "crash-loop", "node-lost")
    found = [p for p in (problem(pod, display) for pod in pods) if p is not None]
    if not found:
        return None
    return sorted(found, key=lambda p: (not p.fatal, order.index(p.kind)))[0]
