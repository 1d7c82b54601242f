"""Matrix params against inputs, trial compiles, DAG graphs and op compiles, schedules."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from compile_support import compile_error

from mizzen.compiler.compile import Compiler, compile_files
from mizzen.compiler.plan import RuntimeContext
from mizzen.errors import CompileError, SpecError

Write = Callable[[str, str], Path]

SWEEP = """
kind: operation
matrix:
  kind: {kind}
  {extra}
  params:
    lr: {{kind: {dist}, value: {value}}}
    note: {{kind: choice, value: [a, b]}}
component:
  inputs: [{{name: lr, type: {type}}}, {{name: epochs, type: int, value: 1}}]
  run: {{kind: job, container: {{image: x, args: ["--lr={{{{ lr }}}}", "--note={{{{ note }}}}"]}}}}
"""


def sweep(
    write: Write,
    *,
    kind: str = "grid",
    dist: str = "choice",
    value: str = "[0.1, 0.2]",
    type_: str = "float",
    extra: str = "",
) -> Path:
    return write("sweep.yaml", SWEEP.format(kind=kind, dist=dist, value=value, type=type_, extra=extra))


def test_a_sweep_has_no_single_plan_and_compiles_trials(write: Write) -> None:
    compiled = compile_files([sweep(write)])
    assert compiled.plan is None and compiled.matrix is not None and compiled.matrix.kind == "grid"
    assert compiled.params["lr"].source == "matrix"
    assert compiled.compiler is not None
    trial = compiled.compiler.compile_trial(compiled, {"lr": 0.2, "note": "b"})
    assert trial.main.pod.main is not None and trial.main.pod.main.args == ["--lr=0.2", "--note=b"]
    assert trial.params["lr"] == 0.2 and trial.params["note"] == "b"


def test_matrix_values_must_fit_the_input_type(write: Write) -> None:
    path = sweep(write, value="[0.1, fast]")
    problem = compile_error(path).first
    assert problem.field_path == "matrix.params.lr.value[1]" and problem.line == 6
    assert problem.message == "expected a float, got 'fast' (input 'lr' is of type float)"


def test_numeric_distributions_need_numeric_inputs(write: Write) -> None:
    path = sweep(write, kind="random", dist="uniform", value="[0, 1]", type_="str", extra="numRuns: 3")
    with pytest.raises(CompileError, match="'uniform' produces numbers, but input 'lr' is of type str"):
        compile_files([path])


def test_a_continuous_distribution_in_a_grid_is_a_spec_error(write: Write) -> None:
    path = sweep(write, dist="uniform", value="[0, 1]")
    error = compile_error(path, expected=SpecError)
    assert "'uniform' cannot be used in a grid matrix" in str(error)
    assert error.first.line is not None


def test_required_inputs_can_come_from_the_matrix_or_a_mapping(write: Write) -> None:
    path = write(
        "m.yaml",
        """
        kind: operation
        matrix: {kind: mapping, values: [{epochs: 1}, {epochs: 2}]}
        component:
          inputs: [{name: epochs, type: int}]
          run: {kind: job, container: {image: x, args: ["{{ epochs }}"]}}
        """,
    )
    compiled = compile_files([path])
    assert compiled.compiler is not None
    assert compiled.compiler.compile_trial(compiled, {"epochs": 2}).main.pod.main.args == ["2"]  # type: ignore[union-attr]


DAG = """
kind: component
inputs: [{{name: top, type: int, value: 3}}]
run:
  kind: dag
  concurrency: 2
  operations:
  - name: prepare
    dagRef: step
    params: {{msg: {{value: prepared}}}}
  - name: train
    dagRef: step
    {train}
  - name: report
    dagRef: step
    dependencies: [train]
    trigger: all_done
    conditions: "{{{{ ops.train.outputs.msg != '' }}}}"
    params:
      msg: {{ref: dag, value: inputs.top}}
  components:
  - name: step
    inputs: [{{name: msg, type: str}}]
    outputs: [{{name: msg_out, type: str}}]
    run: {{kind: job, container: {{image: x, args: ["--msg={{{{ msg }}}}", "{{{{ globals.uuid }}}}"]}}}}
