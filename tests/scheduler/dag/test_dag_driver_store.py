"""A DAG driven by the real ``PipelineDriver`` over the real store (SQLite and PostgreSQL): ops are
created once each, those that never run are stored in the status that says why, and the DAG ends."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from dag_support import dag_spec, job

from mizzen.compiler.compile import Compiler
from mizzen.scheduler.pipeline.driver import PipelineDriver
from mizzen.schemas.statuses import RunStatus as S
from mizzen.store import Database, open_database
from mizzen.store.gateway import pipelines, run_changes, runs, statuses
from mizzen.store.records import NewRun


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    db = open_database(db_url)
    yield db
    db.dispose()


def ops(database: Database, dag_uuid: str) -> dict[str, tuple[str, S]]:
    return {c.name or "": (c.uuid, c.status) for c in pipelines.children(database, dag_uuid)}


def finish(database: Database, uuid: str, status: S) -> None:
    for step in (S.QUEUED, S.RUNNING, status):
        statuses.set_status(database, uuid, step, "Test", f"moved to {step}")


def test_a_failure_is_stored_downstream_as_upstream_failed_and_handled_by_its_rescue_op(
    database: Database,
) -> None:
    spec = dag_spec(
        job("a"),
        job("b", dependencies=["a"]),
        job("c", dependencies=["b"]),
        job("rescue", dependencies=["a"], trigger="one_failed"),
    )
    dag = run_changes.create_run(database, NewRun(kind="dag", name="dag", spec=spec, executor="local"))
    uuid = dag.detail.run.uuid
    driver = PipelineDriver(database, lambda run: Compiler(), executor="local")
    driver.tick()
    assert ops(database, uuid).keys() == {"a"}
    assert runs.get_run(database, uuid).status == S.RUNNING
    finish(database, ops(database, uuid)["a"][0], S.FAILED)
    driver.tick()
    now = ops(database, uuid)
    assert {name: status for name, (_, status) in now.items()} == {
        "a": S.FAILED,
        "b": S.UPSTREAM_FAILED,
        "c": S.UPSTREAM_FAILED,
        "rescue": S.CREATED,
    }
    [condition] = [c for c in runs.conditions_of(database, now["b"][0]) if c.type == S.UPSTREAM_FAILED]
    assert condition.reason == "UpstreamFailed"
    assert condition.message == "upstream op a ended failed, and the policy is all_succeeded"
    restarted = PipelineDriver(database, lambda run: Compiler(), executor="local", owner=driver.owner)
    restarted.tick()  # a driver starting again decides the same: nothing is created twice
    assert len(pipelines.children(database, uuid)) == 4
    finish(database, now["rescue"][0], S.SUCCEEDED)
    restarted.tick()
    ended = runs.get_run(database, uuid)
    assert ended.status == S.SUCCEEDED, ended
    progress = ended.meta["pipeline"]
    assert progress["lines"] == ["a: failed", "b: upstream_failed", "rescue: succeeded", "c: upstream_failed"]
