"""Approvals and the run cache (``scheduler.caching`` computes the keys; this stores and finds them)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from mizzen.schemas.run_meta import APPROVED_KEY, CACHE_HIT_KEY, CACHE_INVALIDATED_KEY
from mizzen.schemas.statuses import RunStatus
from mizzen.store.clock import utcnow
from mizzen.store.database import Database, write_session
from mizzen.store.gateway._rows import run_detail, run_record
from mizzen.store.records import RunDetail, RunRecord, StatusChange
from mizzen.store.repos import flow as repo
from mizzen.store.repos import runs as runs_repo
from mizzen.store.repos.statuses import set_status

CACHE_HIT_REASON = "CacheHit"
APPROVED_REASON = "Approved"


def approve(db: Database, uuid: str, check: Callable[[RunRecord], None]) -> StatusChange:
    """Let run ``uuid`` be claimed: meta approved true, and a condition saying it was approved.
    ``check(run)`` (under the run's lock) raises to refuse, e.g. a run that is not held."""
    with write_session(db) as session:
        row = runs_repo.get_run(session, uuid, for_update=True)
        check(run_record(row))
        previous = RunStatus(row.status)
        runs_repo.update_run(session, row, meta={APPROVED_KEY: True})
        changed = set_status(session, row, previous, APPROVED_REASON, "approved: it may start now")
        return StatusChange(run_detail(session, row), previous, changed)


def use_cache(
    db: Database, uuid: str, key: str, *, ttl: int | None, now: datetime | None = None
) -> StatusChange | None:
    """Record ``key`` as run ``uuid``'s cache key; when a succeeded run of its project has the same
    key (finished within ``ttl`` seconds), the run ends ``skipped``, its outputs copied from that run
    and ``meta.cache_hit`` naming it (the change is answered); else None (the run goes on)."""
    now = now or utcnow()
    with write_session(db) as session:
        row = runs_repo.get_run(session, uuid, for_update=True)
        row.cache_key = key
        hit = repo.cached_run(session, row, key, ttl=ttl, now=now)
        if hit is None:
            session.flush()
            return None
        previous = RunStatus(row.status)
        reused: dict[str, Any] = {"uuid": hit.uuid, "key": key}
        runs_repo.update_run(session, row, outputs=dict(hit.outputs or {}), meta={CACHE_HIT_KEY: reused})
        finished = hit.finished_at.isoformat() if hit.finished_at else "earlier"
        message = f"reused the outputs of run {hit.uuid} (same cache key; it finished {finished})"
        set_status(session, row, RunStatus.SKIPPED, CACHE_HIT_REASON, message, now=now)
        return StatusChange(run_detail(session, row), previous, True)


def invalidate(db: Database, uuid: str) -> tuple[RunDetail, list[str]]:
    """Drop run ``uuid`` (and, for a pipeline, its children) from the cache: no later run reuses it;
    for a run skipped by the cache, the entry it reused is dropped. The run as it is now, and the
    uuids dropped (empty: nothing was cached)."""
    with write_session(db) as session:
        row = runs_repo.get_run(session, uuid, for_update=True)
        key = row.cache_key
        dropped = repo.drop_cache_keys(session, row)
        reused = (row.meta or {}).get(CACHE_HIT_KEY) or {}
        source = runs_repo.find_run(session, reused["uuid"], for_update=True) if reused.get("uuid") else None
        if source is not None:  # a run skipped by the cache: drop the entry it reused
            key = key or source.cache_key
            dropped += repo.drop_cache_keys(session, source)
        if dropped:
            note = {"key": key, "at": utcnow().isoformat(), "runs": len(dropped)}
            runs_repo.update_run(session, row, meta={CACHE_INVALIDATED_KEY: note})
        return run_detail(session, row), dropped
