"""`mizzen ops get` of a pipeline: a sweep's trials ranked by its metric with the best named, a
DAG's ops with their statuses, a schedule's runs. Two requests, whatever the number of trials."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mizzen.cli.output import console, duration, print_json, styled_status, when
from mizzen.schemas.statuses import DONE_STATUSES

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
    if metric and view.metric_names is not None and metric not in view.metric_names:
        _warn_unknown_metric(metric, view)
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


def _warn_unknown_metric(metric: str, view: PipelineRead) -> None:
    """--metric NAME that no child logged: the ranking would be by nothing, so say which exist."""
    import difflib

    from mizzen.cli.output import err_console

    names = view.metric_names or []
    noun = {"dag": "op", "schedule": "run"}.get(view.kind, "trial")
    close = difflib.get_close_matches(metric, names, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    found = (
        f"the metrics its {noun}s logged: {', '.join(names)}"
        if names
        else f"none of its {noun}s has logged a metric yet"
    )
    err_console.print(
        f"warning: no {noun} of {view.uuid[:12]} has logged metric {metric!r}{hint}: "
        f"nothing is ranked by it; {found}",
        style="yellow",
        markup=False,
        soft_wrap=True,
    )


def _print_progress(view: PipelineRead) -> None:
    from mizzen.cli.pipeline_watch import best_text, counts_text

    sweep = f" ({view.sweep})" if view.sweep else ""
    console.print(f"\n[bold]{view.kind}{sweep}[/bold]: {counts_text(view)}", highlight=False, soft_wrap=True)
    if view.kind == "schedule":
        for line in schedule_lines(view.progress, ended=view.status in DONE_STATUSES, message=view.message):
            console.print(line, markup=False, highlight=False, soft_wrap=True)
    best = best_text(view)
    if best:
        console.print(best, markup=False, highlight=False, soft_wrap=True)
    elif view.metric is None and view.kind == "matrix":
        console.print(
            "no metric to rank trials by: the sweep names none; rank them with --metric NAME",
            markup=False,
            soft_wrap=True,
        )


def schedule_lines(progress: dict[str, Any], *, ended: bool, message: str | None) -> list[str]:
    """What a schedule is, how many ticks fired, and the next due time, or why none is left:

    ``when: cron '0 9 * * *' in Europe/Paris, from 2026-12-08 00:00 UTC`` /
    ``ticks fired: 2 (maxRuns 3; 1 missed while nothing drove it)`` /
    ``next due: 2026-12-09 09:00 Europe/Paris (in 5h 3m)`` or ``ended: maxRuns 3 reached``."""
    if not progress:
        return ["when: not planned yet (the driver has not read this schedule)"]
    zone = progress.get("zone") or "UTC"
    kind = progress.get("schedule")
    if kind == "cron":
        when_ = f"cron '{progress.get('cron')}' in {zone}"
    elif kind == "interval":
        when_ = f"every {duration(float(progress.get('frequency') or 0))}"
    else:
        when_ = "once (datetime)"
    start, end = progress.get("start_at"), progress.get("end_at")
    when_ += (
        f", from {_moment(start, zone)}" if start and kind != "datetime" else f" at {_moment(start, zone)}"
    )
    if end:
        when_ += f" until {_moment(end, zone)}"
    limits = [f"maxRuns {progress['max_runs']}"] if progress.get("max_runs") else []
    if progress.get("missed"):
        limits.append(f"{progress['missed']} missed while nothing drove it")
    fired = f"ticks fired: {progress.get('ticks', 0)}" + (f" ({'; '.join(limits)})" if limits else "")
    lines = [f"when: {when_}", fired]
    if progress.get("waiting"):
        lines.append(f"waiting: {progress['waiting']}")
    next_at = progress.get("next_at")
    if next_at and not ended:
        from datetime import UTC, datetime

        left = (datetime.fromisoformat(next_at) - datetime.now(UTC)).total_seconds()
        lines.append(f"next due: {_moment(next_at, zone)} (in {duration(max(0.0, left))})")
    elif ended or progress.get("ended"):
        why = progress.get("ended") or message or "stopped"
        lines.append(f"ended: {why}" + (f" ({message})" if message and message != why else ""))
    return lines


def _moment(iso: str | None, zone: str) -> str:
    from datetime import datetime

    if not iso:
        return "-"
    moment = datetime.fromisoformat(iso)
    from zoneinfo import ZoneInfo

    try:
        moment = moment.astimezone(ZoneInfo(zone))
    except (ValueError, KeyError):  # a fixed offset (startAt's), which ZoneInfo cannot name: UTC
        moment, zone = moment.astimezone(ZoneInfo("UTC")), "UTC"
    return f"{moment:%Y-%m-%d %H:%M:%S} {zone}"


def _print_ops(view: PipelineRead) -> None:
    from mizzen.cli.tables import FittedTable

    columns = ("op", "kind", "status", "upstream", "trigger", "uuid")
    table = FittedTable(columns, flexible={"op", "upstream", "trigger"}, title="ops")
    for node in view.nodes:
        status = styled_status(node.status.value) if node.status else "[dim]waiting[/dim]"
        upstream = ", ".join(node.upstream) or "-"
        table.add_row(node.name, node.kind, status, upstream, node.trigger, (node.uuid or "-")[:12])
    console.print(table.table)


def _print_children(view: PipelineRead, page: PipelineChildren) -> None:
    from rich.text import Text

    from mizzen.cli.ops_views import number, value_text
    from mizzen.cli.tables import FittedTable

    if not page.items:
        console.print(f"no {'runs' if view.kind == 'schedule' else 'trials'} yet", markup=False)
        return
    metric = page.metric.name if page.metric else None
    order = f", best {metric} first" if metric else ""
    noun = "runs" if view.kind == "schedule" else "trials"
    names = sorted({name for child in page.items for name in child.params})
    columns = ["", "uuid", "name", "status", *([metric] if metric else []), *names, "created"]
    table = FittedTable(columns, flexible={"name", *names}, title=f"{noun}{order}")
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
    console.print(table.table)
    if page.count > len(page.items):
        console.print(
            f"[dim]{len(page.items)} of {page.count} {noun}; all of them: "
            f'mizzen ops ls -q "pipeline:{view.uuid}" -l {page.count}[/dim]',
            soft_wrap=True,
        )
