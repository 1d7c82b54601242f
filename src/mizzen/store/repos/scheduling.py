"""Queries a scheduler loop needs: runs waiting for an executor, runs it must stop, runs unfinished."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from mizzen.schemas.statuses import DONE_STATUSES, RunStatus
from mizzen.store.orm import RunRow

CLAIMABLE = (RunStatus.CREATED.value, RunStatus.QUEUED.value)


def created_runs(session: Session, executor: str, *, limit: int) -> Sequence[RunRow]:
    """The oldest runs waiting for ``executor`` (created, or queued again by a resume; the caller
    skips queued runs that already have an owner), locked for the caller's transaction (PostgreSQL
    skips rows another scheduler holds; SQLite write sessions hold the whole database)."""
    query = (
        select(RunRow)
        .where(RunRow.executor == executor, RunRow.status.in_(CLAIMABLE))
        .order_by(RunRow.created_at, RunRow.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=RunRow)
    )
    return session.scalars(query).all()


def runs_in_status(session: Session, executor: str, status: RunStatus) -> Sequence[RunRow]:
    query = select(RunRow).where(RunRow.executor == executor, RunRow.status == status.value)
    return session.scalars(query).all()


def unfinished_runs(session: Session, executor: str) -> Sequence[RunRow]:
    done = [s.value for s in DONE_STATUSES]
    query = select(RunRow).where(RunRow.executor == executor, RunRow.status.not_in(done))
    return session.scalars(query).all()
