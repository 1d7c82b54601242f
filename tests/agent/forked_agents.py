"""`mizzen agent` processes forked from a preloaded server (``agent_zygote.py``): a restart costs
the agent's own start-up, not the seconds of imports before it, so a test can SIGKILL and restart
the agent many times on a loaded machine. ``Installation.zygote`` makes ``start_agent`` use it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ZYGOTE = Path(__file__).with_name("agent_zygote.py")


class ForkedProcess:
    """What the tests use of ``subprocess.Popen``, for a process the zygote forked (and reaps)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self._signal = 0

    def poll(self) -> int | None:
        if self.returncode is None and not Path(f"/proc/{self.pid}").exists():
            self.returncode = -self._signal  # the zygote reaped it: its code is not known here
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            self._signal = signum
            os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while (code := self.poll()) is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"agent {self.pid}", timeout or 0)
            time.sleep(0.02)
        return code


class AgentZygote:
    """Starts the fork server at once (its imports overlap the test's set-up); ``spawn`` waits for it."""

    def __init__(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(ZYGOTE)],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._ready = False

    def spawn(self, argv: list[str], log_path: Path) -> ForkedProcess:
        assert self.process.stdin is not None and self.process.stdout is not None
        if not self._ready:
            assert self.process.stdout.readline().strip() == "ready", "the agent zygote did not start"
            self._ready = True
        self.process.stdin.write(json.dumps({"argv": argv, "log": str(log_path)}) + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline().strip()
        assert answer.isdigit(), f"the agent zygote answered {answer!r}"
        return ForkedProcess(int(answer))

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
