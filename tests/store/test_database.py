from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

import mizzen.store
from mizzen.settings import Settings
from mizzen.store import Database, open_database
from mizzen.store.database import normalize_url, read_session


def test_the_embedded_default_is_sqlite_in_wal_mode_under_mizzen_home(settings: Settings) -> None:
    url = settings.resolved_database_url
    assert url == f"sqlite:///{settings.home / 'mizzen.db'}"
    db = open_database(url)
    try:
        with read_session(db) as session:
            assert session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert session.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL
            assert session.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert session.execute(text("PRAGMA busy_timeout")).scalar() == 30_000
        assert Path(settings.home / "mizzen.db").is_file()
    finally:
        db.dispose()


def test_postgresql_urls_use_psycopg_3() -> None:
    assert normalize_url("postgresql://u:p@h:5432/db") == "postgresql+psycopg://u:p@h:5432/db"
    assert normalize_url("postgres://h/db") == "postgresql+psycopg://h/db"
    assert normalize_url("postgresql+psycopg://h/db") == "postgresql+psycopg://h/db"
    assert normalize_url("sqlite:////tmp/x.db") == "sqlite:////tmp/x.db"


def test_a_plain_postgresql_url_works(pg_url: str) -> None:
    db = open_database(pg_url.replace("postgresql+psycopg://", "postgresql://"))
    try:
        with read_session(db) as session:
            assert session.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0002"
    finally:
        db.dispose()


def test_a_database_hands_out_no_session() -> None:
    """The server and the scheduler hold a ``Database`` and ``import mizzen.store``: neither gives
    them a session (only ``mizzen.store.database``, which the import contract keeps from them)."""
    assert [name for name in vars(Database) if not name.startswith("_")] == ["dispose"]
    assert "Session" not in mizzen.store.__all__
    assert not hasattr(mizzen.store, "Session")
