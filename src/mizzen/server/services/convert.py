"""Store records (and list items) to API DTOs. Values from the database are trusted: ``model_construct``
skips re-validation, which matters for lists of thousands of runs."""

from __future__ import annotations

from typing import Any

import pydantic_core

from mizzen.schemas.api import LineageRead, MetricSummary, ProjectRead, RunRead, StatusCondition
from mizzen.schemas.statuses import RunStatus
from mizzen.store.clock import utcnow
from mizzen.store.orm import MetricSummaryRow, RunRow, StatusConditionRow
from mizzen.store.records import LIST_COLUMNS, LineageRecord, MetricSummaryRecord, ProjectRecord


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


def run_read(
    row: RunRow,
    *,
    conditions: list[StatusConditionRow] | None = None,
    metrics: list[MetricSummaryRow] | list[MetricSummaryRecord] | None = None,
    token: str | None = None,
) -> RunRead:
    fields: dict[str, Any] = {name: getattr(row, name) for name in LIST_COLUMNS}
    fields["project"] = row.project.name
    read = run_list_item(fields)
    read.content = row.content
    read.spec = row.spec
    read.plan = row.plan
    read.conditions = [condition(c) for c in conditions or []]
    read.metrics = [summary(m) for m in metrics or []]
    if token is not None:
        read.token = token
    return read


def condition(row: StatusConditionRow) -> StatusCondition:
    return StatusCondition.model_construct(
        type=RunStatus(row.type), reason=row.reason, message=row.message, time=row.time
    )


def summary(row: MetricSummaryRow | MetricSummaryRecord) -> MetricSummary:
    return MetricSummary.model_construct(
        name=row.name, last=row.last, min=row.min, max=row.max, last_step=row.last_step, count=row.count
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
