"""The metadata store: SQLAlchemy 2 + one alembic tree, on SQLite (embedded) or PostgreSQL.

Only this package imports SQLAlchemy. Entry points::

    db = open_database(settings.resolved_database_url)   # upgrades the schema if needed
    with db.write() as session:                          # commits when the block ends
        run, token = repos.runs.create_run(session, NewRun(project="demo"))
        repos.statuses.set_status(session, run, RunStatus.QUEUED)

Repositories live in ``mizzen.store.repos`` (one module per concern).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from mizzen.store.database import Database, is_unavailable
from mizzen.store.migrate import downgrade, ensure_schema, upgrade


def open_database(url: str, *, migrate: bool = True) -> Database:
    """Connect to ``url`` (a SQLite file is created with its folder) and bring its schema up to date."""
    db = Database(url)
    if migrate:
        ensure_schema(db)
    return db


__all__ = ["Database", "Session", "downgrade", "ensure_schema", "is_unavailable", "open_database", "upgrade"]
