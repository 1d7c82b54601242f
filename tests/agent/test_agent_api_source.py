"""ApiRunSource against the real API: the RunSource protocol over HTTP, through API outages."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from tests.agent.support import RestartableApi

from mizzen.client import MizzenClient
from mizzen.scheduler.api_source import ApiRunSource
from mizzen.schemas.api import LogLine, RunCreate
from mizzen.schemas.statuses import RunStatus
from mizzen.settings import Settings

SPEC = {"version": 1.1, "kind": "operation", "component": {"run": {"kind": "job", "container": {}}}}


def _lines(*texts: str) -> list[LogLine]:
    return [LogLine(timestamp=1.0 + i, line=text) for i, text in enumerate(texts)]


@pytest.fixture
def source(restartable_api: RestartableApi) -> Iterator[ApiRunSource]:
    with MizzenClient(restartable_api.url, timeout=5) as client:
        source = ApiRunSource(client, "agent-1", retry_interval=0.2)
        yield source
        source.close(timeout=1)


def _all_logs(client: MizzenClient, uuid: str) -> list[str]:
    return [line.line for line in client.logs.get(uuid).lines]


def test_the_protocol_over_http(restartable_api: RestartableApi, source: ApiRunSource) -> None:
    with MizzenClient(restartable_api.url) as client:
        uuid = client.runs.create(RunCreate(project="p", spec=SPEC, params={"lr": 0.1})).uuid
        [run] = source.claim("kubernetes", "agent-1", 5)
        assert (run.uuid, run.project, run.kind, run.params, run.spec) == (
            uuid,
            "p",
            "job",
            {"lr": 0.1},
            SPEC,
        )
        assert run.token and run.project_uuid
        assert source.active == {uuid}
        source.record_plan(uuid, {"kind": "job", "replicas": []})
        for status in (RunStatus.QUEUED, RunStatus.RUNNING):
            source.report_status(uuid, status, None, None)
        source.report_logs(uuid, _lines("one", "two"))
        source.report_logs(uuid, _lines("three"))
        assert source.stop_requested("kubernetes", "agent-1") == []
        assert source.flush(30)
        client.runs.stop(uuid)
        assert source.stop_requested("kubernetes", "agent-1") == [uuid]
        assert source.active == set()  # asked once: no need to send it again
        assert source.stop_requested("kubernetes", "agent-1") == [uuid]  # still stopping: still listed
        source.report_status(uuid, RunStatus.STOPPED, "stopped", "stopped by the agent")
        assert source.flush(30)
        stored = client.runs.get(uuid)
        assert stored.status == RunStatus.STOPPED and stored.plan == {"kind": "job", "replicas": []}
        assert _all_logs(client, uuid) == ["one", "two", "three"]
        assert source.active == set()


def test_reports_wait_out_an_api_outage_in_order(
    restartable_api: RestartableApi, source: ApiRunSource
) -> None:
    with MizzenClient(restartable_api.url) as client:
        uuid = client.runs.create(RunCreate(project="p", spec=SPEC)).uuid
        later = client.runs.create(RunCreate(project="p", spec=SPEC)).uuid
        [run] = source.claim("kubernetes", "agent-1", 1)
    restartable_api.stop()
    source.report_status(uuid, RunStatus.QUEUED, None, None)
    source.report_logs(uuid, _lines("before"))
    source.report_status(uuid, RunStatus.RUNNING, None, None)
    for i in range(50):
        source.report_logs(uuid, _lines(f"line {i}"))
    source.report_status(uuid, RunStatus.SUCCEEDED, "exit code 0", None)
    assert source.claim("kubernetes", "agent-1", 5) == []  # the executor goes on; nothing new
    assert source.stop_requested("kubernetes", "agent-1") == []
    assert not source.flush(1)  # nothing can be delivered yet...
    assert source.pending > 0  # ...and nothing was thrown away
    restartable_api.start()
    assert source.flush(60)
    with MizzenClient(restartable_api.url) as client:
        conditions = [c.type for c in client.statuses.list(uuid)]
        assert conditions == ["created", "compiled", "queued", "running", "succeeded"]
        assert _all_logs(client, uuid) == ["before", *(f"line {i}" for i in range(50))]
        assert [r.uuid for r in source.claim("kubernetes", "agent-1", 5)] == [later]
    assert run.uuid == uuid


def test_refused_reports_are_dropped_not_retried_forever(
    restartable_api: RestartableApi, source: ApiRunSource
) -> None:
    with MizzenClient(restartable_api.url) as client:
        uuid = client.runs.create(RunCreate(project="p", spec=SPEC)).uuid
        gone = client.runs.create(RunCreate(project="p", spec=SPEC)).uuid
        source.claim("kubernetes", "agent-1", 2)
        client.runs.delete(gone)
        source.report_status(uuid, RunStatus.SUCCEEDED, None, None)  # compiled -> succeeded: refused
        source.report_logs(gone, _lines("nobody reads this"))
        source.report_status(uuid, RunStatus.RUNNING, None, None)
        assert source.flush(30)
        assert client.runs.get(uuid).status == RunStatus.RUNNING


def _slow_first_claim(app: Any) -> Any:
    """Serves the first claim fully, then holds its answer past the client's timeout (a lost answer)."""
    state = {"held": False}

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        is_claim = scope["type"] == "http" and scope["path"].endswith("/claim")
        if not is_claim or state["held"]:
            await app(scope, receive, send)
            return
        state["held"] = True
        messages: list[Any] = []

        async def keep(message: Any) -> None:
            messages.append(message)

        await app(scope, receive, keep)
        await asyncio.sleep(4)  # the client gave up after 1 s
        for message in messages:
            await send(message)

    return wrapped


def test_a_claim_whose_answer_was_lost_is_answered_again(k8s_settings: Settings) -> None:
    api = RestartableApi(k8s_settings, wrap=_slow_first_claim).start()
    try:
        with MizzenClient(api.url) as client:
            uuids = [client.runs.create(RunCreate(project="p", spec=SPEC)).uuid for _ in range(2)]
        with MizzenClient(api.url, timeout=httpx.Timeout(5, read=1)) as client:
            source = ApiRunSource(client, "agent-1")
            assert source.claim("kubernetes", "agent-1", 5) == []  # claimed on the server, answer lost
            with MizzenClient(api.url) as reader:
                assert all(reader.runs.get(u).status == RunStatus.COMPILED for u in uuids)
            again = source.claim("kubernetes", "agent-1", 5)
            assert [run.uuid for run in again] == uuids
            assert all(run.token for run in again)
            assert source.claim("kubernetes", "agent-1", 5) == []  # a new key: nothing left
            source.close(timeout=1)
    finally:
        api.stop()


def test_adoption_helpers(restartable_api: RestartableApi, source: ApiRunSource) -> None:
    with MizzenClient(restartable_api.url) as client:
        uuid = client.runs.create(RunCreate(project="p", spec=SPEC)).uuid
        source.claim("kubernetes", "agent-1", 1)
        client.statuses.set(uuid, "queued")
    owned = source.owned_runs()
    assert [(run.uuid, run.status) for run in owned] == [(uuid, RunStatus.QUEUED)]
    fresh = source.reclaim(uuid)
    assert fresh.uuid == uuid and fresh.token and fresh.spec == SPEC
    assert source.active == {uuid}