"""


def test_dag_graph_from_dependencies_and_ops_refs(write: Write) -> None:
    path = write("dag.yaml", DAG.format(train="params: {msg: {ref: ops.prepare, value: outputs.msg_out}}"))
    compiled = compile_files([path])
    dag = compiled.dag
    assert dag is not None and compiled.kind == "dag" and dag.concurrency == 2
    assert dag.graph.order == ("prepare", "train", "report")
    assert dag.ops["train"].upstream == {"prepare"}
    assert dag.ops["report"].upstream == {"train"} and dag.ops["report"].trigger == "all_done"
    assert dag.ops["train"].params.params["msg"].ref == "ops.prepare"
    assert dag.ops["report"].params.params["msg"].value == "3"  # ref: dag resolved, coerced to str
    assert compiled.plan is not None and compiled.plan.kind == "dag" and compiled.plan.params == {"top": 3}


def test_dag_ops_compile_once_upstream_values_exist(write: Write) -> None:
    path = write("dag.yaml", DAG.format(train="params: {msg: {ref: ops.prepare, value: outputs.msg_out}}"))
    compiled = compile_files([path])
    compiler = Compiler(context=RuntimeContext(uuid="op-uuid"), strict=True)
    plan = compiler.compile_dag_op(compiled, "train", {"prepare": {"outputs": {"msg_out": "hi"}}})
    assert plan.main.pod.main is not None and plan.main.pod.main.args == ["--msg=hi", "op-uuid"]
    with pytest.raises(CompileError, match=r"params.msg: ops.prepare.outputs.msg_out is not known yet"):
        compiler.compile_dag_op(compiled, "train", {})
    with pytest.raises(CompileError, match="no op named 'ghost'"):
        compiler.compile_dag_op(compiled, "ghost")


def test_dag_cycle_is_located(write: Write) -> None:
    path = write(
        "dag.yaml",
        DAG.format(train="dependencies: [report]\n    params: {msg: {value: x}}"),
    )
    problem = compile_error(path).first
    assert (
        "the DAG has a cycle: " in problem.message
        and "train" in problem.message
        and "report" in problem.message
    )
    assert problem.file == str(path) and problem.line is not None and problem.field_path is not None
    assert problem.field_path.startswith("run.operations[")


def test_unknown_component_in_a_dag_is_located(write: Write) -> None:
    text = DAG.format(train="params: {msg: {value: x}}")
    text = text.replace("  - name: train\n    dagRef: step", "  - name: train\n    dagRef: stpe")
    path = write("dag.yaml", text)
    problem = compile_error(path).first
    assert problem.render() == (
        f"{path}:11:13 run.operations[1].dagRef: "
        "no component named 'stpe' in this DAG's components (defined: step)"
    )


def test_unknown_dependency_and_unknown_ops_ref_are_rejected(write: Write) -> None:
    unknown_dep = write("a.yaml", DAG.format(train="dependencies: [ghost]\n    params: {msg: {value: x}}"))
    with pytest.raises(CompileError, match="depends on 'ghost', which is not an op of this DAG"):
        compile_files([unknown_dep])
    unknown_ref = write("b.yaml", DAG.format(train="params: {msg: {ref: ops.ghost, value: outputs.x}}"))
    with pytest.raises(CompileError, match="no op named 'ghost' in this DAG"):
        compile_files([unknown_ref])


def test_missing_inputs_of_a_dag_op_are_located_at_the_component(write: Write) -> None:
    path = write("dag.yaml", DAG.format(train=""))
    error = compile_error(path)
    assert error.first.message == "required input 'msg' (str) has no value"
    assert error.first.field_path == "run.components[0].inputs[0]"


def test_a_bad_trigger_policy_is_a_located_spec_error(write: Write) -> None:
    path = write("dag.yaml", DAG.format(train="params: {msg: {value: x}}").replace("all_done", "whenever"))
    error = compile_error(path, expected=SpecError)
    assert error.first.line == 16 and "trigger" in (error.first.field_path or "")


def test_a_dag_without_ops_is_rejected(write: Write) -> None:
    path = write("dag.yaml", "kind: component\nrun:\n  kind: dag\n  operations: []\n")
    with pytest.raises(CompileError, match="a DAG needs at least one op"):
        compile_files([path])


def test_schedules_are_carried_for_the_scheduler(write: Write) -> None:
    path = write(
        "s.yaml",
        """
        kind: operation
        schedule: {kind: cron, cron: "0 * * * *"}
        component: {run: {kind: job, container: {image: x}}}
        """,
    )
    compiled = compile_files([path])
    assert compiled.schedule is not None and compiled.schedule.kind == "cron" and compiled.plan is not None


def test_ops_references_in_an_ops_templates_mark_edges(write: Write) -> None:
    text = DAG.format(train="params: {msg: {value: x}}").replace(
        '    run: {kind: job, container: {image: x, args: ["--msg={{ msg }}", "{{ globals.uuid }}"]}}',
        '    run: {kind: job, container: {image: x, args: ["--msg={{ msg }}"]}}\n'
        "  - name: reader\n"
        '    run: {kind: job, container: {image: x, args: ["{{ ops.prepare.outputs.msg_out }}"]}}',
    )
    text = text.replace("  - name: report\n    dagRef: step", "  - name: report\n    dagRef: reader")
    path = write("dag.yaml", text)
    dag = compile_files([path]).dag
    assert dag is not None and dag.ops["report"].upstream == {"train", "prepare"}
    ghost = write("ghost.yaml", text.replace("ops.prepare.outputs", "ops.ghost.outputs"))
    with pytest.raises(CompileError, match=r"reads ops\.ghost, but no op of this DAG is named 'ghost'"):
        compile_files([ghost])


def test_conditions_are_evaluated_with_upstream_values(write: Write) -> None:
    path = write("dag.yaml", DAG.format(train="params: {msg: {value: x}}"))
    compiled = compile_files([path])
    compiler = Compiler()
    assert compiler.op_conditions_met(compiled, "prepare") is True  # no conditions
    assert compiler.op_conditions_met(compiled, "report", {"train": {"outputs": {"msg": "done"}}}) is True
    assert compiler.op_conditions_met(compiled, "report", {"train": {"outputs": {"msg": ""}}}) is False
    with pytest.raises(CompileError, match="cannot evaluate"):
        compiler.op_conditions_met(compiled, "report", {})
