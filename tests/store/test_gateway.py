"""The store's gateway: one transaction per call, plain frozen records out, on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import pytest

from mizzen.errors import Conflict, InvalidTransition, NotFound
from mizzen.schemas.run_meta import CODE_RUN_KEY, OWNER_KEY
from mizzen.schemas.statuses import RunStatus
from mizzen.store import Database
from mizzen.store.clock import utcnow
from mizzen.store.database import read_session, write_session
from mizzen.store.gateway import (
    agents,
    claims,
    idempotency,
    lineage,
    metrics,
    projects,
    run_changes,
    runs,
    statuses,
)
from mizzen.store.query import parse_query, parse_sort
from mizzen.store.records import (
    ClaimedRunRecord,
    LineageRecord,
    MetricPoints,
    NewRun,
    RunProgress,
    RunRecord,
    StatusMove,
)
from mizzen.store.repos import runs as runs_repo
from mizzen.store.repos.statuses import set_status


def assert_plain(value: Any) -> None:
    """Nothing SQLAlchemy in ``value``, however deep: records, lists, dicts and plain values only."""
    assert not type(value).__module__.startswith("sqlalchemy"), value
    assert not hasattr(value, "_sa_instance_state"), value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        assert type(value).__dataclass_params__.frozen, f"{type(value).__name__} is not frozen"  # type: ignore[attr-defined]
        for item in dataclasses.fields(value):
            assert_plain(getattr(value, item.name))
    elif isinstance(value, dict):
        for key, item in value.items():
            assert_plain(key)
            assert_plain(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            assert_plain(item)


def new_run(
    database: Database, project: str = "demo", *, executor: str = "k8s", status: RunStatus = RunStatus.CREATED
) -> str:
    with write_session(database) as session:
        run, _ = runs_repo.create_run(
            session, runs_repo.NewRun(project=project, executor=executor, status=status)
        )
        return run.uuid


def move(database: Database, uuid: str, *statuses: RunStatus) -> None:
    with write_session(database) as session:
        run = runs_repo.get_run(session, uuid, for_update=True)
        for status in statuses:
            set_status(session, run, status)


def holds_token(database: Database, uuid: str, token: str) -> bool:
    """Whether ``token`` is run ``uuid``'s token now (only its hash is stored)."""
    with read_session(database) as session:
        return runs_repo.get_run(session, uuid).token_hash == runs_repo.hash_token(token)


# -- projects --------------------------------------------------------------------------------------


def test_projects_round_trip_as_records_with_their_run_counts(database: Database) -> None:
    created = projects.create_project(database, "demo", "first", ["a"])
    assert (created.name, created.description, created.tags, created.runs_count) == (
        "demo",
        "first",
        ["a"],
        0,
    )
    projects.create_project(database, "alpha")
    new_run(database, "demo")
    new_run(database, "demo")

    listed = projects.list_projects(database)
    assert [(p.name, p.runs_count) for p in listed] == [("alpha", 0), ("demo", 2)]
    assert projects.get_project(database, "demo").runs_count == 2
    updated = projects.update_project(database, "demo", tags=["b"])
    assert (updated.description, updated.tags, updated.runs_count) == ("first", ["b"], 2)
    assert updated.uuid == created.uuid and updated.updated_at >= created.updated_at
    for value in (created, listed, updated):
        assert_plain(value)
    with pytest.raises(dataclasses.FrozenInstanceError):
        created.name = "other"  # type: ignore[misc]


def test_project_errors_are_the_stores(database: Database) -> None:
    projects.create_project(database, "demo")
    with pytest.raises(Conflict, match="already exists"):
        projects.create_project(database, "demo")
    with pytest.raises(NotFound, match="project 'nope' not found"):
        projects.get_project(database, "nope")
    with pytest.raises(NotFound):
        projects.update_project(database, "nope", description="x")
    with pytest.raises(NotFound):
        projects.delete_project(database, "nope")


def test_deleting_a_project_answers_its_runs_uuids_and_removes_them(database: Database) -> None:
    uuids = {new_run(database, "demo"), new_run(database, "demo")}
    kept = new_run(database, "other")
    assert set(projects.delete_project(database, "demo")) == uuids
    assert [p.name for p in projects.list_projects(database)] == ["other"]
    assert runs.statuses_of(database, [*uuids, kept]) == {kept: RunStatus.CREATED}


