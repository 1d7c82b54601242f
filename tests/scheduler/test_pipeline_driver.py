"""The pipeline driver over the real store (SQLite and PostgreSQL): it claims pipelines, creates
their children by key (never twice), winds a stopped pipeline down, restarts the children a crash
ended when its pipeline is resumed or adopted, fails a pipeline that does not compile with the
message, and forgets a pipeline deleted while it was driving it.

Children are not executed here: the test moves their statuses as an executor would, through the
store's one status gate, so each step of the driver can be checked in isolation."""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from mizzen.compiler.compile import Compiler
from mizzen.scheduler.compile_run import pipeline_compiler
from mizzen.scheduler.pipeline.driver import PIPELINE_STOPPED, PipelineDriver
from mizzen.scheduler.source import new_owner_id
from mizzen.schemas.pipelines import trial_key
from mizzen.schemas.run_meta import OWNER_KEY
from mizzen.schemas.statuses import RunStatus
from mizzen.settings import Settings
from mizzen.store import Database, open_database
from mizzen.store.gateway import pipelines as gateway
from mizzen.store.gateway import run_changes, statuses
from mizzen.store.gateway import runs as runs_gateway
from mizzen.store.records import NewRun, RunRecord, StatusMove


def sweep_spec(trials: int, concurrency: int | None = None) -> dict[str, Any]:
    matrix: dict[str, Any] = {
        "kind": "grid",
        "params": {"i": {"kind": "choice", "value": list(range(trials))}},
    }
    if concurrency is not None:
        matrix["concurrency"] = concurrency
    return {
        "version": 1.1,
        "kind": "operation",
        "matrix": matrix,
        "component": {
            "inputs": [{"name": "i", "type": "int"}],
            "run": {"kind": "job", "container": {"command": ["true"]}},
        },
    }


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    db = open_database(db_url)
    yield db
    db.dispose()


@pytest.fixture
def compiler_for(settings: Settings) -> Callable[[RunRecord], Compiler]:
    return pipeline_compiler(settings)


def create_sweep(database: Database, trials: int, concurrency: int | None = None, **fields: Any) -> str:
    new = NewRun(project="p", kind="matrix", spec=sweep_spec(trials, concurrency), executor="local", **fields)
    return run_changes.create_run(database, new).detail.run.uuid


def status_of(database: Database, uuid: str) -> RunStatus:
    return runs_gateway.get_run(database, uuid).status


def run_child(
    database: Database, uuid: str, end: RunStatus = RunStatus.SUCCEEDED, reason: str = "Done"
) -> None:
    """What an executor does to a child: it runs, then ends ``end``."""
    statuses.set_status(database, uuid, RunStatus.RUNNING, "Running", "started")
    statuses.set_status(database, uuid, end, reason, "ended")


def last_reason(database: Database, uuid: str) -> str | None:
    conditions = runs_gateway.conditions_of(database, uuid)
    return conditions[-1].reason if conditions else None


def test_a_driver_claims_a_sweep_and_creates_each_trial_once_up_to_its_concurrency(
    database: Database, compiler_for: Callable[[RunRecord], Compiler]
) -> None:
    uuid = create_sweep(database, trials=7, concurrency=3)
    driver = PipelineDriver(database, compiler_for, executor="local")
    driver.tick()
    pipeline = runs_gateway.get_run(database, uuid)
    assert pipeline.owner == driver.owner
    assert pipeline.status == RunStatus.RUNNING
    children = gateway.children(database, uuid)
    assert [c.key for c in children] == [trial_key(i) for i in range(3)]
    assert [c.params["i"] for c in children] == [0, 1, 2]

    driver.tick()  # nothing ended: nothing new, nothing twice
    assert len(gateway.children(database, uuid)) == 3

    while status_of(database, uuid) == RunStatus.RUNNING:
        for child in gateway.children(database, uuid):
            if child.status == RunStatus.CREATED:
                run_child(database, child.uuid)
        driver.tick()
        running = [c for c in gateway.children(database, uuid) if c.status == RunStatus.CREATED]
        assert len(running) <= 3
    children = gateway.children(database, uuid)
    assert sorted(c.key for c in children) == [trial_key(i) for i in range(7)]
    assert status_of(database, uuid) == RunStatus.SUCCEEDED
    assert gateway.status_counts(database, uuid) == {"succeeded": 7}


