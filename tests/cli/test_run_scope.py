"""Two `mizzen run` commands at once on one machine: each runs only what it started (a trial claimed
by the other command would be stopped when that command exits). The claim itself is tested in
tests/store/test_gateway.py::test_a_scoped_claim_takes_only_its_runs_and_its_pipelines_children."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

from mizzen.settings import Settings

SLOW_SWEEP = """
version: 1.1
kind: operation
name: slow
matrix:
  kind: grid
  concurrency: 2
  params:
    i: {kind: choice, value: [1, 2, 3, 4]}
component:
  inputs: [{name: i, type: int}]
  run:
    kind: job
    container: {image: x, command: [bash, -c, "sleep 1; echo i={{ i }}"]}
"""

QUICK_SWEEP = """
version: 1.1
kind: operation
name: quick
matrix:
  kind: grid
  params:
    j: {kind: choice, value: [1, 2, 3]}
component:
  inputs: [{name: j, type: int}]
  run:
    kind: job
    container: {image: x, command: [echo, "{{ j }}"]}
"""


def test_each_mizzen_run_runs_only_the_pipeline_it_started(
    settings: Settings,
    tmp_path: Path,
    mizzen_bin: Path,
    run_mizzen: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    (tmp_path / "slow.yaml").write_text(SLOW_SWEEP)
    (tmp_path / "quick.yaml").write_text(QUICK_SWEEP)
    slow = subprocess.Popen(
        [str(mizzen_bin), "run", "-f", str(tmp_path / "slow.yaml")],
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        quick = run_mizzen("run", "-f", str(tmp_path / "quick.yaml"))
        assert quick.returncode == 0, quick.stderr
        _out, err = slow.communicate(timeout=120)
    finally:
        slow.kill()
    assert slow.returncode == 0, err
    runs = json.loads(run_mizzen("ops", "ls", "--json", "--limit", "100").stdout)
    by_uuid = {run["uuid"]: run for run in runs}
    pipelines = {run["name"]: run for run in runs if run["kind"] == "matrix"}
    assert set(pipelines) == {"slow", "quick"}
    for name, pipeline in pipelines.items():
        trials = [run for run in runs if run["pipeline_uuid"] == pipeline["uuid"]]
        assert len(trials) == {"slow": 4, "quick": 3}[name]
        assert {t["status"] for t in trials} == {"succeeded"}
        # Every trial ran in the process that drove its pipeline (same pid in the owner).
        driver_pid = pipeline["meta"]["owner"].split(":")[1]
        assert {by_uuid[t["uuid"]]["meta"]["owner"].split(":")[1] for t in trials} == {driver_pid}
    assert pipelines["slow"]["meta"]["owner"].split(":")[1] == str(slow.pid)
