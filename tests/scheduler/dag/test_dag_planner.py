"""``DagPlanner`` over real compiled DAGs: which ops start, which never will (and why), concurrency,
conditions, events, early stopping, nested DAGs and sweeps inside a DAG, and how the DAG ends."""

from __future__ import annotations

from dataclasses import replace

import pytest
from dag_support import NOW, Dag, dag_spec, job, pipeline_of, structure

from mizzen.compiler.compile import Compiler
from mizzen.scheduler.dag.planner import DagPlanner
from mizzen.scheduler.pipeline.model import PipelineView
from mizzen.scheduler.pipeline.structure import structure_of
from mizzen.schemas.pipelines import DAG_OP_KEY, UPSTREAM_KEY
from mizzen.schemas.statuses import RunStatus as S


def test_a_chain_runs_in_order_and_passes_upstream_values_down() -> None:
    spec = dag_spec(
        job("a", component={"outputs": [{"name": "n", "type": "int"}]}),
        job(
            "b",
            params={"n": {"ref": "ops.a", "value": "outputs.n"}},
            component={"inputs": [{"name": "n", "type": "int"}]},
        ),
    )
    dag = Dag(spec, outputs={"a": {"n": 7}})
    first = dag.step()
    assert [c.name for c in first.create] == ["a"]
    assert first.create[0].meta == {DAG_OP_KEY: "a", UPSTREAM_KEY: {}}
    assert dag.step().create == []  # a still runs: nothing new, nothing twice
    dag.finish_running()
    second = dag.step()
    [b] = second.create
    upstream = b.meta[UPSTREAM_KEY]["a"]
    assert upstream["outputs"] == {"n": 7} and upstream["status"] == "succeeded"
    assert upstream["uuid"] == dag.children["a"].uuid
    assert b.inputs == {"n": 7}  # resolved now, for the UI and for ops.b.inputs downstream
    assert dag.run().status == S.SUCCEEDED


def test_a_failure_propagates_as_upstream_failed_naming_the_op_in_one_step() -> None:
    spec = dag_spec(job("a"), job("b", dependencies=["a"]), job("c", dependencies=["b"]), job("side"))
    dag = Dag(spec, outcomes={"a": S.FAILED})
    finish = dag.run()
    assert dag.statuses() == {
        "a": S.FAILED,
        "side": S.SUCCEEDED,
        "b": S.UPSTREAM_FAILED,
        "c": S.UPSTREAM_FAILED,
    }
    assert dag.created["b"].message == "upstream op a ended failed, and the policy is all_succeeded"
    assert dag.created["c"].message == "upstream op b ended upstream_failed, and the policy is all_succeeded"
    assert dag.created["b"].reason == "UpstreamFailed"
    assert finish.status == S.FAILED and finish.message.startswith("op a failed")
    progress = dag.steps[-1].progress
    assert progress is not None
    assert progress["lines"] == ["a: failed", "side: succeeded", "b: upstream_failed", "c: upstream_failed"]


@pytest.mark.parametrize(
    ("policy", "a_ends", "handler_ends", "dag_ends"),
    [
        ("all_succeeded", S.SUCCEEDED, S.SUCCEEDED, S.SUCCEEDED),
        ("all_succeeded", S.FAILED, S.UPSTREAM_FAILED, S.FAILED),
        ("all_failed", S.FAILED, S.SKIPPED, S.FAILED),  # b succeeded: not all failed
        ("all_failed", S.SUCCEEDED, S.SKIPPED, S.SUCCEEDED),
        ("all_done", S.FAILED, S.SUCCEEDED, S.FAILED),  # a cleanup op does not hide a failure
        ("one_succeeded", S.FAILED, S.SUCCEEDED, S.FAILED),  # b succeeded: it runs; a still failed
        ("one_failed", S.FAILED, S.SUCCEEDED, S.SUCCEEDED),  # a failure handled downstream
        ("one_failed", S.SUCCEEDED, S.SKIPPED, S.SUCCEEDED),
        ("one_done", S.FAILED, S.SUCCEEDED, S.FAILED),
    ],
)
def test_every_trigger_policy_over_two_upstream_ops(
    policy: str, a_ends: S, handler_ends: S, dag_ends: S
) -> None:
    spec = dag_spec(job("a"), job("b"), job("handler", dependencies=["a", "b"], trigger=policy))
    dag = Dag(spec, outcomes={"a": a_ends})
    finish = dag.run()
    assert dag.statuses()["handler"] == handler_ends
    assert finish.status == dag_ends, finish.message


