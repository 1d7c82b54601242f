"""What the API shows of a pipeline (its children page by page with one metric, its best child, a
DAG's ops) and deleting a pipeline with everything under it. Each read is one query whatever the
number of children: a 10,000-trial sweep is watched without a query per trial."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, delete, select
from sqlalchemy.orm import Session

from mizzen.schemas.statuses import DONE_STATUSES
from mizzen.store.orm import MetricSummaryRow, RunRow
from mizzen.store.repos.pipelines import CHILD_COLUMNS

_DONE = [s.value for s in DONE_STATUSES]


def children_page(
    session: Session,
    pipeline_uuid: str,
    *,
    metric: str | None,
    descending: bool,
    limit: int,
    offset: int,
    keys: list[str] | None = None,
    statuses: list[str] | None = None,
) -> list[tuple[Any, ...]]:
    """Rows of ``CHILD_COLUMNS`` + the last value of ``metric`` (None without one), ordered by that
    value (children without it last) or, with no metric, in creation order; only ``keys`` if given."""
    value: Any = MetricSummaryRow.last if metric else None
    columns = [*CHILD_COLUMNS, value.label("metric") if metric else RunRow.id.label("metric")]
    query = select(*columns).where(RunRow.pipeline_uuid == pipeline_uuid)
    if keys is not None:
        query = query.where(RunRow.pipeline_key.in_(keys))
    if statuses is not None:
        query = query.where(RunRow.status.in_(statuses))
    ordering: list[Any] = []
    if metric:
        query = query.outerjoin(
            MetricSummaryRow, and_(MetricSummaryRow.run_id == RunRow.id, MetricSummaryRow.name == metric)
        )
        ordering.append((value.desc() if descending else value.asc()).nulls_last())
    ordering += [RunRow.created_at, RunRow.id]
    rows = session.execute(query.order_by(*ordering).limit(limit).offset(offset)).all()
    return [(*row[:-1], row[-1] if metric else None) for row in rows]


def metric_names(session: Session, pipeline_uuid: str, limit: int) -> list[str]:
    """The names of the metrics the children of ``pipeline_uuid`` logged (one query)."""
    query = (
        select(MetricSummaryRow.name)
        .join(RunRow, MetricSummaryRow.run_id == RunRow.id)
        .where(RunRow.pipeline_uuid == pipeline_uuid)
        .distinct()
        .order_by(MetricSummaryRow.name)
        .limit(limit)
    )
    return [str(name) for name in session.scalars(query).all()]


def delete_tree(session: Session, uuid: str) -> list[tuple[str, str, dict[str, Any] | None]]:
    """Delete the children of pipeline ``uuid``, their children (a DAG's sweep's trials) and so on;
    answers ``(uuid, status, meta)`` of each deleted run. The pipeline itself is left to the caller."""
    deleted: list[tuple[str, str, dict[str, Any] | None]] = []
    frontier = [uuid]
    while frontier:
        rows = session.execute(
            select(RunRow.uuid, RunRow.status, RunRow.meta).where(RunRow.pipeline_uuid.in_(frontier))
        ).all()
        found = [(str(u), str(s), m) for u, s, m in rows if u not in frontier]
        deleted += found
        frontier = [u for u, _s, _m in found]
    for start in range(0, len(deleted), 500):  # bounded IN lists
        batch = [u for u, _s, _m in deleted[start : start + 500]]
        session.execute(delete(RunRow).where(RunRow.uuid.in_(batch)))
    return deleted


def unfinished_descendants(session: Session, uuid: str) -> list[str]:
    found: list[str] = []
    frontier = [uuid]
    while frontier:
        query = select(RunRow.uuid).where(RunRow.pipeline_uuid.in_(frontier), RunRow.status.not_in(_DONE))
        frontier = [u for u in session.scalars(query).all() if u not in found and u != uuid]
        found += frontier
    return found
