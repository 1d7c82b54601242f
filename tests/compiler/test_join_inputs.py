"""The inputs a DAG op takes from its `joins`: unset when checking or rendering (joins are collected
when the op starts, by the orchestration), still required when a run is compiled to start."""

from __future__ import annotations

import dataclasses

import pytest

from mizzen.compiler.compile import compile_files
from mizzen.errors import CompileError
from shared_data import corpus_dir

JOINS = corpus_dir() / "cli/cli/tests/fixtures/pipelines/simple_joins_pipeline.yml"


def test_an_op_that_takes_joins_compiles_when_checking_but_not_to_start() -> None:
    compiled = compile_files([JOINS])
    assert compiled.compiler is not None
    plan = compiled.compiler.compile_dag_op(compiled, "reduce")
    assert plan.replicas[0].pod.main is not None and plan.replicas[0].pod.main.image == "test"
    assert plan.params.get("buckets") is None and plan.params.get("losses") is None

    strict = dataclasses.replace(compiled.compiler, strict=True)
    with pytest.raises(CompileError) as raised:
        strict.compile_dag_op(compiled, "reduce")
    assert "required input 'buckets' (s3) has no value" in str(raised.value)
    assert "required input 'losses' (float) has no value" in str(raised.value)
