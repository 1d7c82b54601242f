"""`mizzen ops get` of a pipeline: a sweep's trials ranked by its metric with the best named, a
DAG's ops with their statuses, a schedule's runs. Two requests, whatever the number of trials."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mizzen.cli.output import console, print_json, styled_status, when

if TYPE_CHECKING:
    from mizzen.client import MizzenClient
    from mizzen.schemas.api import RunRead
    from mizzen.schemas.pipeline_api import PipelineChildren, PipelineRead

SHOWN_CHILDREN = 100


def show_pipeline(
    client: MizzenClient, run: RunRead, *, metric: str | None, maximize: bool, as_json: bool
) -> None:
    optimization = "maximize" if maximize else None
    view = client.pipelines.get(run.uuid, metric=metric, optimization=optimization)
    page = client.pipelines.children(run.uuid, metric=metric, optimization=optimization, limit=SHOWN_CHILDREN)
    if as_json:
        print_json({**run.model_dump(mode="json"), "pipeline": view, "children": page.items})
        return
    from mizzen.cli.ops_views import show_run

    show_run(run)
    _print_progress(view)
    if view.nodes:
        _print_ops(view)
    else:
        _print_children(view, page)


def _print_progress(view: PipelineRead) -> None:
    from mizzen.cli.pipeline_watch import best_text, counts_text

    sweep = f" ({view.sweep})" if view.sweep else ""
    console.print(f"\n[bold]{view.kind}{sweep}[/bold]: {counts_text(view)}", highlight=False, soft_wrap=True)
    best = best_text(view)
    if best:
        console.print(best, markup=False, highlight=False, soft_wrap=True)
    elif view.metric is None and not view.nodes:
        console.print(
            "no metric to rank trials by: the sweep names none; rank them with --metric NAME",
            markup=False,
            soft_wrap=True,
        )


def _print_ops(view: PipelineRead) -> None:
    from rich.table import Table

    table = Table(title="ops", title_justify="left", header_style="bold", box=None, pad_edge=False)
    for column in ("op", "kind", "status", "upstream", "trigger", "uuid"):
        table.add_column(column, overflow="fold")
    for node in view.nodes:
        status = styled_status(node.status.value) if node.status else "[dim]waiting[/dim]"
        upstream = ", ".join(node.upstream) or "-"
        table.add_row(node.name, node.kind, status, upstream, node.trigger, (node.uuid or "-")[:12])
    console.print(table)


def _print_children(view: PipelineRead, page: PipelineChildren) -> None:
    from rich.table import Table
    from rich.text import Text

    from mizzen.cli.ops_views import number, value_text

    metric = page.metric.name if page.metric else None
    order = f", best {metric} first" if metric else ""
    noun = "runs" if view.kind == "schedule" else "trials"
    table = Table(title=f"{noun}{order}", title_justify="left", header_style="bold", box=None, pad_edge=False)
    names = sorted({name for child in page.items for name in child.params})
    columns = ["", "uuid", "name", "status", *([metric] if metric else []), *names, "created"]
    for column in columns:
        table.add_column(column, overflow="fold")
    best = view.best.uuid if view.best else None
    for child in page.items:
        table.add_row(
            Text("★", style="green") if child.uuid == best else "",
            child.uuid[:12],
            Text(child.name or child.key or "-"),
            styled_status(child.status.value),
            *([number(child.metric)] if metric else []),
            *(Text(value_text(child.params[n])) if n in child.params else "-" for n in names),
            when(child.created_at),
        )
    console.print(table)
    if page.count > len(page.items):
        console.print(
            f"[dim]{len(page.items)} of {page.count} {noun}; all of them: "
            f'mizzen ops ls -q "pipeline:{view.uuid}" -l {page.count}[/dim]',
            soft_wrap=True,
        )
