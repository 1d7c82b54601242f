"""The sweep examples run end to end through the real `mizzen` CLI, as a user types them (from the
example's folder, its code uploaded with -u): exit 0, and `ops ls -q pipeline:UUID` lists the trials."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from cli_harness import WIDE_TERMINAL

from mizzen.settings import Settings

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "sweeps"


def mizzen(mizzen_bin: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": WIDE_TERMINAL}
    return subprocess.run(
        [str(mizzen_bin), *args],
        cwd=EXAMPLES,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def run_sweep(mizzen_bin: Path, polyaxonfile: str) -> tuple[dict, list[dict]]:
    done = mizzen(mizzen_bin, "run", "-f", polyaxonfile, "-u")
    assert done.returncode == 0, done.stdout + done.stderr
    found = re.search(r"run \S+ ([0-9a-f]{32}) created", done.stdout + done.stderr)
    assert found, done.stdout
    uuid = found.group(1)
    listed = mizzen(mizzen_bin, "ops", "ls", "-q", f"pipeline:{uuid}", "-l", "100", "--json")
    assert listed.returncode == 0, listed.stderr
    shown = mizzen(mizzen_bin, "ops", "get", uuid, "--json")
    assert shown.returncode == 0, shown.stderr
    return json.loads(shown.stdout), json.loads(listed.stdout)


def test_the_tpe_example_runs_its_20_trials_under_median_stopping(
    settings: Settings, mizzen_bin: Path
) -> None:
    sweep, trials = run_sweep(mizzen_bin, "tpe.yaml")
    assert len(trials) == 20
    assert sorted(t["meta"]["trial"]["index"] for t in trials) == list(range(20))
    statuses = {t["status"] for t in trials}
    assert statuses <= {"succeeded", "stopped"} and "succeeded" in statuses
    run = sweep.get("run", sweep)
    assert run["status"] == "succeeded"
    best = run["meta"]["pipeline"]["best"]
    scores = [t["outputs"]["loss"] for t in trials if t["status"] == "succeeded"]
    assert best["metric"] == min(scores) == run["outputs"]["loss"]
    assert run["meta"]["pipeline"]["done"] == 20


def test_the_hyperband_example_runs_its_22_trials(settings: Settings, mizzen_bin: Path) -> None:
    sweep, trials = run_sweep(mizzen_bin, "hyperband.yaml")
    assert len(trials) == 22 and all(t["status"] == "succeeded" for t in trials)
    epochs = sorted(t["params"]["epochs"] for t in trials)
    assert epochs == [1] * 9 + [3] * 8 + [9] * 5
    run = sweep.get("run", sweep)
    assert run["status"] == "succeeded"


def test_the_iterative_example_runs_3_iterations_of_its_tuner_and_their_trials(
    settings: Settings, mizzen_bin: Path
) -> None:
    sweep, children = run_sweep(mizzen_bin, "iterative.yaml")
    tuners = sorted(
        (c for c in children if "tuner" in c["meta"]), key=lambda c: c["meta"]["tuner"]["iteration"]
    )
    trials = [c for c in children if "trial" in c["meta"]]
    assert [t["meta"]["tuner"]["iteration"] for t in tuners] == [0, 1, 2]
    assert all(t["status"] == "succeeded" for t in tuners + trials)
    assert sorted(t["meta"]["trial"]["index"] for t in trials) == list(range(6))  # 2 per iteration
    suggested = [s for tuner in tuners for s in tuner["outputs"]["suggestions"]]
    by_index = sorted(trials, key=lambda t: t["meta"]["trial"]["index"])
    assert [t["params"]["x"] for t in by_index] == [s["x"] for s in suggested]
    assert all(t["outputs"]["loss"] == pytest.approx((t["params"]["x"] - 0.5) ** 2) for t in trials)
    run = sweep.get("run", sweep)
    assert run["status"] == "succeeded"


def test_hyperband_with_resume_promotes_by_resuming_runs_through_the_cli(
    settings: Settings, mizzen_bin: Path, tmp_path: Path
) -> None:
    polyaxonfile = tmp_path / "hyperband-resume.yaml"
    polyaxonfile.write_text(
        """version: 1.1
