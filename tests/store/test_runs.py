from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mizzen.errors import Conflict, InvalidTransition, NotFound
from mizzen.schemas.statuses import RunStatus
from mizzen.store import Database
from mizzen.store.database import read_session, write_session
from mizzen.store.repos import metrics, projects, runs, statuses
from mizzen.store.repos.metrics import Point

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _create(db: Database, **fields: object) -> tuple[str, str]:
    with write_session(db) as session:
        run, token = runs.create_run(session, runs.NewRun(**fields), now=T0)  # type: ignore[arg-type]
        return run.uuid, token


def test_create_run_creates_its_project_and_records_created(database: Database) -> None:
    uuid, token = _create(
        database, project="vision", name="resnet", params={"lr": 0.1}, tags=["a"], content="kind: component"
    )
    with read_session(database) as session:
        run = runs.get_run(session, uuid)
        assert run.project.name == "vision"
        assert (run.name, run.kind, run.status) == ("resnet", "job", "created")
        assert run.params == {"lr": 0.1}
        assert run.content == "kind: component"
        assert run.created_at == T0
        assert [c.type for c in statuses.list_conditions(session, run.id)] == ["created"]
        assert run.token_hash != token  # stored hashed
        assert runs.run_uuid_of_token(session, token) == uuid
        assert runs.run_uuid_of_token(session, "not-a-token") is None


def test_create_run_with_an_initial_status_walks_the_status_machine(database: Database) -> None:
    uuid, _ = _create(database, status=RunStatus.QUEUED)
    with read_session(database) as session:
        run = runs.get_run(session, uuid)
        assert [c.type for c in statuses.list_conditions(session, run.id)] == ["created", "queued"]


def test_set_status_keeps_times_and_duration(database: Database) -> None:
    uuid, _ = _create(database)
    with write_session(database) as session:
        run = runs.get_run(session, uuid)
        statuses.set_status(session, run, RunStatus.QUEUED, now=T0 + timedelta(seconds=1))
        statuses.set_status(session, run, RunStatus.RUNNING, now=T0 + timedelta(seconds=2))
        statuses.set_status(
            session, run, RunStatus.FAILED, "Error", "exit code 3", now=T0 + timedelta(seconds=12)
        )
    with read_session(database) as session:
        run = runs.get_run(session, uuid)
        assert run.started_at == T0 + timedelta(seconds=2)
        assert run.finished_at == T0 + timedelta(seconds=12)
        assert run.duration == pytest.approx(10.0)
        conditions = statuses.list_conditions(session, run.id)
        assert [(c.type, c.reason, c.message) for c in conditions][-1] == ("failed", "Error", "exit code 3")
        assert conditions[-1].time == T0 + timedelta(seconds=12)


def test_invalid_transition_changes_nothing(database: Database) -> None:
    uuid, _ = _create(database)
    with write_session(database) as session:
        run = runs.get_run(session, uuid)
        statuses.set_status(session, run, RunStatus.RUNNING, now=T0)
        statuses.set_status(session, run, RunStatus.SUCCEEDED, now=T0 + timedelta(seconds=5))
    with pytest.raises(InvalidTransition), write_session(database) as session:
        statuses.set_status(session, runs.get_run(session, uuid), RunStatus.RUNNING)
    with read_session(database) as session:
        run = runs.get_run(session, uuid)
        assert run.status == "succeeded"
        assert run.finished_at == T0 + timedelta(seconds=5)
        assert [c.type for c in statuses.list_conditions(session, run.id)] == [
            "created",
            "running",
            "succeeded",
        ]


def test_repeating_a_status_records_nothing_new(database: Database) -> None:
    uuid, _ = _create(database)
    with write_session(database) as session:
        run = runs.get_run(session, uuid)
        assert statuses.set_status(session, run, RunStatus.RUNNING, "Started", now=T0)
        assert not statuses.set_status(session, run, RunStatus.RUNNING)
        assert not statuses.set_status(session, run, RunStatus.RUNNING, "Started")
        assert statuses.set_status(session, run, RunStatus.RUNNING, "Heartbeat", "still alive")
        assert len(statuses.list_conditions(session, run.id)) == 3


