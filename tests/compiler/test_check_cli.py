"""`mizzen check` as a user runs it: a real subprocess, exit codes, located one-screen messages."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import yaml

Write = Callable[[str, str], Path]
REPO = Path(__file__).resolve().parents[2]
QUICKSTART = REPO / "examples" / "quickstart" / "polyaxonfile.yaml"


def mizzen(*args: str | Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIZZEN_")}
    env["MIZZEN_HOME"] = str(home)
    return subprocess.run(
        [sys.executable, "-m", "mizzen", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def check_fails(*args: str | Path, home: Path) -> str:
    """Run ``mizzen check ARGS``; it must fail cleanly (exit 1, no traceback, one screen). Its stderr."""
    result = mizzen("check", *args, home=home)
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stderr.startswith("error: ")
    assert len(result.stderr.splitlines()) <= 25  # one screen
    return result.stderr


def test_a_valid_file_prints_a_summary(tmp_path: Path) -> None:
    result = mizzen("check", "-f", QUICKSTART, "-P", "lr=0.05", home=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "quickstart is valid: a job run" in result.stdout
    assert "lr" in result.stdout and "0.05" in result.stdout and "cli" in result.stdout
    assert "python train.py --lr=0.05 --epochs=20" in result.stdout


def test_output_json_and_yaml_print_the_compiled_plan(tmp_path: Path) -> None:
    as_json = mizzen("check", "-f", QUICKSTART, "--output", "json", home=tmp_path)
    assert as_json.returncode == 0, as_json.stderr
    plan = json.loads(as_json.stdout)["plan"]
    assert plan["kind"] == "job" and plan["params"] == {"lr": 0.01, "epochs": 20}
    assert plan["replicas"][0]["pod"]["main"]["command"] == ["python", "train.py", "--lr=0.01", "--epochs=20"]
    as_yaml = mizzen("check", "-f", QUICKSTART, "-o", "yaml", home=tmp_path)
    assert yaml.safe_load(as_yaml.stdout)["plan"] == plan


def test_wrong_param_type_names_file_line_and_field(write: Write, tmp_path: Path) -> None:
    path = write(
        "train.yaml",
        """
        kind: operation
        params:
          epochs: {value: ten}
        component:
          inputs: [{name: epochs, type: int}]
          run: {kind: job, container: {image: x}}
        """,
    )
    message = check_fails("-f", path, home=tmp_path)
    assert f"{path}:3:19 params.epochs.value: expected an int, got 'ten'" in message
    cli = check_fails("-f", QUICKSTART, "-P", "epochs=ten", home=tmp_path)
    assert "-P epochs=ten: expected an int, got 'ten'" in cli


def test_missing_required_inputs_say_how_to_pass_them(write: Write, tmp_path: Path) -> None:
    path = write(
        "c.yaml",
        "kind: component\ninputs: [{name: data, type: path}]\nrun: {kind: job, container: {image: x}}\n",
    )
    message = check_fails("-f", path, home=tmp_path)
    assert f"{path}:2:10 inputs[0]: required input 'data' (path) has no value" in message
    assert "pass them with: -P data=VALUE" in message


def test_a_dag_cycle_is_reported_cleanly(write: Write, tmp_path: Path) -> None:
    path = write(
        "dag.yaml",
        """
        kind: component
        run:
          kind: dag
          operations:
          - {name: a, dagRef: t, dependencies: [b]}
          - {name: b, dagRef: t, dependencies: [a]}
          components:
          - {name: t, run: {kind: job, container: {image: x}}}
        """,
    )
    message = check_fails("-f", path, home=tmp_path)
    assert f"{path}:5:5 run.operations[0]: the DAG has a cycle: " in message


def test_unknown_component_in_a_dag_is_reported_cleanly(write: Write, tmp_path: Path) -> None:
    path = write(
        "dag.yaml",
        """
        kind: component
        run:
          kind: dag
          operations: [{name: a, dagRef: trian}]
          components: [{name: train, run: {kind: job, container: {image: x}}}]
        """,
    )
    message = check_fails("-f", path, home=tmp_path)
    assert "run.operations[0].dagRef: no component named 'trian'" in message and f"{path}:4:" in message


def test_continuous_distribution_in_a_grid_is_reported_cleanly(write: Write, tmp_path: Path) -> None:
    path = write(
        "sweep.yaml",
        """
        kind: operation
        matrix:
          kind: grid
          params:
            lr: {kind: uniform, value: [0, 1]}
        component:
          inputs: [{name: lr, type: float}]
          run: {kind: job, container: {image: x}}
        """,
    )
    message = check_fails("-f", path, home=tmp_path)
    assert (
        f"{path}:5:" in message
        and "matrix.params.lr" in message
        and "'uniform' cannot be used in a grid" in message
    )


def test_yaml_errors_and_typos_in_keys_are_reported_cleanly(write: Write, tmp_path: Path) -> None:
    broken = write("broken.yaml", "kind: component\nrun:\n  kind: job\n  container: {image: x\n")
    assert f"{broken}:" in check_fails("-f", broken, home=tmp_path)
    typo = write("typo.yaml", "kind: component\nrun:\n  kind: job\n  contianer: {image: x}\n")
    message = check_fails("-f", typo, home=tmp_path)
    assert f"{typo}:4:" in message and "contianer" in message


def test_a_malformed_param_option_is_explained(tmp_path: Path) -> None:
    message = check_fails("-f", QUICKSTART, "-P", "lr", home=tmp_path)
    assert "-P 'lr': expected name=value" in message


def test_warnings_are_printed_but_do_not_fail(write: Write, tmp_path: Path) -> None:
    path = write(
        "c.yaml", "kind: component\nrun:\n  kind: job\n  container: {image: x, args: ['{{ tls-verify }}']}\n"
    )
    result = mizzen("check", "-f", path, home=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "warning:" in result.stdout and "'tls' is undefined" in result.stdout


def test_the_check_command_imports_nothing_heavy_until_it_runs() -> None:
    code = (
        "import sys, mizzen.cli.main as m; m._register(); "
        "names = ('pydantic', 'yaml', 'jinja2', 'mizzen.compiler', 'mizzen.spec', 'rich'); "
        "heavy = [n for n in names if n in sys.modules]; "
        "print(','.join(heavy))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "mizzen.compiler" not in result.stdout and "mizzen.spec" not in result.stdout
    assert "jinja2" not in result.stdout and "yaml" not in result.stdout.split(",")


DAG = """
version: 1.1
kind: operation
name: pipeline
component:
  run:
    kind: dag
    operations:
    - name: prepare
      component:
        outputs: [{name: path, type: str}]
        run: {kind: job, container: {image: x, command: ["echo", "prep"]}}
    - name: train
      params:
        data: {ref: ops.prepare, value: outputs.path}
      component:
        inputs: [{name: data, type: str}]
        run: {kind: job, container: {image: x, command: ["echo", "{{ data }}"]}}
    - name: evaluate
      dependencies: [prepare, train]
      component:
        run: {kind: job, container: {image: x, command: ["echo", "eval"]}}
