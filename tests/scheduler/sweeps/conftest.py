"""Fixtures of the sweep tests: ``make_sweep(matrix)`` -> a ``Sweep`` (sweep_harness.py) over the
test's database (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sweep_harness import Sweep, new_driver, sweep_spec

from mizzen.settings import Settings
from mizzen.store import Database, open_database
from mizzen.store.database import write_session
from mizzen.store.records import NewRun
from mizzen.store.repos import runs as runs_repo


@pytest.fixture
def make_sweep(db_url: str, settings: Settings) -> Iterator[Callable[..., Sweep]]:
    databases: list[Database] = []

    def make(matrix: dict[str, Any], *, inputs: list[str] | None = None) -> Sweep:
        database = open_database(db_url)
        databases.append(database)
        with write_session(database) as session:
            row, _token = runs_repo.create_run(
                session,
                NewRun(
                    project="p",
                    name="sweep",
                    kind="matrix",
                    spec=sweep_spec(matrix, inputs),
                    executor="local",
                ),
            )
            uuid = row.uuid
        return Sweep(database, uuid, new_driver(database, settings))

    yield make
    for database in databases:
        database.dispose()
