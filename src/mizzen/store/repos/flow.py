"""Approvals and the run cache: holding a run until someone approves it, finding a succeeded run
with the same cache key, and dropping a run from the cache."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from mizzen.schemas.statuses import RunStatus
from mizzen.store.orm import RunRow


def cached_run(session: Session, run: RunRow, key: str, *, ttl: int | None, now: datetime) -> RunRow | None:
    """The latest succeeded run of ``run``'s project with cache ``key`` (finished within ``ttl``
    seconds of ``now`` when given), other than ``run`` itself."""
    query = select(RunRow).where(
        RunRow.cache_key == key,
        RunRow.project_id == run.project_id,
        RunRow.status == RunStatus.SUCCEEDED.value,
        RunRow.id != run.id,
    )
    if ttl is not None:
        query = query.where(RunRow.finished_at >= now - timedelta(seconds=ttl))
    return session.scalars(query.order_by(RunRow.finished_at.desc(), RunRow.id.desc()).limit(1)).first()


def drop_cache_keys(session: Session, run: RunRow) -> list[str]:
    """Clear the cache key of ``run`` and of its pipeline's children (a sweep's trials, a DAG's ops);
    the uuids whose key was cleared."""
    children = select(RunRow.uuid).where(RunRow.pipeline_uuid == run.uuid, RunRow.cache_key.is_not(None))
    dropped = list(session.scalars(children).all())
    if dropped:
        session.execute(update(RunRow).where(RunRow.uuid.in_(dropped)).values(cache_key=None))
    if run.cache_key is not None:
        run.cache_key = None
        dropped.insert(0, run.uuid)
    session.flush()
    return dropped
