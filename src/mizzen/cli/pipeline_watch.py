"""Watching a pipeline (a sweep, a DAG, a schedule) to its end: `mizzen run` and `mizzen ops
resume|restart` show its progress instead of logs.

Each refresh is ONE request (``GET /runs/{uuid}/pipeline``: children per status, the best child by
the sweep's metric, a DAG's ops), whatever the number of trials. On a terminal the view is redrawn
in place (rich Live); elsewhere (a pipe, a file, CI) one line is printed per change.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from mizzen.cli.output import console, duration, styled_status
from mizzen.schemas.statuses import DONE_STATUSES, RunStatus

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.live import Live

    from mizzen.client import MizzenClient
    from mizzen.schemas.api import RunRead
    from mizzen.schemas.pipeline_api import PipelineChild, PipelineRead

POLL_SECONDS = 0.5
RUNNING = ("scheduled", "starting", "running", "processing", "stopping", "retrying", "warning")
QUEUED = ("created", "on_schedule", "compiled", "queued", "unschedulable", "unknown")


def counts_text(view: PipelineRead) -> str:
    """``12/20 done (10 succeeded, 2 failed) · 4 running · 4 queued``."""
    counts = view.counts

    def total(names: tuple[str, ...]) -> int:
        return sum(counts.get(name, 0) for name in names)

    done_parts = [
        f"{n} {label}"
        for label, n in (
            ("succeeded", counts.get("succeeded", 0)),
            ("failed", counts.get("failed", 0)),
            ("upstream_failed", counts.get("upstream_failed", 0)),
            ("stopped", counts.get("stopped", 0)),
            ("skipped", counts.get("skipped", 0)),
        )
        if n
    ]
    done = sum(counts.get(s, 0) for s in DONE_STATUSES)
    of = f"/{view.total}" if view.total is not None else ""
    noun = {"dag": "ops", "schedule": "runs"}.get(view.kind, "trials")
    text = f"{noun}: {done}{of} done"
    if done_parts:
        text += f" ({', '.join(done_parts)})"
    text = f"{text} · {total(RUNNING)} running · {total(QUEUED)} queued"
    to_come = (view.total or 0) - sum(counts.values())
    ended = view.status in DONE_STATUSES  # an ended sweep (stopped early, failed) makes no more
    return f"{text} · {to_come} to come" if to_come > 0 and not ended else text


def best_text(view: PipelineRead) -> str | None:
    """``best loss=0.1234 (minimize) lr=0.01 batch=32: sweep-7 3f2a9c1b``, once a trial has the metric."""
    best, metric = view.best, view.metric
    if best is None or metric is None or best.metric is None:
        return None
    return f"best {metric.name}={best.metric:.6g} ({metric.optimization}) {trial_text(best)}"


def trial_text(child: PipelineChild) -> str:
    values = " ".join(f"{k}={v}" for k, v in sorted(child.params.items()))
    label = child.name or child.key or ""
    return f"{values}: {label} {child.uuid[:8]}".strip()


def op_lines(view: PipelineRead) -> list[tuple[str, str]]:
    """``(op, status)`` of each op of a DAG, in run order (``waiting`` when not created yet)."""
    return [(node.name, node.status.value if node.status else "waiting") for node in view.nodes]


def _renderable(view: PipelineRead, elapsed: float) -> RenderableType:
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    label = view.name or view.uuid[:8]
    sweep = f" {view.sweep}" if view.sweep else ""
    head = Text.from_markup(
        f"[bold]{label}[/bold] ({view.kind}{sweep}): {styled_status(view.status.value)} · {duration(elapsed)}"
    )
    parts: list[RenderableType] = [head, Text(counts_text(view))]
    best = best_text(view)
    if best:
        parts.append(Text(best, style="green"))
    if view.nodes:
        table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
        for column in ("op", "kind", "status", "upstream"):
            table.add_column(column)
        for node in view.nodes:
            status = styled_status(node.status.value) if node.status else "[dim]waiting[/dim]"
            table.add_row(node.name, node.kind, status, ", ".join(node.upstream) or "-")
        parts.append(table)
    return Group(*parts)


class PipelineWatch:
    """Follows a pipeline until it is done; ``follow`` may be interrupted (Ctrl-C) and called again."""

    def __init__(self, client: MizzenClient, run: RunRead) -> None:
        self.client = client
        self.run = run
        self.started = time.monotonic()
        self.live: Live | None = None
        self.last_status: str | None = None
        self.last_line: str | None = None
        self.last_best: str | None = None
        self.ops: dict[str, str] = {}
        self.view: PipelineRead | None = None

    def follow(self) -> RunRead:
        """Until the pipeline is done; returns its final state."""
        while True:
            view = self.view = self.client.pipelines.get(self.run.uuid)
            self._show(view)
            if view.status in DONE_STATUSES:
                break
            time.sleep(POLL_SECONDS)
        self.close()
        return self.client.runs.get(self.run.uuid)

    def _show(self, view: PipelineRead) -> None:
        if console.is_terminal:
            if self.live is None:
                from rich.live import Live

                self.live = Live(console=console, refresh_per_second=4, transient=False)
                self.live.start()
            self.live.update(_renderable(view, time.monotonic() - self.started))
            return
        self._print_changes(view)

    def _print_changes(self, view: PipelineRead) -> None:
        """One line per change: the pipeline's status, each op's, the counts, a new best."""
        if view.status.value != self.last_status:
            self.last_status = view.status.value
            if view.status.value not in ("created", "compiled"):
                detail = f" ({view.message})" if view.message else ""
                console.print(f"● {view.status.value}{detail}", markup=False, highlight=False, soft_wrap=True)
        for name, status in op_lines(view):
            if self.ops.get(name) != status and status != "waiting":
                console.print(f"  op {name}: {status}", markup=False, highlight=False)
            self.ops[name] = status
        line = counts_text(view)
        if line != self.last_line:
            self.last_line = line
            console.print(f"  {line}", markup=False, highlight=False, soft_wrap=True)
        best = best_text(view)
        if best and best != self.last_best:
            self.last_best = best
            console.print(f"  {best}", markup=False, highlight=False, soft_wrap=True)

    def pause(self) -> None:
        """Stop redrawing (while a question is asked); ``follow`` draws again."""
        self.close()

    def close(self) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None


def failure_lines(client: MizzenClient, uuid: str, shown: int = 3) -> list[str]:
    """Why the first runs of a pipeline that failed did (their last status message), so a failed
    DAG or sweep says its cause without a second command."""
    failed = client.runs.list(query=f"pipeline_uuid:{uuid},status:failed", sort="created_at", limit=shown)
    lines = []
    for item in failed.items:
        conditions = client.runs.get(item.uuid).conditions or []
        last = conditions[-1] if conditions else None
        why = (last.message or last.reason) if last is not None else None
        reason = why or "no reason recorded"
        lines.append(f"{item.name or item.uuid[:8]} failed: {reason} (mizzen ops logs {item.uuid[:8]})")
    if failed.count > shown:
        lines.append(f"... and {failed.count - shown} more failed runs")
    return lines


def print_pipeline_summary(client: MizzenClient, run: RunRead, *, embedded: bool) -> None:
    """`mizzen run`'s last words on a pipeline: how it ended, its counts, its best trial."""
    from mizzen.cli.run_watch import ended_well

    view = client.pipelines.get(run.uuid)
    mark = "✓" if ended_well(run) else "✗"
    took = f" in {duration(run.duration)}" if run.duration is not None else ""
    why = f" ({view.message})" if view.message else ""
    name = run.name or run.uuid
    console.print(
        f"{mark} {view.kind} [bold]{name}[/bold] {styled_status(run.status.value)}{took}{why}", soft_wrap=True
    )
    console.print(f"  {counts_text(view)}", markup=False, highlight=False, soft_wrap=True)
    best = best_text(view)
    if best:
        console.print(f"  {best}", markup=False, highlight=False, soft_wrap=True)
    for name, status in op_lines(view):
        console.print(f"  op {name}: {status}", markup=False, highlight=False)
    if not ended_well(run):
        for line in failure_lines(client, run.uuid):
            console.print(f"  {line}", markup=False, highlight=False, soft_wrap=True)
    short = run.uuid[:8]
    where = "" if not embedded else "  (stored in MIZZEN_HOME; these work after this command ends)\n"
    again = (
        f"mizzen ops restart {short}   run it again as a new {view.kind}"
        if run.status is RunStatus.SUCCEEDED  # a succeeded pipeline is not resumed (the API refuses)
        else f"mizzen ops resume {short}    continue it where it ended"
    )
    console.print(
        f"\nLook further:\n{where}"
        f"  mizzen ops get {short}       its {'ops' if view.nodes else 'runs'}, best first\n"
        f'  mizzen ops ls -q "pipeline:{short}"  its runs, to filter and sort\n'
        f"  {again}",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )
