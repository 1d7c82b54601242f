"""The scheduler loop over the real store (SQLite and PostgreSQL) with the real local executor: every
claimed run ends, whatever raises, and a status the database failed to take is stored later."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from mizzen.compiler.plan import Plan, RuntimeContext
from mizzen.executors.local import GpuInventory, LocalExecutor
from mizzen.scheduler.compile_run import run_compiler
from mizzen.scheduler.loop import RunScheduler
from mizzen.scheduler.source import ClaimedRun
from mizzen.scheduler.store_source import StoreRunSource
from mizzen.schemas.api import LogLine
from mizzen.schemas.statuses import RunStatus
from mizzen.settings import Settings
from mizzen.store import Database, open_database
from mizzen.store.database import read_session, write_session
from mizzen.store.repos import runs as runs_repo
from mizzen.store.repos.runs import NewRun
from mizzen.store.repos.statuses import list_conditions


def _spec(command: list[str]) -> dict:
    return {
        "version": 1.1,
        "kind": "operation",
        "component": {"run": {"kind": "job", "container": {"command": command}}},
    }


@dataclass
class Loop:
    database: Database
    source: StoreRunSource
    scheduler: RunScheduler
    executor: LocalExecutor

    def create(self, command: list[str]) -> str:
        with write_session(self.database) as session:
            run, _token = runs_repo.create_run(
                session, NewRun(project="p", spec=_spec(command), executor="local")
            )
            return run.uuid

    def stored(self, uuid: str) -> RunStatus:
        with read_session(self.database) as session:
            return RunStatus(runs_repo.get_run(session, uuid).status)

    def wait_stored(self, uuid: str, status: RunStatus, timeout: float = 60) -> str | None:
        """Wait for ``status`` to be stored; the reason of the run's last condition."""
        deadline = time.monotonic() + timeout
        while (stored := self.stored(uuid)) != status:
            assert time.monotonic() < deadline, f"run {uuid} is {stored}, not {status}, after {timeout}s"
            time.sleep(0.05)
        with read_session(self.database) as session:
            conditions = list_conditions(session, runs_repo.get_run(session, uuid).id)
            return conditions[-1].reason if conditions else None


@pytest.fixture
def make_loop(db_url: str, settings: Settings, tmp_path: Path) -> Iterator[Callable[..., Loop]]:
    made: list[Loop] = []

    def make(compile_run: Callable[[ClaimedRun, RuntimeContext], Plan] | None = None) -> Loop:
        database = open_database(db_url)
        logs: list[LogLine] = []
        source = StoreRunSource(database, lambda _uuid, lines: logs.extend(lines), retry_interval=0.05)
        scheduler = RunScheduler(source, compile_run or run_compiler(settings), api_host="http://127.0.0.1:9")
        executor = LocalExecutor(
            scheduler, home=tmp_path / "home", artifacts_store=str(tmp_path / "store"), gpus=GpuInventory()
        )
        scheduler.attach(executor)
        loop = Loop(database, source, scheduler, executor)
        made.append(loop)
        return loop

    yield make
    for loop in made:
        loop.scheduler.close(grace_seconds=1)
        loop.source.close(timeout=5)
        loop.database.dispose()


def test_a_run_whose_start_raises_fails_and_the_rest_of_the_claimed_batch_runs(
    make_loop: Callable[..., Loop], settings: Settings
) -> None:
    compile_real = run_compiler(settings)
    broken: set[str] = set()

    def compile_run(run: ClaimedRun, context: RuntimeContext) -> Plan:
        if run.uuid in broken:  # not a MizzenError: what a bug or the disk raises
            raise OSError(28, "No space left on device")
        return compile_real(run, context)

    loop = make_loop(compile_run)
    first = loop.create(["true"])
    broken.add(first)
    rest = [loop.create([sys.executable, "-c", "print('ran')"]) for _ in range(2)]
    loop.scheduler.tick()  # one batch claims all three
    reason = loop.wait_stored(first, RunStatus.FAILED)
    assert reason == "scheduler error"
    for uuid in rest:
        loop.wait_stored(uuid, RunStatus.SUCCEEDED)
    assert loop.scheduler.active == set()


def test_a_final_status_the_database_failed_to_take_is_stored_once_it_answers(
    make_loop: Callable[..., Loop], tmp_path: Path
) -> None:
    loop = make_loop()
    gate = tmp_path / "gate"
    uuid = loop.create(["sh", "-c", f"while [ ! -e {gate} ]; do sleep 0.05; done"])
    loop.scheduler.tick()
    loop.wait_stored(uuid, RunStatus.RUNNING)
    # The database fails every status write for a while (a real error from the real database).
    with loop.database.engine.begin() as connection:
        connection.exec_driver_sql("ALTER TABLE status_conditions RENAME TO status_conditions_away")
    gate.touch()
    assert loop.executor.wait(uuid, 60) == RunStatus.SUCCEEDED
    deadline = time.monotonic() + 60
    while loop.source.pending == 0:  # the final status waits in the outbox...
        assert time.monotonic() < deadline, "the final status was never queued"
        time.sleep(0.05)
    assert loop.stored(uuid) == RunStatus.RUNNING  # ...and is not stored yet
    with loop.database.engine.begin() as connection:
        connection.exec_driver_sql("ALTER TABLE status_conditions_away RENAME TO status_conditions")
    loop.wait_stored(uuid, RunStatus.SUCCEEDED)
    assert loop.source.flush(30)
