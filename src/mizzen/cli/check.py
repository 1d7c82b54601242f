"""`mizzen check`: validate and compile a polyaxonfile, print a summary or the compiled Plan.

Nothing heavy is imported at module level: the compiler (pydantic models, YAML) loads only when the
command runs, so `mizzen --help` stays fast.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from mizzen.cli.main import app

if TYPE_CHECKING:
    from rich.console import Console

    from mizzen.compiler.compile import Compiled
    from mizzen.compiler.dag import DagStructure


class Output(StrEnum):
    summary = "summary"
    yaml = "yaml"
    json = "json"


def parse_params(values: list[str] | None) -> dict[str, str]:
    """``-P name=value`` options → {name: value} (values are coerced later, by input type)."""
    from mizzen.errors import MizzenError

    params: dict[str, str] = {}
    for item in values or []:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise MizzenError(f"-P {item!r}: expected name=value, e.g. -P lr=0.01")
        params[name] = value
    return params


@app.command("check")
def check(
    files: list[Path] = typer.Option(
        ...,
        "-f",
        "--file",
        metavar="FILE",
        help="The polyaxonfile; repeat -f to lay presets/overlays over it, in order.",
    ),
    params: list[str] = typer.Option(
        None, "-P", "--param", metavar="NAME=VALUE", help="A param: -P name=value (repeatable)."
    ),
    output: Output = typer.Option(
        Output.summary, "--output", "-o", help="summary, or the compiled plan as yaml/json."
    ),
) -> None:
    """Validate and compile a polyaxonfile; exit 1 with a located message when it is not valid.

    The summary says what `mizzen run` does with the file (a DAG: its ops in run order with the
    ops each waits for). A -P name that matches no input or output is an error, as in `mizzen run`.
    """
    from mizzen.compiler.compile import compile_files
    from mizzen.settings import Settings

    compiled = compile_files(files, parse_params(params), Settings.load())
    if output is Output.summary:
        print_summary(compiled, files)
        return
    document = compiled_document(compiled)
    if output is Output.json:
        import json

        typer.echo(json.dumps(document, indent=2, default=str))
    else:
        import yaml

        typer.echo(yaml.safe_dump(document, sort_keys=False, default_flow_style=False).rstrip())


def compiled_document(compiled: Compiled) -> dict[str, Any]:
    """What ``--output yaml|json`` prints: the Plan, plus the sweep/DAG/schedule structure."""
    document: dict[str, Any] = {}
    if compiled.plan is not None:
        document["plan"] = compiled.plan.model_dump(mode="json", exclude_defaults=True)
    if compiled.matrix is not None:
        document["matrix"] = compiled.matrix.model_dump(mode="json", by_alias=True, exclude_none=True)
    if compiled.schedule is not None:
        document["schedule"] = compiled.schedule.model_dump(mode="json", by_alias=True, exclude_none=True)
    if compiled.dag is not None:
        document["dag"] = {
            "order": list(compiled.dag.graph.order),
            "concurrency": compiled.dag.concurrency,
            "ops": {
                name: {
                    "kind": op.kind,
                    "upstream": sorted(op.upstream),
                    "trigger": op.trigger,
                    **({"conditions": op.conditions} if op.conditions else {}),
                    **({"matrix": op.matrix.kind} if op.matrix is not None else {}),
                }
                for name, op in compiled.dag.ops.items()
            },
        }
    if compiled.warnings:
        document["warnings"] = list(compiled.warnings)
    return document


def _value(value: Any) -> str:
    from mizzen.compiler.templating import to_text

    text = to_text(value) if value is not None else "-"
    return text if len(text) <= 60 else text[:57] + "..."


def print_summary(compiled: Compiled, files: list[Path]) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from mizzen.cli.run_support import what_run_does

    console = Console(highlight=False)
    plan = compiled.plan
    title = escape(compiled.name or files[0].name)
    console.print(f"[green]✓[/green] [bold]{title}[/bold] is valid: a {compiled.kind.value} run")
    io = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    for column in ("", "name", "type", "value", "from"):
        io.add_column(column)
    for param in compiled.params.values():
        shown = param.template or (f"{param.ref}.{param.ref_path}" if param.ref else None)
        value = shown if param.is_deferred and shown else _value(param.value)
        io.add_row(param.kind, escape(param.name), param.io_type or "-", escape(value), param.source)
    if compiled.params:
        console.print(io)
    if plan is not None:
        for replica in plan.replicas:
            count = f" x{replica.replicas}" if replica.replicas != 1 else ""
            pod = replica.pod
            for step in pod.init:
                console.print(f"  init  [cyan]{step.name}[/cyan] {step.kind} → {step.path or '-'}")
            if pod.main is not None:
                argv = " ".join([*pod.main.command, *pod.main.args])
                console.print(f"  {replica.role}{count}  image {pod.main.image or '-'}: {_value(argv)}")
            for sidecar in pod.sidecars:
                console.print(f"  sidecar  {sidecar.name}  image {sidecar.image or '-'}")
        if plan.service is not None and plan.service.ports:
            console.print(f"  ports {', '.join(str(p) for p in plan.service.ports)}")
    if compiled.matrix is not None:
        names = ", ".join(sorted(getattr(compiled.matrix, "params", None) or {})) or "-"
        console.print(f"  matrix [bold]{compiled.matrix.kind}[/bold] over: {names}")
    if compiled.dag is not None:
        print_dag(console, compiled.dag)
    if compiled.schedule is not None:
        console.print(f"  schedule [bold]{compiled.schedule.kind}[/bold]")
    for warning in compiled.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}", soft_wrap=True)
    console.print(what_run_does(compiled), markup=False, soft_wrap=True)


def print_dag(console: Console, dag: DagStructure) -> None:
    """The DAG's ops in run order, each with the ops it waits for."""
    graph = dag.graph
    console.print(f"  dag {len(dag.ops)} ops, in run order:")
    width = max(len(name) for name in graph.order) if graph.order else 0
    for name in graph.order:
        upstream = sorted(graph.upstream.get(name, ()), key=graph.order.index)
        after = f"after {', '.join(upstream)}" if upstream else "first"
        console.print(f"    {name:<{width}}  {dag.ops[name].kind:<8} {after}", markup=False, highlight=False)
