"""The metadata store: SQLAlchemy 2 + one alembic tree, on SQLite (embedded) or PostgreSQL.

Only this package imports SQLAlchemy, and no session or ORM row leaves it. Entry points::

    db = open_database(settings.resolved_database_url)   # upgrades the schema if needed
    run = gateway.runs.get_run(db, uuid)                 # one transaction, a frozen record back

The server and the scheduler call ``mizzen.store.gateway`` (one module per concern), which returns
the records of ``mizzen.store.records``. Inside the store, the gateway opens sessions with
``database.read_session(db)`` / ``write_session(db)`` and calls the repositories of
``mizzen.store.repos``.
"""

from __future__ import annotations

from mizzen.store.database import Database, is_unavailable
from mizzen.store.migrate import downgrade, ensure_schema, upgrade


def open_database(url: str, *, migrate: bool = True) -> Database:
    """Connect to ``url`` (a SQLite file is created with its folder) and bring its schema up to date."""
    db = Database(url)
    if migrate:
        ensure_schema(db)
    return db


__all__ = ["Database", "downgrade", "ensure_schema", "is_unavailable", "open_database", "upgrade"]
