"""Joins are resolved when a run is claimed (the local scheduler's claim and the agents' claim), over
earlier runs in the real store (SQLite and PostgreSQL); the compile then sees ordinary values."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from mizzen.compiler.plan import RuntimeContext
from mizzen.scheduler.compile_run import pipeline_compiler, run_compiler
from mizzen.scheduler.joins import JOINS_KEY
from mizzen.scheduler.source import ClaimedRun
from mizzen.scheduler.store_source import StoreRunSource
from mizzen.schemas.api import AgentClaim
from mizzen.schemas.statuses import RunStatus
from mizzen.server.services import Services
from mizzen.settings import Settings
from mizzen.store import Database, open_database
from mizzen.store.gateway import run_changes, statuses
from mizzen.store.gateway import runs as runs_gateway
from mizzen.store.records import NewRun


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    database = open_database(db_url)
    yield database
    database.dispose()


@pytest.fixture
def source(database: Database, settings: Settings) -> Iterator[StoreRunSource]:
    source = StoreRunSource(database, lambda _uuid, _lines: None, join_compiler=pipeline_compiler(settings))
    yield source
    source.close()


def _earlier(
    database: Database, name: str, status: str, loss: float, project: str = "p", **fields: Any
) -> str:
    new = NewRun(
        project=project, name=name, managed=False, outputs={"loss": loss}, tags=["trained"], **fields
    )
    uuid = run_changes.create_run(database, new).detail.run.uuid
    statuses.set_status(database, uuid, RunStatus.RUNNING)
    statuses.set_status(database, uuid, RunStatus(status))
    return uuid


def _reduce(query: str, **join: Any) -> dict[str, Any]:
    return {
        "version": 1.1,
        "kind": "operation",
        "name": "reduce",
        "params": {"top": {"value": 2, "contextOnly": True}},
        "joins": [
            {
                "query": query,
                "params": {
                    "losses": {"value": "outputs.loss"},
                    "uuids": {"value": "globals.uuid", "contextOnly": True},
                    "folders": {"value": "artifacts.outputs", "contextOnly": True},
                },
                **join,
            }
        ],
        "component": {
            "inputs": [{"name": "losses", "type": "float", "isList": True}],
            "run": {
                "kind": "job",
                "container": {
                    "image": "python",
                    "command": ["echo", "{{ losses }}", "{{ uuids }}", "{{ folders }}"],
                },
            },
        },
    }


def _claim_one(source: StoreRunSource, database: Database, spec: dict[str, Any], **fields: Any) -> ClaimedRun:
    uuid = run_changes.create_run(
        database, NewRun(project="p", spec=spec, executor="local", **fields)
    ).detail.run.uuid
    [claimed] = [run for run in source.claim("local", "test-owner", 10) if run.uuid == uuid]
    return claimed


def _args(claimed: ClaimedRun, settings: Settings) -> list[str]:
    context = RuntimeContext(project_name=claimed.project, uuid=claimed.uuid, name=claimed.name)
    plan = run_compiler(settings)(claimed, context)
    main = plan.replicas[0].pod.main
    assert main is not None
    return [*main.command, *main.args]


def test_a_join_collects_the_values_of_the_runs_its_query_selects(
    source: StoreRunSource, database: Database, settings: Settings
) -> None:
    best = _earlier(database, "a", "succeeded", 0.2)
    second = _earlier(database, "b", "succeeded", 0.5)
    _earlier(database, "c", "succeeded", 0.9)
    _earlier(database, "d", "failed", 0.1)  # not succeeded
    _earlier(database, "e", "succeeded", 0.05, project="other")  # another project
    spec = _reduce("status: succeeded, tags: trained", sort="outputs.loss", limit="{{ top }}")
    claimed = _claim_one(source, database, spec)
    joined = claimed.meta[JOINS_KEY]
    assert joined["values"] == {
        "losses": [0.2, 0.5],
        "uuids": [best, second],
        "folders": [f"{best}/outputs", f"{second}/outputs"],
    }
    assert joined["selected"] == [{"query": "status: succeeded, tags: trained", "runs": [best, second]}]
    run = runs_gateway.get_run_detail(database, claimed.uuid)
    assert run.run.inputs["losses"] == [0.2, 0.5]
    assert "uuids" not in run.run.inputs  # context-only
    last = run.conditions[-1]
    assert (last.type, last.reason) == (RunStatus.COMPILED, "JoinsResolved")
    assert f"selected 2 runs ({best[:8]}, {second[:8]})" in (last.message or "")
    args = _args(claimed, settings)
    assert args[1] == "[0.2, 0.5]"
    assert args[2] == f'["{best}", "{second}"]'


def test_offset_skips_and_a_join_that_selects_nothing_gives_empty_lists(
    source: StoreRunSource, database: Database, settings: Settings
) -> None:
    _earlier(database, "a", "succeeded", 0.2)
    _earlier(database, "b", "succeeded", 0.5)
    claimed = _claim_one(source, database, _reduce("tags: trained", sort="-outputs.loss", offset=1))
    assert claimed.meta[JOINS_KEY]["values"]["losses"] == [0.2]
    claimed = _claim_one(source, database, _reduce("metrics.loss: <0.1, status: succeeded"))
    assert claimed.meta[JOINS_KEY]["values"] == {"losses": [], "uuids": [], "folders": []}
    assert "selected 0 runs" in (
        runs_gateway.get_run_detail(database, claimed.uuid).conditions[-1].message or ""
    )
    assert _args(claimed, settings)[1:3] == ["[]", "[]"]


def test_a_join_over_polyaxons_component_name_selects_the_runs_of_that_component(
    source: StoreRunSource, database: Database
) -> None:
    def of_component(name: str, loss: float) -> str:
        spec = {"version": 1.1, "kind": "operation", "component": {"name": name, "run": {"kind": "job"}}}
        return _earlier(database, name, "succeeded", loss, spec=spec)

    trainer = of_component("trainer", 0.3)
    of_component("evaluator", 0.4)
    claimed = _claim_one(source, database, _reduce("hub.name: trainer, project.name: p"))
    assert claimed.meta[JOINS_KEY]["values"]["uuids"] == [trainer]


def test_a_join_that_cannot_be_resolved_fails_the_run_and_says_where(
    source: StoreRunSource, database: Database
) -> None:
    uuid = run_changes.create_run(
        database, NewRun(project="p", spec=_reduce("metrics.loss: <abc"), executor="local")
    ).detail.run.uuid
    assert [run.uuid for run in source.claim("local", "test-owner", 10)] == []
    assert source.flush(30)
    run = runs_gateway.get_run_detail(database, uuid)
    assert run.run.status == RunStatus.FAILED
    assert run.conditions[-1].reason == "JoinError"
    assert "joins[0]" in (run.conditions[-1].message or "")
    assert "metrics.loss: <abc" in (run.conditions[-1].message or "")


def test_a_dag_ops_join_reaches_its_params_when_the_scheduler_compiles_it_strictly(
    source: StoreRunSource, database: Database, settings: Settings
) -> None:
    """The known suspect: `compile_dag_op` passes no join names when strict, so a DAG op's join
    input must arrive as a value: the claim resolves it, the compile uses it."""
    _earlier(database, "a", "succeeded", 0.25)
    op = {
        "name": "reduce",
        **{k: v for k, v in _reduce("tags: trained").items() if k not in ("version", "kind")},
    }
    dag = {"version": 1.1, "kind": "operation", "component": {"run": {"kind": "dag", "operations": [op]}}}
    claimed = _claim_one(source, database, dag, meta={"dag_op": "reduce", "upstream": {}})
    assert claimed.meta[JOINS_KEY]["values"]["losses"] == [0.25]
    assert _args(claimed, settings)[1] == "[0.25]"


def test_the_agents_claim_resolves_joins_too(settings: Settings, db_url: str) -> None:
    services = Services.build(settings.model_copy(update={"database_url": db_url}))
    try:
        database = services.database
        earlier = _earlier(database, "a", "succeeded", 0.7)
        spec = _reduce("tags: trained")
        uuid = run_changes.create_run(
            database, NewRun(project="p", spec=spec, executor="kubernetes")
        ).detail.run.uuid
        [run] = services.agents.claim("agent-1", AgentClaim(executor="kubernetes", limit=5))
        assert run.uuid == uuid
        assert run.meta[JOINS_KEY]["values"]["uuids"] == [earlier]
        assert runs_gateway.get_run_detail(database, uuid).conditions[-1].reason == "JoinsResolved"
    finally:
        services.close()
