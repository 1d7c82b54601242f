"""A run's status: every change goes through the store's one gate (``repos.statuses.set_status``)."""

from __future__ import annotations

from mizzen.schemas.statuses import RunStatus
from mizzen.store.database import Database
from mizzen.store.gateway._rows import run_record
from mizzen.store.records import StatusChange
from mizzen.store.repos import runs as runs_repo
from mizzen.store.repos import statuses as repo


def set_status(
    db: Database, uuid: str, status: RunStatus, reason: str | None = None, message: str | None = None
) -> StatusChange:
    """Move run ``uuid`` to ``status`` under its lock, with a condition naming ``reason``/``message``.
    ``InvalidTransition`` when the status machine forbids it; ``changed`` is False when nothing
    changed (same status, same reason and message)."""
    with db.write() as session:
        row = runs_repo.get_run(session, uuid, for_update=True)
        previous = RunStatus(row.status)
        changed = repo.set_status(session, row, status, reason, message)
        return StatusChange(run_record(row), previous, changed)
