"""Child processes in their own process group: spawn, signal the whole group, explain how they ended."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from mizzen.executors.local.reaper import kill_run_processes

_PROC = Path("/proc")


class SpawnError(Exception):
    """The process could not start at all; ``reason`` says why in a few words."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def exit_reason(returncode: int) -> str | None:
    """How a process ended, for humans: None for success."""
    if returncode == 0:
        return None
    if returncode < 0:
        return f"killed by signal {-returncode}"
    if returncode == 127:
        return "exit code 127 (command not found)"
    if returncode == 126:
        return "exit code 126 (command not executable)"
    return f"exit code {returncode}"


@dataclass
class ManagedProcess:
    """A child leading its own session (so its process group id is its pid)."""

    label: str  # "main", "worker-1/main", "init-git-0"
    popen: subprocess.Popen[bytes]
    argv: tuple[str, ...] = ()
    cwd: str = ""

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def stdout(self) -> IO[bytes]:
        assert self.popen.stdout is not None
        return self.popen.stdout

    @classmethod
    def spawn(cls, label: str, argv: list[str], env: Mapping[str, str], cwd: str) -> ManagedProcess:
        try:
            Path(cwd).mkdir(parents=True, exist_ok=True)  # a container runtime creates workingDir too
        except OSError as error:
            raise SpawnError(
                f"bad working dir: {cwd}", f"{label}: cannot create working dir {cwd}: {error}"
            ) from None
        try:
            popen = subprocess.Popen(
                argv,
                env=dict(env),
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,  # one stream keeps the order the program wrote in
                start_new_session=True,
                bufsize=0,
            )
        except FileNotFoundError:
            raise SpawnError(
                f"command not found: {argv[0]}",
                f"{label}: command not found: {argv[0]} (not on PATH of this machine)",
            ) from None
        except PermissionError:
            raise SpawnError(
                f"permission denied: {argv[0]}", f"{label}: {argv[0]} is not executable"
            ) from None
        except OSError as error:
            raise SpawnError(
                f"cannot start: {argv[0]}", f"{label}: cannot start {argv[0]}: {error}"
            ) from None
        return cls(label, popen, tuple(argv), cwd)

    def poll(self) -> int | None:
        return self.popen.poll()

    def watch(self, on_exit: Callable[[], None]) -> threading.Thread:
        """Call ``on_exit`` from a thread once the process has exited (and is reaped)."""

        def wait() -> None:
            self.popen.wait()
            on_exit()

        thread = threading.Thread(target=wait, name=f"wait-{self.label}", daemon=True)
        thread.start()
        return thread

    def signal_group(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, sig)

    def group_alive(self) -> bool:
        """Whether any process of the group still runs (zombies left to init count as gone)."""
        if self.popen.poll() is None:
            return True
        try:
            os.killpg(self.pid, 0)
        except (ProcessLookupError, PermissionError):
            return False  # no member left at all (the common case): no /proc scan
        if _PROC.is_dir():  # members remain: zombies among them do not count
            return any(True for _ in _live_members(self.pid))
        return True


def _live_members(pgid: int) -> Iterable[int]:
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) > 2 and int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            yield int(entry.name)


def terminate(processes: Iterable[ManagedProcess], grace: float) -> None:
    """SIGTERM every group, SIGKILL what is left after ``grace`` seconds; returns once all are gone
    (or, for members the kernel cannot kill at once, after a short bounded wait)."""
    alive = [p for p in processes if p.group_alive()]
    for process in alive:
        process.signal_group(signal.SIGTERM)
    alive = _wait_gone(alive, grace)
    for process in alive:
        process.signal_group(signal.SIGKILL)
    _wait_gone(alive, 5.0)


def _wait_gone(processes: list[ManagedProcess], seconds: float) -> list[ManagedProcess]:
    deadline = time.monotonic() + seconds
    while True:
        processes = [p for p in processes if p.group_alive()]
        if not processes or time.monotonic() >= deadline:
            return processes
        time.sleep(0.05)


def kill_leftovers(run_uuid: str) -> int:
    """SIGKILL the process groups of a run whose supervisor died (the `mizzen` process was killed).
    Returns how many processes were found."""
    return kill_run_processes(run_uuid)
