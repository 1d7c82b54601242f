"""A run's token acts on its own run only (a real server requiring tokens, SQLite and PostgreSQL).

Every API route is listed here with who may call it: a route added without a decision fails
``test_every_route_has_a_decision``; each one is then called for real with another run's token.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import httpx
import pytest

from mizzen.schemas.api import API_PREFIX
from mizzen.settings import Settings

ADMIN = {"Authorization": "Bearer server-secret"}

# What a run's token may call on its own run.
OWN_RUN = {
    ("GET", "/runs/{uuid}"),
    ("PATCH", "/runs/{uuid}"),
    ("GET", "/runs/{uuid}/statuses"),
    ("POST", "/runs/{uuid}/statuses"),
    ("GET", "/runs/{uuid}/metrics"),
    ("POST", "/runs/{uuid}/metrics"),
    ("GET", "/runs/{uuid}/metrics/{name:path}"),
    ("GET", "/runs/{uuid}/logs"),
    ("POST", "/runs/{uuid}/logs"),
    ("GET", "/runs/{uuid}/logs/stream"),
    ("GET", "/runs/{uuid}/artifacts"),
    ("GET", "/runs/{uuid}/artifacts/{path:path}"),
    ("PUT", "/runs/{uuid}/artifacts/{path:path}"),
    ("GET", "/runs/{uuid}/lineage"),
    ("POST", "/runs/{uuid}/lineage"),
}
# Never with a run's token, whatever run they name.
SERVER_ONLY = {
    ("GET", "/runs"),
    ("DELETE", "/runs/{uuid}"),
    ("POST", "/runs/{uuid}/stop"),
    ("POST", "/runs/{uuid}/restart"),
    ("POST", "/runs/{uuid}/resume"),
    ("POST", "/runs/{uuid}/copy"),
    ("POST", "/runs/{uuid}/approve"),
    ("POST", "/runs/{uuid}/invalidate"),
    ("POST", "/agents/{name}/runs/{uuid}/cache"),
    ("GET", "/runs/{uuid}/pipeline"),  # a pipeline's children are other runs: not a run token's
    ("GET", "/runs/{uuid}/pipeline/children"),
    ("GET", "/projects"),
    ("POST", "/projects"),
    ("GET", "/projects/{name}"),
    ("PATCH", "/projects/{name}"),
    ("DELETE", "/projects/{name}"),
    ("GET", "/agents"),
    ("POST", "/agents/{name}/heartbeat"),
    ("POST", "/agents/{name}/claim"),
    ("POST", "/agents/{name}/stops"),
    ("GET", "/agents/{name}/runs"),
    ("POST", "/agents/{name}/runs/{uuid}/token"),
}
CHILDREN_ONLY = {("POST", "/runs")}
OPEN = {("GET", "/healthz")}


@pytest.fixture
def secured(
    db_url: str, settings: Settings, serve_app: Callable[[Any], AbstractContextManager[str]]
) -> Iterator[tuple[str, Any]]:
    from mizzen.server.app import create_app

    app = create_app(settings.model_copy(update={"token": "server-secret", "database_url": db_url}))
    try:
        with serve_app(app) as base:
            yield base + API_PREFIX, app
    finally:
        app.state.services.close()


def _routes(app: Any) -> set[tuple[str, str]]:
    """Every (method, path) the API serves, as its OpenAPI document lists them."""
    return {
        (method.upper(), path.removeprefix(API_PREFIX))
        for path, operations in app.openapi()["paths"].items()
        if path.startswith(API_PREFIX)
        for method in operations
    }


def _plain(routes: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """``{name:path}`` (the router's spelling) -> ``{name}`` (OpenAPI's)."""
    return {(method, path.replace(":path}", "}")) for method, path in routes}


def _url(base: str, template: str, uuid: str) -> str:
    return base + re.sub(r"\{(\w+)(:path)?\}", lambda m: uuid if m.group(1) == "uuid" else "loss", template)


def _call(base: str, method: str, template: str, uuid: str, token: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"}
    body: dict[str, Any] = {}
    if template.endswith("/stream"):  # a live run's stream lasts as long as the run: headers only
        with httpx.stream(method, _url(base, template, uuid), headers=headers, timeout=30) as answer:
            if answer.status_code != 200:
                answer.read()
            return answer
    if method == "PUT":
        return httpx.put(_url(base, template, uuid), content=b"data", headers=headers, timeout=30)
    if method in ("POST", "PATCH"):
        return httpx.request(method, _url(base, template, uuid), json=body, headers=headers, timeout=30)
    return httpx.request(method, _url(base, template, uuid), headers=headers, timeout=30)


def _run(base: str, **fields: Any) -> dict[str, Any]:
    created = httpx.post(f"{base}/runs", json=fields, headers=ADMIN, timeout=30)
    assert created.status_code == 201, created.text
    body: dict[str, Any] = created.json()
    return body


def test_every_route_has_a_decision(secured: tuple[str, Any]) -> None:
    from mizzen.server.auth import RUN_TOKEN_ROUTES

    _base, app = secured
    assert _routes(app) == _plain(OWN_RUN | SERVER_ONLY | CHILDREN_ONLY | OPEN)
    assert RUN_TOKEN_ROUTES == OWN_RUN


def test_a_runs_token_cannot_touch_another_run(secured: tuple[str, Any]) -> None:
    base, _app = secured
    victim, attacker = _run(base), _run(base)
    put = httpx.put(f"{base}/runs/{victim['uuid']}/artifacts/a.txt", content=b"kept", headers=ADMIN)
    assert put.status_code == 200
    for method, template in sorted(OWN_RUN | SERVER_ONLY):
        answer = _call(base, method, template, victim["uuid"], attacker["token"])
        assert answer.status_code == 403, (method, template, answer.text)
        assert answer.json()["error"] == "forbidden"
    # nothing changed: the victim is there, with its file and its status
    after = httpx.get(f"{base}/runs/{victim['uuid']}", headers=ADMIN).json()
    assert after["status"] == victim["status"]
    kept = httpx.get(f"{base}/runs/{victim['uuid']}/artifacts/a.txt", headers=ADMIN)
    assert kept.content == b"kept"


def test_a_runs_token_acts_on_its_own_run(secured: tuple[str, Any]) -> None:
    base, _app = secured
    run = _run(base)
    for method, template in sorted(OWN_RUN):
        answer = _call(base, method, template, run["uuid"], run["token"])
        assert answer.status_code not in (401, 403), (method, template, answer.text)
    for method, template in sorted(SERVER_ONLY):
        answer = _call(base, method, template, run["uuid"], run["token"])
        assert answer.status_code == 403, (method, template, answer.text)
    plan = httpx.patch(
        f"{base}/runs/{run['uuid']}", json={"plan": {}}, headers={"Authorization": f"Bearer {run['token']}"}
    )
    assert plan.status_code == 403, plan.text
    assert httpx.get(f"{base}/runs/{run['uuid']}", headers=ADMIN).status_code == 200  # not deleted


def test_a_runs_token_creates_only_its_own_children(secured: tuple[str, Any]) -> None:
    base, _app = secured
    parent, other = _run(base), _run(base)
    headers = {"Authorization": f"Bearer {parent['token']}"}
    for fields in ({}, {"parent_uuid": other["uuid"]}):
        refused = httpx.post(f"{base}/runs", json=fields, headers=headers)
        assert refused.status_code == 403, refused.text
    child = httpx.post(f"{base}/runs", json={"parent_uuid": parent["uuid"]}, headers=headers)
    assert child.status_code == 201, child.text
    assert child.json()["parent_uuid"] == parent["uuid"]


def test_no_token_or_a_wrong_one_is_401(secured: tuple[str, Any]) -> None:
    base, app = secured
    run = _run(base)
    for method, template in sorted(_routes(app) - OPEN):
        answer = _call(base, method, template, run["uuid"], "not-a-token")
        assert answer.status_code == 401, (method, template, answer.text)
