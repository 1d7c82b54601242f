"""A run's status: every change goes through the store's one gate (``repos.statuses.set_status``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from mizzen.schemas.statuses import RunStatus
from mizzen.store.database import Database, write_session
from mizzen.store.gateway._rows import run_detail, run_record
from mizzen.store.orm import RunRow
from mizzen.store.records import RunDetail, RunRecord, StatusChange, StatusMove
from mizzen.store.repos import runs as runs_repo
from mizzen.store.repos import statuses as repo


def set_status(
    db: Database,
    uuid: str,
    status: RunStatus,
    reason: str | None = None,
    message: str | None = None,
    *,
    at: datetime | None = None,
    history: bool = True,
) -> StatusChange:
    """Move run ``uuid`` to ``status`` under its lock, with a condition naming ``reason``/``message``
    (dated ``at``, never before the run's last condition, so that a history stays in order; default
    now). ``InvalidTransition`` when the status machine forbids it; ``changed`` is False when nothing
    changed (same status, same reason and message). ``history=False``: the answer's detail holds the
    run alone (no conditions, no metrics), for callers that read only ``change.run``: two queries
    less on a path an executor takes several times per run."""
    with write_session(db) as session:
        row = runs_repo.get_run(session, uuid, for_update=True)
        previous = RunStatus(row.status)
        if at is not None:
            last = repo.list_conditions(session, row.id)[-1:]
            at = max([at, *(c.time for c in last)])
        changed = repo.set_status(session, row, status, reason, message, now=at)
        return StatusChange(_detail(session, row, history), previous, changed)


def change_status(
    db: Database, uuid: str, decide: Callable[[RunRecord], StatusMove | None], *, history: bool = True
) -> StatusChange:
    """Move run ``uuid`` to the status ``decide(run)`` asks for, looking at the run under its lock;
    ``decide`` answers None to leave it as it is (``changed`` False). ``decide`` runs inside the
    transaction: it must only look at the record (no network, no waiting). ``history`` as in
    ``set_status``."""
    with write_session(db) as session:
        row = runs_repo.get_run(session, uuid, for_update=True)
        previous = RunStatus(row.status)
        move = decide(run_record(row))
        changed = move is not None and repo.set_status(session, row, move.status, move.reason, move.message)
        return StatusChange(_detail(session, row, history), previous, changed)


def _detail(session: Session, row: RunRow, history: bool) -> RunDetail:
    return run_detail(session, row) if history else RunDetail(run_record(row), [], [])
