from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tracking_server import ApiProcess

from mizzen.client import MizzenClient


@pytest.fixture
def api_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ApiProcess]:
    """The API served by its own process on a fixed port; the test may kill and restart it."""
    import os

    for name in list(os.environ):
        if name.startswith("MIZZEN_") and name != "MIZZEN_TEST_PG_ADMIN":
            monkeypatch.delenv(name)
    monkeypatch.setenv("MIZZEN_HOME", str(tmp_path / "client-home"))
    server = ApiProcess(tmp_path / "server-home")
    server.start()
    yield server
    server.kill()


@pytest.fixture
def client(api_server: str) -> Iterator[MizzenClient]:
    with MizzenClient(api_server) as api:
        yield api