# -- metrics ---------------------------------------------------------------------------------------


def test_metrics_ingest_summaries_and_history(database: Database) -> None:
    uuid = new_run(database)
    points = [("loss", 2, 2.0, 0.5), ("loss", 1, 1.0, 0.9), ("acc", None, 1.5, 0.7)]
    assert metrics.ingest(database, uuid, points) == 3
    summaries = metrics.summaries(database, uuid)
    assert [(s.name, s.last, s.min, s.max, s.last_step, s.count) for s in summaries] == [
        ("acc", 0.7, 0.7, 0.7, None, 1),
        ("loss", 0.5, 0.5, 0.9, 2, 2),
    ]
    assert_plain(summaries)
    assert metrics.history(database, uuid, "loss") == MetricPoints([1, 2], [1.0, 2.0], [0.9, 0.5])
    assert metrics.history(database, uuid, "never") == MetricPoints([], [], [])


def test_a_replayed_ingest_stores_nothing_and_answers_the_first_count(database: Database) -> None:
    uuid = new_run(database)
    assert metrics.ingest(database, uuid, [("loss", 1, 1.0, 0.5)], idempotency_key="k1") == 1
    assert (
        metrics.ingest(database, uuid, [("loss", 2, 2.0, 0.4), ("loss", 3, 3.0, 0.3)], idempotency_key="k1")
        == 1
    )
    assert metrics.history(database, uuid, "loss").values == [0.5]
    assert metrics.ingest(database, uuid, [("loss", 2, 2.0, 0.4)], idempotency_key="k2") == 1
    assert metrics.history(database, uuid, "loss").values == [0.5, 0.4]


def test_metrics_of_an_unknown_run_are_not_found_even_on_a_replay(database: Database) -> None:
    uuid = new_run(database)
    metrics.ingest(database, uuid, [("loss", 1, 1.0, 0.5)], idempotency_key="k")
    for call in (
        lambda: metrics.ingest(database, "0" * 32, [("loss", 1, 1.0, 0.5)], idempotency_key="k"),
        lambda: metrics.summaries(database, "0" * 32),
        lambda: metrics.history(database, "0" * 32, "loss"),
    ):
        with pytest.raises(NotFound, match=r"run '0{32}' not found"):
            call()


def test_forgotten_idempotency_keys_let_a_replay_apply_again(database: Database) -> None:
    uuid = new_run(database)
    metrics.ingest(database, uuid, [("loss", 1, 1.0, 0.5)], idempotency_key="k")
    assert idempotency.forget_older_than(database, utcnow() - timedelta(days=1)) == 0
    assert metrics.ingest(database, uuid, [("loss", 2, 2.0, 0.4)], idempotency_key="k") == 1
    assert metrics.history(database, uuid, "loss").values == [0.5]  # still a replay
    assert idempotency.forget_older_than(database, utcnow() + timedelta(seconds=1)) == 1
    assert metrics.ingest(database, uuid, [("loss", 2, 2.0, 0.4)], idempotency_key="k") == 1
    assert metrics.history(database, uuid, "loss").values == [0.5, 0.4]


# -- agents ----------------------------------------------------------------------------------------


def test_heartbeats_upsert_an_agent_record(database: Database) -> None:
    first = agents.heartbeat(
        database, "b", namespace="ns", queue="q", version="1", meta={"capabilities": {"gpu": 1}}
    )
    again = agents.heartbeat(database, "b", version="2")
    agents.heartbeat(database, "a")
    assert (again.version, again.namespace, again.meta, again.created_at) == ("2", None, {}, first.created_at)
    assert again.last_seen_at >= first.last_seen_at
    listed = agents.list_agents(database)
    assert [a.name for a in listed] == ["a", "b"]
    assert_plain(listed)


# -- claims and run reads --------------------------------------------------------------------------