def test_a_pipeline_claimed_by_one_driver_is_not_claimed_by_another(
    database: Database, compiler_for: Callable[[RunRecord], Compiler]
) -> None:
    uuid = create_sweep(database, trials=2)
    first = PipelineDriver(database, compiler_for, executor="local")
    second = PipelineDriver(database, compiler_for, executor="local")
    other_executor = PipelineDriver(database, compiler_for, executor="kubernetes")
    other_executor.tick()
    assert status_of(database, uuid) == RunStatus.CREATED  # not its executor's
    first.tick()
    second.tick()
    assert runs_gateway.get_run(database, uuid).owner == first.owner
    assert gateway.pipelines_of(database, second.owner) == []
    assert len(gateway.children(database, uuid)) == 2


def test_create_children_creates_only_the_keys_not_taken_yet(database: Database) -> None:
    uuid = create_sweep(database, trials=3)

    def child(key: str) -> NewRun:
        return NewRun(project="p", kind="job", pipeline_uuid=uuid, pipeline_key=key, executor="local")

    first = gateway.create_children(database, uuid, [child("trial-00000"), child("trial-00001")])
    assert [run.pipeline_key for run in first] == ["trial-00000", "trial-00001"]
    again = gateway.create_children(database, uuid, [child("trial-00001"), child("trial-00002")])
    assert [run.pipeline_key for run in again] == ["trial-00002"]
    same_batch = gateway.create_children(database, uuid, [child("trial-00003"), child("trial-00003")])
    assert [run.pipeline_key for run in same_batch] == ["trial-00003"]
    keys = [c.key for c in gateway.children(database, uuid)]
    assert keys == ["trial-00000", "trial-00001", "trial-00002", "trial-00003"]


def test_stopping_a_pipeline_stops_its_children_and_it_ends_stopped_once_they_are_done(
    database: Database, compiler_for: Callable[[RunRecord], Compiler]
) -> None:
    uuid = create_sweep(database, trials=6, concurrency=3)
    driver = PipelineDriver(database, compiler_for, executor="local")
    driver.tick()
    first, second, third = gateway.children(database, uuid)
    run_child(database, first.uuid)  # done before the stop: stays succeeded
    statuses.set_status(database, second.uuid, RunStatus.RUNNING, "Running", "started")
    # third is still created: it never started

    statuses.set_status(database, uuid, RunStatus.STOPPING, "StopRequested", "by the user")
    driver.tick()
    assert status_of(database, first.uuid) == RunStatus.SUCCEEDED
    assert status_of(database, second.uuid) == RunStatus.STOPPING  # its executor stops it
    assert status_of(database, third.uuid) == RunStatus.STOPPED  # stopped at once
    assert last_reason(database, third.uuid) == PIPELINE_STOPPED
    assert status_of(database, uuid) == RunStatus.STOPPING  # a child still runs
    assert len(gateway.children(database, uuid)) == 3  # no new trial while stopping

    statuses.set_status(database, second.uuid, RunStatus.STOPPED, "Stopped", "killed")
    driver.tick()
    assert status_of(database, uuid) == RunStatus.STOPPED
    assert len(gateway.children(database, uuid)) == 3


def crash(database: Database, pipeline_uuid: str) -> None:
    """What the next command finds after the `mizzen run` driving the pipeline was killed: its
    running children and the pipeline failed as orphaned (``StoreRunSource.fail_orphans``)."""
    for child in gateway.children(database, pipeline_uuid):
        if child.status == RunStatus.RUNNING:
            statuses.set_status(database, child.uuid, RunStatus.FAILED, "orphaned", "its process is gone")
    statuses.set_status(database, pipeline_uuid, RunStatus.FAILED, "orphaned", "its process is gone")


