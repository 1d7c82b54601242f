"""A pipeline as the API shows it: a page of its children with one metric, in one query; and
deleting a pipeline together with its children, recursively."""

from __future__ import annotations

from mizzen.schemas.run_meta import CODE_RUN_KEY
from mizzen.schemas.statuses import RunStatus
from mizzen.store.database import Database, read_session, write_session
from mizzen.store.gateway._rows import run_record
from mizzen.store.gateway.pipelines import child_record
from mizzen.store.records import ChildRecord, RunRecord
from mizzen.store.repos import pipeline_reads as repo
from mizzen.store.repos import runs as runs_repo


def children_page(
    db: Database,
    pipeline_uuid: str,
    *,
    metric: str | None = None,
    descending: bool = False,
    limit: int = 100,
    offset: int = 0,
    keys: list[str] | None = None,
    statuses: list[str] | None = None,
) -> list[ChildRecord]:
    """Children (in ``statuses`` when given) ordered by the last value of ``metric`` (``descending``
    to maximise; those without it last) or by creation; each with ``metrics={metric: value}`` when
    it has one."""
    with read_session(db) as session:
        rows = repo.children_page(
            session,
            pipeline_uuid,
            metric=metric,
            descending=descending,
            limit=limit,
            offset=offset,
            keys=keys,
            statuses=statuses,
        )
    return [
        child_record(row[:-1], {row[0]: {metric: float(row[-1])}} if metric and row[-1] is not None else {})
        for row in rows
    ]


def metric_names(db: Database, pipeline_uuid: str, limit: int = 50) -> list[str]:
    """The metrics the pipeline's children logged, by name (at most ``limit``)."""
    with read_session(db) as session:
        return repo.metric_names(session, pipeline_uuid, limit)


def delete_pipeline(db: Database, uuid: str) -> tuple[RunRecord, list[tuple[str, RunStatus, str | None]]]:
    """Delete pipeline ``uuid`` and every run under it in one transaction. Answers the pipeline as it
    was and ``(uuid, status before, code run)`` of each run deleted under it."""
    with write_session(db) as session:
        record = run_record(runs_repo.get_run(session, uuid))
        under = repo.delete_tree(session, uuid)
        runs_repo.delete_run(session, uuid)
    return record, [(u, RunStatus(s), (m or {}).get(CODE_RUN_KEY)) for u, s, m in under]


def unfinished_descendants(db: Database, uuid: str) -> list[str]:
    """The runs under pipeline ``uuid`` (its children, a DAG's sweep's trials, ...) not done yet."""
    with read_session(db) as session:
        return repo.unfinished_descendants(session, uuid)
