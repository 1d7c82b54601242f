"""GET /runs/{uuid}/pipeline and /pipeline/children: a pipeline's progress in one call, its
children ranked by a metric page by page, a DAG's nodes and edges; on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from mizzen.schemas.api import API_PREFIX
from mizzen.schemas.pipeline_api import PipelineChildren, PipelineRead
from mizzen.schemas.pipelines import op_key, trial_key
from mizzen.settings import Settings
from mizzen.store.gateway import pipelines
from mizzen.store.records import NewRun

TPE_SWEEP = {
    "version": 1.1,
    "kind": "operation",
    "name": "tune",
    "matrix": {
        "kind": "tpe",
        "numRuns": 5,
        "metric": {"name": "loss", "optimization": "minimize"},
        "params": {"lr": {"kind": "uniform", "value": [0, 1]}},
    },
    "component": {
        "inputs": [{"name": "lr", "type": "float"}],
        "run": {"kind": "job", "container": {"image": "python", "command": ["true"]}},
    },
}
DAG = {
    "version": 1.1,
    "kind": "operation",
    "name": "flow",
    "component": {
        "run": {
            "kind": "dag",
            "operations": [
                {"name": "prepare", "dagRef": "step"},
                {"name": "train", "dagRef": "step", "dependencies": ["prepare"]},
                {"name": "report", "dagRef": "step", "dependencies": ["prepare", "train"]},
            ],
            "components": [{"name": "step", "run": {"kind": "job", "container": {"image": "x"}}}],
        }
    },
}


@pytest.fixture
def served(
    db_url: str, settings: Settings, serve_app: Callable[[Any], AbstractContextManager[str]]
) -> Iterator[tuple[httpx.Client, Any]]:
    """The real API (no pipeline driver: the test makes the children) and its services."""
    from mizzen.server.app import create_app

    app = create_app(settings.model_copy(update={"database_url": db_url}))
    try:
        with serve_app(app) as base, httpx.Client(base_url=base + API_PREFIX, timeout=60) as client:
            yield client, app.state.services
    finally:
        app.state.services.close()


def _pipeline(api: httpx.Client, kind: str, spec: dict[str, Any]) -> str:
    answer = api.post("/runs", json={"project": "p", "name": spec["name"], "kind": kind, "spec": spec})
    assert answer.status_code == 201, answer.text
    return str(answer.json()["uuid"])


def _children(services: Any, pipeline: str, keys: list[str], **fields: Any) -> dict[str, str]:
    news = [
        NewRun(project="p", name=key, kind="job", pipeline_uuid=pipeline, pipeline_key=key, **fields)
        for key in keys
    ]
    created = pipelines.create_children(services.database, pipeline, news)
    return {run.pipeline_key or "": run.uuid for run in created}


def _copies(services: Any, template: str, keys: list[str]) -> None:
    """Children like ``template`` under ``keys``, inserted in one statement (a driver creates them one
    by one, which would make this test take minutes)."""
    from uuid import uuid4

    from sqlalchemy import insert, select

    from mizzen.store.orm import RunRow

    table = RunRow.__table__
    with services.database.write_engine.begin() as connection:
        row = dict(connection.execute(select(table).where(table.c.uuid == template)).mappings().one())
        row.pop("id")
        rows = [{**row, "uuid": uuid4().hex, "pipeline_key": key, "token_hash": None} for key in keys]
        connection.execute(insert(table), rows)


def _finish(api: httpx.Client, uuid: str, status: str, **metrics: float) -> None:
    for step in ("queued", "running", status):
        assert api.post(f"/runs/{uuid}/statuses", json={"status": step}).status_code == 200
    if metrics:
        points = [{"name": n, "value": v, "step": 0, "timestamp": time.time()} for n, v in metrics.items()]
        assert api.post(f"/runs/{uuid}/metrics", json={"points": points}).status_code == 200


def test_a_sweeps_progress_counts_its_trials_and_names_the_best(served: tuple[httpx.Client, Any]) -> None:
    api, services = served
    sweep = _pipeline(api, "matrix", TPE_SWEEP)
    trials = _children(services, sweep, [trial_key(i) for i in range(5)])
    losses = {trial_key(0): 0.5, trial_key(1): 0.2, trial_key(2): 0.9}
    for key, loss in losses.items():
        _finish(api, trials[key], "succeeded", loss=loss, acc=1 - loss)
    _finish(api, trials[trial_key(3)], "failed")
    # Still running, with a better loss so far: not the best until it has finished well.
    _finish(api, trials[trial_key(4)], "running", loss=0.01, acc=0.99)

    view = PipelineRead.model_validate(api.get(f"/runs/{sweep}/pipeline").json())
    assert (view.kind, view.sweep, view.total) == ("matrix", "tpe", 5)
    assert view.counts == {"succeeded": 3, "failed": 1, "running": 1}
    assert view.metric is not None and (view.metric.name, view.metric.optimization) == ("loss", "minimize")
    assert view.best is not None and view.best.uuid == trials[trial_key(1)] and view.best.metric == 0.2
    assert view.nodes == [] and view.edges == []

    # Another metric, maximised: the best by it.
    other = PipelineRead.model_validate(
        api.get(f"/runs/{sweep}/pipeline", params={"metric": "acc", "optimization": "maximize"}).json()
    )
    assert other.best is not None and other.best.uuid == trials[trial_key(1)]
    assert other.best.metric == pytest.approx(0.8)
    worst = api.get(f"/runs/{sweep}/pipeline", params={"metric": "acc"}).json()  # minimised
    assert worst["best"]["uuid"] == trials[trial_key(2)]


def test_a_sweeps_children_are_paged_best_first_with_their_metric(served: tuple[httpx.Client, Any]) -> None:
    api, services = served
    sweep = _pipeline(api, "matrix", TPE_SWEEP)
    trials = _children(services, sweep, [trial_key(i) for i in range(5)], params={"lr": 0.5})
    for index, loss in enumerate([0.4, 0.1, 0.3, 0.2]):
        _finish(api, trials[trial_key(index)], "succeeded", loss=loss)

    def page(**params: Any) -> PipelineChildren:
        answer = api.get(f"/runs/{sweep}/pipeline/children", params=params)
        assert answer.status_code == 200, answer.text
        return PipelineChildren.model_validate(answer.json())

    first = page()
    assert [c.metric for c in first.items] == [0.1, 0.2, 0.3, 0.4, None]  # no metric yet: last
    assert first.count == 5 and first.items[0].params == {"lr": 0.5}
    assert first.items[0].key == trial_key(1) and first.items[-1].status == "created"
    assert [c.metric for c in page(limit=2, offset=2).items] == [0.3, 0.4]
    assert [c.metric for c in page(sort="-metric").items] == [0.4, 0.3, 0.2, 0.1, None]
    created = page(sort="created")
    assert [c.key for c in created.items] == [trial_key(i) for i in range(5)]
    assert [c.metric for c in created.items] == [0.4, 0.1, 0.3, 0.2, None]


def test_a_dags_nodes_are_its_ops_created_or_not_with_edges(served: tuple[httpx.Client, Any]) -> None:
    api, services = served
    dag = _pipeline(api, "dag", DAG)
    ops = _children(services, dag, [op_key("prepare")])
    _finish(api, ops[op_key("prepare")], "succeeded")
    (train,) = _children(services, dag, [op_key("train")]).values()
    assert api.post(f"/runs/{train}/statuses", json={"status": "queued"}).status_code == 200

    view = PipelineRead.model_validate(api.get(f"/runs/{dag}/pipeline").json())
    nodes = {n.name: n for n in view.nodes}
    assert [n.name for n in view.nodes] == ["prepare", "train", "report"]
    assert (nodes["prepare"].status, nodes["prepare"].uuid) == ("succeeded", ops[op_key("prepare")])
    assert (nodes["train"].status, nodes["train"].uuid) == ("queued", train)
    assert nodes["report"].status is None and nodes["report"].uuid is None
    assert nodes["report"].upstream == ["prepare", "train"] and nodes["report"].kind == "job"
    assert sorted(view.edges) == [("prepare", "report"), ("prepare", "train"), ("train", "report")]
    assert view.total == 3 and view.counts == {"succeeded": 1, "queued": 1}


def test_bad_requests_are_4xx_with_a_clear_message(served: tuple[httpx.Client, Any]) -> None:
    api, _services = served
    job = api.post("/runs", json={"project": "p", "name": "plain", "kind": "job"}).json()["uuid"]
    for path in (f"/runs/{job}/pipeline", f"/runs/{job}/pipeline/children"):
        answer = api.get(path)
        assert answer.status_code == 409, answer.text
        assert "is a job, not a pipeline (a sweep, DAG or schedule)" in answer.json()["message"]
    assert api.get("/runs/0123456789abcdef0123456789abcdef/pipeline").status_code == 404
    sweep = _pipeline(api, "matrix", TPE_SWEEP)
    for params, field in (
        ({"optimization": "best"}, "optimization"),
        ({"sort": "loss"}, "sort"),
        ({"metric": " "}, "metric"),
    ):
        answer = api.get(f"/runs/{sweep}/pipeline/children", params=params)
        assert answer.status_code == 422, (params, answer.text)
        assert answer.json()["field"] == field
    assert api.get(f"/runs/{sweep}/pipeline/children", params={"limit": 0}).status_code == 422


def test_progress_takes_the_same_few_queries_for_10_or_10000_trials(served: tuple[httpx.Client, Any]) -> None:
    """The watch loop's one request per refresh: its SQL does not grow with the number of trials."""
    api, services = served
    sweep = _pipeline(api, "matrix", {**TPE_SWEEP, "matrix": {**TPE_SWEEP["matrix"], "numRuns": 10_000}})
    trials = _children(services, sweep, [trial_key(i) for i in range(10)])
    _finish(api, trials[trial_key(3)], "succeeded", loss=0.5)
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    def queries_of_one_refresh() -> tuple[int, PipelineRead]:
        api.get(f"/runs/{sweep}/pipeline")  # the shape of the sweep is compiled once: not counted
        statements.clear()
        event.listen(services.database.engine, "before_cursor_execute", count)
        try:
            view = PipelineRead.model_validate(api.get(f"/runs/{sweep}/pipeline").json())
        finally:
            event.remove(services.database.engine, "before_cursor_execute", count)
        return len(statements), view

    few, small = queries_of_one_refresh()
    _copies(services, trials[trial_key(0)], [trial_key(i) for i in range(10, 10_000)])
    many, large = queries_of_one_refresh()
    print(f"SQL statements per progress request: {few} with 10 trials, {many} with 10,000")
    assert many == few <= 6
    assert sum(small.counts.values()) == 10 and large.counts == {"created": 9_999, "succeeded": 1}
    assert large.best is not None and large.best.uuid == trials[trial_key(3)]


