"""Artifacts and logs on an object store: a real S3 API (moto's server mode) through s3fs."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import boto3
import httpx
import pytest

from mizzen.schemas.api import API_PREFIX
from mizzen.settings import Settings

BUCKET = "mizzen-artifacts"
Make = Callable[..., dict[str, Any]]


def _keys(s3: Any) -> list[str]:
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []))


def test_artifacts_on_s3(s3_api: tuple[httpx.Client, Any], create_run: Make) -> None:
    api, s3 = s3_api
    uuid = create_run(
        api, spec={"kind": "operation", "component": {"run": {"kind": "job", "container": {"image": "x"}}}}
    )["uuid"]
    payload = b"model weights" * 1000
    answer = api.put(f"/runs/{uuid}/artifacts/outputs/model.bin", content=payload)
    assert answer.status_code == 200, answer.text
    assert _keys(s3) == [f"store/{uuid}/outputs/model.bin"]
    assert [(a["path"], a["size"]) for a in api.get(f"/runs/{uuid}/artifacts").json()] == [
        ("outputs/model.bin", len(payload))
    ]
    assert api.get(f"/runs/{uuid}/artifacts/outputs/model.bin").content == payload

    copy = api.post(f"/runs/{uuid}/copy").json()
    assert api.get(f"/runs/{copy['uuid']}/artifacts/outputs/model.bin").content == payload
    api.delete(f"/runs/{uuid}")
    assert _keys(s3) == [f"store/{copy['uuid']}/outputs/model.bin"]


def test_logs_on_s3(s3_api: tuple[httpx.Client, Any], create_run: Make, move_run: Make) -> None:
    api, s3 = s3_api
    uuid = create_run(api)["uuid"]
    move_run(api, uuid, "running")
    lines = [{"timestamp": 1.0 + i, "line": f"line {i}"} for i in range(5)]
    api.post(f"/runs/{uuid}/logs", json={"lines": lines[:3]})
    api.post(f"/runs/{uuid}/logs", json={"lines": lines[3:]})
    assert _keys(s3) == [
        f"store/{uuid}/logs/000000000000-000000000003.ndjson",
        f"store/{uuid}/logs/000000000003-000000000005.ndjson",
    ]
    chunk = api.get(f"/runs/{uuid}/logs", params={"offset": 2}).json()
    assert [line["line"] for line in chunk["lines"]] == ["line 2", "line 3", "line 4"]
    move_run(api, uuid, "succeeded")
    streamed = api.get(f"/runs/{uuid}/logs/stream").text.splitlines()
    assert [json.loads(raw)["line"] for raw in streamed] == [f"line {i}" for i in range(5)]


def test_store_options_reach_the_servers_store(
    moto_endpoint: str,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    serve_app: Callable[[Any], AbstractContextManager[str]],
    create_run: Make,
) -> None:
    """MIZZEN_ARTIFACTS_STORE_OPTIONS (JSON) is how the server reaches a bucket: no AWS_* variables."""
    import s3fs

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    options = {"key": "testing", "secret": "testing", "endpoint_url": moto_endpoint}
    monkeypatch.setenv("MIZZEN_ARTIFACTS_STORE_OPTIONS", json.dumps(options))
    s3 = boto3.client(
        "s3",
        endpoint_url=moto_endpoint,
        region_name="us-east-1",
        aws_access_key_id="t",
        aws_secret_access_key="t",
    )
    s3.create_bucket(Bucket="with-options")
    s3fs.S3FileSystem.clear_instance_cache()
    from mizzen.server.app import create_app

    loaded = Settings.load(artifacts_store="s3://with-options/store")
    assert loaded.artifacts_store_options == options
    app = create_app(loaded.model_copy(update={"home": settings.home}))
    try:
        with serve_app(app) as base, httpx.Client(base_url=base + API_PREFIX, timeout=30) as api:
            first, second = create_run(api)["uuid"], create_run(api)["uuid"]
            assert api.put(f"/runs/{first}/artifacts/a.txt", content=b"first").status_code == 200
            keys = [o["Key"] for o in s3.list_objects_v2(Bucket="with-options").get("Contents", [])]
            assert keys == [f"store/{first}/a.txt"]
            assert api.get(f"/runs/{second}/artifacts").json() == []  # each run sees its own prefix
            assert api.get(f"/runs/{second}/artifacts/../{first}/a.txt").status_code in (404, 422)
            assert api.get(f"/runs/{second}/artifacts/%2e%2e/{first}/a.txt").status_code == 422
    finally:
        app.state.services.close()
        s3fs.S3FileSystem.clear_instance_cache()
