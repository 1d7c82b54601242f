"""A watchdog that outlives the `mizzen` process running local jobs and kills their processes when
that process dies without cleaning up (``kill -9``, the OOM killer, a crash).

The executor starts it once, in its own session, and writes to its stdin the uuid of every run it
starts (``+<uuid>``) and ends (``-<uuid>``). Nothing else ever holds that pipe, so its end of file
means the executor's process is gone: the watchdog then kills every process still carrying the
``MIZZEN_RUN_UUID`` of a run that had not ended, and exits. A clean exit of `mizzen` closes the pipe
too, after it has stopped its runs: the watchdog finds nothing and exits.

It runs as ``python -I <this file>`` and imports only the standard library: no Mizzen import to
wait for, and nothing in a run's folder or on PYTHONPATH can shadow what it imports.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

logger = logging.getLogger(__name__)

_PROC = Path("/proc")
ENV_MARKER = "MIZZEN_RUN_UUID"


def kill_run_processes(run_uuid: str) -> int:
    """SIGKILL the process groups of every process whose environment says it belongs to ``run_uuid``
    (found by its ``MIZZEN_RUN_UUID``, so a reused pid is never mistaken for one). Returns how many
    processes were found."""
    if not _PROC.is_dir():
        return 0
    marker = f"{ENV_MARKER}={run_uuid}".encode()
    me = os.getpid()
    groups: set[int] = set()
    found = 0
    for entry in _PROC.iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if marker in environ.split(b"\0"):
            found += 1
            with contextlib.suppress(OSError):
                groups.add(os.getpgid(int(entry.name)))
    for group in groups:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(group, signal.SIGKILL)
    return found


class Reaper:
    """The executor's side: starts the watchdog on first use and tells it which runs are live."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._broken = False

    def watch(self, run_uuid: str) -> None:
        """Call before starting any process of the run."""
        self._send(f"+{run_uuid}\n")

    def forget(self, run_uuid: str) -> None:
        """Call once every process of the run is gone."""
        self._send(f"-{run_uuid}\n")

    def close(self) -> None:
        with self._lock:
            process, self._process = self._process, None
        if process is not None and process.stdin is not None:
            with contextlib.suppress(OSError):
                process.stdin.close()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=30)

    def _send(self, line: str) -> None:
        with self._lock:
            if self._broken:
                return
            try:
                if self._process is None:
                    self._process = _start_watchdog()
                assert self._process.stdin is not None
                self._process.stdin.write(line.encode())
                self._process.stdin.flush()
            except OSError as error:  # the runs go on; only the clean-up after a crash is lost
                self._broken = True
                logger.warning(
                    "the local runs' watchdog is not running (%s): if this process is "
                    "killed, its jobs' processes may outlive it",
                    error,
                )


def _start_watchdog() -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-I", __file__],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd="/",
        start_new_session=True,  # a signal to this terminal's process group must not reach it
    )


def watchdog() -> None:
    """Read ``+uuid`` / ``-uuid`` lines until end of file, then kill what the live runs left."""
    live: set[str] = set()
    for raw in sys.stdin.buffer:
        line = raw.decode(errors="replace").strip()
        if line.startswith("+"):
            live.add(line[1:])
        elif line.startswith("-"):
            live.discard(line[1:])
    # A process may fork while its group is being killed: sweep until a round finds nothing.
    for _ in range(50):
        if not sum(kill_run_processes(uuid) for uuid in live):
            return
        time.sleep(0.1)


if __name__ == "__main__":
    for signum in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)  # only the end of the pipe ends it
    watchdog()