def test_claiming_moves_created_runs_to_compiled_and_gives_fresh_tokens(database: Database) -> None:
    first, second = new_run(database), new_run(database)
    new_run(database, executor="local")  # another executor's
    claimed = claims.claim_runs(database, "k8s", "agent-1", limit=5, reason="Claimed", message="by agent-1")
    assert [c.run.uuid for c in claimed] == [first, second]
    for claim in claimed:
        assert isinstance(claim, ClaimedRunRecord)
        assert (claim.previous, claim.run.status, claim.run.owner) == (
            RunStatus.CREATED,
            RunStatus.COMPILED,
            "agent-1",
        )
        assert holds_token(database, claim.run.uuid, claim.token)
    assert_plain(claimed)
    assert [r.meta[OWNER_KEY] for r in runs.unfinished_runs(database, "k8s")] == ["agent-1", "agent-1"]
    assert claims.claim_runs(database, "k8s", "agent-2", limit=5) == []


def test_a_replayed_claim_answers_the_unstarted_runs_again_with_new_tokens(database: Database) -> None:
    first, second = new_run(database), new_run(database)
    claimed = claims.claim_runs(database, "k8s", "agent-1", limit=5, idempotency_key="c1")
    move(database, second, RunStatus.QUEUED, RunStatus.SCHEDULED, RunStatus.STARTING, RunStatus.RUNNING)
    third = new_run(database)  # waiting, but not part of the first claim
    replayed = claims.claim_runs(database, "k8s", "agent-1", limit=5, idempotency_key="c1")
    assert [(c.run.uuid, c.previous) for c in replayed] == [(first, RunStatus.COMPILED)]
    assert not holds_token(database, first, claimed[0].token)
    assert holds_token(database, first, replayed[0].token)
    assert claims.claim_runs(database, "k8s", "agent-2", limit=5, idempotency_key="c1") == []  # not agent-2's
    assert runs.statuses_of(database, [third]) == {third: RunStatus.CREATED}


def test_a_reissued_token_needs_the_checks_consent(database: Database) -> None:
    uuid = new_run(database)
    (claim,) = claims.claim_runs(database, "k8s", "agent-1", limit=1)
    seen: list[RunRecord] = []

    def refuse(run: RunRecord) -> None:
        seen.append(run)
        raise Conflict(f"run {run.uuid} is not yours")

    with pytest.raises(Conflict, match="is not yours"):
        claims.reissue_token(database, uuid, refuse)
    assert seen[0].owner == "agent-1" and seen[0].status == RunStatus.COMPILED
    assert holds_token(database, uuid, claim.token)  # refused: the old token still holds
    run, token = claims.reissue_token(database, uuid, lambda run: None)
    assert run.uuid == uuid and holds_token(database, uuid, token)
    with pytest.raises(NotFound):
        claims.reissue_token(database, "0" * 32, lambda run: None)


def test_run_reads_by_executor_and_status(database: Database) -> None:
    oldest, stopping, done = new_run(database), new_run(database), new_run(database)
    new_run(database, executor="local")
    move(database, stopping, RunStatus.QUEUED, RunStatus.STOPPING)
    move(database, done, RunStatus.QUEUED, RunStatus.STOPPED)
    assert [r.uuid for r in runs.runs_in_status(database, "k8s", RunStatus.STOPPING)] == [stopping]
    unfinished = runs.unfinished_runs(database, "k8s")
    assert [r.uuid for r in unfinished] == [oldest, stopping]
    assert_plain(unfinished)
    missing = "0" * 32
    assert runs.statuses_of(database, [done, missing, oldest, done]) == {
        done: RunStatus.STOPPED,
        oldest: RunStatus.CREATED,
    }
    record = unfinished[0]
    assert (record.project, record.kind, record.executor, record.status) == (
        "demo",
        "job",
        "k8s",
        RunStatus.CREATED,
    )
    assert_plain(record)


