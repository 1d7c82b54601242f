"""Pipelines (sweeps, DAGs, schedules): claiming them for a driver, reading their children, and
creating children exactly once per key."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from mizzen.errors import NotFound
from mizzen.schemas.statuses import DONE_STATUSES, RunStatus
from mizzen.store.database import Database, read_session, write_session
from mizzen.store.gateway._rows import run_record
from mizzen.store.records import ChildRecord, NewRun, RunRecord
from mizzen.store.repos import pipelines as repo
from mizzen.store.repos import runs as runs_repo
from mizzen.store.repos.scheduling import Scope

_DONE = frozenset(status.value for status in DONE_STATUSES)


def claim_pipelines(
    db: Database, executor: str, owner: str, *, limit: int = 16, scope: Scope | None = None
) -> list[RunRecord]:
    """Take created pipelines for ``executor`` (approved ones; within ``scope`` when given): they
    move to ``compiled`` and name ``owner`` as the driver. A read first: a tick with nothing to claim
    takes no write lock (on SQLite one would wait for, and hold up, every status the executor reports)."""
    with read_session(db) as session:
        if not repo.any_claimable(session, executor, scope):
            return []
    with write_session(db) as session:
        rows = repo.claim_pipelines(session, executor, owner, limit=limit, scope=scope)
        return [run_record(row) for row in rows]


def pipelines_of(db: Database, owner: str) -> list[RunRecord]:
    with read_session(db) as session:
        return [run_record(row) for row in repo.pipelines_of(session, owner)]


def unfinished_pipelines(db: Database, executor: str) -> list[RunRecord]:
    with read_session(db) as session:
        return [run_record(row) for row in repo.unfinished_pipelines(session, executor)]


def children(
    db: Database, pipeline_uuid: str, metrics: Iterable[str] = (), histories: Iterable[str] = ()
) -> list[ChildRecord]:
    """Every child of the pipeline, in creation order, with the last value of ``metrics`` and every
    value of ``histories``."""
    with read_session(db) as session:
        rows = repo.children(session, pipeline_uuid)
        values = repo.child_metrics(session, pipeline_uuid, metrics)
        series = repo.child_metric_histories(session, pipeline_uuid, histories)
    return [child_record(row, values, series) for row in rows]


def children_changed(
    db: Database,
    pipeline_uuid: str,
    since: datetime,
    metrics: Iterable[str] = (),
    histories: Iterable[str] = (),
    known: Mapping[str, datetime | None] | None = None,
) -> tuple[list[ChildRecord], int]:
    """The children not done or changed at ``since`` or later (creation order, with the last value
    of ``metrics`` and every value of ``histories``), and how many children the pipeline has in
    all: what a driver that already read the others needs, without reading 10,000 finished trials
    again each tick. With ``known`` (``updated_at`` by uuid, of the children the caller has), a
    done child it has as it is now is left out (a light read finds them first), so that only what
    changed is read in full."""
    with read_session(db) as session:
        if known is None:
            rows = repo.children_changed(session, pipeline_uuid, since)
        else:
            wanted = [
                uuid
                for uuid, status, updated_at in repo.children_touched(session, pipeline_uuid, since)
                if status not in _DONE or uuid not in known or known[uuid] != updated_at
            ]
            rows = repo.children_by_uuid(session, pipeline_uuid, wanted) if wanted else []
        uuids = [row[0] for row in rows]
        values = repo.child_metrics(session, pipeline_uuid, metrics, uuids) if rows else {}
        series = repo.child_metric_histories(session, pipeline_uuid, histories, uuids) if rows else {}
        total = repo.children_count(session, pipeline_uuid)
    return [child_record(row, values, series) for row in rows], total


def child_record(
    row: tuple[Any, ...],
    values: dict[str, dict[str, float]],
    series: dict[str, dict[str, tuple[float, ...]]] | None = None,
) -> ChildRecord:
    """A row of ``repos.pipelines.CHILD_COLUMNS`` as a record, with its metrics' values from
    ``values[uuid]`` and their histories from ``series[uuid]``."""
    (
        uuid,
        key,
        name,
        kind,
        status,
        params,
        inputs,
        outputs,
        meta,
        created_at,
        started_at,
        finished_at,
        updated_at,
    ) = row
    return ChildRecord(
        uuid=uuid,
        key=key,
        name=name,
        kind=kind,
        status=RunStatus(status),
        params=dict(params or {}),
        inputs=dict(inputs or {}),
        outputs=dict(outputs or {}),
        meta=dict(meta or {}),
        created_at=created_at,
        started_at=started_at,
        finished_at=finished_at,
        metrics=values.get(uuid, {}),
        histories=(series or {}).get(uuid, {}),
        updated_at=updated_at,
    )


def status_counts(db: Database, pipeline_uuid: str) -> dict[str, int]:
    """``{status: count}`` of the pipeline's children, in one query."""
    with read_session(db) as session:
        return repo.status_counts(session, pipeline_uuid)


def create_children(db: Database, pipeline_uuid: str, news: Sequence[NewRun]) -> list[RunRecord]:
    """Create the children whose ``pipeline_key`` is not taken yet, in one transaction; answers those
    created (a key already used — by this driver before a crash, or by another driver — is skipped).
    ``NotFound`` when the pipeline is gone (deleted meanwhile)."""
    with write_session(db) as session:
        if runs_repo.find_run(session, pipeline_uuid, for_update=True) is None:
            raise NotFound(f"run '{pipeline_uuid}' not found")
        taken = repo.existing_keys(session, pipeline_uuid, [n.pipeline_key for n in news if n.pipeline_key])
        created = []
        for new in news:
            if new.pipeline_key in taken:
                continue
            row = repo.create_child(session, new)
            if row is not None:
                created.append(run_record(row))
                taken.add(new.pipeline_key or "")
        return created


def children_uuids(db: Database, pipeline_uuid: str) -> list[str]:
    with read_session(db) as session:
        return repo.children_uuids(session, pipeline_uuid)


def take_over(db: Database, uuid: str, old_owner: str, new_owner: str) -> RunRecord | None:
    """``new_owner`` drives pipeline ``uuid`` from now on, if ``old_owner`` still did (else None)."""
    with write_session(db) as session:
        row = repo.take_over(session, uuid, old_owner, new_owner)
        return run_record(row) if row is not None else None


def children_ended_by(db: Database, pipeline_uuid: str, reasons: Iterable[str]) -> list[str]:
    """Done children whose last status change gave one of ``reasons`` (``orphaned``, ...)."""
    with read_session(db) as session:
        return repo.children_ended_by(session, pipeline_uuid, reasons)
