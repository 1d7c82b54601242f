"""The UI tests' real parts: a `mizzen server` process with a token, runs made by real `mizzen run`s
(whose scripts log through `mizzen.tracking`), and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx

T = TypeVar("T")
TOKEN = "ui-test-token"
PROJECT = "vision"
CHROMIUM = os.environ.get("MIZZEN_CHROMIUM", "/usr/bin/chromium")
INSTALL_HINT = "install Chromium for the browser tests: sudo apt-get install -y chromium (or make test)"
MIZZEN = Path(sys.executable).parent / "mizzen"

TRAIN = """
version: 1.1
kind: operation
name: train-resnet
params: {lr: {value: 0.05}, epochs: {value: 3}}
component:
  inputs:
  - {name: lr, type: float}
  - {name: epochs, type: int}
  outputs:
  - {name: best_loss, type: float}
  run:
    kind: job
    container:
      image: python:3.11-slim
      command:
      - python
      - -c
      - |
        import math
        from mizzen import tracking
        for step in range(3000):
            tracking.log_metrics(step=step, loss=math.exp(-step / 600) + 0.02 * math.sin(step / 7),
                                 accuracy=1 - math.exp(-step / 400))
            if step % 1000 == 0:
                print(f"epoch {step // 1000} of {{ epochs }} at lr {{ lr }}", flush=True)
        tracking.log_outputs(best_loss=0.0123)
        print("training done", flush=True)
"""
BROKEN = """
version: 1.1
kind: operation
name: broken-loader
component:
  run:
    kind: job
    container:
      image: python:3.11-slim
      command: [python, -c, "import sys; print('loading shards'); sys.exit(3)"]
"""
SLEEPER = """
version: 1.1
kind: operation
name: long-sleeper
component:
  run:
    kind: job
    container:
      image: python:3.11-slim
      command:
      - python
      - -u
      - -c
      - |
        import time
        for i in range(100000):
            print(f"tick {i}", flush=True)
            time.sleep(0.2)
"""
HELD = """
version: 1.1
kind: operation
name: held-for-approval
isApproved: false
component:
  run: {kind: job, container: {image: x, command: [python, -c, "print('approved')"]}}
"""


def wait_for(condition: Callable[[], T | None], seconds: float, describe: Callable[[], str]) -> T:
    """Polls ``condition`` until it returns something truthy; fails with ``describe()`` after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        found = condition()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(describe())
        time.sleep(0.2)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def chromium_or_fail() -> str:
    """Debian's Chromium; the tests fail (never skip) without it, naming the command to run."""
    path = shutil.which(CHROMIUM) or (CHROMIUM if Path(CHROMIUM).exists() else None)
    if path is None:
        raise RuntimeError(f"{CHROMIUM} not found: {INSTALL_HINT}")
    return path


class UiServer:
    """`mizzen server` with a token, as a user starts it, over a home of the test session's."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.url = f"http://127.0.0.1:{free_port()}"
        self.log = home.parent / "server.log"
        self.process: subprocess.Popen[bytes] | None = None

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MIZZEN_")}
        return {**env, "MIZZEN_HOME": str(self.home), "MIZZEN_TOKEN": TOKEN, **extra}

    def start(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        port = self.url.rsplit(":", 1)[1]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [str(MIZZEN), "server", "--port", port, "--log-level", "warning"],
                env=self.env(),
                stdout=log,
                stderr=log,
            )
        wait_for(self._healthy, 120, lambda: f"`mizzen server` did not answer: {self.output()}")

    def _healthy(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"`mizzen server` exited: {self.output()}")
        try:
            return httpx.get(f"{self.url}/api/v1/healthz", timeout=2.0).status_code == 200
        except httpx.TransportError:
            return False

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(30)

    # -- the API, as the tests check what the pages show -------------------------------------------

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        answer = httpx.request(
            method,
            f"{self.url}/api/v1{path}",
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=30,
            **kwargs,
        )
        answer.raise_for_status()
        return answer.json() if answer.content else None

    def run(self, uuid: str) -> dict[str, Any]:
        found: dict[str, Any] = self.api("GET", f"/runs/{uuid}")
        return found

    def submit(self, folder: Path, name: str, polyaxonfile: str) -> str:
        """`mizzen run -f FILE -p PROJECT --detach` against this server; the new run's uuid."""
        path = folder / f"{name}.yaml"
        path.write_text(textwrap.dedent(polyaxonfile))
        done = subprocess.run(
            [str(MIZZEN), "run", "-f", str(path), "-p", PROJECT, "--detach"],
            env=self.env(MIZZEN_HOST=self.url, COLUMNS="200"),
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr + self.output()
        runs = self.api("GET", "/runs", params={"project": PROJECT, "sort": "-created_at", "limit": 1})
        uuid: str = runs["items"][0]["uuid"]
        return uuid

    def wait_status(self, uuid: str, wanted: set[str], seconds: float = 180) -> dict[str, Any]:
        def reached() -> dict[str, Any] | None:
            run = self.run(uuid)
            return run if run["status"] in wanted else None

        return wait_for(reached, seconds, lambda: f"run {uuid}: {self.run(uuid)['status']}\n{self.output()}")
