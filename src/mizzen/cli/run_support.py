"""What `mizzen run` does with a compiled polyaxonfile: start it as one run, or refuse it and say
why. `mizzen check` prints the same answer, so a user learns it before running."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mizzen.compiler.compile import Compiled


def why_run_refuses(compiled: Compiled) -> str | None:
    """The reason `mizzen run` will not start ``compiled``, or None when it starts it."""
    if compiled.plan is None and compiled.pipeline_kind is None:
        return f"a {compiled.kind.value} cannot start on its own: give it the inputs it is missing"
    return None


def what_run_does(compiled: Compiled) -> str:
    """One line for `mizzen check`: what `mizzen run` will do with ``compiled``."""
    refusal = why_run_refuses(compiled)
    if refusal is not None:
        return f"`mizzen run` refuses it: {refusal}"
    if compiled.schedule is not None:
        return f"`mizzen run` starts a schedule ({compiled.schedule.kind}) that creates runs over time"
    if compiled.matrix is not None:
        return f"`mizzen run` starts a {compiled.matrix.kind} sweep: one run per trial"
    if compiled.dag is not None:
        ops = len(compiled.dag.ops)
        return f"`mizzen run` starts a DAG of {ops} ops, each a run once its upstream ops are done"
    return f"`mizzen run` starts it as one {compiled.kind.value} run and follows it to its end"
