"""Helpers of the agent suites."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

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
