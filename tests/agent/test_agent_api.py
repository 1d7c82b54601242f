"""The agents API over real HTTP: heartbeats, atomic claims, stop lists, owned runs, tokens."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import httpx
import pytest

from mizzen.client import ApiConflict, ApiNotFound, MizzenClient
from mizzen.client.errors import ApiRequestError
from mizzen.schemas.api import API_PREFIX, RunCreate
from mizzen.schemas.statuses import RunStatus
from mizzen.settings import Settings
from mizzen.store.database import write_session

SPEC = {"version": 1.1, "kind": "operation", "component": {"run": {"kind": "job", "container": {}}}}


def _run(client: MizzenClient, **fields: Any) -> str:
    return client.runs.create(RunCreate(project="agents", spec=SPEC, **fields)).uuid


def test_heartbeat_registers_the_agent_and_lists_it_healthy(agent_api: MizzenClient) -> None:
    first = agent_api.agents.heartbeat(
        "gpu-agent", namespace="ml", queue="gpu", version="0.1.0", capabilities={"kinds": ["job"]}
    )
    again = agent_api.agents.heartbeat("gpu-agent", namespace="ml", queue="gpu", version="0.1.1")
    agent_api.agents.heartbeat("cpu-agent", namespace="ml")
    assert again.created_at == first.created_at
    assert again.last_seen_at >= first.last_seen_at
    listed = {agent.name: agent for agent in agent_api.agents.list()}
    assert sorted(listed) == ["cpu-agent", "gpu-agent"]
    assert listed["gpu-agent"].version == "0.1.1"
    assert listed["gpu-agent"].queue == "gpu"
    assert listed["gpu-agent"].healthy and listed["cpu-agent"].healthy


def test_an_agent_unseen_for_a_while_is_listed_unhealthy(
    k8s_settings: Settings, serve_app: Callable[[Any], AbstractContextManager[str]]
) -> None:
    from datetime import timedelta

    from mizzen.server.app import create_app
    from mizzen.store.clock import utcnow
    from mizzen.store.repos import agents as agents_repo

    app = create_app(k8s_settings)
    try:
        with write_session(app.state.services.database) as session:
            agents_repo.heartbeat(session, "old", namespace="ml", now=utcnow() - timedelta(minutes=5))
        with serve_app(app) as base, MizzenClient(base) as client:
            client.agents.heartbeat("fresh")
            health = {agent.name: agent.healthy for agent in client.agents.list()}
    finally:
        app.state.services.close()
    assert health == {"fresh": True, "old": False}


def test_claim_takes_created_runs_once_with_fresh_tokens(agent_api: MizzenClient) -> None:
    uuids = [_run(agent_api, name=f"r{i}") for i in range(3)]
    local = agent_api.runs.create(RunCreate(project="agents", executor="local")).uuid
    claimed = agent_api.agents.claim("a1", limit=2)
    assert [run.uuid for run in claimed] == uuids[:2]  # oldest first
    assert all(run.token and run.spec == SPEC for run in claimed)
    assert all(run.status == RunStatus.COMPILED for run in claimed)
    rest = agent_api.agents.claim("a2", limit=10)
    assert [run.uuid for run in rest] == uuids[2:]  # never the local run, never twice
    assert agent_api.agents.claim("a1", limit=10) == []
    stored = agent_api.runs.get(uuids[0])
    assert stored.status == RunStatus.COMPILED and stored.meta["owner"] == "a1"
    assert agent_api.runs.get(local).status == RunStatus.CREATED
    # the claim's token is the run's token: the run's own processes authenticate with it
    assert [c.reason for c in agent_api.statuses.list(uuids[0])][-1] == "ClaimedByAgent"


def test_claim_filters_by_queue_and_skips_runs_waiting_for_their_upload(agent_api: MizzenClient) -> None:
    gpu = _run(agent_api, queue="gpu")
    plain = _run(agent_api)
    uploading = _run(agent_api, queue="gpu", meta={"upload": "pending"})
    assert [r.uuid for r in agent_api.agents.claim("gpu-agent", queue="gpu")] == [gpu]
    agent_api.runs.update(uploading, meta={"upload": "done"})
    assert [r.uuid for r in agent_api.agents.claim("gpu-agent", queue="gpu")] == [uploading]
    assert [r.uuid for r in agent_api.agents.claim("any-agent")] == [plain]


def test_concurrent_claims_never_hand_out_a_run_twice(agent_api: MizzenClient) -> None:
    uuids = {_run(agent_api, name=f"r{i}") for i in range(30)}
    results: dict[str, list[str]] = {}
    errors: list[BaseException] = []

    def claim_all(name: str) -> None:
        with MizzenClient(agent_api.host) as own:
            got: list[str] = []
            try:
                while batch := own.agents.claim(name, limit=3):
                    got += [run.uuid for run in batch]
            except BaseException as error:
                errors.append(error)
            results[name] = got

    threads = [threading.Thread(target=claim_all, args=(f"agent-{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    everything = [uuid for got in results.values() for uuid in got]
    assert sorted(everything) == sorted(uuids)  # each run exactly once
    for name, got in results.items():
        assert all(agent_api.runs.get(uuid).meta["owner"] == name for uuid in got)


def test_a_claim_retried_with_its_key_gets_the_same_runs(agent_api: MizzenClient) -> None:
    uuids = [_run(agent_api) for _ in range(2)]
    first = agent_api.agents.claim("a1", idempotency_key="k-1")
    again = agent_api.agents.claim("a1", idempotency_key="k-1")
    assert [r.uuid for r in again] == [r.uuid for r in first] == uuids
    assert again[0].token != first[0].token  # only hashes are stored: a replay issues new tokens
    agent_api.statuses.set(uuids[0], "running")  # started: surely not lost with an answer
    assert [r.uuid for r in agent_api.agents.claim("a1", idempotency_key="k-1")] == [uuids[1]]
    assert agent_api.agents.claim("a2", idempotency_key="k-1") == []  # keys are per agent


def test_stops_lists_stopping_runs_and_active_runs_that_are_over(agent_api: MizzenClient) -> None:
    running, queued, deleted, other, fine = (_run(agent_api) for _ in range(5))
    agent_api.agents.claim("a1", limit=3)
    agent_api.agents.claim("a2", limit=2)
    for uuid in (running, deleted):
        agent_api.statuses.set(uuid, "running")
    agent_api.statuses.set(other, "running")
    agent_api.statuses.set(queued, "queued")
    agent_api.runs.stop(running)  # running: stopping, the agent must stop it
    agent_api.runs.stop(queued)  # queued: stopped at once by the API, the agent may hold objects
    agent_api.runs.stop(other)  # another agent's
    agent_api.runs.delete(deleted)
    active = [running, queued, deleted]
    assert sorted(agent_api.agents.stops("a1", active)) == sorted([running, queued, deleted])
    assert agent_api.agents.stops("a2", [other]) == [other]
    assert agent_api.agents.stops("a2", []) == [other]  # stopping: listed even when not reported
    assert fine not in agent_api.agents.stops("a2", [fine])


def test_owned_runs_and_token_reissue(agent_api: MizzenClient) -> None:
    mine, done, theirs = (_run(agent_api) for _ in range(3))
    agent_api.agents.claim("a1", limit=2)
    agent_api.agents.claim("a2", limit=1)
    agent_api.statuses.set(done, "running")
    agent_api.statuses.set(done, "succeeded")
    owned = agent_api.agents.runs("a1")
    assert [run.uuid for run in owned] == [mine]
    assert owned[0].token is None and owned[0].spec == SPEC
    fresh = agent_api.agents.reissue_token("a1", mine)
    assert fresh.token and fresh.uuid == mine
    with pytest.raises(ApiConflict, match="owned by a2"):
        agent_api.agents.reissue_token("a1", theirs)
    with pytest.raises(ApiConflict, match="already succeeded"):
        agent_api.agents.reissue_token("a1", done)
    with pytest.raises(ApiNotFound):
        agent_api.agents.reissue_token("a1", "0" * 32)


def test_bad_agent_requests_name_the_field(agent_api: MizzenClient) -> None:
    with pytest.raises(ApiRequestError) as raised:
        agent_api.agents.heartbeat("a1", queue="q" * 200)
    assert raised.value.status_code == 422 and raised.value.field == "queue"
    response = httpx.post(f"{agent_api.host}{API_PREFIX}/agents/a1/claim", json={"limit": 0})
    assert response.status_code == 422 and response.json()["field"] == "limit"


@pytest.fixture
def secured_api(settings: Settings, serve_app: Callable[[Any], AbstractContextManager[str]]) -> Iterator[str]:
    from mizzen.server.app import create_app

    app = create_app(settings.model_copy(update={"executor": "kubernetes", "token": "server-secret"}))
    try:
        with serve_app(app) as base:
            yield base
    finally:
        app.state.services.close()


def test_agent_routes_need_the_server_token_not_a_run_token(secured_api: str) -> None:
    with MizzenClient(secured_api, token="server-secret") as admin:
        run = admin.runs.create(RunCreate(project="agents", spec=SPEC))
        assert run.token
        assert admin.agents.heartbeat("a1").name == "a1"
    with MizzenClient(secured_api, token=run.token) as as_run:
        as_run.runs.get(run.uuid)  # a run token reads its run...
        with pytest.raises(ApiRequestError) as raised:
            as_run.agents.claim("a1")  # ...but cannot act as an agent
    assert raised.value.status_code == 403  # known, but not allowed there
    with MizzenClient(secured_api, token="server-secret") as admin:
        assert admin.runs.get(run.uuid).status == RunStatus.CREATED


def test_a_resumed_run_is_claimed_again_and_stays_queued(agent_api: MizzenClient) -> None:
    uuid = _run(agent_api)
    agent_api.agents.claim("a1")
    agent_api.statuses.set(uuid, "queued")  # the agent submitted it: owned and queued, not claimable
    assert agent_api.agents.claim("a2") == []
    agent_api.statuses.set(uuid, "running")
    agent_api.statuses.set(uuid, "failed")
    agent_api.runs.resume(uuid)
    [again] = agent_api.agents.claim("a2")
    assert (again.uuid, again.status) == (uuid, RunStatus.QUEUED)
    stored = agent_api.runs.get(uuid)
    assert stored.status == RunStatus.QUEUED and stored.meta["owner"] == "a2"
    assert agent_api.agents.claim("a1") == []
