"""Schema migrations, configured in code (no alembic.ini): ``upgrade(url)`` / ``downgrade(url)``.

The server calls ``ensure_schema(db)`` at start: one cheap query when the schema is current, an
upgrade (serialised across processes) when it is not.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text

from mizzen.store.database import Database

if TYPE_CHECKING:  # alembic is imported only when a migration runs: a current database never needs it
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# The newest revision in migrations/versions (a test checks they agree). Lets a current database skip
# importing alembic at all, which keeps `mizzen run` quick to start.
HEAD_REVISION = "0002"
# alembic keeps its running context in module globals: one migration at a time per process. Across
# processes the database serialises them (BEGIN IMMEDIATE on SQLite, an advisory lock on PostgreSQL).
_PROCESS_LOCK = threading.Lock()


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _run(target: str | Database, action: str, revision: str) -> None:
    """Run an alembic command on ``target`` (a URL gets a Database of its own, closed afterwards)."""
    db = target if isinstance(target, Database) else Database(target)
    try:
        from alembic import command

        config = alembic_config(db.url)
        # A write connection: BEGIN IMMEDIATE on SQLite, so two processes never migrate at once.
        with _PROCESS_LOCK, db.write_engine.begin() as connection:
            config.attributes["connection"] = connection
            getattr(command, action)(config, revision)
    finally:
        if db is not target:
            db.dispose()


def upgrade(target: str | Database, revision: str = "head") -> None:
    _run(target, "upgrade", revision)


def downgrade(target: str | Database, revision: str = "base") -> None:
    _run(target, "downgrade", revision)


def current_revision(db: Database) -> str | None:
    with db.engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def ensure_schema(db: Database) -> None:
    """Bring the database to the newest schema (no-op, one query, when it already is)."""
    if current_revision(db) != HEAD_REVISION:
        upgrade(db)
