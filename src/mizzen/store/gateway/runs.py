"""Runs as records: existence checks, the runs of an executor by status, the statuses of many,
and the log-line counter a run carries."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from mizzen.schemas.statuses import RunStatus
from mizzen.store.database import Database
from mizzen.store.gateway._rows import run_record
from mizzen.store.records import RunProgress, RunRecord
from mizzen.store.repos import runs as repo
from mizzen.store.repos import scheduling


def runs_in_status(db: Database, executor: str, status: RunStatus) -> list[RunRecord]:
    """The runs of ``executor`` in ``status`` now."""
    with db.read() as session:
        return [run_record(row) for row in scheduling.runs_in_status(session, executor, status)]


def unfinished_runs(db: Database, executor: str) -> list[RunRecord]:
    """The runs of ``executor`` not yet done, oldest first."""
    with db.read() as session:
        rows = sorted(scheduling.unfinished_runs(session, executor), key=lambda row: (row.created_at, row.id))
        return [run_record(row) for row in rows]


def statuses_of(db: Database, uuids: Iterable[str]) -> dict[str, RunStatus]:
    """The status of each of ``uuids`` that names a run (a missing run is missing from the answer)."""
    with db.read() as session:
        found = (repo.find_run(session, uuid) for uuid in sorted(set(uuids)))
        return {row.uuid: RunStatus(row.status) for row in found if row is not None}


def require_run(db: Database, uuid: str) -> None:
    """``NotFound`` for an unknown run (one indexed lookup)."""
    with db.read() as session:
        repo.run_id_of(session, uuid)


def reserve_log_lines(db: Database, uuid: str, count: int) -> int:
    """Hand out ``count`` consecutive log offsets of run ``uuid``; returns the first one. Atomic
    across processes and replicas."""
    with db.write() as session:
        return repo.reserve_log_lines(session, uuid, count)


def progress_of(db: Database, uuid: str) -> RunProgress:
    """The run's status, log line count and end time, without loading the run."""
    with db.read() as session:
        return repo.progress_of(session, uuid)


def update_run(
    db: Database,
    uuid: str,
    *,
    plan: dict[str, Any] | None = None,
) -> RunRecord:
    """Replace the run's plan (under its lock); the run as it is now."""
    with db.write() as session:
        row = repo.get_run(session, uuid, for_update=True)
        return run_record(repo.update_run(session, row, plan=plan))
