"""Store records (and list items) to API DTOs. Values from the database are trusted: ``model_construct``
skips re-validation, which matters for lists of thousands of runs."""

from __future__ import annotations

from typing import Any

import pydantic_core

from mizzen.schemas.api import LineageRead, MetricSummary, ProjectRead, RunRead, StatusCondition
from mizzen.schemas.statuses import RunStatus
from mizzen.store.clock import utcnow
from mizzen.store.records import (
    LIST_COLUMNS,
    ConditionRecord,
    LineageRecord,
    MetricSummaryRecord,
    ProjectRecord,
    RunDetail,
)


def project_read(record: ProjectRecord) -> ProjectRead:
    return ProjectRead.model_construct(
        uuid=record.uuid,
        name=record.name,
        description=record.description,
        tags=list(record.tags),
        created_at=record.created_at,
        updated_at=record.updated_at,
        runs_count=record.runs_count,
    )


_LIST_ONLY_NONE = {name: None for name in RunRead.model_fields if name not in (*LIST_COLUMNS, "project")}


def run_list_json(items: list[dict[str, Any]], count: int, limit: int, offset: int) -> bytes:
    """The JSON of a ``RunList`` straight from list items (what ``run_list_item`` + ``model_dump_json``
    give, a test checks, without building thousands of models)."""
    rows = [{**item, **_LIST_ONLY_NONE} for item in items]
    return pydantic_core.to_json({"items": rows, "count": count, "limit": limit, "offset": offset})


def run_list_item(item: dict[str, Any]) -> RunRead:
    fields = dict(item)
    fields["status"] = RunStatus(fields["status"])
    for name in ("tags", "params", "inputs", "outputs", "meta"):
        if fields[name] is None:
            fields[name] = [] if name == "tags" else {}
    return RunRead.model_construct(**fields)


def run_read(detail: RunDetail, *, token: str | None = None) -> RunRead:
    """The run as the API shows it; ``token`` only where the run was just given one."""
    run = detail.run
    fields: dict[str, Any] = {name: getattr(run, name) for name in LIST_COLUMNS}
    fields["project"] = run.project
    read = run_list_item(fields)
    read.content = run.content
    read.spec = run.spec
    read.plan = run.plan
    read.conditions = [condition(c) for c in detail.conditions]
    read.metrics = [summary(m) for m in detail.metrics]
    if token is not None:
        read.token = token
    return read


def condition(record: ConditionRecord) -> StatusCondition:
    return StatusCondition.model_construct(
        type=record.type, reason=record.reason, message=record.message, time=record.time
    )


def summary(record: MetricSummaryRecord) -> MetricSummary:
    return MetricSummary.model_construct(
        name=record.name,
        last=record.last,
        min=record.min,
        max=record.max,
        last_step=record.last_step,
        count=record.count,
    )


def lineage_read(record: LineageRecord) -> LineageRead:
    return LineageRead.model_construct(
        name=record.name,
        kind=record.kind,
        path=record.path,
        summary=record.summary,
        is_input=record.is_input,
        created_at=record.created_at or utcnow(),
    )
