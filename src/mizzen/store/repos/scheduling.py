"""Queries a scheduler loop needs: runs waiting for an executor, runs it must stop, runs unfinished."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, or_, select, true
from sqlalchemy.orm import Session

from mizzen.schemas.pipelines import PIPELINE_KINDS
from mizzen.schemas.run_meta import APPROVED_KEY, OWNER_KEY, UPLOAD_KEY, UPLOAD_PENDING
from mizzen.schemas.statuses import DONE_STATUSES, RunStatus
from mizzen.store.json_sql import json_bool, json_text
from mizzen.store.orm import RunRow
from mizzen.store.repos.runs import rotate_token, update_run
from mizzen.store.repos.statuses import set_status

# (run uuids, pipeline uuids): a scoped claim takes only those runs and those pipelines' children.
Scope = tuple[Collection[str], Collection[str]]


def in_scope(scope: Scope | None) -> ColumnElement[bool]:
    """Runs a scoped scheduler may claim: its roots, and children of its pipelines (None: all)."""
    if scope is None:
        return true()
    roots, pipelines = scope
    return or_(RunRow.uuid.in_(sorted(roots)), RunRow.pipeline_uuid.in_(sorted(pipelines)))


def created_runs(
    session: Session, executor: str, *, limit: int, queue: str | None = None, scope: Scope | None = None
) -> Sequence[RunRow]:
    """The oldest managed runs waiting for ``executor`` — created, or queued again by a resume (no
    owner yet) — whose code is not still uploading; locked for the caller's transaction (PostgreSQL
    skips rows another scheduler holds; SQLite write sessions hold the whole database). Runs that
    ``tracking.init()`` created (unmanaged) belong to the script that tracks them: never claimed.
    Pipelines (sweeps, DAGs, schedules) are the pipeline driver's, and runs held for approval wait."""
    owner = json_text(RunRow.meta, OWNER_KEY)
    upload = json_text(RunRow.meta, UPLOAD_KEY)
    approved = json_bool(RunRow.meta, APPROVED_KEY)
    waiting = or_(
        RunRow.status == RunStatus.CREATED.value,
        and_(RunRow.status == RunStatus.QUEUED.value, owner.is_(None)),
    )
    query = select(RunRow).where(
        RunRow.executor == executor,
        RunRow.managed.is_(True),
        waiting,
        or_(upload.is_(None), upload != UPLOAD_PENDING),
        or_(approved.is_(None), approved != "false"),
        RunRow.kind.not_in(sorted(PIPELINE_KINDS)),
        in_scope(scope),
    )
    if queue is not None:
        query = query.where(RunRow.queue == queue)
    query = (
        query.order_by(RunRow.created_at, RunRow.id).limit(limit).with_for_update(skip_locked=True, of=RunRow)
    )
    return session.scalars(query).all()


@dataclass
class Claim:
    run: RunRow
    token: str  # a fresh API token for the run (only its hash is stored)
    previous: RunStatus  # created (now compiled) or queued (a resumed run, left queued)


def claim_runs(
    session: Session,
    executor: str,
    owner: str,
    *,
    limit: int,
    queue: str | None = None,
    reason: str | None = None,
    message: str | None = None,
    scope: Scope | None = None,
) -> list[Claim]:
    """Take up to ``limit`` waiting runs for ``owner``: each records its owner and gets a fresh
    token; a created run moves to ``compiled``, a resumed one stays ``queued``."""
    claims = []
    for run in created_runs(session, executor, limit=limit, queue=queue, scope=scope):
        previous = RunStatus(run.status)
        token = rotate_token(run)
        update_run(session, run, meta={OWNER_KEY: owner})
        if previous == RunStatus.CREATED:
            set_status(session, run, RunStatus.COMPILED, reason, message)
        claims.append(Claim(run, token, previous))
    return claims


def runs_in_status(session: Session, executor: str, status: RunStatus) -> Sequence[RunRow]:
    query = select(RunRow).where(RunRow.executor == executor, RunRow.status == status.value)
    return session.scalars(query).all()


def unfinished_runs(session: Session, executor: str) -> Sequence[RunRow]:
    done = [s.value for s in DONE_STATUSES]
    query = select(RunRow).where(RunRow.executor == executor, RunRow.status.not_in(done))
    return session.scalars(query).all()
