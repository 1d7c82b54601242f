from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import httpx
import pytest

from mizzen.schemas.api import API_PREFIX
from mizzen.server.services.events import RunEvent, RunEventBus
from mizzen.settings import Settings

Make = Callable[..., dict[str, Any]]


def test_run_events_reach_subscribers(
    api_app: Any, api: httpx.Client, create_run: Make, move_run: Make
) -> None:
    seen: list[RunEvent] = []
    unsubscribe = api_app.state.run_events.subscribe(seen.append)
    run = create_run(api, project="ev")
    uuid = run["uuid"]
    move_run(api, uuid, "queued", "running")
    api.post(f"/runs/{uuid}/stop")
    api.delete(f"/runs/{uuid}")
    unsubscribe()
    create_run(api, project="ev")

    assert [(e.kind, e.status, e.previous) for e in seen] == [
        ("created", "created", None),
        ("status_changed", "queued", "created"),
        ("status_changed", "running", "queued"),
        ("stop_requested", "stopping", "running"),
        ("status_changed", "stopping", "running"),
        ("stop_requested", None, "stopping"),
        ("deleted", None, "stopping"),
    ]
    assert {e.run_uuid for e in seen} == {uuid}
    assert {e.project for e in seen} == {"ev"}


def test_a_failing_subscriber_does_not_break_the_publisher() -> None:
    bus = RunEventBus()
    received: list[RunEvent] = []

    def broken(_event: RunEvent) -> None:
        raise RuntimeError("subscriber bug")

    bus.subscribe(broken)
    bus.subscribe(received.append)
    event = RunEvent("created", "u" * 32, "p")
    bus.publish(event)
    assert received == [event]


@pytest.fixture
def secured(settings: Settings, serve_app: Callable[[Any], AbstractContextManager[str]]) -> Any:
    from mizzen.server.app import create_app

    app = create_app(settings.model_copy(update={"token": "server-secret"}))
    with serve_app(app) as base:
        yield base + API_PREFIX
    app.state.services.close()


def test_a_configured_token_is_required(secured: str) -> None:
    assert httpx.get(f"{secured}/healthz").status_code == 200
    refused = httpx.get(f"{secured}/runs")
    assert (refused.status_code, refused.json()["error"]) == (401, "unauthorized")
    wrong = httpx.get(f"{secured}/runs", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401

    admin = {"Authorization": "Bearer server-secret"}
    created = httpx.post(f"{secured}/runs", json={}, headers=admin)
    assert created.status_code == 201
    run_token = {"Authorization": f"Bearer {created.json()['token']}"}
    uuid = created.json()["uuid"]
    points = {"points": [{"name": "loss", "value": 1.0, "timestamp": 1.0}]}
    assert httpx.post(f"{secured}/runs/{uuid}/metrics", json=points, headers=run_token).status_code == 200


def test_without_a_token_everything_is_accepted(api: httpx.Client) -> None:
    assert api.get("/runs").status_code == 200


def test_openapi_and_docs_are_served(api_server: str) -> None:
    spec = httpx.get(f"{api_server}/openapi.json").json()
    paths = spec["paths"]
    for route in (
        "/api/v1/runs",
        "/api/v1/runs/{uuid}/metrics/{name}",
        "/api/v1/runs/{uuid}/logs/stream",
        "/api/v1/runs/{uuid}/artifacts/{path}",
        "/api/v1/projects/{name}",
    ):
        assert route in paths
    assert "RunRead" in spec["components"]["schemas"]
    docs = httpx.get(f"{api_server}/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
