"""Fixtures for executor tests: a recording events sink, executors on tmp folders, a moto S3 server."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.executors.support import PYTHON, MakeExecutor, Recorder, S3Server, free_port

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
    moto = shutil.which("moto_server", path=os.path.dirname(PYTHON)) or shutil.which("moto_server")
    assert moto, "moto_server (moto[server]) is a dev dependency and must be installed"
    port = free_port()
    log = (tmp_path_factory.mktemp("moto") / "moto.log").open("w")
    process = subprocess.Popen([moto, "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=log)
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            assert process.poll() is None, "moto_server exited"
            assert time.monotonic() < deadline, "moto_server did not start within 30s"
            time.sleep(0.1)
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_REGION": "us-east-1",
    }
    options = {
        "key": "testing",
        "secret": "testing",
        "endpoint_url": endpoint,
        "client_kwargs": {"region_name": "us-east-1"},
    }
    yield S3Server(endpoint, options, env)
    process.terminate()
    process.wait(10)
    log.close()