def test_log_offsets_are_reserved_in_turn_and_read_back_as_progress(database: Database) -> None:
    uuid = new_run(database)
    runs.require_run(database, uuid)
    assert runs.reserve_log_lines(database, uuid, 3) == 0
    assert runs.reserve_log_lines(database, uuid, 2) == 3
    assert runs.progress_of(database, uuid) == RunProgress(RunStatus.CREATED, 5, None)
    move(database, uuid, RunStatus.QUEUED, RunStatus.STOPPED)
    progress = runs.progress_of(database, uuid)
    assert (progress.status, progress.log_lines) == (RunStatus.STOPPED, 5)
    assert progress.finished_at is not None
    assert_plain(progress)
    missing = "0" * 32
    for call in (
        lambda: runs.require_run(database, missing),
        lambda: runs.reserve_log_lines(database, missing, 1),
        lambda: runs.progress_of(database, missing),
    ):
        with pytest.raises(NotFound, match=r"run '0{32}' not found"):
            call()


# -- lineage ---------------------------------------------------------------------------------------


def test_lineage_is_recorded_per_project_and_read_back_as_records(database: Database) -> None:
    first, second = new_run(database), new_run(database)
    data = LineageRecord("digits", "dataframe", None, {"rows": 1797}, is_input=True)
    model = LineageRecord("model", "model", "outputs/model.pkl", {"acc": 0.9})
    recorded = lineage.record_lineage(database, first, [data, model])
    assert [(r.name, r.is_input, r.summary) for r in sorted(recorded, key=lambda r: r.name)] == [
        ("digits", True, {"rows": 1797}),
        ("model", False, {"acc": 0.9}),
    ]
    assert all(r.created_at is not None for r in recorded)
    assert_plain(recorded)
    # the same artifact from another run of the project: one artifact, its summary the latest
    lineage.record_lineage(
        database, second, [LineageRecord("model", "model", "outputs/model.pkl", {"acc": 0.95})]
    )
    assert [(r.name, r.summary) for r in lineage.list_lineage(database, second)] == [("model", {"acc": 0.95})]
    assert {r.name: r.summary for r in lineage.list_lineage(database, first)}["model"] == {"acc": 0.95}
    missing = "0" * 32
    for call in (
        lambda: lineage.record_lineage(database, missing, [data]),
        lambda: lineage.list_lineage(database, missing),
    ):
        with pytest.raises(NotFound, match=r"run '0{32}' not found"):
            call()


# -- statuses and plans ----------------------------------------------------------------------------


def test_a_status_change_answers_the_run_and_the_status_before(database: Database) -> None:
    uuid = new_run(database)
    change = statuses.set_status(database, uuid, RunStatus.QUEUED, "Queued", "waiting")
    assert (change.previous, change.changed, change.run.status, change.run.project) == (
        RunStatus.CREATED,
        True,
        RunStatus.QUEUED,
        "demo",
    )
    assert_plain(change)
    again = statuses.set_status(database, uuid, RunStatus.QUEUED, "Queued", "waiting")
    assert (again.previous, again.changed) == (RunStatus.QUEUED, False)
    statuses.set_status(database, uuid, RunStatus.STOPPED)
    with pytest.raises(InvalidTransition):
        statuses.set_status(database, uuid, RunStatus.RUNNING)
    assert runs.statuses_of(database, [uuid]) == {uuid: RunStatus.STOPPED}
    with pytest.raises(NotFound, match=r"run '0{32}' not found"):
        statuses.set_status(database, "0" * 32, RunStatus.QUEUED)


def test_a_runs_plan_is_replaced_and_read_back(database: Database) -> None:
    uuid = new_run(database)
    record = runs.update_run(database, uuid, plan={"containers": [{"name": "main"}]})
    assert record.run.plan == {"containers": [{"name": "main"}]}
    assert_plain(record)
    assert runs.unfinished_runs(database, "k8s")[0].plan == {"containers": [{"name": "main"}]}
    with pytest.raises(NotFound, match=r"run '0{32}' not found"):
        runs.update_run(database, "0" * 32, plan={})


def test_stopping_asks_the_decision_under_the_runs_lock(database: Database) -> None:
    uuid = new_run(database)
    seen: list[RunStatus] = []

    def decide(run: RunRecord) -> StatusMove | None:
        seen.append(run.status)
        return None if run.status == RunStatus.STOPPED else StatusMove(RunStatus.STOPPED, "Why", "stopped")

    change = statuses.change_status(database, uuid, decide)
    assert (change.previous, change.changed, change.run.status) == (
        RunStatus.CREATED,
        True,
        RunStatus.STOPPED,
    )
    assert [(c.type, c.reason, c.message) for c in change.detail.conditions][-1] == (
        RunStatus.STOPPED,
        "Why",
        "stopped",
    )
    assert_plain(change)
    unchanged = statuses.change_status(database, uuid, decide)
    assert (unchanged.previous, unchanged.changed) == (RunStatus.STOPPED, False)
    assert seen == [RunStatus.CREATED, RunStatus.STOPPED]
    assert len(runs.conditions_of(database, uuid)) == len(change.detail.conditions)