def test_conditions_over_upstream_outputs_skip_or_run_the_op() -> None:
    def deploy_after(score: float) -> Dag:
        spec = dag_spec(
            job("train", component={"outputs": [{"name": "score", "type": "float"}]}),
            job("deploy", dependencies=["train"], conditions="{{ ops.train.outputs.score > 0.5 }}"),
            job("notify", dependencies=["deploy"]),
            job("audit", dependencies=["deploy"], trigger="all_done", skipOnUpstreamSkip=True),
        )
        dag = Dag(spec, outputs={"train": {"score": score}})
        assert dag.run().status == S.SUCCEEDED  # skipped by a condition is fine
        return dag

    low = deploy_after(0.3)
    assert low.statuses() == {
        "train": S.SUCCEEDED,
        "deploy": S.SKIPPED,
        "notify": S.SKIPPED,
        "audit": S.SKIPPED,
    }
    assert low.created["deploy"].reason == "ConditionsNotMet"
    assert low.created["notify"].reason == "TriggerNotMet"
    assert low.created["audit"].reason == "UpstreamSkipped"
    high = deploy_after(0.9)
    assert set(high.statuses().values()) == {S.SUCCEEDED}


def test_all_done_runs_after_a_skipped_op_unless_skip_on_upstream_skip() -> None:
    spec = dag_spec(
        job("a", conditions="{{ false }}"),
        job("cleanup", dependencies=["a"], trigger="all_done"),
        job("strict", dependencies=["a"], trigger="all_done", skipOnUpstreamSkip=True),
    )
    dag = Dag(spec)
    dag.run()
    assert dag.statuses() == {"a": S.SKIPPED, "cleanup": S.SUCCEEDED, "strict": S.SKIPPED}


def test_a_condition_that_cannot_be_evaluated_fails_the_op_with_the_reason() -> None:
    spec = dag_spec(job("a"), job("b", dependencies=["a"], conditions="{{ ops.a.outputs.missing > 1 }}"))
    dag = Dag(spec)
    finish = dag.run()
    assert dag.statuses()["b"] == S.FAILED and dag.created["b"].reason == "ConditionsError"
    assert "conditions" in (dag.created["b"].message or "")
    assert finish.status == S.FAILED


def test_concurrency_caps_the_ops_running_at_once() -> None:
    spec = dag_spec(job("a"), job("b"), job("c"), job("d", dependencies=["a"]), concurrency=2)
    dag = Dag(spec)
    assert [c.name for c in dag.step().create] == ["a", "b"]
    assert dag.step().create == []
    dag.children["a"] = replace(dag.children["a"], status=S.SUCCEEDED)
    assert [c.name for c in dag.step().create] == ["c"]  # b runs: one slot, taken in run order
    dag.finish_running()
    assert [c.name for c in dag.step().create] == ["d"]
    assert dag.run().status == S.SUCCEEDED


def test_an_event_trigger_starts_the_op_once_the_upstream_runs() -> None:
    spec = dag_spec(
        job("server"),
        job("client", events=[{"kinds": ["run_status_running"], "ref": "ops.server"}]),
    )
    dag = Dag(spec)
    assert [c.name for c in dag.step().create] == ["server"]
    dag.children["server"] = replace(dag.children["server"], status=S.QUEUED)
    assert dag.step().create == []
    dag.children["server"] = replace(dag.children["server"], status=S.RUNNING, started_at=NOW)
    [client] = dag.step().create
    assert client.name == "client" and client.meta[UPSTREAM_KEY]["server"]["status"] == "running"


def test_an_event_never_reached_skips_or_fails_the_op() -> None:
    spec = dag_spec(
        job("a"),
        job("on_fail", events=[{"kinds": ["run_status_failed"], "ref": "ops.a"}]),
    )
    dag = Dag(spec)
    dag.run()
    assert dag.statuses()["on_fail"] == S.SKIPPED and dag.created["on_fail"].reason == "EventNotReached"


