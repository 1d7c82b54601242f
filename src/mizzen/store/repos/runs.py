"""Runs: create, read, update, delete, and the small atomic counters they carry."""

from __future__ import annotations

import hashlib
import secrets
import uuid as uuidlib
from datetime import datetime
from typing import Any

from sqlalchemy import Text, cast, delete, select, update
from sqlalchemy.orm import Session

from mizzen.errors import NotFound
from mizzen.schemas.run_meta import APPROVED_KEY, WAITING_FOR_APPROVAL
from mizzen.schemas.statuses import RunStatus
from mizzen.store.clock import utcnow
from mizzen.store.orm import RunRow
from mizzen.store.records import NewRun, RunProgress
from mizzen.store.repos.projects import ensure_project
from mizzen.store.repos.statuses import set_status


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def create_run(session: Session, new: NewRun, *, now: datetime | None = None) -> tuple[RunRow, str]:
    """Insert a run (its project is created if missing); returns the row and the run's API token,
    which is stored only as a hash."""
    now = now or utcnow()
    project = ensure_project(session, new.project, now=now)
    token = new_token()
    run = RunRow(
        uuid=new.uuid or uuidlib.uuid4().hex,
        project_id=project.id,
        project=project,
        name=new.name,
        description=new.description,
        kind=new.kind,
        content=new.content,
        spec=new.spec,
        plan=new.plan,
        params=dict(new.params),
        inputs=dict(new.inputs),
        outputs=dict(new.outputs),
        tags=list(new.tags),
        meta=dict(new.meta),
        pipeline_uuid=new.pipeline_uuid,
        pipeline_key=new.pipeline_key,
        parent_uuid=new.parent_uuid,
        original_uuid=new.original_uuid,
        cloning_kind=new.cloning_kind,
        executor=new.executor,
        queue=new.queue,
        cache_key=new.cache_key,
        managed=new.managed,
        token_hash=hash_token(token),
        log_lines=0,
        created_at=now,
        updated_at=now,
    )
    if new.status == RunStatus.CREATED and new.meta.get(APPROVED_KEY) is False:  # `isApproved: false`
        held = f"waiting for approval: mizzen ops approve {run.uuid[:12]}"
        set_status(session, run, RunStatus.CREATED, WAITING_FOR_APPROVAL, held, now=now)
    else:
        set_status(session, run, RunStatus.CREATED, now=now)
    if new.status != RunStatus.CREATED:
        set_status(session, run, new.status, new.status_reason, new.status_message, now=now)
    return run, token


def find_run(session: Session, uuid: str, *, for_update: bool = False) -> RunRow | None:
    query = select(RunRow).where(RunRow.uuid == uuid)
    if for_update:  # PostgreSQL row lock; SQLite write sessions already hold the database lock
        query = query.with_for_update(of=RunRow)
    return session.scalars(query).one_or_none()


def get_run(session: Session, uuid: str, *, for_update: bool = False) -> RunRow:
    run = find_run(session, uuid, for_update=for_update)
    if run is None:
        raise NotFound(f"run '{uuid}' not found")
    return run


def run_id_of(session: Session, uuid: str) -> int:
    """The internal id of a run, without loading it."""
    run_id = session.scalar(select(RunRow.id).where(RunRow.uuid == uuid))
    if run_id is None:
        raise NotFound(f"run '{uuid}' not found")
    return run_id


def progress_of(session: Session, uuid: str) -> RunProgress:
    """A run's status, log line count and end time, without loading the run."""
    row = session.execute(
        select(RunRow.status, RunRow.log_lines, RunRow.finished_at).where(RunRow.uuid == uuid)
    ).one_or_none()
    if row is None:
        raise NotFound(f"run '{uuid}' not found")
    return RunProgress(RunStatus(row[0]), int(row[1]), row[2])


def run_uuid_of_token(session: Session, token: str) -> str | None:
    """The uuid of the run whose token this is, without loading the run (checked on every request
    a run's process makes to a server that requires tokens)."""
    return session.scalar(select(RunRow.uuid).where(RunRow.token_hash == hash_token(token)))


def rotate_token(run: RunRow) -> str:
    token = new_token()
    run.token_hash = hash_token(token)
    return token


def update_run(
    session: Session,
    run: RunRow,
    *,
    name: str | None = None,
    description: str | None = None,
    tags: list[str] | None = None,
    params: dict[str, Any] | None = None,
    inputs: dict[str, Any] | None = None,
    outputs: dict[str, Any] | None = None,
    meta: dict[str, Any] | None = None,
    plan: dict[str, Any] | None = None,
    clear_plan: bool = False,
    now: datetime | None = None,
) -> RunRow:
    """Replace name/description/tags/plan when given; merge params/inputs/outputs/meta key by key."""
    if name is not None:
        run.name = name
    if description is not None:
        run.description = description
    if tags is not None:
        run.tags = list(tags)
    if params is not None:
        run.params = {**run.params, **params}
    if inputs is not None:
        run.inputs = {**run.inputs, **inputs}
    if outputs is not None:
        run.outputs = {**run.outputs, **outputs}
    if meta is not None:
        run.meta = {**run.meta, **meta}
    if plan is not None:
        run.plan = plan
    elif clear_plan:
        run.plan = None
    run.updated_at = now or utcnow()
    session.flush()
    return run


def delete_run(session: Session, uuid: str) -> None:
    """Delete the run (its metrics, statuses and lineage cascade) in one statement."""
    deleted = session.execute(delete(RunRow).where(RunRow.uuid == uuid))
    if not getattr(deleted, "rowcount", 0):
        raise NotFound(f"run '{uuid}' not found")


def reserve_log_lines(session: Session, uuid: str, count: int) -> int:
    """Hand out ``count`` consecutive log offsets for ``uuid``; returns the first one. Atomic across
    processes (one UPDATE ... RETURNING)."""
    new_total = session.execute(
        update(RunRow)
        .where(RunRow.uuid == uuid)
        .values(log_lines=RunRow.log_lines + count)
        .returning(RunRow.log_lines)
    ).scalar_one_or_none()
    if new_total is None:
        raise NotFound(f"run '{uuid}' not found")
    return int(new_total) - count


def finished_mentioning(
    session: Session, since: datetime, key: str, *, limit: int
) -> list[tuple[str, str, dict[str, Any] | None, datetime]]:
    """``(uuid, kind, meta, finished_at)`` of runs finished at ``since`` or later whose spec names
    ``key`` anywhere (a text match on the stored JSON: callers read the spec to be sure), oldest end
    first. Lets the hook loop skip the runs that have no hooks without reading each of them."""
    query = (
        select(RunRow.uuid, RunRow.kind, RunRow.meta, RunRow.finished_at)
        .where(RunRow.finished_at >= since, cast(RunRow.spec, Text).like(f'%"{key}"%'))
        .order_by(RunRow.finished_at, RunRow.id)
        .limit(limit)
    )
    return [(str(u), str(k), m, f) for u, k, m, f in session.execute(query).all()]
