"""Helpers of the pipeline CLI tests: the real `mizzen` in its own process, sweeps whose trials
record their pids and log a loss, and waiting on conditions (never on fixed sleeps)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

MIZZEN = str(Path(sys.executable).with_name("mizzen"))
T = TypeVar("T")


def mizzen(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "250"}
    return subprocess.run(
        [MIZZEN, *args], capture_output=True, text=True, timeout=timeout, check=False, env=env
    )


def start(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "COLUMNS": "250"}
    return subprocess.Popen(
        [MIZZEN, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )


def json_of(*args: str) -> Any:
    result = mizzen(*args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def runs() -> list[dict[str, Any]]:
    return list(json_of("ops", "ls", "-l", "1000"))


def pipeline_of(kind: str = "matrix") -> dict[str, Any]:
    (found,) = [run for run in runs() if run["kind"] == kind]
    return dict(found)


def children_of(pipeline: str) -> list[dict[str, Any]]:
    return list(json_of("ops", "ls", "-q", f"pipeline:{pipeline}", "-l", "1000"))


def eventually(check: Callable[[], T | None], what: str, timeout: float = 120) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def sweep(
    folder: Path, values: list[float], *, concurrency: int = 2, slow_unless: Path | None = None
) -> Path:
    """A grid sweep over ``lr``; each trial appends its shell's pid to ``folder/pids``, logs
    ``loss = |lr - 0.3|``, and, with ``slow_unless``, sleeps until stopped unless that file exists."""
    pids = folder / "pids"
    wait = f"if [ -e {slow_unless} ]; then :; else sleep 300; fi; " if slow_unless else ""
    log = "from mizzen import tracking; tracking.init().log_metrics(loss=abs({{ lr }} - 0.3))"
    text = f"""
    version: 1.1
    kind: operation
    name: tune
    matrix:
      kind: grid
      concurrency: {concurrency}
      params:
        lr: {{kind: choice, value: {json.dumps(values)}}}
    component:
      inputs: [{{name: lr, type: float}}]
      run:
        kind: job
        container:
          image: python
          command: ["sh", "-c", "echo $$$$ >> {pids}; {wait}{sys.executable} -c '{log}'"]
    """
    path = folder / "sweep.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def pids_in(folder: Path) -> list[int]:
    path = folder / "pids"
    return [int(pid) for pid in path.read_text().split()] if path.exists() else []


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")  # a zombie (dead, not reaped yet) counts as gone
    return not (stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] in ("Z", "X"))


def all_gone(pids: list[int]) -> bool:
    return not [pid for pid in pids if alive(pid)]
