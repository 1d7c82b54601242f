"""Where a scheduler loop gets its runs and reports what happens to them.

The same loop (``mizzen.scheduler.loop.RunScheduler``) drives the local executor inside
``mizzen run`` / ``mizzen server`` and the Kubernetes executor inside ``mizzen agent``. The first
reads the store directly (``StoreRunSource``); the agent, which only talks HTTP to the API, uses an
API-backed source. Both implement ``RunSource``.
"""

from __future__ import annotations

import os
import socket
import uuid as uuidlib
from dataclasses import dataclass, field
from typing import Any, Protocol

from mizzen.executors.base import RunRef
from mizzen.schemas.api import LogLine
from mizzen.schemas.statuses import RunStatus


@dataclass(frozen=True)
class ClaimedRun:
    """A run a scheduler has taken responsibility for (it moved it from created to compiled)."""

    uuid: str
    project: str
    kind: str
    name: str | None = None
    spec: dict[str, Any] | None = None  # the resolved operation, as `mizzen run` compiled it
    params: dict[str, Any] = field(default_factory=dict)
    token: str | None = None  # a fresh API token for the run (only its hash is stored)
    meta: dict[str, Any] = field(default_factory=dict)
    original_uuid: str | None = None
    cloning_kind: str | None = None
    project_uuid: str | None = None


class RunSource(Protocol):
    def claim(self, executor: str, owner: str, limit: int) -> list[ClaimedRun]:
        """Take up to ``limit`` created runs meant for ``executor``: each moves to ``compiled`` and
        records ``owner``; no two owners ever get the same run."""

    def record_plan(self, uuid: str, plan: dict[str, Any]) -> None:
        """Store the Plan a run was compiled into."""

    def report_status(self, uuid: str, status: RunStatus, reason: str | None, message: str | None) -> None:
        """Apply a reported status through the status machine; a refused transition is logged, not raised."""

    def report_logs(self, uuid: str, lines: list[LogLine]) -> None:
        """Append log lines to the run's logs."""

    def stop_requested(self, executor: str, owner: str) -> list[str]:
        """Runs this owner is running whose stop was asked for (their status is ``stopping``)."""

    def use_cache(self, uuid: str, key: str, ttl: int | None) -> str | None:
        """Record ``key`` as the run's cache key; when a succeeded run has it (within ``ttl``
        seconds), the run is now ``skipped`` reusing that run's outputs: its uuid. None: start it."""


def run_ref(run: ClaimedRun, api_host: str) -> RunRef:
    """Who the run is, as an executor needs it."""
    return RunRef(
        uuid=run.uuid,
        project=run.project,
        name=run.name,
        token=run.token,
        api_host=api_host,
        project_uuid=run.project_uuid,
        original_uuid=run.original_uuid,
        cloning_kind=run.cloning_kind,
    )


def new_owner_id() -> str:
    """Who claims runs: host and pid (so a dead owner can be recognised) plus a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuidlib.uuid4().hex[:8]}"


def owner_is_gone(owner: str) -> bool:
    """True when ``owner`` was a process on this host that no longer exists."""
    try:
        host, pid_text, _ = owner.split(":", 2)
        pid = int(pid_text)
    except ValueError:
        return False
    if host != socket.gethostname():
        return False  # another machine's process: not ours to judge
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