def test_a_resumed_pipeline_restarts_the_children_its_crash_ended_and_not_those_that_failed(
    database: Database, compiler_for: Callable[[RunRecord], Compiler]
) -> None:
    uuid = create_sweep(database, trials=5, concurrency=4)
    PipelineDriver(database, compiler_for, executor="local").tick()
    done, failed, orphan_a, orphan_b = gateway.children(database, uuid)
    run_child(database, done.uuid)
    run_child(database, failed.uuid, RunStatus.FAILED, "Error")  # failed on its own
    for child in (orphan_a, orphan_b):
        statuses.set_status(database, child.uuid, RunStatus.RUNNING, "Running", "started")
    crash(database, uuid)

    run_changes.resume_run(
        database, uuid, lambda run: None, StatusMove(RunStatus.QUEUED, "Resumed", "ops resume")
    )
    driver = PipelineDriver(database, compiler_for, executor="local")
    driver.tick()
    assert runs_gateway.get_run(database, uuid).owner == driver.owner
    assert status_of(database, orphan_a.uuid) == RunStatus.QUEUED
    assert status_of(database, orphan_b.uuid) == RunStatus.QUEUED
    assert status_of(database, failed.uuid) == RunStatus.FAILED
    assert status_of(database, done.uuid) == RunStatus.SUCCEEDED
    children = gateway.children(database, uuid)
    # two restarted, two done: room for the last trial (the same trials, never new ones for them)
    assert [c.key for c in children] == [trial_key(i) for i in range(5)]

    for child in (orphan_a, orphan_b, children[-1]):
        run_child(database, child.uuid)
    driver.tick()
    # 4 of 5 succeeded, one failed on its own: a sweep without a failure policy fails (docs/sweeps.md)
    assert status_of(database, uuid) == RunStatus.FAILED
    assert len(gateway.children(database, uuid)) == 5