def test_a_status_dated_before_the_last_condition_keeps_the_history_in_order(database: Database) -> None:
    uuid = new_run(database)
    created = runs.conditions_of(database, uuid)[-1].time
    change = statuses.set_status(database, uuid, RunStatus.QUEUED, at=created - timedelta(hours=1))
    assert change.detail.conditions[-1].time == created
    later = created + timedelta(minutes=5)
    assert (
        statuses.set_status(database, uuid, RunStatus.RUNNING, at=later).detail.conditions[-1].time == later
    )


# -- one run: create, read, search, update, clone, resume, delete ----------------------------------


def test_a_created_run_reads_back_with_its_history_and_token(database: Database) -> None:
    issued = run_changes.create_run(database, NewRun(project="demo", name="first", params={"lr": 0.1}))
    assert (issued.replayed, issued.detail.metrics) == (False, [])
    assert [c.type for c in issued.detail.conditions] == [RunStatus.CREATED]
    uuid = issued.detail.run.uuid
    assert holds_token(database, uuid, issued.token)
    assert runs.run_of_token(database, issued.token) == uuid
    assert runs.run_of_token(database, "not-a-token") is None
    metrics.ingest(database, uuid, [("loss", 1, 1.0, 0.5)])
    detail = runs.get_run_detail(database, uuid)
    assert runs.get_run(database, uuid) == detail.run
    assert (detail.run.name, detail.run.params, [m.name for m in detail.metrics]) == (
        "first",
        {"lr": 0.1},
        ["loss"],
    )
    assert_plain(issued)
    assert_plain(detail)
    with pytest.raises(Conflict, match="already exists"):
        run_changes.create_run(database, NewRun(project="demo", uuid=uuid))
    with pytest.raises(NotFound, match=r"run '0{32}' not found"):
        runs.get_run_detail(database, "0" * 32)
    with pytest.raises(NotFound, match=r"run '0{32}' not found"):
        runs.get_run(database, "0" * 32)


def test_a_replayed_create_answers_the_same_run_with_a_new_token(database: Database) -> None:
    first = run_changes.create_run(database, NewRun(project="demo"), idempotency_key="runs:k")
    again = run_changes.create_run(database, NewRun(project="other"), idempotency_key="runs:k")
    assert again.replayed and again.detail.run.uuid == first.detail.run.uuid
    assert again.token != first.token and holds_token(database, first.detail.run.uuid, again.token)
    assert [p.name for p in projects.list_projects(database)] == ["demo"]


def test_runs_are_searched_as_plain_pages(database: Database) -> None:
    for name in ("a", "b", "c"):
        run_changes.create_run(database, NewRun(project="demo", name=name))
    run_changes.create_run(database, NewRun(project="other", name="d"))
    page = runs.search_page(database, project="demo", sort=parse_sort("name"), limit=2)
    assert ([item["name"] for item in page.items], page.count) == (["a", "b"], 3)
    found = runs.search_page(database, conditions=parse_query("name:d"))
    assert [(item["name"], item["project"]) for item in found.items] == [("d", "other")]
    assert_plain(page)


def test_an_update_merges_and_replaces_fields(database: Database) -> None:
    uuid = run_changes.create_run(database, NewRun(project="demo", meta={"a": 1})).detail.run.uuid
    detail = runs.update_run(database, uuid, name="renamed", tags=["x"], meta={"b": 2}, outputs={"acc": 0.9})
    assert (detail.run.name, detail.run.tags, detail.run.meta, detail.run.outputs) == (
        "renamed",
        ["x"],
        {"a": 1, "b": 2},
        {"acc": 0.9},
    )
    assert runs.update_run(database, uuid, description="d").run.name == "renamed"


