"""The HTTP API contract: request and response bodies, and the route table.

Routes (all JSON unless said; prefix ``/api/v1``; errors are ``ErrorBody`` with the HTTP status):

    GET    /healthz                                      -> {"status": "ok", "version": ...}
    POST   /projects                     ProjectCreate   -> ProjectRead (409 if it exists)
    GET    /projects                                     -> list[ProjectRead]
    GET    /projects/{name}                              -> ProjectRead
    PATCH  /projects/{name}              ProjectUpdate   -> ProjectRead
    DELETE /projects/{name}                              -> 204 (its runs too)
    POST   /runs                         RunCreate       -> RunRead (project created if missing)
    GET    /runs?project=&query=&sort=&limit=&offset=    -> RunList
             query: Polyaxon-style "status:running,kind:job,metrics.loss:<0.5,tags:foo,name:bar"
             sort:  "-created_at", "metrics.loss", "-duration", "name"
    GET    /runs/{uuid}                                  -> RunRead (with conditions + metric summaries)
    PATCH  /runs/{uuid}                  RunUpdate       -> RunRead (inputs/outputs/meta are merged)
    DELETE /runs/{uuid}                                  -> 204
    POST   /runs/{uuid}/statuses         StatusUpdate    -> RunRead (409 InvalidTransition)
    GET    /runs/{uuid}/statuses                         -> list[StatusCondition]
    POST   /runs/{uuid}/stop                             -> RunRead
    POST   /runs/{uuid}/restart|resume|copy  CloneRequest -> RunRead (the new run; resume reuses it)
    GET    /runs/{uuid}/pipeline?metric=&optimization=   -> PipelineRead (409: not a pipeline)
    GET    /runs/{uuid}/pipeline/children?metric=&sort=&limit=&offset= -> PipelineChildren
    POST   /runs/{uuid}/metrics          MetricsBatch    -> {"accepted": n}  (points and/or columnar series)
    GET    /runs/{uuid}/metrics                          -> list[MetricSummary]
    GET    /runs/{uuid}/metrics/{name}?max_points=       -> MetricHistory (downsampled if max_points)
    POST   /runs/{uuid}/logs             LogBatch        -> {"accepted": n}
    GET    /runs/{uuid}/logs?offset=&limit=              -> LogChunk
    GET    /runs/{uuid}/logs/stream?offset=              -> text/plain chunks of ndjson LogLine, live
    PUT    /runs/{uuid}/artifacts/{path}  raw bytes      -> ArtifactRead
    GET    /runs/{uuid}/artifacts?prefix=                -> list[ArtifactRead]
    GET    /runs/{uuid}/artifacts/{path}                 -> the bytes
    POST   /runs/{uuid}/lineage          list[LineageCreate] -> list[LineageRead]
    GET    /runs/{uuid}/lineage                          -> list[LineageRead]
    POST   /agents/{name}/heartbeat      AgentHeartbeat  -> AgentRead
    GET    /agents                                       -> list[AgentRead]
    POST   /agents/{name}/claim          AgentClaim      -> list[AgentRun] (each with a fresh token)
    POST   /agents/{name}/stops          AgentStops      -> list[str] (uuids the agent must stop)
    GET    /agents/{name}/runs?executor=                 -> list[AgentRun] (its unfinished runs)
    POST   /agents/{name}/runs/{uuid}/token              -> AgentRun (a fresh token: resubmit a run)

Details (server as built):
  - POST /projects and POST /runs answer 201. RunRead.token (the run's API token) is set only in the
    answers of POST /runs, restart, copy and resume (resume issues a new token).
  - POST /runs and POST /runs/{uuid}/metrics take an optional ``Idempotency-Key`` header: a retry
    with the same key is answered without applying the request twice.
  - PUT artifacts takes an optional ``Content-MD5`` header (base64); a mismatch stores nothing (422).
    Paths under ``logs/`` and ``.tracking/`` are reserved; ``..`` and absolute paths are refused (422).
  - Metric names may contain "/" (``/metrics/train/loss``). Metric values, steps and timestamps must
    be finite numbers: NaN/infinity are refused (422, field ``points[i].value``).
  - With a server token configured (MIZZEN_TOKEN where the server runs), every route but /healthz
    needs ``Authorization: Bearer <server token or a run token>`` (401 otherwise).
  - /agents routes need the server token itself when one is configured (a run token is refused: 401).
    POST /agents/{name}/claim takes an ``Idempotency-Key``: a retry after a lost answer gets the same
    runs (still unstarted and owned by that agent) with fresh tokens.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from mizzen.schemas.statuses import RunStatus

API_PREFIX = "/api/v1"


class _Dto(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorBody(_Dto):
    error: str  # short machine-readable code: not_found, conflict, invalid, invalid_transition
    message: str  # what a human reads
    field: str | None = None  # the request field at fault, when there is one


class ProjectCreate(_Dto):
    name: str = Field(pattern=r"^[a-z0-9]([-a-z0-9_.]*[a-z0-9])?$", max_length=128)
    description: str | None = None
    tags: list[str] = Field(default_factory=list)


class ProjectUpdate(_Dto):
    description: str | None = None
    tags: list[str] | None = None


class ProjectRead(_Dto):
    uuid: str
    name: str
    description: str | None = None
    tags: list[str] = Field(default_factory=list)
    created_at: datetime
    updated_at: datetime
    runs_count: int = 0


class StatusCondition(_Dto):
    type: RunStatus
    reason: str | None = None
    message: str | None = None
    time: datetime


class MetricSummary(_Dto):
    name: str
    last: float
    min: float
    max: float
    last_step: int | None = None
    count: int = 0


class RunCreate(_Dto):
    project: str = "default"
    name: str | None = None
    description: str | None = None
    tags: list[str] = Field(default_factory=list)
    kind: str = "job"
    content: str | None = None  # the original polyaxonfile text, as the user wrote it
    spec: dict[str, Any] | None = None  # the resolved operation (dict)
    plan: dict[str, Any] | None = None  # the compiled Plan (dict)
    params: dict[str, Any] = Field(default_factory=dict)
    inputs: dict[str, Any] = Field(default_factory=dict)
    outputs: dict[str, Any] = Field(default_factory=dict)
    meta: dict[str, Any] = Field(default_factory=dict)
    pipeline_uuid: str | None = None
    parent_uuid: str | None = None
    original_uuid: str | None = None
    cloning_kind: str | None = None  # copy | restart | cache
    executor: str | None = None  # local | kubernetes
    queue: str | None = None
    cache_key: str | None = None
    status: RunStatus = RunStatus.CREATED
    managed: bool = True  # False when created by tracking.init() outside `mizzen run`
    # Set by the tracking client, so that a run journaled offline keeps, once synced, the uuid and
    # creation time the script knew (default: a new uuid, now). A uuid already taken is refused.
    uuid: str | None = None
    created_at: datetime | None = None


class RunUpdate(_Dto):
    name: str | None = None
    description: str | None = None
    tags: list[str] | None = None
    inputs: dict[str, Any] | None = None  # merged into the stored inputs
    outputs: dict[str, Any] | None = None  # merged into the stored outputs
    meta: dict[str, Any] | None = None  # merged into the stored meta
    plan: dict[str, Any] | None = None


class RunRead(_Dto):
    uuid: str
    name: str | None = None
    project: str
    kind: str
    status: RunStatus
    description: str | None = None
    tags: list[str] = Field(default_factory=list)
    params: dict[str, Any] = Field(default_factory=dict)
    inputs: dict[str, Any] = Field(default_factory=dict)
    outputs: dict[str, Any] = Field(default_factory=dict)
    meta: dict[str, Any] = Field(default_factory=dict)
    pipeline_uuid: str | None = None
    pipeline_key: str | None = None  # the child's place in its pipeline: trial-00007, op-train, tick-...
    parent_uuid: str | None = None
    original_uuid: str | None = None
    cloning_kind: str | None = None
    executor: str | None = None
    queue: str | None = None
    cache_key: str | None = None
    managed: bool = True
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    duration: float | None = None  # seconds
    # Only on GET /runs/{uuid} (None in lists, to keep lists fast):
    content: str | None = None
    spec: dict[str, Any] | None = None
    plan: dict[str, Any] | None = None
    conditions: list[StatusCondition] | None = None
    metrics: list[MetricSummary] | None = None
    # The run's API token: only in the answer that creates it (POST /runs, restart, copy, resume).
    token: str | None = None


class RunList(_Dto):
    items: list[RunRead]
    count: int  # total matching, before limit/offset
    limit: int
    offset: int


class StatusUpdate(_Dto):
    status: RunStatus
    reason: str | None = None
    message: str | None = None
    # When it happened (default: now), e.g. a status journaled offline and synced later; never
    # before the run's previous condition, never in the future.
    time: datetime | None = None


class CloneRequest(_Dto):
    name: str | None = None
    params: dict[str, Any] | None = None  # overrides for the new run


class MetricPoint(_Dto):
    name: str
    value: float
    step: int | None = None
    timestamp: float  # seconds since the epoch


class MetricSeries(_Dto):
    """Points of one metric as columns: the compact, fast way to send many points (the tracking
    client's way); ``steps`` and ``timestamps`` run parallel to ``values``."""

    name: str
    values: list[float]
    timestamps: list[float]
    steps: list[int | None] | None = None  # None: no steps

    @model_validator(mode="after")
    def _same_lengths(self) -> MetricSeries:
        if len(self.timestamps) != len(self.values):
            raise ValueError(f"{len(self.values)} values but {len(self.timestamps)} timestamps")
        if self.steps is not None and len(self.steps) != len(self.values):
            raise ValueError(f"{len(self.values)} values but {len(self.steps)} steps")
        return self


class MetricsBatch(_Dto):
    points: list[MetricPoint] = Field(default_factory=list)
    series: list[MetricSeries] = Field(default_factory=list)


class MetricHistory(_Dto):
    """Columnar, so that 100,000 points travel as three arrays."""

    name: str
    steps: list[int | None]
    timestamps: list[float]
    values: list[float]
    downsampled: bool = False


class LogLine(_Dto):
    timestamp: float
    container: str = "main"  # main | a sidecar name | init-git-0 | ...
    replica: str | None = None  # "worker-1" for distributed kinds
    line: str


class LogBatch(_Dto):
    lines: list[LogLine]


class LogChunk(_Dto):
    lines: list[LogLine]
    next_offset: int
    done: bool  # the run has finished and nothing more will come


class ArtifactRead(_Dto):
    path: str  # relative to the run's artifacts folder
    size: int
    modified_at: datetime | None = None


class LineageCreate(_Dto):
    name: str
    kind: str  # model | dataframe | text | html | image | histogram | curve | confusion | env | file | dir
    path: str | None = None  # relative to the run's artifacts folder
    summary: dict[str, Any] = Field(default_factory=dict)
    is_input: bool = False


class LineageRead(LineageCreate):
    created_at: datetime


class AgentHeartbeat(_Dto):
    namespace: str | None = None
    queue: str | None = None
    version: str | None = None
    capabilities: dict[str, Any] = Field(default_factory=dict)


class AgentRead(_Dto):
    name: str
    namespace: str | None = None
    queue: str | None = None
    version: str | None = None
    capabilities: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime
    last_seen_at: datetime
    healthy: bool  # seen within the last AGENT_HEALTHY_SECONDS


class AgentClaim(_Dto):
    executor: str = "kubernetes"
    queue: str | None = None  # None: runs of every queue
    limit: int = Field(16, ge=1, le=256)


class AgentStops(_Dto):
    executor: str = "kubernetes"
    active: list[str] = Field(default_factory=list)  # runs the agent is running


class AgentRun(_Dto):
    """A run an agent owns: what its scheduler needs to compile, submit or adopt it."""

    uuid: str
    project: str
    project_uuid: str | None = None
    kind: str
    name: str | None = None
    status: RunStatus
    spec: dict[str, Any] | None = None
    plan: dict[str, Any] | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    meta: dict[str, Any] = Field(default_factory=dict)
    original_uuid: str | None = None
    cloning_kind: str | None = None
    token: str | None = None  # only in claim and token answers
