"""ORM rows to records (inside the gateway only: rows never leave the store)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from mizzen.schemas.statuses import RunStatus
from mizzen.store.orm import AgentRow, MetricSummaryRow, ProjectRow, RunRow, StatusConditionRow
from mizzen.store.records import (
    AgentRecord,
    ConditionRecord,
    MetricSummaryRecord,
    ProjectRecord,
    RunDetail,
    RunRecord,
)
from mizzen.store.repos import metrics as metrics_repo
from mizzen.store.repos import statuses as statuses_repo


def project_record(row: ProjectRow, runs_count: int) -> ProjectRecord:
    return ProjectRecord(
        uuid=row.uuid,
        name=row.name,
        description=row.description,
        tags=list(row.tags or []),
        created_at=row.created_at,
        updated_at=row.updated_at,
        runs_count=runs_count,
    )


def agent_record(row: AgentRow) -> AgentRecord:
    return AgentRecord(
        name=row.name,
        namespace=row.namespace,
        queue=row.queue,
        version=row.version,
        meta=dict(row.meta or {}),
        created_at=row.created_at,
        last_seen_at=row.last_seen_at,
    )


def summary_record(row: MetricSummaryRow) -> MetricSummaryRecord:
    return MetricSummaryRecord(
        name=row.name, last=row.last, min=row.min, max=row.max, last_step=row.last_step, count=row.count
    )


def run_record(row: RunRow) -> RunRecord:
    return RunRecord(
        uuid=row.uuid,
        project=row.project.name,
        project_uuid=row.project.uuid,
        kind=row.kind,
        status=RunStatus(row.status),
        name=row.name,
        description=row.description,
        content=row.content,
        spec=row.spec,
        plan=row.plan,
        params=dict(row.params or {}),
        inputs=dict(row.inputs or {}),
        outputs=dict(row.outputs or {}),
        tags=list(row.tags or []),
        meta=dict(row.meta or {}),
        pipeline_uuid=row.pipeline_uuid,
        pipeline_key=row.pipeline_key,
        parent_uuid=row.parent_uuid,
        original_uuid=row.original_uuid,
        cloning_kind=row.cloning_kind,
        executor=row.executor,
        queue=row.queue,
        cache_key=row.cache_key,
        managed=row.managed,
        log_lines=int(row.log_lines or 0),
        created_at=row.created_at,
        updated_at=row.updated_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        duration=row.duration,
    )


def condition_record(row: StatusConditionRow) -> ConditionRecord:
    return ConditionRecord(type=RunStatus(row.type), reason=row.reason, message=row.message, time=row.time)


def run_detail(session: Session, row: RunRow, *, new: bool = False) -> RunDetail:
    """The run with its status history and metric summaries (a ``new`` run has no metrics yet)."""
    conditions = [condition_record(c) for c in statuses_repo.list_conditions(session, row.id)]
    metrics = [] if new else [summary_record(m) for m in metrics_repo.summaries(session, row.id)]
    return RunDetail(run_record(row), conditions, metrics)
