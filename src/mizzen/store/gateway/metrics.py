"""Metrics of a run: idempotent batch ingest, summaries, one metric's history."""

from __future__ import annotations

from collections.abc import Sequence

from mizzen.store.database import Database, read_session, write_session
from mizzen.store.gateway._rows import summary_record
from mizzen.store.records import MetricPoints, MetricSummaryRecord, PointTuple
from mizzen.store.repos import idempotency
from mizzen.store.repos import metrics as repo
from mizzen.store.repos.runs import run_id_of


def ingest(
    db: Database, run_uuid: str, points: Sequence[PointTuple], idempotency_key: str | None = None
) -> int:
    """Store the points of run ``run_uuid``; returns how many were accepted. With an
    ``idempotency_key`` (a store-wide key, scoped by the caller) a replayed call stores nothing and
    returns the first call's answer. ``NotFound`` for an unknown run, even on a replay."""
    with write_session(db) as session:
        run_id = run_id_of(session, run_uuid)
        if (
            idempotency_key is not None
            and (answer := idempotency.recall(session, idempotency_key)) is not None
        ):
            return int(answer["accepted"])
        accepted = repo.ingest(session, run_id, points)
        if idempotency_key is not None:
            idempotency.remember(session, idempotency_key, {"accepted": accepted})
    return accepted


def summaries(db: Database, run_uuid: str) -> list[MetricSummaryRecord]:
    """One summary per metric of the run, by name."""
    with read_session(db) as session:
        return [summary_record(row) for row in repo.summaries(session, run_id_of(session, run_uuid))]


def history(db: Database, run_uuid: str, name: str) -> MetricPoints:
    """Every point of metric ``name`` of the run (empty columns for a metric never logged)."""
    with read_session(db) as session:
        return repo.history(session, run_id_of(session, run_uuid), name)