"""


def test_a_dag_summary_names_its_ops_and_edges_and_what_run_does(write: Write, tmp_path: Path) -> None:
    path = write("dag.yaml", DAG)
    result = mizzen("check", "-f", path, home=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = [line.split() for line in result.stdout.splitlines()]
    assert ["dag", "3", "ops,", "in", "run", "order:"] in lines
    assert ["prepare", "job", "first"] in lines
    assert ["train", "job", "after", "prepare"] in lines
    assert ["evaluate", "job", "after", "prepare,", "train"] in lines
    assert "`mizzen run` starts a DAG of 3 ops, each a run once its upstream ops are done" in result.stdout


def test_a_sweep_and_a_job_summary_say_what_run_does(write: Write, tmp_path: Path) -> None:
    sweep = write(
        "sweep.yaml",
        "kind: operation\nmatrix:\n  kind: grid\n  params: {lr: {kind: choice, value: [0.1, 0.01]}}\n"
        "component:\n  inputs: [{name: lr, type: float}]\n"
        "  run: {kind: job, container: {image: x, command: [echo, '{{ lr }}']}}\n",
    )
    result = mizzen("check", "-f", sweep, home=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "matrix grid over: lr" in result.stdout
    assert "`mizzen run` starts a grid sweep: one run per trial" in result.stdout
    job = mizzen("check", "-f", QUICKSTART, home=tmp_path)
    assert "`mizzen run` starts it as one job run and follows it to its end" in job.stdout
