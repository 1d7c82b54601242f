"""What `mizzen run` does with a compiled polyaxonfile: start it as one run, or refuse it and say
why. `mizzen check` prints the same answer, so a user learns it before running."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mizzen.compiler.compile import Compiled

NOT_YET = "which this version of `mizzen run` does not start yet"


def why_run_refuses(compiled: Compiled) -> str | None:
    """The reason `mizzen run` will not start ``compiled``, or None when it starts it as one run."""
    if compiled.schedule is not None:
        return f"a scheduled run (`schedule: {compiled.schedule.kind}`) starts runs over time, {NOT_YET}"
    if compiled.matrix is not None:
        return (
            f"a matrix sweep ({compiled.matrix.kind}) expands into one run per trial, {NOT_YET}; "
            "`mizzen render` shows what each trial would be"
        )
    if compiled.dag is not None:
        return (
            f"a DAG runs each of its {len(compiled.dag.ops)} ops as a run of its own once its upstream "
            f"ops are done, {NOT_YET}; run an op's polyaxonfile on its own meanwhile"
        )
    if compiled.plan is None:
        return f"a {compiled.kind.value} expands into several runs, {NOT_YET}"
    return None


def what_run_does(compiled: Compiled) -> str:
    """One line for `mizzen check`: what `mizzen run` will do with ``compiled``."""
    refusal = why_run_refuses(compiled)
    if refusal is not None:
        return f"`mizzen run` refuses it: {refusal}"
    return f"`mizzen run` starts it as one {compiled.kind.value} run and follows it to its end"
