"""Bad requests get an ErrorBody naming the field, never a 500, and never change stored data."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

Make = Callable[..., dict[str, Any]]


@pytest.mark.parametrize(
    ("method", "path", "body", "field", "fragment"),
    [
        ("post", "/runs", {"project": "p", "params": "not a dict"}, "params", "valid dictionary"),
        ("post", "/runs", {"project": "p", "colour": "red"}, "colour", "unknown field 'colour'"),
        ("post", "/runs", {"project": "Bad Name!"}, "project", "not a valid project name"),
        ("post", "/runs", {"status": "sleeping"}, "status", "status"),
        ("post", "/runs", {"params": {"lr": float("nan")}}, "params.lr", "finite"),
        ("post", "/runs", {"name": "a\u0000b"}, "name", "NUL"),
        ("post", "/runs", {"parent_uuid": "nope"}, "parent_uuid", "not a run uuid"),
        ("post", "/runs", {"cloning_kind": "fork"}, "cloning_kind", "cloning_kind must be one of"),
        ("post", "/projects", {"name": "ok", "tags": "x"}, "tags", "valid list"),
        ("post", "/projects", {}, "name", "'name' is required"),
        ("get", "/runs?limit=0", None, "limit", "greater than or equal to 1"),
        ("get", "/runs?limit=abc", None, "limit", "valid integer"),
        ("get", "/runs?query=status:runing", None, "query", "unknown status 'runing'"),
        ("get", "/runs?query=metrics.loss:<x", None, "query", "expected a number"),
        ("get", "/runs?sort=-colour", None, "sort", "cannot sort by 'colour'"),
    ],
)
def test_bad_requests_name_the_field(
    api: httpx.Client, method: str, path: str, body: Any, field: str, fragment: str
) -> None:
    # json.dumps writes NaN as Python does (not strict JSON), as a careless client would send it.
    kwargs = {"content": json.dumps(body).encode()} if body is not None else {}
    headers = {"Content-Type": "application/json"}
    answer = api.request(method.upper(), path, headers=headers, **kwargs)
    assert answer.status_code == 422, answer.text
    error = answer.json()
    assert error["error"] == "invalid"
    assert error["field"] == field
    assert fragment in error["message"]


def test_body_that_is_not_json(api: httpx.Client) -> None:
    answer = api.post("/runs", content=b"{not json", headers={"Content-Type": "application/json"})
    assert answer.status_code == 422
    assert answer.json()["field"] == "body"
    assert "not valid JSON" in answer.json()["message"]


def test_missing_body(api: httpx.Client) -> None:
    answer = api.post("/projects")
    assert answer.status_code == 422
    assert answer.json()["field"] == "body"


def test_nested_fields_are_named_with_their_index(api: httpx.Client, create_run: Make) -> None:
    run = create_run(api)
    points = [
        {"name": "loss", "value": 1.0, "timestamp": 1.0},
        {"name": "loss", "value": "high", "timestamp": 2.0},
    ]
    answer = api.post(f"/runs/{run['uuid']}/metrics", json={"points": points})
    assert answer.status_code == 422
    assert answer.json()["field"] == "points[1].value"


def test_unknown_things_are_404_and_wrong_methods_405(api: httpx.Client) -> None:
    missing = api.get("/runs/0123456789abcdef0123456789abcdef")
    assert (missing.status_code, missing.json()["error"]) == (404, "not_found")
    assert "not found" in missing.json()["message"]
    assert api.get("/projects/nothing").status_code == 404
    assert api.get("/no-such-route").json() == {
        "error": "not_found",
        "message": "no such API route",
        "field": None,
    }
    assert api.delete("/projects").json()["error"] == "method_not_allowed"


def test_conflicts(api: httpx.Client) -> None:
    assert api.post("/projects", json={"name": "dup"}).status_code == 201
    again = api.post("/projects", json={"name": "dup"})
    assert (again.status_code, again.json()["error"]) == (409, "conflict")


def test_bad_input_leaves_stored_data_intact(api: httpx.Client, create_run: Make, move_run: Make) -> None:
    run = create_run(api, project="keep", name="original", outputs={"acc": 0.9})
    move_run(api, run["uuid"], "running", "succeeded")
    uuid = run["uuid"]
    before = api.get(f"/runs/{uuid}").json()

    assert api.patch(f"/runs/{uuid}", json={"outputs": "nope"}).status_code == 422
    assert api.patch(f"/runs/{uuid}", json={"outputs": {"acc": 0.1}, "unknown": 1}).status_code == 422
    assert api.patch(f"/runs/{uuid}", json={"name": "x" * 300}).status_code == 422
    assert api.post(f"/runs/{uuid}/statuses", json={"status": "running"}).status_code == 409
    assert api.post(f"/runs/{uuid}/resume", json={"params": "x"}).status_code == 422
    bad_points = {
        "points": [{"name": "m", "value": 1.0, "timestamp": 1.0}, {"name": "", "value": 1, "timestamp": 1}]
    }
    assert api.post(f"/runs/{uuid}/metrics", json=bad_points).status_code == 422
    assert api.put(f"/runs/{uuid}/artifacts/..%2Fescape.txt", content=b"x").status_code == 422

    after = api.get(f"/runs/{uuid}").json()
    assert after == before
    assert api.get(f"/runs/{uuid}/metrics").json() == []  # the batch with a bad point stored nothing


HOSTILE = [
    ("GET", "/projects/a%00b", None),
    ("GET", "/runs/%00", None),
    ("GET", "/runs?project=a%00b", None),
    ("GET", "/runs?query=name:a%00b", None),
    ("GET", "/runs?query=params.lr:a%00b", None),
    ("GET", "/runs?offset=99999999999999999999", None),
    ("GET", "/runs?query=created_at:>9999-12-31T23:59:59", None),
    ("GET", "/runs?query=duration:>1e308", None),
    ("POST", "/runs", {"project": "p", "description": "x\u0000"}),
    ("POST", "/runs", {"project": "p", "meta": {"k\u0000": 1}}),
    ("POST", "/runs", {"project": "p", "params": {"big": 2**80}}),
    ("POST", "/runs", {"project": "p", "kind": "x" * 100}),
    ("POST", "/runs", {"project": "p", "queue": "q" * 1000}),
    ("POST", "/projects", {"name": "p" * 500}),
    ("POST", "/projects", {"name": "ok", "description": "\u0000"}),
]


@pytest.mark.parametrize(("method", "path", "body"), HOSTILE)
def test_hostile_input_is_never_a_server_error(
    api_on_each_db: httpx.Client, method: str, path: str, body: Any
) -> None:
    content = json.dumps(body).encode() if body is not None else None
    answer = api_on_each_db.request(
        method, path, content=content, headers={"Content-Type": "application/json"}
    )
    assert answer.status_code < 500, answer.text
    if answer.status_code >= 400:
        assert {"error", "message"} <= set(answer.json())


@pytest.mark.parametrize(
    "suffix", ["metrics/a%00b", "logs?offset=99999999999999999999", "artifacts?prefix=%00"]
)
def test_hostile_run_sub_paths(api_on_each_db: httpx.Client, create_run: Make, suffix: str) -> None:
    uuid = create_run(api_on_each_db)["uuid"]
    answer = api_on_each_db.get(f"/runs/{uuid}/{suffix}")
    assert answer.status_code < 500, answer.text
