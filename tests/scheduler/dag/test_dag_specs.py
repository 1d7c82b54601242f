"""Specs that stand alone: a stored DAG has its ops' referenced components inline (the files are
not where the DAG is driven), and an op's joins are settled when the op is compiled to run."""

from __future__ import annotations

import dataclasses
import shutil
import textwrap
from pathlib import Path

import pytest
from dag_support import structure

from mizzen.compiler.compile import Compiler, compile_files
from mizzen.compiler.dag_nested import inline_refs
from mizzen.compiler.plan import RuntimeContext
from mizzen.compiler.refs import RefResolver
from mizzen.errors import CompileError
from mizzen.spec import load_file
from shared_data import corpus_dir


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def test_path_refs_of_ops_and_of_nested_dags_are_inlined_so_the_stored_spec_compiles_alone(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "project"
    write(
        folder / "lib/leaf.yaml",
        """\
        version: 1.1
        kind: component
        inputs: [{name: msg, type: str}]
        run: {kind: job, container: {image: x, command: [echo, "{{ msg }}"]}}
        """,
    )
    write(
        folder / "lib/inner.yaml",
        """\
        version: 1.1
        kind: component
        inputs: [{name: word, type: str}]
        run:
          kind: dag
          operations:
          - name: say
            pathRef: leaf.yaml
            params: {msg: {value: "inner says {{ dag.inputs.word }}"}}
        """,
    )
    main = write(
        folder / "dag.yaml",
        """\
        version: 1.1
        kind: operation
        component:
          run:
            kind: dag
            operations:
            - name: hello
              pathRef: lib/leaf.yaml
              params: {msg: {value: hi}}
            - name: nested
              pathRef: lib/inner.yaml
              params: {word: {value: there}}
        """,
    )
    compiled = compile_files([main])
    stored = inline_refs(compiled.resolved.data, compiled.dag)
    shutil.rmtree(folder)  # where the DAG is driven, those files are not
    dag = structure(stored)
    assert dag.dag is not None and list(dag.dag.ops) == ["hello", "nested"]
    plan = dag.compiler.compile_dag_op(dag.compiled, "hello")
    assert plan.replicas[0].pod.main is not None and plan.replicas[0].pod.main.command == ["echo", "hi"]
    nested_op = stored["run"]["operations"][1]
    assert "pathRef" not in nested_op
    assert "pathRef" not in nested_op["component"]["run"]["operations"][0]
    assert dag.dag.ops["nested"].nested is not None


JOINS = corpus_dir() / "cli/cli/tests/fixtures/pipelines/simple_joins_pipeline.yml"


def test_the_join_names_of_an_op_reach_its_params_check() -> None:
    """The suspect: compile_dag_op may not pass an op's join names to its params check. Settled:
    checking passes them (the joined inputs are left unset, and no error), compiling to run
    requires them (joins must have been collected) and takes their collected values."""
    compiled = compile_files([JOINS])
    assert compiled.compiler is not None
    reduce = compiled.dag.ops["reduce"] if compiled.dag else None
    assert reduce is not None
    assert {p.name: p.source for p in reduce.params.params.values() if p.kind == "input"} == {
        "buckets": "join",
        "losses": "join",
    }
    checking = compiled.compiler.compile_dag_op(compiled, "reduce")
    assert "buckets" not in checking.params and "losses" not in checking.params
    strict = dataclasses.replace(compiled.compiler, strict=True)
    with pytest.raises(CompileError) as raised:
        strict.compile_dag_op(compiled, "reduce")
    message = str(raised.value)
    assert "required input 'buckets' (s3) has no value: it comes from this op's joins" in message
    assert "query 'hub.name: job-template'" in message and "-P buckets" not in message
    collected = {"buckets": ["s3://foo", "s3://bar"], "losses": [0.1, 0.2]}
    plan = strict.compile_dag_op(compiled, "reduce", values=collected)
    assert plan.params["buckets"] == ["s3://foo", "s3://bar"] and plan.params["losses"] == [0.1, 0.2]


def test_a_dag_op_compiles_with_the_paths_of_its_upstream_ops_in_the_store() -> None:
    spec = {
        "version": 1.1,
        "kind": "operation",
        "component": {
            "run": {
                "kind": "dag",
                "operations": [
                    {"name": "a", "component": {"run": {"kind": "job", "container": {"image": "x"}}}},
                    {
                        "name": "b",
                        "dependencies": ["a"],
                        "component": {
                            "run": {
                                "kind": "job",
                                "container": {
                                    "image": "x",
                                    "command": ["cat", "{{ ops.a.globals.run_outputs_path }}/data.csv"],
                                },
                            }
                        },
                    },
                ],
            }
        },
    }
    dag = structure(spec)
    compiler = Compiler(context=RuntimeContext(store_path="/data/store/"), strict=True)
    upstream = {"a": {"uuid": "u" * 32, "name": "a", "status": "succeeded", "inputs": {}, "outputs": {}}}
    plan = compiler.compile_dag_op(dag.compiled, "b", upstream)
    assert plan.replicas[0].pod.main is not None
    assert plan.replicas[0].pod.main.command == ["cat", f"/data/store/{'u' * 32}/outputs/data.csv"]


def test_a_hub_ref_op_is_inlined_too(tmp_path: Path) -> None:
    hub = tmp_path / "hub"
    write(
        hub / "greeter/v1.yaml",
        """\
        version: 1.1
        kind: component
        run: {kind: job, container: {image: x, command: [echo, from the hub]}}
        """,
    )
    main = write(
        tmp_path / "dag.yaml",
        """\
        version: 1.1
        kind: operation
        component:
          run: {kind: dag, operations: [{name: greet, hubRef: "greeter:v1"}]}
        """,
    )
    compiler = Compiler(refs=RefResolver(hub_folders=(hub,)))
    compiled = compiler.compile_loaded(load_file(main))
    stored = inline_refs(compiled.resolved.data, compiled.dag)
    assert stored["run"]["operations"][0] == {
        "name": "greet",
        "component": {
            "run": {"kind": "job", "container": {"image": "x", "command": ["echo", "from the hub"]}}
        },
    }
    plan = structure(stored).compiler.compile_dag_op(structure(stored).compiled, "greet")  # no hub needed
    assert plan.replicas[0].pod.main is not None


JOB = {"run": {"kind": "job", "container": {"image": "i"}}}


@pytest.mark.parametrize(
    ("op", "message"),
    [
        (
            {"name": "inner", "component": {"run": {"kind": "dag", "operations": [
                {"name": "x", "dependencies": ["y"], "component": JOB},
                {"name": "y", "dependencies": ["x"], "component": JOB},
            ]}}},
            "the DAG has a cycle",
        ),
        (
            {"name": "inner", "events": [{"kinds": ["alert_info"], "ref": "ops.inner"}],
             "component": {"run": {"kind": "job", "container": {"image": "i"}}}},
            "event 'alert_info' is not supported in a DAG",
        ),
        (
            {"name": "inner", "events": [{"kinds": ["run_status_done"], "ref": "runs.abc"}],
             "component": {"run": {"kind": "job", "container": {"image": "i"}}}},
            "only `ops.NAME` of an op of this DAG is supported",
        ),
    ],
)  # fmt: skip
def test_a_nested_cycle_and_unsupported_events_are_refused_when_checking(op: dict, message: str) -> None:
    spec = {"version": 1.1, "kind": "operation", "component": {"run": {"kind": "dag", "operations": [op]}}}
    with pytest.raises(CompileError) as raised:
        structure(spec)
    assert message in str(raised.value)
