"""The Executor protocol: what the scheduler sees of any compute backend (local now, Kubernetes later).

An executor runs compiled Plans and *reports* what happens through an ``ExecutorEvents`` sink. It
never writes a status itself: the consumer (the scheduler, through the one status function) decides
whether a reported status is a valid transition and records it.

Lifecycle of a run as an executor reports it::

    queued -> scheduled -> starting -> running -> succeeded | failed | stopped
                     (failed attempt with retries left: retrying -> starting -> running -> ...)
    stop(): [stopping ->] stopped        a machine that can never fit the run: unschedulable -> failed
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from mizzen.compiler.plan import Plan, RunKind, RuntimeContext
    from mizzen.schemas.api import LogLine
    from mizzen.schemas.statuses import RunStatus


@dataclass(frozen=True)
class RunRef:
    """Who the run is: everything an executor needs besides the Plan."""

    uuid: str
    project: str = "default"
    name: str | None = None
    owner: str = "default"
    token: str | None = None  # the run's API token (written by the auth init step, given as env)
    api_host: str = "http://127.0.0.1:8000"  # the API base URL as the workload reaches it
    iteration: int | None = None  # sweep iteration
    project_uuid: str | None = None
    original_uuid: str | None = None
    cloning_kind: str | None = None

    def runtime_context(self, **where: Any) -> RuntimeContext:
        """The run's identity as a RuntimeContext; ``where`` is the executor's part (namespace, paths,
        store, and anything it overrides, such as the api_host pods reach)."""
        from mizzen.compiler.plan import RuntimeContext

        identity: dict[str, Any] = {
            "owner_name": self.owner,
            "project_name": self.project,
            "uuid": self.uuid,
            "name": self.name,
            "iteration": self.iteration,
            "api_host": self.api_host,
            "cloning_kind": self.cloning_kind,
            "original_uuid": self.original_uuid,
        }
        if self.project_uuid:
            identity["project_uuid"] = self.project_uuid
        return RuntimeContext(**(identity | where))


@dataclass(frozen=True)
class ExecutorCapabilities:
    """What an executor can run; the scheduler checks a plan against it before submitting."""

    kinds: frozenset[RunKind]
    services: bool  # can run `kind: service` and tell where it answers
    gpus: int  # GPUs this executor can hand out in total (0: none)
    distributed: bool  # runs several replicas of one run (pytorchjob, tfjob, ...)
    max_concurrency: int | None = None  # runs at once; None: unbounded (the cluster decides)
    notes: dict[str, str] = field(default_factory=dict)  # kind -> why it is not supported


@runtime_checkable
class ExecutorEvents(Protocol):
    """Where an executor reports. Called from the executor's own threads; must not block for long."""

    def on_status(self, uuid: str, status: RunStatus, reason: str | None, message: str | None) -> None:
        """A run reached ``status``. ``reason`` is short ("exit code 3"), ``message`` says more."""

    def on_logs(self, uuid: str, lines: list[LogLine]) -> None:
        """A small batch of log lines, in the order each container wrote them."""


@runtime_checkable
class Executor(Protocol):
    name: str

    @property
    def capabilities(self) -> ExecutorCapabilities: ...

    def runtime_context(self, run: RunRef) -> RuntimeContext:
        """Where paths live for ``run`` on this executor: the compiler compiles the plan with it."""

    def submit(self, run: RunRef, plan: Plan) -> None:
        """Start running ``plan`` (compiled with ``runtime_context(run)``); returns at once."""

    def stop(self, uuid: str, grace_seconds: float = 10.0) -> None:
        """Ask the run to end: SIGTERM-like first, forced after ``grace_seconds``; returns at once."""

    def clean(self, uuid: str) -> None:
        """Remove what the executor holds for a finished run (run folder, resources)."""

    def wait(self, uuid: str, timeout: float | None = None) -> RunStatus | None:
        """Block until the run is done; its final status, or None if ``timeout`` passed first."""

    def close(self, grace_seconds: float = 10.0) -> None:
        """Stop every active run and release the executor's threads (process shutdown)."""
