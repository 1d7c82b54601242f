"""What the Kubernetes executor tracks about one run, and how its objects and pods are named."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from mizzen.compiler.plan import DISTRIBUTED_KINDS, Plan
from mizzen.executors.base import RunRef
from mizzen.executors.kubernetes import status as run_status
from mizzen.executors.kubernetes.logs import LogPosition, RunLogs
from mizzen.executors.kubernetes.pods import PodFailure
from mizzen.executors.kubernetes.reporting import StatusReporter
from mizzen.executors.kubernetes.resources import ResourceKind
from mizzen.render.k8s import main_container_name, run_object_name
from mizzen.render.k8s.metadata import ROLE, RUN_UUID, run_uuid_label
from mizzen.schemas.statuses import RunStatus

KUBEFLOW_TYPE = "training.kubeflow.org/replica-type"
KUBEFLOW_INDEX = "training.kubeflow.org/replica-index"


def pod_run_label(pod: dict[str, Any]) -> str | None:
    return (pod.get("metadata", {}).get("labels") or {}).get(RUN_UUID)


@dataclass(frozen=True)
class OwnedRun:
    """A run the scheduler says this executor owns (after a restart): adopt() resumes it.

    ``status`` is the last status the store holds; ``logs`` where its stored log ends (lines stored
    and events up to the newest stored line are not delivered again).
    """

    run: RunRef
    plan: Plan
    status: RunStatus | None = None
    logs: LogPosition | None = None


@dataclass
class TrackedRun:
    ref: RunRef
    plan: Plan
    objects: list[dict[str, Any]]  # as rendered, in creation order (the token Secret first)
    primary_kind: ResourceKind
    primary_name: str
    reporter: StatusReporter
    logs: RunLogs
    logs_since: float | None = None
    done: threading.Event = field(default_factory=threading.Event)
    created_version: str | None = None  # the primary's resourceVersion when created or adopted
    primary_uid: str | None = None  # the primary this executor created or adopted (not an older one)
    last_primary: dict[str, Any] | None = None  # the primary as last seen (event order), None: not yet
    primary_gone: bool = False  # the watch saw it deleted
    failed_pods: dict[str, tuple[str | None, PodFailure]] = field(default_factory=dict)  # uid -> why
    reported_failures: set[str] = field(default_factory=set)
    ran: bool = False
    seen_events: set[tuple[str, int]] = field(default_factory=set)
    problem_since: float | None = None  # monotonic time an image pull problem was first seen
    stop_requested: bool = False
    stop_grace: float = 10.0
    deleted_at: float | None = None  # monotonic time its objects were deleted (stop, failure)
    ttl: int | None = None  # seconds after the end to delete the objects (termination.ttl)
    cleanup_at: float | None = None  # monotonic time the executor deletes the objects (ttl)

    @property
    def uuid(self) -> str:
        return self.ref.uuid

    @property
    def label(self) -> str:
        return run_uuid_label(self.ref.uuid)

    @cached_property
    def _main_names(self) -> dict[str, str]:
        """Kubernetes main container name -> the Plan's name for it (the first role's, on a clash)."""
        names: dict[str, str] = {}
        for replica in self.plan.replicas:
            if replica.pod.main is not None:
                names.setdefault(main_container_name(self.plan.kind, replica.role), replica.pod.main.name)
        return names

    def display_name(self, container: str) -> str:
        """The name a user knows a container by: the Plan's main container name for the main one."""
        return self._main_names.get(container, container)

    def finished(self, primary: dict[str, Any]) -> bool:
        """``primary`` (this run's top-level object, as last seen) says the run ended."""
        snapshot = run_status.Snapshot(primary, [], self.display_name)
        return run_status.verdict(self.primary_kind.kind, snapshot).final

    def replica_of(self, pod: dict[str, Any]) -> str | None:
        """``worker-1`` for the pods of distributed runs; None when a run has one role of one pod."""
        if self.plan.kind not in DISTRIBUTED_KINDS:
            return None
        labels = pod.get("metadata", {}).get("labels") or {}
        if KUBEFLOW_TYPE in labels and KUBEFLOW_INDEX in labels:
            return f"{labels[KUBEFLOW_TYPE]}-{labels[KUBEFLOW_INDEX]}"
        role = labels.get(ROLE)
        name = str(pod.get("metadata", {}).get("name", ""))
        return f"{role}:{name}" if role else name


def primary_of(objects: list[dict[str, Any]], kinds: tuple[ResourceKind, ...]) -> dict[str, Any]:
    """The object whose state is the run's state."""
    for obj in objects:
        if any(obj["apiVersion"] == k.api_version and obj["kind"] == k.kind for k in kinds):
            return obj
    raise ValueError("a run renders no top-level object")  # the renderer always makes one


def token_secret_name(uuid: str) -> str:
    return run_object_name("token", uuid)
