"""Plain, frozen records: what the store's gateway (``mizzen.store.gateway``) hands out.

No SQLAlchemy type leaves the store: callers get these values, detached from any session, and
never see an ORM row. The internal integer ids stay inside the store too (callers name runs by
uuid and projects by name).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from mizzen.schemas.run_meta import OWNER_KEY
from mizzen.schemas.statuses import RunStatus

# The columns a list returns (everything a RunRead needs except content, spec, plan).
LIST_COLUMNS = (
    "uuid",
    "name",
    "kind",
    "status",
    "description",
    "tags",
    "params",
    "inputs",
    "outputs",
    "meta",
    "pipeline_uuid",
    "pipeline_key",
    "parent_uuid",
    "original_uuid",
    "cloning_kind",
    "executor",
    "queue",
    "cache_key",
    "managed",
    "created_at",
    "updated_at",
    "started_at",
    "finished_at",
    "duration",
)


# A metric point as ``metrics.ingest`` takes it: (name, step, timestamp, value). Plain tuples: the
# API's columnar series arrive as such, and building 100,000 named tuples would cost more than
# inserting them.
PointTuple = tuple[str, int | None, float, float]


class MetricPoints(NamedTuple):
    """Every point of one metric, ordered by step then time, as three columns."""

    steps: list[int | None]
    timestamps: list[float]
    values: list[float]


class RunProgress(NamedTuple):
    """What a log reader needs of a run, read without loading the run."""

    status: RunStatus
    log_lines: int  # log line offsets handed out so far
    finished_at: datetime | None


@dataclass(frozen=True)
class LineageRecord:
    """An artifact a run produced (or, with ``is_input``, consumed): what is recorded and read back."""

    name: str
    kind: str
    path: str | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    is_input: bool = False
    created_at: datetime | None = None


@dataclass(frozen=True)
class MetricSummaryRecord:
    name: str
    last: float
    min: float
    max: float
    last_step: int | None
    count: int


@dataclass(frozen=True)
class ProjectRecord:
    uuid: str
    name: str
    description: str | None
    tags: list[str]
    created_at: datetime
    updated_at: datetime
    runs_count: int


@dataclass(frozen=True)
class ProjectActivity:
    """A project's runs at a glance: how many in each status, and when one last changed."""

    name: str
    description: str | None
    runs_by_status: dict[RunStatus, int]
    last_activity: datetime | None  # the latest update of any of its runs (None: no runs)


@dataclass(frozen=True)
class AgentRecord:
    name: str
    namespace: str | None
    queue: str | None
    version: str | None
    meta: dict[str, Any]
    created_at: datetime
    last_seen_at: datetime


@dataclass(frozen=True)
class RunRecord:
    """One run, every column a caller may see (its token's hash and internal ids stay in the store)."""

    uuid: str
    project: str  # the project's name
    project_uuid: str
    kind: str
    status: RunStatus
    name: str | None = None
    description: str | None = None
    content: str | None = None
    spec: dict[str, Any] | None = None
    plan: dict[str, Any] | None = None
    params: dict[str, Any] = field(default_factory=dict)
    inputs: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    pipeline_uuid: str | None = None
    pipeline_key: str | None = None
    parent_uuid: str | None = None
    original_uuid: str | None = None
    cloning_kind: str | None = None
    executor: str | None = None
    queue: str | None = None
    cache_key: str | None = None
    managed: bool = True
    log_lines: int = 0
    created_at: datetime | None = None
    updated_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    duration: float | None = None

    @property
    def owner(self) -> str | None:
        """Who claimed the run to execute it (``meta.owner``), if anyone did."""
        owner = self.meta.get(OWNER_KEY)
        return str(owner) if owner else None


@dataclass(frozen=True)
class NewRun:
    """What a new run is made of (mirrors the API's RunCreate, without depending on it)."""

    project: str = "default"
    name: str | None = None
    description: str | None = None
    kind: str = "job"
    content: str | None = None
    spec: dict[str, Any] | None = None
    plan: dict[str, Any] | None = None
    params: dict[str, Any] = field(default_factory=dict)
    inputs: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    pipeline_uuid: str | None = None
    pipeline_key: str | None = None
    parent_uuid: str | None = None
    original_uuid: str | None = None
    cloning_kind: str | None = None
    executor: str | None = None
    queue: str | None = None
    cache_key: str | None = None
    managed: bool = True
    status: RunStatus = RunStatus.CREATED
    uuid: str | None = None  # default: a new one
    status_reason: str | None = None  # why it starts in ``status`` (a DAG op created skipped says why)
    status_message: str | None = None


@dataclass(frozen=True)
class ClaimedRunRecord:
    run: RunRecord
    token: str  # a fresh API token for the run (only its hash is stored)
    previous: RunStatus  # the status before the claim: created (now compiled) or queued (stays queued)


@dataclass(frozen=True)
class ConditionRecord:
    """One entry of a run's status history."""

    type: RunStatus
    reason: str | None
    message: str | None
    time: datetime


@dataclass(frozen=True)
class RunDetail:
    """A run as the API shows it: the run, its status history, and its metrics' summaries."""

    run: RunRecord
    conditions: list[ConditionRecord]
    metrics: list[MetricSummaryRecord]


@dataclass(frozen=True)
class IssuedRun:
    """A run with a fresh API token (created, or given a new token): the token is shown only once."""

    detail: RunDetail
    token: str
    replayed: bool = False  # an idempotent create answered again: the run existed already


@dataclass(frozen=True)
class StatusChange:
    detail: RunDetail  # the run as it is after the change
    previous: RunStatus
    changed: bool  # False when nothing changed (same status, reason and message)

    @property
    def run(self) -> RunRecord:
        return self.detail.run


@dataclass(frozen=True)
class StatusMove:
    """A status change a caller asks for (``resume``: a finished run starts again)."""

    status: RunStatus
    reason: str | None = None
    message: str | None = None


@dataclass(frozen=True)
class RunPage:
    """One page of a run search: list items (``LIST_COLUMNS`` + ``project``, its name) as plain dicts."""

    items: list[dict[str, Any]]
    count: int  # all matching runs, before limit/offset


@dataclass(frozen=True)
class ChildRecord:
    """One child of a pipeline as its driver reads it (no spec, no plan: cheap for 10,000 trials)."""

    uuid: str
    key: str | None  # pipeline_key: trial-00007, op-train, tick-...
    name: str | None
    kind: str
    status: RunStatus
    params: dict[str, Any]
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    meta: dict[str, Any]
    created_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    metrics: dict[str, float] = field(default_factory=dict)  # last values of the metrics asked for
    # every value of the metrics whose history was asked for (early stopping policies), in step order
    histories: dict[str, tuple[float, ...]] = field(default_factory=dict)
    updated_at: datetime | None = None  # its last change: what a driver's incremental read compares
