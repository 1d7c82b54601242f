"""Fixtures for executor tests: a recording events sink, executors on tmp folders, a moto S3 server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.executors.support import MakeExecutor, Recorder, S3Server, moto_server

from mizzen.executors.local import Backoff, GpuInventory, LocalExecutor
from mizzen.render.local import SecretCatalog


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def make_executor(tmp_path: Path, recorder: Recorder) -> Iterator[MakeExecutor]:
    made: list[LocalExecutor] = []

    def make(**options: Any) -> LocalExecutor:
        options.setdefault("home", tmp_path / "home")
        options.setdefault("artifacts_store", str(tmp_path / "store"))
        options.setdefault("gpus", GpuInventory())
        options.setdefault("backoff", Backoff(base=0.05, factor=2, maximum=0.2))
        options.setdefault("kill_grace", 2.0)
        options.setdefault("catalog", SecretCatalog())
        executor = LocalExecutor(recorder, **options)
        made.append(executor)
        return executor

    yield make
    for executor in made:
        executor.close(grace_seconds=1)


@pytest.fixture
def executor(make_executor: MakeExecutor) -> LocalExecutor:
    return make_executor()


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    with moto_server(tmp_path_factory.mktemp("moto")) as server:
        yield server
