"""The DAG of a pipeline: which op waits for which, in a stable topological order."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from graphlib import CycleError, TopologicalSorter


class GraphError(ValueError):
    """An impossible graph (a cycle, an edge to an unknown op); the message is for the user."""

    def __init__(self, message: str, op: str | None = None) -> None:
        super().__init__(message)
        self.op = op


@dataclass(frozen=True)
class OpGraph:
    """Ops in a stable run order; ``upstream[op]`` are the ops it waits for."""

    order: tuple[str, ...]
    upstream: Mapping[str, frozenset[str]] = field(default_factory=dict)

    @property
    def downstream(self) -> dict[str, frozenset[str]]:
        result: dict[str, set[str]] = {name: set() for name in self.order}
        for name, parents in self.upstream.items():
            for parent in parents:
                result[parent].add(name)
        return {name: frozenset(children) for name, children in result.items()}

    @property
    def roots(self) -> tuple[str, ...]:
        return tuple(name for name in self.order if not self.upstream.get(name))

    @property
    def levels(self) -> list[list[str]]:
        """Ops grouped by depth: every op of a level depends only on earlier levels."""
        depth: dict[str, int] = {}
        for name in self.order:
            depth[name] = 1 + max((depth[p] for p in self.upstream.get(name, ())), default=-1)
        grouped: list[list[str]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
        for name in self.order:
            grouped[depth[name]].append(name)
        return grouped


def build_graph(ops: Iterable[str], upstream: Mapping[str, Iterable[str]]) -> OpGraph:
    """Check edges and cycles; ``ops`` order breaks ties, so the result is deterministic."""
    names = list(ops)
    position = {name: index for index, name in enumerate(names)}
    edges: dict[str, frozenset[str]] = {}
    for name in names:
        parents = frozenset(upstream.get(name, ()))
        unknown = sorted(parents - position.keys())
        if unknown:
            raise GraphError(f"op {name!r} depends on {unknown[0]!r}, which is not an op of this DAG", name)
        if name in parents:
            raise GraphError(f"op {name!r} depends on itself", name)
        edges[name] = parents
    sorter: TopologicalSorter[str] = TopologicalSorter()
    for name in names:
        sorter.add(name, *sorted(edges[name], key=position.__getitem__))
    try:
        sorter.prepare()
    except CycleError as exc:
        cycle = list(exc.args[1]) if len(exc.args) > 1 else []
        shown = " -> ".join(reversed(cycle)) if cycle else "?"
        raise GraphError(f"the DAG has a cycle: {shown}", cycle[0] if cycle else None) from None
    order: list[str] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready(), key=position.__getitem__)
        order.extend(ready)
        sorter.done(*ready)
    return OpGraph(order=tuple(order), upstream=edges)
