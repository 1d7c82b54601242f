from __future__ import annotations

from collections.abc import Iterator

import pytest

from mizzen.store import Database, open_database


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    """A migrated database, on SQLite and on PostgreSQL."""
    db = open_database(db_url)
    yield db
    db.dispose()
