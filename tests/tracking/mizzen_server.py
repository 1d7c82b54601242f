"""`mizzen server` as a user starts it: the real command in its own process, with its scheduler and
local executor, over a home (and optionally a database) of the test's."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import httpx
from tracking_server import free_port

T = TypeVar("T")


class MizzenServer:
    def __init__(self, home: Path, database_url: str | None = None) -> None:
        self.home = home
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.database_url = database_url
        self.log = home.parent / f"server-{self.port}.log"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, wait: float = 120.0) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("MIZZEN_")}
        env["MIZZEN_HOME"] = str(self.home)
        if self.database_url:
            env["MIZZEN_DATABASE_URL"] = self.database_url
        mizzen = Path(sys.executable).parent / "mizzen"
        with self.log.open("ab") as log:
            self._process = subprocess.Popen(
                [str(mizzen), "server", "--port", str(self.port), "--log-level", "warning"],
                env=env,
                stdout=log,
                stderr=log,
            )
        wait_for(self._healthy, wait, lambda: f"`mizzen server` did not answer: {self.output()}")

    def _healthy(self) -> bool:
        assert self._process is not None
        if self._process.poll() is not None:
            raise RuntimeError(f"`mizzen server` exited: {self.output()}")
        try:
            return httpx.get(f"{self.url}/api/v1/healthz", timeout=2.0).status_code == 200
        except httpx.TransportError:
            return False

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""

    def stop(self) -> None:
        if self._process is None or self._process.poll() is not None:
            return
        self._process.send_signal(signal.SIGTERM)
        try:
            self._process.wait(60)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(30)


def wait_for(condition: Callable[[], T | None], seconds: float, describe: Callable[[], str]) -> T:
    """Polls ``condition`` until it returns something truthy; fails with ``describe()`` after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        found = condition()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(describe())
        time.sleep(0.1)