def test_resume_reopens_a_done_run(database: Database) -> None:
    uuid, _ = _create(database)
    with write_session(database) as session:
        run = runs.get_run(session, uuid)
        statuses.set_status(session, run, RunStatus.RUNNING, now=T0)
        statuses.set_status(session, run, RunStatus.STOPPED, now=T0 + timedelta(seconds=3))
        statuses.set_status(
            session, run, RunStatus.QUEUED, "Resumed", resume=True, now=T0 + timedelta(seconds=9)
        )
    with read_session(database) as session:
        run = runs.get_run(session, uuid)
        assert run.status == "queued"
        assert (run.started_at, run.finished_at, run.duration) == (None, None, None)


def test_update_merges_dicts_and_replaces_scalars(database: Database) -> None:
    uuid, _ = _create(database, inputs={"a": 1}, outputs={"x": 1}, meta={"m": 1}, tags=["t"])
    with write_session(database) as session:
        run = runs.get_run(session, uuid)
        runs.update_run(
            session, run, name="renamed", tags=["u"], inputs={"b": 2}, outputs={"x": 2}, meta={"n": 2}
        )
    with read_session(database) as session:
        run = runs.get_run(session, uuid)
        assert (run.name, run.tags) == ("renamed", ["u"])
        assert run.inputs == {"a": 1, "b": 2}
        assert run.outputs == {"x": 2}
        assert run.meta == {"m": 1, "n": 2}


def test_delete_run_removes_its_metrics_and_conditions(database: Database) -> None:
    uuid, _ = _create(database)
    with write_session(database) as session:
        run_id = runs.run_id_of(session, uuid)
        metrics.ingest(session, run_id, [Point("loss", 1, 1.0, 0.5)])
    with write_session(database) as session:
        runs.delete_run(session, uuid)
    with read_session(database) as session:
        with pytest.raises(NotFound):
            runs.get_run(session, uuid)
        assert metrics.history(session, run_id, "loss").values == []
        assert metrics.summaries(session, run_id) == []
        assert statuses.list_conditions(session, run_id) == []


def test_log_offsets_are_handed_out_consecutively(database: Database) -> None:
    uuid, _ = _create(database)
    with write_session(database) as session:
        assert runs.reserve_log_lines(session, uuid, 3) == 0
        assert runs.reserve_log_lines(session, uuid, 2) == 3
    with read_session(database) as session:
        assert runs.progress_of(session, uuid) == (RunStatus.CREATED, 5, None)


def test_projects_crud_and_cascade(database: Database) -> None:
    with write_session(database) as session:
        projects.create_project(session, "alpha", "first", ["x"])
    with pytest.raises(Conflict), write_session(database) as session:
        projects.create_project(session, "alpha")
    uuid, _ = _create(database, project="alpha")
    with write_session(database) as session:
        projects.update_project(session, "alpha", description="changed")
    with read_session(database) as session:
        listed = projects.list_projects(session)
        assert [(p.name, p.description, n) for p, n in listed] == [("alpha", "changed", 1)]
    with write_session(database) as session:
        assert projects.delete_project(session, "alpha") == [uuid]
    with read_session(database) as session:
        assert runs.find_run(session, uuid) is None
        assert projects.find_project(session, "alpha") is None


def test_a_failed_write_rolls_back_entirely(database: Database) -> None:
    with pytest.raises(RuntimeError), write_session(database) as session:
        runs.create_run(session, runs.NewRun(project="ghost"))
        raise RuntimeError("boom")
    with read_session(database) as session:
        assert projects.find_project(session, "ghost") is None


def test_only_set_status_writes_a_status(database: Database) -> None:
    uuid, _ = _create(database)
    with (
        pytest.raises(RuntimeError, match=r"only by mizzen\.store\.repos\.statuses\.set_status"),
        write_session(database) as session,
    ):
        runs.get_run(session, uuid).status = "running"
    with read_session(database) as session:
        assert runs.get_run(session, uuid).status == "created"
