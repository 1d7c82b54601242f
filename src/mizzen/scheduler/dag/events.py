"""``events`` triggers of a DAG op: ``{kinds: [run_status_running], ref: ops.A}`` holds once op A has
reached one of those statuses (``run_status_done``: any final one). A status passed on the way
counts: an op that already succeeded has been running."""

from __future__ import annotations

from collections.abc import Sequence

from mizzen.schemas.statuses import DONE_STATUSES, RunStatus
from mizzen.store.records import ChildRecord

# The order a run goes through its statuses before it ends.
_LIFECYCLE = (
    RunStatus.CREATED,
    RunStatus.COMPILED,
    RunStatus.QUEUED,
    RunStatus.SCHEDULED,
    RunStatus.STARTING,
    RunStatus.RUNNING,
)
_PREFIX = "run_status_"


def reached(kind: str, child: ChildRecord | None) -> bool:
    if child is None:
        return False
    wanted = kind.removeprefix(_PREFIX)
    status = child.status
    if wanted == "done":
        return status in DONE_STATUSES
    if wanted == status.value:
        return True
    if wanted == RunStatus.RUNNING.value:
        return child.started_at is not None
    if wanted in {s.value for s in _LIFECYCLE}:
        rank = [s.value for s in _LIFECYCLE].index(wanted)
        now = _LIFECYCLE.index(status) if status in _LIFECYCLE else len(_LIFECYCLE)
        return now > rank and (status not in DONE_STATUSES or child.started_at is not None or rank <= 0)
    return False


def pending_events(
    events: Sequence[tuple[Sequence[str], str]], children: dict[str, ChildRecord | None]
) -> list[str]:
    """The events not reached yet, as ``op:kind|kind`` (empty: all reached)."""
    return [
        f"{op}:{'|'.join(kinds)}"
        for kinds, op in events
        if not any(reached(kind, children.get(op)) for kind in kinds)
    ]


def unreachable(
    events: Sequence[tuple[Sequence[str], str]], children: dict[str, ChildRecord | None]
) -> str | None:
    """The first op that ended without reaching the event an op waits for (then it never will)."""
    for kinds, op in events:
        child = children.get(op)
        if child is not None and child.status in DONE_STATUSES and not any(reached(k, child) for k in kinds):
            return op
    return None
