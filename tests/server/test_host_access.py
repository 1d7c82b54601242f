"""Runs for a cluster cannot ask for the node (hostPath, privileged, host namespaces) unless the
server allows it (a real server on SQLite)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack
from typing import Any

import httpx
import pytest

from mizzen.schemas.api import API_PREFIX
from mizzen.settings import Settings

Serve = Callable[[Any], AbstractContextManager[str]]


def _spec(
    environment: dict[str, Any] | None = None, container: dict[str, Any] | None = None
) -> dict[str, Any]:
    run: dict[str, Any] = {
        "kind": "job",
        "container": {"image": "busybox", "command": ["true"], **(container or {})},
    }
    if environment is not None:
        run["environment"] = environment
    return {"version": 1.1, "kind": "operation", "component": {"kind": "component", "run": run}}


DOCKER_SOCKET = _spec(
    container={"volumeMounts": [{"name": "docker", "mountPath": "/var/run/docker.sock"}]},
    environment={"volumes": [{"name": "docker", "hostPath": {"path": "/var/run/docker.sock"}}]},
)
PRIVILEGED = _spec(container={"securityContext": {"privileged": True}})
HOST_NETWORK = _spec(environment={"hostNetwork": True})


@pytest.fixture
def serve(settings: Settings, serve_app: Serve) -> Iterator[Callable[..., httpx.Client]]:
    """serve(**settings) -> a client of a fresh server with those settings (all stopped after)."""
    from mizzen.server.app import create_app

    with ExitStack() as stack:

        def start(**updates: Any) -> httpx.Client:
            app = create_app(settings.model_copy(update=updates))
            stack.callback(app.state.services.close)
            base = stack.enter_context(serve_app(app))
            return stack.enter_context(httpx.Client(base_url=base + API_PREFIX, timeout=30))

        yield start


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        (DOCKER_SOCKET, "spec.component.run.environment.volumes[0].hostPath"),
        (PRIVILEGED, "spec.component.run.container.securityContext.privileged"),
        (HOST_NETWORK, "spec.component.run.environment.hostNetwork"),
    ],
)
def test_cluster_runs_asking_for_the_host_are_refused(
    serve: Callable[..., httpx.Client], spec: dict[str, Any], field: str
) -> None:
    api = serve(executor="kubernetes")
    refused = api.post("/runs", json={"spec": spec})
    assert refused.status_code == 403, refused.text
    assert field in refused.json()["message"] and "MIZZEN_ALLOW_HOST_ACCESS" in refused.json()["message"]
    assert api.get("/runs").json()["count"] == 0  # nothing was created
    allowed = serve(executor="kubernetes", allow_host_access=True).post("/runs", json={"spec": spec})
    assert allowed.status_code == 201, allowed.text


def test_a_param_cannot_smuggle_a_host_path(serve: Callable[..., httpx.Client]) -> None:
    api = serve(executor="kubernetes")
    body = {"spec": _spec(), "params": {"volumes": [{"name": "root", "hostPath": {"path": "/"}}]}}
    assert api.post("/runs", json=body).status_code == 403


def test_local_runs_are_on_this_host_already(serve: Callable[..., httpx.Client]) -> None:
    assert serve().post("/runs", json={"spec": PRIVILEGED}).status_code == 201


@pytest.mark.parametrize("how", ["restart", "copy", "resume"])
def test_a_restart_copy_or_resume_cannot_add_a_host_path_either(
    serve: Callable[..., httpx.Client], how: str
) -> None:
    api = serve(executor="kubernetes")
    uuid = api.post("/runs", json={"spec": _spec()}).json()["uuid"]
    for status in ("queued", "failed"):  # resume takes a finished run
        assert api.post(f"/runs/{uuid}/statuses", json={"status": status}).status_code == 200
    params = {"volumes": [{"name": "root", "hostPath": {"path": "/"}}]}
    refused = api.post(f"/runs/{uuid}/{how}", json={"params": params})
    assert refused.status_code == 403, refused.text
    assert "params.volumes[0].hostPath" in refused.json()["message"]
    assert api.get("/runs").json()["count"] == 1
    assert api.get(f"/runs/{uuid}").json()["status"] == "failed"
