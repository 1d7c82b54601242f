"""What the templates show, computed from the API's DTOs: pure functions, no I/O."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from mizzen.schemas.api import RunRead, StatusCondition
from mizzen.schemas.statuses import DONE_STATUSES, RunStatus

PAGE_SIZE = 50
WAITING = frozenset(
    {
        RunStatus.CREATED,
        RunStatus.ON_SCHEDULE,
        RunStatus.COMPILED,
        RunStatus.QUEUED,
        RunStatus.SCHEDULED,
        RunStatus.STARTING,
        RunStatus.UNSCHEDULABLE,
        RunStatus.RETRYING,
    }
)
TROUBLE = frozenset({RunStatus.FAILED, RunStatus.UPSTREAM_FAILED, RunStatus.UNKNOWN, RunStatus.WARNING})
LIVE = frozenset({RunStatus.RUNNING, RunStatus.PROCESSING, RunStatus.STOPPING})
# The order a project's counts are shown in.
STATUS_ORDER = [
    RunStatus.RUNNING,
    *sorted(WAITING, key=str),
    RunStatus.STOPPING,
    RunStatus.PROCESSING,
    RunStatus.SUCCEEDED,
    RunStatus.FAILED,
    RunStatus.UPSTREAM_FAILED,
    RunStatus.STOPPED,
    RunStatus.SKIPPED,
    RunStatus.WARNING,
    RunStatus.UNKNOWN,
]
SORTS = {
    "-created_at": "newest first",
    "created_at": "oldest first",
    "-updated_at": "recently changed",
    "name": "name",
    "status": "status",
    "-duration": "longest",
    "duration": "shortest",
}


def status_tone(status: RunStatus | str) -> str:
    """The chip's colour family: ok, bad, live, wait or done (stopped, skipped)."""
    status = RunStatus(status)
    if status == RunStatus.SUCCEEDED:
        return "ok"
    if status in TROUBLE:
        return "bad"
    if status in LIVE:
        return "live"
    if status in WAITING:
        return "wait"
    return "done"


def is_done(status: RunStatus | str) -> bool:
    return RunStatus(status) in DONE_STATUSES


def duration_text(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.1f} s" if seconds < 10 else f"{seconds:.0f} s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours < 48 else f"{hours // 24} d {hours % 24} h"


def run_duration(run: RunRead, now: datetime | None = None) -> float | None:
    """Seconds it ran (still running: so far)."""
    if run.duration is not None:
        return run.duration
    if run.started_at is not None and not is_done(run.status):
        return ((now or datetime.now(UTC)) - run.started_at).total_seconds()
    return None


def ago(moment: datetime | None, now: datetime | None = None) -> str:
    if moment is None:
        return "—"
    seconds = ((now or datetime.now(UTC)) - moment).total_seconds()
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400 * 2:
        return f"{int(seconds // 3600)} h ago"
    return f"{int(seconds // 86400)} days ago"


def moment_text(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "—"


@dataclass(frozen=True)
class Why:
    title: str  # "Why pending", "Why failed", ...
    reason: str | None
    message: str | None


def why(run: RunRead) -> Why | None:
    """The executors' own explanation of a run that waits or did not succeed: the reason and message
    of its latest status change that gave one (the CLI's `ops statuses` shows the same history)."""
    status = RunStatus(run.status)
    if status in WAITING:
        title = "Why pending"
    elif status in TROUBLE:
        title = "Why failed" if status != RunStatus.WARNING else "Warning"
    elif status in (RunStatus.STOPPED, RunStatus.SKIPPED, RunStatus.STOPPING):
        title = f"Why {status.value}"
    else:
        return None
    explained = [c for c in run.conditions or [] if c.reason or c.message]
    current = [c for c in explained if c.type == status]
    chosen = current or explained
    if not chosen:
        return Why(title, None, "no reason recorded yet")
    return Why(title, chosen[-1].reason, chosen[-1].message)


@dataclass(frozen=True)
class Step:
    condition: StatusCondition
    tone: str
    lasted: str  # until the next step (or now, for the last step of a live run)


def timeline(run: RunRead, now: datetime | None = None) -> list[Step]:
    conditions = list(run.conditions or [])
    steps = []
    for index, condition in enumerate(conditions):
        if index + 1 < len(conditions):
            lasted = duration_text((conditions[index + 1].time - condition.time).total_seconds())
        elif not is_done(run.status):
            lasted = duration_text(((now or datetime.now(UTC)) - condition.time).total_seconds()) + " so far"
        else:
            lasted = ""
        steps.append(Step(condition, status_tone(condition.type), lasted))
    return steps


def value_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, default=str)


@dataclass(frozen=True)
class TableView:
    """The runs table's whole state, as its URL carries it."""

    query: str = ""
    sort: str = "-created_at"
    page: int = 1

    @property
    def offset(self) -> int:
        return (self.page - 1) * PAGE_SIZE

    def url(self, project: str, **changes: Any) -> str:
        state = {"query": self.query, "sort": self.sort, "page": self.page, **changes}
        defaults = TableView()
        params = {k: v for k, v in state.items() if v != getattr(defaults, k)}
        return f"/projects/{project}" + (f"?{urlencode(params)}" if params else "")

    def sort_toggle(self, project: str, field: str) -> str:
        """A column header's link: sorts by it, or reverses the order when it already does."""
        target = f"-{field}" if self.sort == field else field
        return self.url(project, sort=target, page=1)


def pages(count: int) -> int:
    return max(1, -(-count // PAGE_SIZE))
