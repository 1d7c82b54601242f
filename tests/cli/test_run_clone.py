"""`mizzen ops restart | copy | resume` of a run started with `mizzen run -u`: real CLI processes,
real jobs, the real store. The new run runs the original's uploaded code with its inputs."""

from __future__ import annotations

import json
from pathlib import Path

from test_run import home, mizzen, ops_get, write

__all__ = ["home"]

TRAIN = """
import sys
from mizzen import tracking
run = tracking.init()
lr = float(sys.argv[1].split("=")[1])
run.log_outputs(score=lr * 10)
print("trained with lr", lr)
run.end()
"""

POLYAXONFILE = """
version: 1.1
kind: component
name: tiny
inputs:
- {name: lr, type: float, value: 0.1, isOptional: true}
- {name: epochs, type: int, value: 3, isOptional: true}
outputs: [{name: score, type: float}]
run:
  kind: job
  container: {image: python:3.11, command: "python train.py --lr={{ lr }}"}
"""


def _uploaded_run(tmp_path: Path) -> dict:
    code = tmp_path / "code"
    code.mkdir()
    write(code, "train.py", TRAIN)
    write(code, "polyaxonfile.yaml", POLYAXONFILE)
    result = mizzen("run", "-f", "polyaxonfile.yaml", "-u", "-P", "lr=0.5", cwd=code)
    assert result.returncode == 0, result.stdout + result.stderr
    runs = json.loads(mizzen("ops", "ls", "--json").stdout)
    return ops_get(runs[0]["uuid"])


def _newest(cloning_kind: str) -> dict:
    listed = mizzen("ops", "ls", "-q", f"cloning_kind:{cloning_kind}", "--json")
    assert listed.returncode == 0, listed.stderr
    return ops_get(json.loads(listed.stdout)[0]["uuid"])


def _artifact_paths(uuid: str) -> list[str]:
    result = mizzen("ops", "artifacts", uuid, "--json")
    assert result.returncode == 0, result.stderr
    return [item["path"] for item in json.loads(result.stdout)]


def test_restart_and_copy_of_an_uploaded_run_run_its_code_with_its_inputs(home: Path, tmp_path: Path) -> None:
    original = _uploaded_run(tmp_path)
    assert original["inputs"] == {"lr": 0.5, "epochs": 3}

    restarted = mizzen("ops", "restart", original["uuid"], cwd=tmp_path)
    assert restarted.returncode == 0, restarted.stdout + restarted.stderr
    assert "trained with lr 0.5" in restarted.stdout
    restart = _newest("restart")
    assert restart["status"] == "succeeded"
    assert restart["inputs"] == original["inputs"]
    assert restart["outputs"] == {"score": 5.0}

    copied = mizzen("ops", "copy", original["uuid"], "-P", "lr=0.2", cwd=tmp_path)
    assert copied.returncode == 0, copied.stdout + copied.stderr
    assert "trained with lr 0.2" in copied.stdout
    copy = _newest("copy")
    assert copy["status"] == "succeeded"
    assert copy["inputs"] == {"lr": 0.2, "epochs": 3}
    assert copy["outputs"] == {"score": 2.0}
    # The same stored upload runs: neither clone holds a second copy of the code.
    assert "uploads/train.py" in _artifact_paths(original["uuid"])
    for clone in (restart, copy):
        assert not any(path.startswith("uploads/") for path in _artifact_paths(clone["uuid"]))

    # A restart of the copy still finds the code (stored once, with the first run), even once the
    # first run is deleted.
    deleted = mizzen("ops", "delete", original["uuid"], "--yes")
    assert deleted.returncode == 0, deleted.stderr
    again = mizzen("ops", "restart", copy["uuid"], cwd=tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "trained with lr 0.2" in again.stdout


def test_resume_of_an_uploaded_run_keeps_working_and_takes_new_inputs(home: Path, tmp_path: Path) -> None:
    original = _uploaded_run(tmp_path)
    resumed = mizzen("ops", "resume", original["uuid"], "-P", "lr=0.3", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "trained with lr 0.3" in resumed.stdout
    run = ops_get(original["uuid"])
    assert run["status"] == "succeeded" and run["inputs"] == {"lr": 0.3, "epochs": 3}


def test_a_param_that_does_not_fit_is_refused_before_a_run_is_made(home: Path, tmp_path: Path) -> None:
    original = _uploaded_run(tmp_path)
    result = mizzen("ops", "restart", original["uuid"], "-P", "lr=fast", cwd=tmp_path)
    assert result.returncode == 1
    assert "-P lr=fast: expected a float, got 'fast'" in result.stderr
    typo = mizzen("ops", "copy", original["uuid"], "-P", "lrr=0.2", cwd=tmp_path)
    assert typo.returncode == 1 and "(did you mean 'lr'?)" in typo.stderr
    assert len(json.loads(mizzen("ops", "ls", "--json").stdout)) == 1
