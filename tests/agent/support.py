"""Helpers of the agent suites."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from tests.executors.support import S3Server, free_port

from mizzen.settings import Settings


class RestartableApi:
    """The real API on a fixed port that a test can take down and bring back (same database)."""

    def __init__(self, settings: Settings, wrap: Callable[[Any], Any] | None = None) -> None:
        import socket

        self.settings = settings
        self.wrap = wrap
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._server: Any = None
        self._thread: Any = None
        self.app: Any = None

    def start(self) -> RestartableApi:
        import threading

        import uvicorn

        from mizzen.server.app import create_app

        self.app = create_app(self.settings)
        served = self.wrap(self.app) if self.wrap else self.app
        config = uvicorn.Config(
            served, host="127.0.0.1", port=self.port, log_level="warning", timeout_graceful_shutdown=1
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True, name="mizzen-test-api")
        self._thread.start()
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError(f"the API could not start on port {self.port}")
            self._thread.join(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
            self._thread.join(10)
            self._server = None


@pytest.fixture(scope="session")
def moto_s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """A real S3-compatible server (moto's server mode) for the session; ``make_bucket()`` per test.
    Import it into a test module (``from tests.agent.support import moto_s3``) to use it."""
    moto = shutil.which("moto_server", path=os.path.dirname(sys.executable)) or shutil.which("moto_server")
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
    try:
        yield S3Server(endpoint, options, env)
    finally:
        process.terminate()
        process.wait(10)
        log.close()
