"""Alembic environment for Mizzen's one migration tree (configured in code by mizzen.store.migrate)."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import text

from mizzen.store.database import make_engine
from mizzen.store.orm import Base

# Serialises concurrent upgrades of one PostgreSQL database (several server replicas starting at once).
PG_MIGRATION_LOCK = 7_361_902_114


def _run(connection: Any) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things: rebuild tables in later migrations
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_MIGRATION_LOCK})
        context.run_migrations()


def main() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(context.config.get_main_option("sqlalchemy.url") or "")
    try:
        with engine.connect() as connection:
            _run(connection)
            connection.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("Mizzen migrations run online only (mizzen.store.migrate.upgrade)")
main()
