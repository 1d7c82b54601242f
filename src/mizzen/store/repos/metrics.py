"""Metric points: bulk ingest with summary upkeep, columnar history reads, summaries.

Ingest inserts through the driver (COPY on PostgreSQL, executemany on SQLite) and folds the batch
into ``metric_summaries`` with one INSERT ... ON CONFLICT DO UPDATE whose arithmetic runs in the
database, so concurrent batches for the same run cannot lose each other's counts or extremes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlalchemy import and_, case, or_, select
from sqlalchemy.orm import Session

from mizzen.store.orm import MetricRow, MetricSummaryRow
from mizzen.store.records import MetricPoints, PointTuple
from mizzen.store.repos._raw import fetch_tuples
from mizzen.store.repos._upsert import dialect_insert

_INSERT_CHUNK = 20_000  # rows per driver call: bounded memory for very large batches


class Point(NamedTuple):
    name: str
    step: int | None
    timestamp: float
    value: float


# ``ingest`` takes a ``Point`` or any ``PointTuple`` (a plain tuple in its order).
History = MetricPoints


def _fold(points: Sequence[PointTuple]) -> dict[str, list[Any]]:
    """Per metric: [last, last_step, last_timestamp, min, max, count] of the batch (a hot loop).

    The "last" point has the higher step; on equal or missing steps, the later (or same) time.
    ``_fold_into_summaries`` applies the same rule in SQL.
    """
    folds: dict[str, list[Any]] = {}
    for name, step, timestamp, value in points:
        fold = folds.get(name)
        if fold is None:
            folds[name] = [value, step, timestamp, value, value, 1]
            continue
        fold[5] += 1
        if value < fold[3]:
            fold[3] = value
        elif value > fold[4]:
            fold[4] = value
        last_step = fold[1]
        if step is not None and last_step is not None and step != last_step:
            newer = step > last_step
        else:
            newer = timestamp >= fold[2]
        if newer:
            fold[0], fold[1], fold[2] = value, step, timestamp
    return folds


def ingest(session: Session, run_id: int, points: Sequence[PointTuple]) -> int:
    """Store the points of one run; returns how many were stored."""
    if not points:
        return 0
    folds = _fold(points)
    for start in range(0, len(points), _INSERT_CHUNK):
        _bulk_insert(session, run_id, points[start : start + _INSERT_CHUNK])
    _fold_into_summaries(session, run_id, folds)
    return len(points)


_COLUMNS = "run_id, name, step, timestamp, value"


def _bulk_insert(session: Session, run_id: int, points: Sequence[PointTuple]) -> None:
    """Through the driver: COPY on PostgreSQL, one prepared executemany on SQLite. Per-row
    parameter handling in SQLAlchemy would cost more than the insert itself."""
    connection = session.connection()
    cursor = connection.connection.cursor()
    try:
        if connection.dialect.name == "postgresql":
            with cursor.copy(f"COPY metrics ({_COLUMNS}) FROM STDIN") as copy:
                for point in points:
                    copy.write_row((run_id, *point))
        else:
            # The run id (an integer the database gave) is part of the statement, so that the
            # points go to the driver as they are, without a row tuple built for each.
            statement = f"INSERT INTO metrics ({_COLUMNS}) VALUES ({int(run_id)}, ?, ?, ?, ?)"
            cursor.executemany(statement, points)
    finally:
        cursor.close()


def _fold_into_summaries(session: Session, run_id: int, folds: dict[str, list[Any]]) -> None:
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
            "last": last,
            "last_step": last_step,
            "last_timestamp": last_timestamp,
            "min": low,
            "max": high,
            "count": count,
        }
        for name, (last, last_step, last_timestamp, low, high, count) in folds.items()
    ]
    session.execute(stmt, values)


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
