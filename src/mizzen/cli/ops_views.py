"""How runs look in a terminal: the run list, one run in full, its statuses, metrics and artifacts.

Only the ``mizzen ops`` commands import this module, and only when they run (rich is not needed by
``mizzen --help``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from rich.table import Table
from rich.text import Text

from mizzen.cli.output import console, duration, styled_status, when
from mizzen.schemas.api import ArtifactRead, MetricHistory, MetricSummary, RunRead, StatusCondition

SHORT_UUID = 12
MAX_VALUE_WIDTH = 80


def short(uuid: str) -> str:
    return uuid[:SHORT_UUID]


def number(value: float | None) -> str:
    return "-" if value is None else f"{value:.6g}"


def value_text(value: Any) -> str:
    """A param/input/output value on one line: JSON for structures, cut when very long."""
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= MAX_VALUE_WIDTH else text[: MAX_VALUE_WIDTH - 3] + "..."


def size_text(size: int) -> str:
    amount = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if amount < 1024 or unit == "GiB":
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    return f"{amount:.1f} GiB"


def _table(*columns: str, title: str | None = None) -> Table:
    table = Table(title=title, title_justify="left", header_style="bold", box=None, pad_edge=False)
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


def runs_table(runs: Sequence[RunRead], metric_names: Sequence[str], *, show_project: bool) -> Table:
    from mizzen.cli.tables import FittedTable

    columns = ["uuid", "name", *(["project"] if show_project else []), "kind", "status", "created"]
    table = FittedTable([*columns, "duration", *metric_names], flexible={"name", "project"})
    for run in runs:
        summaries = {m.name: m for m in run.metrics or []}
        cells: list[str | Text] = [
            Text(short(run.uuid)),
            Text(run.name or "-"),
            *([Text(run.project)] if show_project else []),
            Text(run.kind),
            styled_status(run.status.value),
            when(run.created_at),
            duration(run.duration),
            *(number(summaries[name].last) if name in summaries else "-" for name in metric_names),
        ]
        table.add_row(*cells)
    return table.table


def show_run(run: RunRead) -> None:
    """Everything worth knowing about one run, in sections."""
    title = Text.assemble((run.uuid, "bold"), "  ", (run.name or "", "bold cyan"))
    console.print(title)
    facts = _table("", "")
    facts.show_header = False
    facts.add_row("project", Text(run.project))
    facts.add_row("kind", Text(run.kind))
    facts.add_row("status", styled_status(run.status.value))
    facts.add_row("created", when(run.created_at))
    facts.add_row("started", when(run.started_at))
    facts.add_row("finished", when(run.finished_at))
    facts.add_row("duration", duration(run.duration))
    optional = {
        "description": run.description,
        "tags": ", ".join(run.tags) if run.tags else None,
        "executor": run.executor,
        "queue": run.queue,
        "cloned from": f"{run.original_uuid} ({run.cloning_kind})" if run.original_uuid else None,
        "pipeline": run.pipeline_uuid,
    }
    for label, value in optional.items():
        if value:
            facts.add_row(label, Text(value))
    console.print(facts)
    for title_text, values in (("Params", run.params), ("Inputs", run.inputs), ("Outputs", run.outputs)):
        if values:
            console.print()
            console.print(key_values_table(title_text, values))
    if run.metrics:
        console.print()
        console.print(summaries_table(run.metrics, title="Metrics"))
    if run.conditions:
        console.print()
        console.print(conditions_table(run.conditions, title="Statuses"))
    deliveries = (run.meta.get("hooks") or {}).get("deliveries") or []
    if deliveries:
        console.print()
        console.print(hooks_table(deliveries))


def hooks_table(deliveries: list[dict[str, Any]]) -> Table:
    """Each hook delivery of the run's last end: its state, attempts and what the last one got."""
    table = _table("hook", "trigger", "state", "attempts", "outcome", title="Hooks")
    for delivery in deliveries:
        state = str(delivery.get("state"))
        style = {"delivered": "green", "failed": "red", "error": "red", "skipped": "dim"}.get(state, "yellow")
        table.add_row(
            Text(f"{delivery.get('hook')} {delivery.get('hubRef') or ''}".strip()),
            Text(str(delivery.get("trigger") or "done")),
            Text(state, style=style),
            str(delivery.get("attempts") or 0),
            Text(str(delivery.get("outcome") or "-")),
        )
    return table


def key_values_table(title: str, values: dict[str, Any]) -> Table:
    table = _table("name", "value", title=title)
    for name, value in values.items():
        table.add_row(Text(name), Text(value_text(value)))
    return table


def conditions_table(conditions: Iterable[StatusCondition], title: str | None = None) -> Table:
    table = _table("time", "status", "reason", "message", title=title)
    for condition in conditions:
        table.add_row(
            when(condition.time),
            styled_status(condition.type.value),
            Text(condition.reason or "-"),
            Text(condition.message or "-"),
        )
    return table


def summaries_table(summaries: Iterable[MetricSummary], title: str | None = None) -> Table:
    table = _table("metric", "last", "min", "max", "last step", "points", title=title)
    for summary in summaries:
        table.add_row(
            Text(summary.name),
            number(summary.last),
            number(summary.min),
            number(summary.max),
            "-" if summary.last_step is None else str(summary.last_step),
            str(summary.count),
        )
    return table


def history_table(history: MetricHistory) -> Table:
    note = " (downsampled)" if history.downsampled else ""
    table = _table("step", "time", "value", title=f"{history.name}{note}")
    from datetime import UTC, datetime

    for step, timestamp, value in zip(history.steps, history.timestamps, history.values, strict=False):
        moment = datetime.fromtimestamp(timestamp, UTC)
        table.add_row("-" if step is None else str(step), when(moment), number(value))
    return table


def artifacts_table(artifacts: Iterable[ArtifactRead]) -> Table:
    table = _table("path", "size", "modified")
    for artifact in artifacts:
        table.add_row(Text(artifact.path), size_text(artifact.size), when(artifact.modified_at))
    return table