def dead_owner() -> str:
    """The owner id of a process of this machine that has exited."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    host, _pid, rest = new_owner_id().split(":", 2)
    return f"{host}:{process.pid}:{rest}"


def test_a_server_adopts_a_pipeline_whose_driver_died_and_restarts_its_orphaned_children(
    database: Database, compiler_for: Callable[[RunRecord], Compiler]
) -> None:
    uuid = create_sweep(database, trials=3)
    gone = dead_owner()
    PipelineDriver(database, compiler_for, executor="local", owner=gone).tick()
    first, second, third = gateway.children(database, uuid)
    run_child(database, first.uuid)
    statuses.set_status(database, second.uuid, RunStatus.RUNNING, "Running", "started")
    statuses.set_status(database, second.uuid, RunStatus.FAILED, "orphaned", "its process is gone")

    bystander = PipelineDriver(database, compiler_for, executor="local")  # `mizzen run`: no adoption
    bystander.tick()
    assert runs_gateway.get_run(database, uuid).owner == gone
    server = PipelineDriver(database, compiler_for, executor="local", adopt_orphans=True)
    server.tick()
    assert runs_gateway.get_run(database, uuid).owner == server.owner
    assert status_of(database, second.uuid) == RunStatus.QUEUED
    assert status_of(database, third.uuid) == RunStatus.CREATED  # was never ended: left as it is
    for child in (second, third):
        run_child(database, child.uuid)
    server.tick()
    assert status_of(database, uuid) == RunStatus.SUCCEEDED
    assert len(gateway.children(database, uuid)) == 3


def test_a_pipeline_that_does_not_compile_fails_with_the_compilers_message(
    database: Database, compiler_for: Callable[[RunRecord], Compiler]
) -> None:
    spec = sweep_spec(2)
    spec["component"]["inputs"].append({"name": "lr", "type": "float"})  # required, given nowhere
    new = NewRun(project="p", kind="matrix", spec=spec, executor="local")
    uuid = run_changes.create_run(database, new).detail.run.uuid
    no_matrix = {k: v for k, v in sweep_spec(2).items() if k != "matrix"}
    no_matrix["component"]["inputs"] = []  # compiles as a job: only the missing `matrix` is wrong
    bare = run_changes.create_run(
        database, NewRun(project="p", kind="matrix", spec=no_matrix, executor="local")
    ).detail.run.uuid

    PipelineDriver(database, compiler_for, executor="local").tick()
    assert status_of(database, uuid) == RunStatus.FAILED
    (condition,) = [c for c in runs_gateway.conditions_of(database, uuid) if c.type == RunStatus.FAILED]
    assert condition.reason == "CompileError"
    assert "lr" in (condition.message or "")
    assert gateway.children(database, uuid) == []
    assert status_of(database, bare) == RunStatus.FAILED
    assert "needs a `matrix` section" in (runs_gateway.conditions_of(database, bare)[-1].message or "")


def test_a_pipeline_deleted_while_it_is_driven_is_forgotten(
    database: Database,
    compiler_for: Callable[[RunRecord], Compiler],
    caplog: pytest.LogCaptureFixture,
) -> None:
    doomed = create_sweep(database, trials=3)
    survivor = create_sweep(database, trials=2)

    def compile_then_delete(pipeline: RunRecord) -> Compiler:
        if pipeline.uuid == doomed:  # between reading the pipeline and creating its children
            run_changes.delete_run(database, doomed)
        return compiler_for(pipeline)

    driver = PipelineDriver(database, compile_then_delete, executor="local")
    with caplog.at_level(logging.INFO, logger="mizzen.scheduler.pipeline.driver"):
        driver.tick()
        driver.tick()
    assert gateway.children(database, doomed) == []
    assert not gateway.children_uuids(database, doomed)
    assert len(gateway.children(database, survivor)) == 2  # the rest of the tick went on
    assert doomed not in driver._structures and doomed not in driver._progress  # nothing kept of it
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text


def test_a_second_tick_after_a_crash_between_deciding_and_recording_creates_nothing_twice(
    database: Database, compiler_for: Callable[[RunRecord], Compiler]
) -> None:
    """A driver killed after its children were stored but before anything else was recorded:
    the next driver, reading the store, decides the same keys and creates none again."""
    uuid = create_sweep(database, trials=4, concurrency=2)
    first = PipelineDriver(database, compiler_for, executor="local")
    first.tick()
    pipeline = runs_gateway.get_run(database, uuid)
    runs_gateway.update_run(database, uuid, meta={OWNER_KEY: dead_owner()})
    server = PipelineDriver(database, compiler_for, executor="local", adopt_orphans=True)
    for _ in range(3):
        server.tick()
    assert pipeline.status == RunStatus.RUNNING
    assert [c.key for c in gateway.children(database, uuid)] == [trial_key(0), trial_key(1)]


def test_the_drivers_incremental_view_of_children_sees_every_change_new_child_and_deletion(
    database: Database,
) -> None:
    from mizzen.scheduler.pipeline.children import ChildrenCache

    uuid = create_sweep(database, trials=4)

    def child(key: str) -> NewRun:
        return NewRun(project="p", kind="job", pipeline_uuid=uuid, pipeline_key=key, executor="local")

    a, b = gateway.create_children(database, uuid, [child("trial-00000"), child("trial-00001")])
    cache = ChildrenCache(database)
    assert [c.key for c in cache.read(uuid, [])] == ["trial-00000", "trial-00001"]
    run_child(database, a.uuid)  # a status change
    runs_gateway.update_run(database, b.uuid, outputs={"loss": 0.5})  # an output
    (c,) = gateway.create_children(database, uuid, [child("trial-00002")])  # a new child
    seen = {x.key: x for x in cache.read(uuid, [])}
    assert list(seen) == ["trial-00000", "trial-00001", "trial-00002"]  # creation order kept
    assert seen["trial-00000"].status == RunStatus.SUCCEEDED
    assert seen["trial-00001"].outputs == {"loss": 0.5}
    run_changes.delete_run(database, c.uuid)  # a deletion: the count differs, all is read again
    assert [x.key for x in cache.read(uuid, [])] == ["trial-00000", "trial-00001"]
    run_changes.resume_run(
        database, a.uuid, lambda run: None, StatusMove(RunStatus.QUEUED, "Resumed", "again")
    )
    assert {x.key: x.status for x in cache.read(uuid, [])}["trial-00000"] == RunStatus.QUEUED
