"""Reading runs as records (one run with its history, searches, the runs of an executor by status,
the statuses of many), the log-line counter a run carries, and a run's own changes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from mizzen.schemas.statuses import RunStatus
from mizzen.store.database import Database, read_session, write_session
from mizzen.store.gateway._rows import condition_record, run_detail, run_record
from mizzen.store.query import Condition, SortKey
from mizzen.store.records import ConditionRecord, RunDetail, RunPage, RunProgress, RunRecord
from mizzen.store.repos import run_list, scheduling, statuses
from mizzen.store.repos import runs as repo


def get_run(db: Database, uuid: str) -> RunRecord:
    """The run (``NotFound`` when unknown)."""
    with read_session(db) as session:
        return run_record(repo.get_run(session, uuid))


def get_run_detail(db: Database, uuid: str) -> RunDetail:
    """The run with its status history and metric summaries (``NotFound`` when unknown)."""
    with read_session(db) as session:
        return run_detail(session, repo.get_run(session, uuid))


def search_page(
    db: Database,
    *,
    project: str | None = None,
    conditions: Sequence[Condition] = (),
    sort: Sequence[SortKey] = (),
    limit: int = 100,
    offset: int = 0,
) -> RunPage:
    """One page of the runs matching ``conditions`` (of ``project`` when given), in ``sort`` order."""
    with read_session(db) as session:
        return run_list.list_runs(
            session, project=project, conditions=conditions, sort=sort, limit=limit, offset=offset
        )


def conditions_of(db: Database, uuid: str) -> list[ConditionRecord]:
    """The run's status history, oldest first."""
    with read_session(db) as session:
        return [condition_record(c) for c in statuses.list_conditions(session, repo.run_id_of(session, uuid))]


def run_of_token(db: Database, token: str) -> str | None:
    """The uuid of the run whose API token this is, or None."""
    with read_session(db) as session:
        return repo.run_uuid_of_token(session, token)


def runs_in_status(db: Database, executor: str, status: RunStatus) -> list[RunRecord]:
    """The runs of ``executor`` in ``status`` now."""
    with read_session(db) as session:
        return [run_record(row) for row in scheduling.runs_in_status(session, executor, status)]


def unfinished_runs(db: Database, executor: str) -> list[RunRecord]:
    """The runs of ``executor`` not yet done, oldest first."""
    with read_session(db) as session:
        rows = sorted(scheduling.unfinished_runs(session, executor), key=lambda row: (row.created_at, row.id))
        return [run_record(row) for row in rows]


def statuses_of(db: Database, uuids: Iterable[str]) -> dict[str, RunStatus]:
    """The status of each of ``uuids`` that names a run (a missing run is missing from the answer)."""
    with read_session(db) as session:
        found = (repo.find_run(session, uuid) for uuid in sorted(set(uuids)))
        return {row.uuid: RunStatus(row.status) for row in found if row is not None}


def require_run(db: Database, uuid: str) -> None:
    """``NotFound`` for an unknown run (one indexed lookup)."""
    with read_session(db) as session:
        repo.run_id_of(session, uuid)


def reserve_log_lines(db: Database, uuid: str, count: int) -> int:
    """Hand out ``count`` consecutive log offsets of run ``uuid``; returns the first one. Atomic
    across processes and replicas."""
    with write_session(db) as session:
        return repo.reserve_log_lines(session, uuid, count)


def progress_of(db: Database, uuid: str) -> RunProgress:
    """The run's status, log line count and end time, without loading the run."""
    with read_session(db) as session:
        return repo.progress_of(session, uuid)


def update_run(
    db: Database,
    uuid: str,
    *,
    name: str | None = None,
    description: str | None = None,
    tags: list[str] | None = None,
    inputs: dict[str, Any] | None = None,
    outputs: dict[str, Any] | None = None,
    meta: dict[str, Any] | None = None,
    plan: dict[str, Any] | None = None,
) -> RunDetail:
    """Under the run's lock, replace name/description/tags/plan when given and merge
    inputs/outputs/meta key by key; the run as it is now."""
    with write_session(db) as session:
        row = repo.get_run(session, uuid, for_update=True)
        repo.update_run(
            session,
            row,
            name=name,
            description=description,
            tags=tags,
            inputs=inputs,
            outputs=outputs,
            meta=meta,
            plan=plan,
        )
        return run_detail(session, row)


def finished_mentioning(
    db: Database, since: datetime, key: str, *, limit: int = 500
) -> list[tuple[str, str, dict[str, Any], datetime]]:
    """``(uuid, kind, meta, finished_at)`` of the runs finished since ``since`` whose spec names
    ``key`` (e.g. ``hooks``), oldest end first: one query, no run read in full."""
    with read_session(db) as session:
        rows = repo.finished_mentioning(session, since, key, limit=limit)
    return [(uuid, kind, dict(meta or {}), finished) for uuid, kind, meta, finished in rows]
