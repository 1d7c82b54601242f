"""Uploads are streamed to the store and capped by ``max_upload_bytes``: 413 naming the limit, and
nothing stored (a real server; a local folder and a real S3 API)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import httpx
import pytest

from mizzen.schemas.api import API_PREFIX
from mizzen.settings import Settings

LIMIT = 1000
Make = Callable[..., dict[str, Any]]


@pytest.fixture
def capped(
    settings: Settings, serve_app: Callable[[Any], AbstractContextManager[str]]
) -> Iterator[httpx.Client]:
    from mizzen.server.app import create_app

    app = create_app(settings.model_copy(update={"max_upload_bytes": LIMIT}))
    try:
        with serve_app(app) as base, httpx.Client(base_url=base + API_PREFIX, timeout=30) as client:
            yield client
    finally:
        app.state.services.close()


def _chunks(total: int) -> Iterator[bytes]:
    """A body without Content-Length (chunked): the server finds out its size only by reading it."""
    for _ in range(total // 100):
        yield b"x" * 100


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_an_upload_over_the_limit_is_413_and_stores_nothing(
    capped: httpx.Client, settings: Settings, create_run: Make
) -> None:
    uuid = create_run(capped)["uuid"]
    assert capped.put(f"/runs/{uuid}/artifacts/keep.bin", content=b"k" * LIMIT).status_code == 200
    declared = capped.put(f"/runs/{uuid}/artifacts/big.bin", content=b"x" * (LIMIT + 1))
    assert declared.status_code == 413, declared.text
    assert (declared.json()["error"], declared.json()["field"]) == ("too_large", "body")
    assert str(LIMIT) in declared.json()["message"]
    streamed = capped.put(f"/runs/{uuid}/artifacts/keep.bin", content=_chunks(50 * LIMIT))
    assert streamed.status_code == 413, streamed.text
    code = capped.put(f"/runs/{uuid}/artifacts/uploads/train.py", content=_chunks(2 * LIMIT))
    assert code.status_code == 413, code.text
    folder = Path(settings.resolved_artifacts_store) / uuid
    assert _files(folder) == ["keep.bin"]  # no partial file left, the earlier file intact
    assert (folder / "keep.bin").read_bytes() == b"k" * LIMIT


def test_a_chunked_upload_under_the_limit_is_stored(capped: httpx.Client, create_run: Make) -> None:
    uuid = create_run(capped)["uuid"]
    answer = capped.put(f"/runs/{uuid}/artifacts/ok.bin", content=_chunks(LIMIT))
    assert answer.status_code == 200, answer.text
    assert capped.get(f"/runs/{uuid}/artifacts/ok.bin").content == b"x" * LIMIT


def test_the_limit_holds_on_s3(
    s3_api: tuple[httpx.Client, Any], settings: Settings, create_run: Make, serve_app: Any
) -> None:
    from mizzen.server.app import create_app

    _api, s3 = s3_api
    app = create_app(
        settings.model_copy(
            update={"artifacts_store": "s3://mizzen-artifacts/capped", "max_upload_bytes": LIMIT}
        )
    )
    try:
        with serve_app(app) as base, httpx.Client(base_url=base + API_PREFIX, timeout=30) as api:
            uuid = create_run(api)["uuid"]
            assert api.put(f"/runs/{uuid}/artifacts/big.bin", content=_chunks(20 * LIMIT)).status_code == 413
            assert api.put(f"/runs/{uuid}/artifacts/ok.bin", content=_chunks(LIMIT)).status_code == 200
    finally:
        app.state.services.close()
    keys = [
        o["Key"] for o in s3.list_objects_v2(Bucket="mizzen-artifacts", Prefix="capped/").get("Contents", [])
    ]
    assert keys == [f"capped/{uuid}/ok.bin"]
