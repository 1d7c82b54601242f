"""Helpers shared by the tracking tests: run a training script for real, read what it journaled."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from mizzen.tracking.journal import read_entries


def script_env(**overrides: str) -> dict[str, str]:
    """The test's environment without any MIZZEN_* variable, plus ``overrides``."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MIZZEN_")}
    return {**clean, **overrides}


def managed_env(home: Path, uuid: str, run_dir: Path, host: str | None = None) -> dict[str, str]:
    """What the executor gives a managed run's processes (``host``: the API, when there is one)."""
    env = {
        "MIZZEN_HOME": str(home),
        "MIZZEN_IS_MANAGED": "true",
        "MIZZEN_RUN_UUID": uuid,
        "MIZZEN_RUN_ARTIFACTS_PATH": str(run_dir),
        "MIZZEN_RUN_OUTPUTS_PATH": str(run_dir / "outputs"),
    }
    return {**env, "MIZZEN_HOST": host} if host else env


def run_script(
    code: str, env: dict[str, str], cwd: Path, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=script_env(**env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def only_run_dir(home: Path) -> Path:
    (run_dir,) = (home / "tracking").iterdir()
    return run_dir


def journal_entries(run_dir: Path) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    for path in sorted((run_dir / ".tracking").glob("journal-*.ndjson")):
        entries.extend(read_entries(path))
    return entries


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
