"""Hooks fire notifier runs that reach a real HTTP server on loopback: delivered, retried after a
failed answer, skipped when their conditions are false, and recorded on the run. Through a real
embedded server (SQLite and PostgreSQL, the local executor running each notifier as a process)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest

from hooks_support import receiver, wait_until
from mizzen.compiler.compile import Compiler
from mizzen.scheduler.hooks.deliveries import HOOKS_KEY, RetryPolicy
from mizzen.scheduler.hooks.loop import HookLoop
from mizzen.schemas.api import AgentClaim
from mizzen.schemas.statuses import RunStatus
from mizzen.server.embedded import EmbeddedServer
from mizzen.server.services import Services
from mizzen.settings import Settings
from mizzen.store.gateway import run_changes, statuses
from mizzen.store.gateway import runs as runs_gateway
from mizzen.store.records import NewRun


@pytest.fixture
def make_server(settings: Settings, db_url: str) -> Iterator[Callable[[], EmbeddedServer]]:
    started: list[EmbeddedServer] = []

    def make() -> EmbeddedServer:
        # A server (not a scoped `mizzen run`): it runs the runs the test makes through the store.
        embedded = EmbeddedServer(settings.model_copy(update={"database_url": db_url}), scoped=False)
        embedded.start()
        started.append(embedded)
        assert embedded.hooks is not None
        embedded.hooks.policy = RetryPolicy(max_attempts=4, first_backoff=0.2)
        return embedded

    yield make
    for embedded in started:
        embedded.close()


@pytest.fixture
def server(make_server: Callable[[], EmbeddedServer]) -> EmbeddedServer:
    return make_server()


def _job(code: str, hooks: list[dict[str, Any]], outputs: bool = False) -> dict[str, Any]:
    component: dict[str, Any] = {
        "name": "trainer",
        "hooks": hooks,
        "run": {"kind": "job", "container": {"image": "python", "command": [sys.executable, "-c", code]}},
    }
    if outputs:
        component["outputs"] = [{"name": "loss", "type": "float", "isOptional": True}]
    return {"version": 1.1, "kind": "operation", "name": "train", "component": component}


def _start(server: EmbeddedServer, spec: dict[str, Any]) -> str:
    database = server.app.state.services.database
    issued = run_changes.create_run(
        database, NewRun(project="hooks", name="train", spec=spec, executor="local")
    )
    assert server.scheduler is not None
    server.scheduler.wake()
    return issued.detail.run.uuid


def _hooks_record(server: EmbeddedServer, uuid: str) -> dict[str, Any]:
    return runs_gateway.get_run(server.app.state.services.database, uuid).meta.get(HOOKS_KEY) or {}


def _settled(server: EmbeddedServer, uuid: str) -> list[dict[str, Any]] | None:
    deliveries = _hooks_record(server, uuid).get("deliveries")
    final = {"delivered", "failed", "skipped", "error"}
    return deliveries if deliveries and all(d["state"] in final for d in deliveries) else None


def test_a_webhook_posts_the_run_and_its_outcome_once_it_succeeds(server: EmbeddedServer) -> None:
    with receiver() as http:
        hooks = [{"hubRef": "webhook", "trigger": "succeeded", "params": {"url": {"value": http.url}}}]
        uuid = _start(server, _job("print('trained')", hooks))
        [body] = http.wait_for(1)
        assert body["event"] == "run_status_succeeded"
        assert body["run"]["uuid"] == uuid
        assert body["run"]["name"] == "train"
        assert body["run"]["project"] == "hooks"
        assert body["run"]["status"] == "succeeded"
        assert body["condition"]["status"] == "succeeded"
        assert body["hook"] == {"hubRef": "webhook", "trigger": "succeeded", "connection": None}
        [delivery] = wait_until(lambda: _settled(server, uuid), what="the delivery recorded")
        assert delivery["state"] == "delivered"
        assert delivery["attempts"] == 1
        notifier = runs_gateway.get_run(server.app.state.services.database, delivery["notifier"])
        assert notifier.kind == "notifier"
        assert notifier.parent_uuid == uuid
        assert notifier.status == RunStatus.SUCCEEDED


def test_a_failed_delivery_is_retried_until_the_server_takes_it(server: EmbeddedServer) -> None:
    with receiver(answers=[500, 500, 200]) as http:
        hooks = [{"hubRef": "webhook", "params": {"url": {"value": http.url}}}]
        uuid = _start(server, _job("raise SystemExit(3)", hooks))
        [body] = http.wait_for(1)
        assert [r["status"] for r in http.received] == [500, 500, 200]
        assert body["run"]["status"] == "failed"  # the default trigger is `done`
        [delivery] = wait_until(lambda: _settled(server, uuid), what="the delivery recorded")
        assert delivery["state"] == "delivered"
        assert delivery["attempts"] == 3


def test_a_delivery_the_server_never_takes_fails_after_the_attempts(server: EmbeddedServer) -> None:
    with receiver(answers=[503] * 10) as http:
        hooks = [{"hubRef": "webhook", "params": {"url": {"value": http.url}}}]
        uuid = _start(server, _job("print('ok')", hooks))
        [delivery] = wait_until(lambda: _settled(server, uuid), what="the delivery given up")
        assert delivery["state"] == "failed"
        assert delivery["attempts"] == 4
        assert "gave up after 4 attempts" in delivery["outcome"]
        assert len(http.received) == 4


def test_conditions_false_or_another_trigger_deliver_nothing(server: EmbeddedServer) -> None:
    with receiver() as http:
        hooks = [
            {
                "hubRef": "webhook",
                "conditions": "{{ status == 'failed' }}",
                "params": {"url": {"value": http.url}},
            },
            {"hubRef": "webhook", "trigger": "failed", "params": {"url": {"value": http.url}}},
            {
                "hubRef": "slack",
                "conditions": "{{ status == 'succeeded' }}",
                "params": {"url": {"value": http.url}},
            },
        ]
        uuid = _start(server, _job("print('ok')", hooks))
        deliveries = wait_until(lambda: _settled(server, uuid), what="the deliveries recorded")
        assert [(d["hook"], d["state"]) for d in deliveries] == [(0, "skipped"), (2, "delivered")]
        assert "conditions false" in deliveries[0]["outcome"]
        [slack] = http.delivered()  # only the hook whose conditions hold, in Slack's shape
        assert slack["text"].endswith("succeeded")
        assert {"title": "Run", "value": uuid, "short": False} in slack["attachments"][0]["fields"]


def test_the_url_comes_from_the_hooks_connection(
    make_server: Callable[[], EmbeddedServer], settings: Settings
) -> None:
    with receiver() as http:
        settings.home.mkdir(parents=True, exist_ok=True)
        (settings.home / "connections.yaml").write_text(
            "connections:\n- name: alerts\n  kind: webhook\n"
            f"  env: [{{name: MIZZEN_NOTIFIER_URL, value: '{http.url}'}}]\n"
        )
        server = make_server()
        uuid = _start(server, _job("print('ok')", [{"hubRef": "webhook", "connection": "alerts"}]))
        [body] = http.wait_for(1)
        assert body["run"]["uuid"] == uuid


def test_a_restarted_loop_delivers_what_was_not_acknowledged(
    server: EmbeddedServer, settings: Settings
) -> None:
    """The first loop fires, the receiver refuses; a new loop (a restarted process, same store)
    continues from the run's record and the delivery lands, without firing twice."""
    assert server.hooks is not None
    server.hooks.policy = RetryPolicy(max_attempts=10, first_backoff=3600)  # the first loop will not retry
    with receiver(answers=[500]) as http:
        uuid = _start(
            server, _job("print('ok')", [{"hubRef": "webhook", "params": {"url": {"value": http.url}}}])
        )
        wait_until(
            lambda: (_hooks_record(server, uuid).get("deliveries") or [{}])[0].get("state") == "retrying",
            what="a failed first attempt",
        )
        server.hooks.close()  # the process that fired is gone; its record stays in the store
        database = server.app.state.services.database
        later = HookLoop(
            database,
            lambda _run: Compiler.from_settings(settings),
            executor="local",
            policy=RetryPolicy(max_attempts=10, first_backoff=0.1),
            clock=lambda: runs_gateway.get_run(database, uuid).finished_at + timedelta(hours=2),  # type: ignore[operator]
        )
        assert later.drain(90)
        [body] = http.delivered()
        assert body["run"]["uuid"] == uuid
        [delivery] = _hooks_record(server, uuid)["deliveries"]
        assert (delivery["state"], delivery["attempts"]) == ("delivered", 2)


