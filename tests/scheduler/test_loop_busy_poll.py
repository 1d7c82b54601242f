"""The scheduler's busy polling (what `mizzen agent` uses to hear of a pipeline's next step at once):
after it claimed a run, or one of its runs ended, it polls at ``busy_interval``; idle, it polls at
``poll_interval``. Over the real store (SQLite and PostgreSQL) and the real local executor, with an
idle interval of an hour, so a run created by another process (no ``wake()``) is only claimed
through the busy polls."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.agent.support import eventually

from mizzen.executors.local import GpuInventory, LocalExecutor
from mizzen.scheduler.compile_run import run_compiler
from mizzen.scheduler.loop import RunScheduler
from mizzen.scheduler.store_source import StoreRunSource
from mizzen.schemas.statuses import RunStatus
from mizzen.settings import Settings
from mizzen.store import Database, open_database
from mizzen.store.database import read_session, write_session
from mizzen.store.repos import runs as runs_repo
from mizzen.store.repos.runs import NewRun

HOUR = 3600.0
SPEC = {
    "version": 1.1,
    "kind": "operation",
    "component": {"run": {"kind": "job", "container": {"command": ["true"]}}},
}


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    database = open_database(db_url)
    yield database
    database.dispose()


def create(database: Database) -> str:
    """A run created as another process creates one: nothing wakes this scheduler."""
    with write_session(database) as session:
        run, _token = runs_repo.create_run(session, NewRun(project="p", spec=SPEC, executor="local"))
        return run.uuid


def stored(database: Database, uuid: str) -> RunStatus:
    with read_session(database) as session:
        return RunStatus(runs_repo.get_run(session, uuid).status)


def test_after_a_run_ends_the_scheduler_hears_of_the_next_run_without_being_woken(
    database: Database, settings: Settings, tmp_path: Path
) -> None:
    source = StoreRunSource(database, lambda _uuid, _lines: None, retry_interval=0.05)
    scheduler = RunScheduler(
        source,
        run_compiler(settings),
        api_host="http://127.0.0.1:9",
        poll_interval=HOUR,
        busy_interval=0.05,
        busy_seconds=HOUR,
    )
    executor = LocalExecutor(
        scheduler, home=tmp_path / "home", artifacts_store=str(tmp_path / "store"), gpus=GpuInventory()
    )
    scheduler.attach(executor)
    try:
        assert scheduler._interval() == HOUR  # idle: it has seen no work yet
        scheduler.start()
        first = create(database)
        scheduler.wake()  # what the API's event bus does for a run created in this process
        eventually(lambda: stored(database, first) == RunStatus.SUCCEEDED, "the first run succeeded")
        assert scheduler._interval() == 0.05  # busy: it claimed a run and the run ended
        second = create(database)  # like a pipeline's next step, made by another process's driver
        eventually(lambda: stored(database, second) == RunStatus.SUCCEEDED, "the second run succeeded")
    finally:
        scheduler.close(grace_seconds=1)
        source.close(timeout=5)