def test_metric_early_stopping_stops_running_ops_and_skips_the_rest() -> None:
    spec = dag_spec(
        job("fast", component={"outputs": [{"name": "loss", "type": "float"}]}),
        job("slow"),
        job("after", dependencies=["slow"]),
        earlyStopping=[{"kind": "metric_early_stopping", "metric": "loss", "value": 0.05}],
    )
    dag = Dag(spec)
    dag.step()
    assert DagPlanner().metrics(dag.structure) == ["loss"]
    dag.children["fast"] = replace(dag.children["fast"], status=S.SUCCEEDED, outputs={"loss": 0.01})
    step = dag.step()
    assert step.stop == [
        (dag.children["slow"].uuid, "EarlyStopped: op fast reached loss=0.01 <= 0.05 (earlyStopping)")
    ]
    assert [(c.name, c.status) for c in step.create] == [("after", S.SKIPPED)]
    assert step.finish is None  # slow is still stopping
    dag.children["slow"] = replace(dag.children["slow"], status=S.STOPPED)
    finish = dag.step().finish
    assert finish is not None and finish.status == S.SUCCEEDED and finish.reason == "EarlyStopping"


def test_failure_early_stopping_ends_the_dag_failed() -> None:
    spec = dag_spec(
        job("a"),
        job("b"),
        job("c", dependencies=["b"]),
        earlyStopping=[{"kind": "failure_early_stopping", "percent": 50}],
    )
    dag = Dag(spec, outcomes={"a": S.FAILED})
    finish = dag.run()
    assert finish.status == S.FAILED and finish.reason == "EarlyStopping"
    assert "1 of 2 ops failed" in finish.message
    assert dag.statuses()["c"] == S.SKIPPED


def test_an_op_with_a_matrix_is_a_sweep_child_whose_trials_are_that_op() -> None:
    spec = dag_spec(
        job("prep"),
        job(
            "search",
            dependencies=["prep"],
            matrix={"kind": "grid", "params": {"lr": {"kind": "choice", "value": [0.1, 0.2]}}},
            component={"inputs": [{"name": "lr", "type": "float"}]},
        ),
    )
    dag = Dag(spec)
    dag.step()
    dag.finish_running()
    [search] = dag.step().create
    assert search.kind == "matrix" and search.spec is None  # the DAG's spec, with meta dag_op
    sweep = structure(spec, "matrix", search.meta)
    assert sweep.kind == "matrix" and sweep.op_name == "search" and sweep.child_kind == "job"
    assert sweep.child_meta[UPSTREAM_KEY]["prep"]["status"] == "succeeded"


def test_a_nested_dag_op_is_a_dag_pipeline_whose_standalone_spec_compiles() -> None:
    spec = dag_spec(
        job("first", component={"outputs": [{"name": "n", "type": "int"}]}),
        {"name": "inner", "dagRef": "sub", "params": {"n": {"ref": "ops.first", "value": "outputs.n"}}},
        components=[
            {"name": "echo", "inputs": [{"name": "msg", "type": "str"}],
             "run": {"kind": "job", "container": {"image": "x", "command": ["echo", "{{ msg }}"]}}},
            {"name": "sub", "inputs": [{"name": "n", "type": "int"}],
             "run": {"kind": "dag", "operations": [
                 {"name": "say", "dagRef": "echo", "params": {"msg": {"value": "got {{ dag.inputs.n }}"}}}]}},
        ],
    )  # fmt: skip
    spec["component"]["inputs"] = [{"name": "tag", "type": "str", "value": "t", "isOptional": True}]
    dag = Dag(spec, outputs={"first": {"n": 7}}, params={"tag": "v2"})  # the outer DAG's -P
    [first] = dag.step().create
    assert first.params == {"tag": "v2"}  # an op compiles its DAG's spec with the DAG's -P
    dag.finish_running()
    [inner] = dag.step().create
    assert inner.params == {}  # a nested DAG's standalone spec has its own values
    assert inner.kind == "dag" and inner.spec is not None and inner.meta[DAG_OP_KEY] == "inner"
    nested = structure_of(pipeline_of(inner.spec, "dag", inner.meta), Compiler())
    assert nested.kind == "dag" and nested.dag is not None and list(nested.dag.ops) == ["say"]
    plan = nested.compiler.compile_dag_op(nested.compiled, "say")
    assert plan.replicas[0].pod.main is not None
    assert plan.replicas[0].pod.main.command == ["echo", "got 7"]  # echo's component came from the outer DAG


def test_a_restarted_planner_creates_nothing_twice() -> None:
    spec = dag_spec(job("a"), job("b", dependencies=["a"]))
    dag = Dag(spec)
    dag.step()
    dag.finish_running()
    dag.step()
    view = PipelineView(pipeline_of(spec), structure(spec), list(dag.children.values()), NOW)
    assert DagPlanner().step(view).create == []  # a fresh planner, same children: same decision