def test_a_clone_is_built_from_the_original_as_it_is_now(database: Database) -> None:
    original = run_changes.create_run(database, NewRun(project="demo", name="orig", params={"lr": 0.1}))
    uuid = original.detail.run.uuid

    def build(run: RunRecord) -> NewRun:
        return NewRun(project=run.project, name=f"{run.name}-copy", params=run.params, original_uuid=run.uuid)

    clone = run_changes.clone_run(database, uuid, build)
    assert (clone.detail.run.name, clone.detail.run.original_uuid, clone.detail.run.params) == (
        "orig-copy",
        uuid,
        {"lr": 0.1},
    )
    assert clone.detail.run.uuid != uuid and holds_token(database, clone.detail.run.uuid, clone.token)
    with pytest.raises(NotFound):
        run_changes.clone_run(database, "0" * 32, build)


def test_a_resume_needs_the_checks_consent_and_lets_the_owner_go(database: Database) -> None:
    uuid = run_changes.create_run(
        database, NewRun(project="demo", params={"lr": 0.1}, plan={"old": True}, meta={OWNER_KEY: "h:1"})
    ).detail.run.uuid
    move(database, uuid, RunStatus.QUEUED, RunStatus.FAILED)
    resumed = StatusMove(RunStatus.QUEUED, "Resumed", "resumed by the user")

    def refuse(run: RunRecord) -> None:
        raise Conflict(f"not {run.status.value}")

    with pytest.raises(Conflict, match="not failed"):
        run_changes.resume_run(database, uuid, refuse, resumed, name="again")
    assert runs.get_run(database, uuid).name is None  # refused: nothing changed
    issued, previous = run_changes.resume_run(
        database, uuid, lambda run: None, resumed, name="again", params={"lr": 0.2}, inputs={"lr": 0.2}
    )
    run = issued.detail.run
    assert (previous, run.status, run.name, run.params, run.plan, run.owner) == (
        RunStatus.FAILED,
        RunStatus.QUEUED,
        "again",
        {"lr": 0.2},
        None,
        None,
    )
    assert (run.started_at, run.finished_at) == (None, None)
    assert issued.detail.conditions[-1].reason == "Resumed"
    assert holds_token(database, uuid, issued.token)


def test_a_deleted_run_answers_what_it_was_and_its_code_references(database: Database) -> None:
    original = run_changes.create_run(database, NewRun(project="demo")).detail.run.uuid
    user = run_changes.create_run(
        database, NewRun(project="demo", meta={CODE_RUN_KEY: original})
    ).detail.run.uuid
    assert run_changes.code_refs_of(database, [original], []) == ({original}, set())
    deleted = run_changes.delete_run(database, original)
    assert (deleted.uuid, deleted.project, deleted.status) == (original, "demo", RunStatus.CREATED)
    assert_plain(deleted)
    assert run_changes.code_refs_of(database, [user], [original]) == ({original}, {original})
    run_changes.delete_run(database, user)
    assert run_changes.code_refs_of(database, [user], [original]) == (set(), {original})
    with pytest.raises(NotFound):
        run_changes.delete_run(database, user)


def test_a_scoped_claim_takes_only_its_runs_and_its_pipelines_children(database: Database) -> None:
    """`mizzen run` claims what it started: its own runs and the children of its pipelines."""
    mine, theirs = new_run(database), new_run(database)
    pipeline = new_run(database)
    child = run_changes.create_run(
        database, NewRun(kind="job", executor="k8s", pipeline_uuid=pipeline, pipeline_key="trial-00000")
    ).detail.run.uuid
    other_child = run_changes.create_run(
        database, NewRun(kind="job", executor="k8s", pipeline_uuid=theirs, pipeline_key="trial-00000")
    ).detail.run.uuid
    scope = (frozenset({mine}), frozenset({mine, pipeline}))
    claimed = claims.claim_runs(database, "k8s", "run-1", limit=10, scope=scope)
    assert {c.run.uuid for c in claimed} == {mine, child}
    rest = claims.claim_runs(database, "k8s", "server", limit=10)
    assert {c.run.uuid for c in rest} == {theirs, pipeline, other_child}