kind: operation
name: quadratic-hyperband-resume
matrix:
  kind: hyperband
  maxIterations: 9
  eta: 3
  seed: 3
  resume: true
  concurrency: 4
  resource: {name: epochs, type: int}
  metric: {name: loss, optimization: minimize}
  params:
    x: {kind: uniform, value: [-2, 2]}
component:
  name: quadratic
  inputs:
  - {name: x, type: float}
  - {name: epochs, type: int}
  outputs:
  - {name: loss, type: float}
  run:
    kind: job
    container:
      image: python:3.11-slim
      command:
      - python
      - -c
      - "from mizzen import tracking; tracking.log_outputs(loss=({{ x }} - 0.5) ** 2 / {{ epochs }})"
"""
    )
    sweep, runs = run_sweep(mizzen_bin, str(polyaxonfile))
    assert sweep.get("run", sweep)["status"] == "succeeded"
    assert len(runs) == 9 + 5 + 3  # 22 trials: every promotion resumed a run
    ran = sorted(
        t["index"] for r in runs for t in [r["meta"]["trial"], *r["meta"]["trial"].get("earlier", [])]
    )
    assert ran == list(range(22))
    for run in runs:
        trial = run["meta"]["trial"]
        assert run["params"]["epochs"] == trial["values"]["epochs"]
        assert run["outputs"]["loss"] == pytest.approx(
            (run["params"]["x"] - 0.5) ** 2 / run["params"]["epochs"]
        )
    assert sorted(run["params"]["epochs"] for run in runs if run["meta"]["trial"].get("earlier")) == [
        3,
        3,
        9,
        9,
    ]


EVALUATION_INTERVAL_TRIAL = """
import sys, time
from mizzen import tracking

x = float(sys.argv[1])
run = tracking.init()
if x < 1:  # the good trial: 6 values, done
    for step in range(1, 7):
        run.log_metrics(step=step, loss=x)
    run.log_outputs(loss=x)
    sys.exit(0)
for step in (1, 2):  # the bad one: 2 values (no evaluation point yet), a pause, a 3rd
    run.log_metrics(step=step, loss=x)
time.sleep(3)
run.log_metrics(step=3, loss=x)
deadline = time.monotonic() + 120  # then waits to be stopped (ends succeeded if it never is)
while time.monotonic() < deadline:
    time.sleep(0.2)
"""


def test_a_diff_policy_stops_a_trial_at_its_evaluation_interval_in_a_local_sweep(
    settings: Settings, mizzen_bin: Path, tmp_path: Path
) -> None:
    """A real sweep: the bad trial runs with 2 values for a while (no stop: its first evaluation is at
    its 3rd value), then is stopped at interval 3, which its condition names."""
    script = tmp_path / "trial.py"
    script.write_text(EVALUATION_INTERVAL_TRIAL)
    polyaxonfile = tmp_path / "diff-interval.yaml"
    polyaxonfile.write_text(
        f"""version: 1.1
kind: operation
name: diff-interval
matrix:
  kind: mapping
  concurrency: 2
  values: [{{x: 0.1}}, {{x: 5.0}}]
  earlyStopping:
  - kind: metric_early_stopping
    metric: loss
    value: 0.0
    optimization: minimize
    policy: {{kind: diff, percent: 50, evaluationInterval: 3}}
component:
  name: trial
  inputs:
  - {{name: x, type: float}}
  run:
    kind: job
    container:
      image: python:3.11-slim
      command: [python, {script}, "{{{{ x }}}}"]
"""
    )
    sweep, trials = run_sweep(mizzen_bin, str(polyaxonfile))
    assert sweep.get("run", sweep)["status"] == "succeeded"
    by_x = {t["params"]["x"]: t for t in trials}
    assert by_x[0.1]["status"] == "succeeded"
    assert by_x[5.0]["status"] == "stopped"
    shown = mizzen(mizzen_bin, "ops", "get", by_x[5.0]["uuid"], "--json")
    assert shown.returncode == 0, shown.stderr
    run = json.loads(shown.stdout)
    run = run.get("run", run)
    messages = [c["message"] or "" for c in run["conditions"]]
    assert any(m.startswith("diff stopping at interval 3: best loss=5 is more than 50") for m in messages), (
        messages
    )
