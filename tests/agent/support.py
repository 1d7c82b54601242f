"""Helpers of the agent suites (and of the CLI and e2e suites, which share them).

``moto_s3`` is the executor suite's real S3-compatible server (moto's server mode), one per session;
import it into a test module (``from tests.agent.support import moto_s3``) to use it.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import Any, TypeVar

from tests.executors.conftest import s3_server as moto_s3  # noqa: F401  (a fixture)

from mizzen.settings import Settings

T = TypeVar("T")


def eventually(check: Callable[[], T | None], what: str, timeout: float = 60.0, interval: float = 0.05) -> T:
    """Poll ``check`` until it returns something truthy (bounded by ``timeout``); returns it."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not reached within {timeout}s")
        time.sleep(interval)


class RestartableApi:
    """The real API on a fixed port of ``bind`` that a test can take down and bring back (same
    database); this machine reaches it at ``url``."""

    def __init__(
        self, settings: Settings, wrap: Callable[[Any], Any] | None = None, bind: str = "127.0.0.1"
    ) -> None:
        self.settings = settings
        self.wrap = wrap
        self.bind = bind
        with socket.socket() as probe:
            probe.bind((bind, 0))
            self.port = int(probe.getsockname()[1])
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
            served, host=self.bind, port=self.port, log_level="warning", timeout_graceful_shutdown=1
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True, name="mizzen-test-api")
        self._thread.start()
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError(f"the API could not start on {self.bind}:{self.port}")
            self._thread.join(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
            self._thread.join(10)
            self._server = None
