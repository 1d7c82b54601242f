from __future__ import annotations

import subprocess
import sys

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from mizzen.store import Database, downgrade, open_database, upgrade
from mizzen.store.migrate import HEAD_REVISION, alembic_config, current_revision
from mizzen.store.orm import Base

TABLES = {
    "projects",
    "runs",
    "status_conditions",
    "metrics",
    "metric_summaries",
    "artifacts",
    "lineage",
    "agents",
    "idempotency_keys",
}


def _tables(db: Database) -> set[str]:
    with db.engine.connect() as connection:
        return set(inspect(connection).get_table_names()) - {"alembic_version"}


def test_upgrade_then_downgrade_then_upgrade(db_url: str) -> None:
    db = Database(db_url)
    try:
        assert current_revision(db) is None
        upgrade(db_url)
        assert current_revision(db) == HEAD_REVISION
        assert _tables(db) == TABLES
        downgrade(db_url)
        assert current_revision(db) is None
        assert _tables(db) == set()
        upgrade(db_url)
        assert _tables(db) == TABLES
    finally:
        db.dispose()


def test_migrations_match_the_models(db_url: str) -> None:
    """The migration tree builds exactly the schema the ORM describes (no drift)."""
    db = open_database(db_url)
    try:
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        db.dispose()


def test_head_constant_matches_the_migration_tree() -> None:
    assert ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head() == HEAD_REVISION


def test_servers_starting_together_on_a_new_database_all_succeed(db_url: str) -> None:
    """Several processes (server replicas, two `mizzen run`) upgrading one database at once."""
    script = "import sys; from mizzen.store import open_database; open_database(sys.argv[1]).dispose()"
    processes = [
        subprocess.Popen([sys.executable, "-c", script, db_url], stderr=subprocess.PIPE) for _ in range(3)
    ]
    results = [(p.wait(timeout=120), p.stderr.read().decode() if p.stderr else "") for p in processes]
    assert [code for code, _ in results] == [0, 0, 0], results
    db = Database(db_url)
    try:
        assert current_revision(db) == HEAD_REVISION
    finally:
        db.dispose()
