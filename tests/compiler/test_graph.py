"""The DAG graph: stable order, levels, cycles and unknown edges."""

from __future__ import annotations

import pytest

from mizzen.compiler.graph import GraphError, build_graph


def test_order_is_topological_and_stable() -> None:
    graph = build_graph(
        ["job1", "exp1", "exp2", "exp3", "job2"],
        {"exp1": ["job1"], "exp2": ["job1"], "exp3": ["job1"], "job2": ["exp3", "exp1", "exp2"]},
    )
    assert graph.order == ("job1", "exp1", "exp2", "exp3", "job2")
    assert graph.roots == ("job1",)
    assert graph.levels == [["job1"], ["exp1", "exp2", "exp3"], ["job2"]]
    assert graph.downstream["job1"] == {"exp1", "exp2", "exp3"}


def test_declaration_order_breaks_ties() -> None:
    graph = build_graph(["b", "a", "c"], {"c": ["a"]})
    assert graph.order == ("b", "a", "c")


def test_cycles_are_rejected_with_the_cycle_shown() -> None:
    with pytest.raises(GraphError, match="the DAG has a cycle: ") as raised:
        build_graph(["a", "b", "c"], {"a": ["c"], "b": ["a"], "c": ["b"]})
    message = str(raised.value)
    assert all(name in message for name in "abc")
    assert raised.value.op in {"a", "b", "c"}


def test_self_and_unknown_dependencies_are_rejected() -> None:
    with pytest.raises(GraphError, match="'a' depends on itself"):
        build_graph(["a"], {"a": ["a"]})
    with pytest.raises(GraphError, match="depends on 'ghost', which is not an op"):
        build_graph(["a"], {"a": ["ghost"]})
