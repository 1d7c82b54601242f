"""Two pipeline drivers on one database drive the same pipelines at once (as two `mizzen server`
replicas on one PostgreSQL would while one takes over from the other): each claims, decides and
creates children as fast as it can, with its own connection pool, while a third thread plays the
executor. Many pipelines, many ticks: no trial is ever created twice, no pipeline fails for the
race, none is left stuck, and a sweep's concurrency holds even for drivers deciding on stale views."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from mizzen.scheduler.compile_run import pipeline_compiler
from mizzen.scheduler.pipeline.driver import PipelineDriver
from mizzen.scheduler.source import new_owner_id
from mizzen.schemas.pipelines import trial_key
from mizzen.schemas.statuses import DONE_STATUSES, RunStatus
from mizzen.settings import Settings
from mizzen.store import Database, open_database
from mizzen.store.gateway import pipelines as gateway
from mizzen.store.gateway import run_changes, statuses
from mizzen.store.gateway import runs as runs_gateway
from mizzen.store.records import NewRun

PIPELINES = 12
TRIALS = 25
CONCURRENCY = 4


def sweep_spec(trials: int, concurrency: int) -> dict[str, Any]:
    return {
        "version": 1.1,
        "kind": "operation",
        "matrix": {
            "kind": "grid",
            "concurrency": concurrency,
            "params": {"i": {"kind": "choice", "value": list(range(trials))}},
        },
        "component": {
            "inputs": [{"name": "i", "type": "int"}],
            "run": {"kind": "job", "container": {"command": ["true"]}},
        },
    }


class Executor:
    """Runs every created child to success (through the store's status gate), and records the most
    children of one pipeline it ever saw active at once."""

    def __init__(self, database: Database, pipelines: list[str]) -> None:
        self.database = database
        self.pipelines = pipelines
        self.most_active = 0
        self.errors: list[BaseException] = []

    def run(self, until: threading.Event) -> None:
        try:
            while not until.is_set():
                for uuid in self.pipelines:
                    children = gateway.children(self.database, uuid)
                    active = [c for c in children if c.status not in DONE_STATUSES]
                    self.most_active = max(self.most_active, len(active))
                    for child in active:
                        statuses.set_status(self.database, child.uuid, RunStatus.RUNNING, "Running", "")
                        statuses.set_status(self.database, child.uuid, RunStatus.SUCCEEDED, "Done", "")
        except BaseException as error:  # seen by the test, not lost in a thread
            self.errors.append(error)


def drive(driver: PipelineDriver, until: threading.Event, errors: list[BaseException]) -> None:
    try:
        while not until.is_set():
            driver.tick()
    except BaseException as error:
        errors.append(error)


def test_two_drivers_on_one_database_never_create_a_trial_twice(
    db_url: str, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    setup = open_database(db_url)
    pipelines = [
        run_changes.create_run(
            setup,
            NewRun(project="p", kind="matrix", spec=sweep_spec(TRIALS, CONCURRENCY), executor="local"),
        ).detail.run.uuid
        for _ in range(PIPELINES)
    ]
    owner = new_owner_id()  # both drive whatever either claims: the same pipelines, at once
    databases: list[Database] = [open_database(db_url) for _ in range(3)]
    compiler_for: Callable[..., Any] = pipeline_compiler(settings)
    created_by = [0, 0]  # trials each driver created (its "created" events)

    def counter(index: int) -> Callable[..., None]:
        def notify(kind: str, *_: Any) -> None:
            if kind == "created":
                created_by[index] += 1

        return notify

    drivers = [
        PipelineDriver(db, compiler_for, executor="local", owner=owner, notify=counter(i))
        for i, db in enumerate(databases[:2])
    ]
    executor = Executor(databases[2], pipelines)
    done = threading.Event()
    errors: list[BaseException] = []
    threads = [threading.Thread(target=drive, args=(d, done, errors)) for d in drivers]
    threads.append(threading.Thread(target=executor.run, args=(done,)))
    with caplog.at_level(logging.WARNING, logger="mizzen.scheduler.pipeline.driver"):
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 240
        try:
            while time.monotonic() < deadline and not errors and not executor.errors:
                if all(runs_gateway.get_run(setup, uuid).status in DONE_STATUSES for uuid in pipelines):
                    break
                time.sleep(0.1)
        finally:
            done.set()
            for thread in threads:
                thread.join(60)
    try:
        assert not errors and not executor.errors, errors + executor.errors
        ends = {uuid: runs_gateway.get_run(setup, uuid).status for uuid in pipelines}
        keys = {uuid: [c.key for c in gateway.children(setup, uuid)] for uuid in pipelines}
        created = sum(len(k) for k in keys.values())
        print(
            f"{PIPELINES} pipelines x {TRIALS} trials by 2 drivers: {created} trials created "
            f"({created_by[0]} by one, {created_by[1]} by the other), "
            f"{sum(len(set(k)) for k in keys.values())} distinct keys, most active at once "
            f"{executor.most_active} (concurrency {CONCURRENCY})"
        )
        assert set(ends.values()) == {RunStatus.SUCCEEDED}, ends
        for uuid in pipelines:
            assert sorted(keys[uuid]) == [trial_key(i) for i in range(TRIALS)]
        assert executor.most_active <= CONCURRENCY
        assert sum(created_by) == created and min(created_by) > 0  # both drove, each trial once
        assert not caplog.records, caplog.text  # no tick failed, no pipeline ended by an error
    finally:
        for db in [setup, *databases]:
            db.dispose()
