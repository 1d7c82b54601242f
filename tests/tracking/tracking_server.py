"""The real API in its own process, so a test can kill it and start it again on the same port and
database (what a user sees when `mizzen server` restarts)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

LAUNCH = """
import sys
import uvicorn
from mizzen.server.app import create_app
from mizzen.settings import Settings
uvicorn.run(create_app(Settings.load()), host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ApiProcess:
    def __init__(self, home: Path, port: int | None = None, token: str | None = None) -> None:
        self.home = home
        self.token = token
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None
        self._log = home / f"api-{self.port}.log"

    def start(self, wait: float = 60.0) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("MIZZEN_")}
        env["MIZZEN_HOME"] = str(self.home)
        if self.token:
            env["MIZZEN_TOKEN"] = self.token
        with self._log.open("ab") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-c", LAUNCH, str(self.port)], env=env, stdout=log, stderr=log
            )
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"the API process exited: {self._log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/api/v1/healthz", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"the API did not answer within {wait}s: {self._log.read_text()[-2000:]}")

    def freeze(self) -> None:
        """SIGSTOP: connections are accepted by the kernel but nothing answers (a hung server)."""
        assert self._process is not None
        self._process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self._process is not None
        self._process.send_signal(signal.SIGCONT)

    def kill(self) -> None:
        """SIGKILL: requests in flight are cut, exactly like a crash."""
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGKILL)
            self._process.send_signal(signal.SIGCONT)
            self._process.wait(30)
        self._process = None
