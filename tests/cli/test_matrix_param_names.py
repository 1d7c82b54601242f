"""A matrix param that reaches nothing (mostly a misspelled input) is refused by `mizzen check` and
`mizzen run`, naming the file, the matrix and the param, with the closest input; a matrix param that
a template reads stays allowed, as the reference allows it (the corpus test keeps that honest)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from cli_harness import CliResult

SWEEP = """
version: 1.1
kind: operation
name: tune
matrix:
  kind: grid
  params:
    {name}: {{kind: choice, value: [0.1, 0.2]}}
component:
  inputs: [{{name: learning_rate, type: float, isOptional: true, value: 0.1}}]
  run:
    kind: job
    container: {{image: python, command: ["sh", "-c", "echo {{{{ learning_rate }}}} {template}"]}}
"""

DAG = """
version: 1.1
kind: operation
name: flow
component:
  run:
    kind: dag
    operations:
    - name: tune
      matrix: {kind: random, numRuns: 2, params: {learnig_rate: {kind: uniform, value: [0, 1]}}}
      component:
        inputs: [{name: learning_rate, type: float, isOptional: true, value: 0.1}]
        run: {kind: job, container: {image: python, command: [echo, "{{ learning_rate }}"]}}
"""


def test_check_and_run_refuse_a_misspelled_matrix_param_with_the_closest_input(
    cli: Callable[..., CliResult], write: Callable[[str, str], Path]
) -> None:
    path = write("sweep.yaml", SWEEP.format(name="learnig_rate", template=""))
    for command in (("check", "-f", str(path)), ("run", "-f", str(path))):
        result = cli(*command)
        assert result.exit_code != 0, result.stdout
        message = result.stderr
        assert "sweep.yaml:7" in message and "matrix.params.learnig_rate" in message, message
        assert "matrix (grid) param 'learnig_rate' is not an input" in message, message
        assert "did you mean 'learning_rate'?" in message, message
    assert cli("ops", "ls", "--json").json() == []  # `run` created nothing


def test_a_matrix_param_that_a_template_reads_stays_allowed(
    cli: Callable[..., CliResult], write: Callable[[str, str], Path]
) -> None:
    path = write("sweep.yaml", SWEEP.format(name="seed", template="{{ seed }}"))
    result = cli("check", "-f", str(path))
    assert result.exit_code == 0, result.stderr


def test_a_misspelled_matrix_param_of_a_dag_op_is_refused(
    cli: Callable[..., CliResult], write: Callable[[str, str], Path]
) -> None:
    result = cli("check", "-f", str(write("dag.yaml", DAG)))
    assert result.exit_code != 0
    assert "dag.yaml:" in result.stderr and "'learnig_rate' is not an input" in result.stderr
    assert "did you mean 'learning_rate'?" in result.stderr, result.stderr
