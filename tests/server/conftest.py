from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import boto3
import httpx
import pytest
from moto.server import ThreadedMotoServer

from mizzen.schemas.api import API_PREFIX
from mizzen.settings import Settings

Client = httpx.Client
BUCKET = "mizzen-artifacts"


@pytest.fixture
def api(api_server: str) -> Iterator[httpx.Client]:
    """An HTTP client for the real app served by uvicorn (SQLite, artifacts in tmp_path)."""
    with httpx.Client(base_url=api_server + API_PREFIX, timeout=30) as client:
        yield client


@pytest.fixture
def api_on_each_db(
    db_url: str, settings: Settings, serve_app: Callable[[Any], AbstractContextManager[str]]
) -> Iterator[httpx.Client]:
    """The same, once on SQLite and once on PostgreSQL."""
    from mizzen.server.app import create_app

    app = create_app(settings.model_copy(update={"database_url": db_url}))
    try:
        with serve_app(app) as base, httpx.Client(base_url=base + API_PREFIX, timeout=30) as client:
            yield client
    finally:
        app.state.services.close()


def _create_run(api: httpx.Client, **fields: Any) -> dict[str, Any]:
    response = api.post("/runs", json=fields)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _move_run(api: httpx.Client, uuid: str, *statuses: str) -> dict[str, Any]:
    answer: dict[str, Any] = {}
    for status in statuses:
        response = api.post(f"/runs/{uuid}/statuses", json={"status": status})
        assert response.status_code == 200, response.text
        answer = response.json()
    return answer


@pytest.fixture
def create_run() -> Callable[..., dict[str, Any]]:
    """``create_run(api, **RunCreate fields)`` -> the RunRead dict (asserts 201)."""
    return _create_run


@pytest.fixture
def move_run() -> Callable[..., dict[str, Any]]:
    """``move_run(api, uuid, "queued", "running", ...)`` -> the last RunRead dict (asserts 200 each)."""
    return _move_run


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_api(
    moto_endpoint: str,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    serve_app: Callable[[Any], AbstractContextManager[str]],
) -> Iterator[tuple[httpx.Client, Any]]:
    import s3fs

    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": moto_endpoint,
    }.items():
        monkeypatch.setenv(name, value)
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    s3fs.S3FileSystem.clear_instance_cache()
    from mizzen.server.app import create_app

    app = create_app(settings.model_copy(update={"artifacts_store": f"s3://{BUCKET}/store"}))
    with serve_app(app) as base, httpx.Client(base_url=base + API_PREFIX, timeout=30) as client:
        yield client, s3
    app.state.services.close()
    s3fs.S3FileSystem.clear_instance_cache()
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    for key in keys:
        s3.delete_object(Bucket=BUCKET, Key=key)
    s3.delete_bucket(Bucket=BUCKET)