def test_stop_and_delete_reach_a_dags_sweeps_trials(served: tuple[httpx.Client, Any]) -> None:
    """A DAG's op with a matrix is a sweep under the DAG: a stop stops its trials, a delete deletes
    them with their artifacts."""
    api, services = served
    dag = _pipeline(api, "dag", DAG)
    done = _children(services, dag, [op_key("prepare")])[op_key("prepare")]
    _finish(api, done, "succeeded")
    inner = pipelines.create_children(
        services.database,
        dag,
        [NewRun(project="p", name="train", kind="matrix", pipeline_uuid=dag, pipeline_key=op_key("train"))],
    )[0].uuid
    trials = _children(services, inner, [trial_key(i) for i in range(3)])
    running, waiting, finished = (trials[trial_key(i)] for i in range(3))
    for status in ("queued", "running"):
        assert api.post(f"/runs/{running}/statuses", json={"status": status}).status_code == 200
    _finish(api, finished, "succeeded")
    assert api.put(f"/runs/{finished}/artifacts/model.bin", content=b"weights").status_code == 200

    assert api.post(f"/runs/{dag}/stop").status_code == 200
    status = {u: api.get(f"/runs/{u}").json()["status"] for u in (running, waiting, finished, done)}
    assert status == {running: "stopping", waiting: "stopped", finished: "succeeded", done: "succeeded"}
    reasons = [c["reason"] for c in api.get(f"/runs/{waiting}/statuses").json()]
    assert reasons[-1] == "PipelineStopped"  # what a resumed pipeline starts again

    artifacts = services.store
    assert [f.path for f in artifacts.list_files(finished)] == ["model.bin"]
    assert api.delete(f"/runs/{dag}").status_code == 204
    for uuid in (dag, done, inner, running, waiting, finished):
        assert api.get(f"/runs/{uuid}").status_code == 404, uuid
    assert list(artifacts.list_files(finished)) == []
