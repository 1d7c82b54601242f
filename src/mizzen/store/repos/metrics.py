"""Metric points: bulk ingest with summary upkeep, columnar history reads, summaries.

Ingest inserts with one executemany and folds the batch into ``metric_summaries`` with one
INSERT ... ON CONFLICT DO UPDATE whose arithmetic runs in the database, so concurrent batches for
the same run cannot lose each other's counts or extremes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import and_, case, insert, or_, select
from sqlalchemy.orm import Session

from mizzen.store.orm import MetricRow, MetricSummaryRow
from mizzen.store.repos._raw import fetch_tuples
from mizzen.store.repos._upsert import dialect_insert

_INSERT_CHUNK = 20_000  # rows per executemany call: bounded memory for very large batches


class Point(NamedTuple):
    name: str
    step: int | None
    timestamp: float
    value: float


@dataclass
class _Fold:
    """A batch's contribution to one metric's summary."""

    last: float
    last_step: int | None
    last_timestamp: float
    min: float
    max: float
    count: int


def is_newer(step: int | None, timestamp: float, than_step: int | None, than_timestamp: float) -> bool:
    """Which point is "last": the higher step; on equal or missing steps, the later (or same) time."""
    if step is not None and than_step is not None and step != than_step:
        return step > than_step
    return timestamp >= than_timestamp


def ingest(session: Session, run_id: int, points: Iterable[Point]) -> int:
    """Store the points of one run; returns how many were stored."""
    folds: dict[str, _Fold] = {}
    rows: list[dict[str, Any]] = []
    for name, step, timestamp, value in points:
        rows.append({"run_id": run_id, "name": name, "step": step, "timestamp": timestamp, "value": value})
        fold = folds.get(name)
        if fold is None:
            folds[name] = _Fold(value, step, timestamp, value, value, 1)
            continue
        fold.count += 1
        fold.min = min(fold.min, value)
        fold.max = max(fold.max, value)
        if is_newer(step, timestamp, fold.last_step, fold.last_timestamp):
            fold.last, fold.last_step, fold.last_timestamp = value, step, timestamp
    if not rows:
        return 0
    for start in range(0, len(rows), _INSERT_CHUNK):
        session.execute(insert(MetricRow.__table__), rows[start : start + _INSERT_CHUNK])  # type: ignore[arg-type]
    _fold_into_summaries(session, run_id, folds)
    return len(rows)


def _fold_into_summaries(session: Session, run_id: int, folds: dict[str, _Fold]) -> None:
    table = MetricSummaryRow.__table__
    stmt = dialect_insert(session, table)
    new, old = stmt.excluded, table.c
    newer = or_(
        and_(new.last_step.is_not(None), old.last_step.is_not(None), new.last_step > old.last_step),
        and_(
            or_(new.last_step.is_(None), old.last_step.is_(None), new.last_step == old.last_step),
            new.last_timestamp >= old.last_timestamp,
        ),
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[old.run_id, old.name],
        set_={
            "last": case((newer, new.last), else_=old.last),
            "last_step": case((newer, new.last_step), else_=old.last_step),
            "last_timestamp": case((newer, new.last_timestamp), else_=old.last_timestamp),
            "min": case((new.min < old.min, new.min), else_=old.min),
            "max": case((new.max > old.max, new.max), else_=old.max),
            "count": old.count + new.count,
        },
    )
    values = [
        {
            "run_id": run_id,
            "name": name,
            "last": f.last,
            "last_step": f.last_step,
            "last_timestamp": f.last_timestamp,
            "min": f.min,
            "max": f.max,
            "count": f.count,
        }
        for name, f in folds.items()
    ]
    session.execute(stmt, values)


class History(NamedTuple):
    steps: list[int | None]
    timestamps: list[float]
    values: list[float]


def history(session: Session, run_id: int, name: str) -> History:
    """Every point of one metric, ordered by step then time, as three columns.

    Read through the driver's cursor: for 100,000 points SQLAlchemy's row objects cost several
    times the query itself, and these rows need no type processing.
    """
    m = MetricRow.__table__.c
    query = (
        select(m.step, m.timestamp, m.value)
        .where(m.run_id == run_id, m.name == name)
        .order_by(m.step.asc().nulls_first(), m.timestamp)
    )
    rows = fetch_tuples(session, query)
    return History([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows])


def summaries(session: Session, run_id: int) -> list[MetricSummaryRow]:
    return list(
        session.scalars(
            select(MetricSummaryRow).where(MetricSummaryRow.run_id == run_id).order_by(MetricSummaryRow.name)
        )
    )


def summaries_of_runs(session: Session, run_ids: Sequence[int]) -> dict[int, list[MetricSummaryRow]]:
    """Summaries of several runs at once (for comparisons)."""
    grouped: dict[int, list[MetricSummaryRow]] = {run_id: [] for run_id in run_ids}
    for row in session.scalars(
        select(MetricSummaryRow).where(MetricSummaryRow.run_id.in_(run_ids)).order_by(MetricSummaryRow.name)
    ):
        grouped[row.run_id].append(row)
    return grouped