def test_a_run_an_agent_ran_gets_its_notifier_run_through_the_agents_claim(
    settings: Settings, db_url: str
) -> None:
    """Hooks fire from the store, whichever executor ran the run: a Kubernetes run's notifier run is
    meant for the agents (same executor), an agent claims it, and its report settles the delivery."""

    services = Services.build(settings.model_copy(update={"database_url": db_url, "executor": "kubernetes"}))
    try:
        database = services.database
        spec = _job(
            "print('ok')", [{"hubRef": "slack", "params": {"url": {"value": "https://chat.example/x"}}}]
        )
        new = NewRun(project="hooks", name="train", spec=spec, executor="kubernetes")
        uuid = run_changes.create_run(database, new).detail.run.uuid
        [claimed] = services.agents.claim("agent-1", AgentClaim(executor="kubernetes", limit=5))
        assert claimed.uuid == uuid
        for status in (RunStatus.RUNNING, RunStatus.SUCCEEDED):  # what the agent reports
            statuses.set_status(database, uuid, status)
        loop = HookLoop(database, lambda _run: Compiler.from_settings(settings), executor="local")
        loop.tick()
        [delivery] = _record(database, uuid)["deliveries"]
        assert (delivery["state"], delivery["attempts"]) == ("sending", 1)
        [notifier] = services.agents.claim("agent-1", AgentClaim(executor="kubernetes", limit=5))
        assert (notifier.uuid, notifier.kind) == (delivery["notifier"], "notifier")
        assert notifier.spec is not None and notifier.spec["hubRef"] == "slack"
        assert notifier.spec["params"]["notification"]["value"]["run"]["uuid"] == uuid
        for status in (RunStatus.RUNNING, RunStatus.SUCCEEDED):
            statuses.set_status(database, notifier.uuid, status)
        loop.tick()
        [delivery] = _record(database, uuid)["deliveries"]
        assert delivery["state"] == "delivered"
        loop.tick()  # settled: nothing more happens
        assert services.agents.claim("agent-1", AgentClaim(executor="kubernetes", limit=5)) == []
    finally:
        services.close()


def _record(database: Any, uuid: str) -> dict[str, Any]:
    return runs_gateway.get_run(database, uuid).meta.get(HOOKS_KEY) or {}
