"""`-P` names that match nothing are refused by `mizzen run` and `mizzen check` (real CLI processes):
a typo must not run with the defaults. A value for the templates only is declared `contextOnly`."""

from __future__ import annotations

import json
from pathlib import Path

from test_run import home, mizzen, write

__all__ = ["home"]

OPERATION = """
version: 1.1
kind: operation
params:
  note: {value: hello, contextOnly: true}
component:
  inputs: [{name: lr, type: float, value: 0.1, isOptional: true}]
  run:
    kind: job
    container: {image: x, command: ["python", "-c", "print('note={{ note }} lr={{ lr }}')"]}
"""


def test_run_refuses_an_unknown_param_with_did_you_mean_and_creates_no_run(
    home: Path, tmp_path: Path
) -> None:
    spec = write(tmp_path, "op.yaml", OPERATION)
    result = mizzen("run", "-f", str(spec), "-P", "lrr=0.5")
    assert result.returncode == 1
    assert "-P lrr: the component has no input or output 'lrr' (did you mean 'lr'?)" in result.stderr
    assert f"{spec}:" in result.stderr and "contextOnly: true" in result.stderr
    assert json.loads(mizzen("ops", "ls", "--json").stdout) == []


def test_check_refuses_an_unknown_param_too(home: Path, tmp_path: Path) -> None:
    spec = write(tmp_path, "op.yaml", OPERATION)
    result = mizzen("check", "-f", str(spec), "-P", "nota=bye")
    assert result.returncode == 1
    assert "-P nota: the component has no input or output 'nota' (did you mean 'note'?)" in result.stderr


def test_a_context_only_param_takes_its_value_from_the_command_line(home: Path, tmp_path: Path) -> None:
    spec = write(tmp_path, "op.yaml", OPERATION)
    result = mizzen("run", "-f", str(spec), "-P", "note=bye", "-P", "lr=0.5")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "note=bye lr=0.5" in result.stdout
