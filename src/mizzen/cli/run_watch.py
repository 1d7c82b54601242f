"""Watching a run to its end (`mizzen run`, and `mizzen ops restart|resume|copy` without a server):
its logs as they come, its status changes, a live status line; then `mizzen run`'s summary."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from mizzen.cli.output import console, duration, styled_status
from mizzen.errors import ApiError
from mizzen.schemas.statuses import DONE_STATUSES

if TYPE_CHECKING:
    from mizzen.client import MizzenClient
    from mizzen.schemas.api import LogLine, RunRead

POLL_SECONDS = 0.25


def print_run_line(line: LogLine) -> None:
    """`mizzen run`'s log line: the main container's text as it is, others' prefixed by their name."""
    if line.container not in ("main", "mizzen-main"):
        console.print(f"[dim]{line.container} |[/dim] ", end="", highlight=False)
    console.print(line.line, markup=False, highlight=False, soft_wrap=True)


class LogPrinter(threading.Thread):
    """Prints the run's log lines from line ``offset`` until the server ends the stream (the run is
    done); reconnects from where it was if the stream breaks."""

    def __init__(
        self, client: MizzenClient, uuid: str, offset: int, print_line: Callable[[LogLine], None]
    ) -> None:
        super().__init__(daemon=True, name="mizzen-log-follow")
        self.client = client
        self.uuid = uuid
        self.offset = offset
        self.print_line = print_line
        self.stop_event = threading.Event()
        self.finished = threading.Event()

    def run(self) -> None:
        try:
            while not self.stop_event.is_set():
                try:
                    for line in self.client.logs.follow(self.uuid, offset=self.offset):
                        self.offset += 1
                        self.print_line(line)
                        if self.stop_event.is_set():
                            return
                    return  # the server closed the stream: the run is done
                except ApiError:
                    if self.stop_event.wait(1.0):
                        return
        finally:
            self.finished.set()


def watch(
    client: MizzenClient,
    run: RunRead,
    *,
    first_line: int = 0,
    print_line: Callable[[LogLine], None] = print_run_line,
) -> RunRead:
    """Follow ``run`` until it is done; returns its final state. Logs are printed from line
    ``first_line`` (a resumed run keeps its earlier attempt's), status changes from those after
    ``run.conditions``."""
    printer = LogPrinter(client, run.uuid, first_line, print_line)
    printer.start()
    started = time.monotonic()
    seen_conditions = len(run.conditions or [])
    label = run.name or run.uuid[:8]
    try:
        with console.status(f"{label}: {run.status}", spinner="dots") as status_line:
            while True:
                current = client.runs.get(run.uuid)
                conditions = current.conditions or []
                for condition in conditions[seen_conditions:]:
                    _print_condition(condition.type, condition.reason, condition.message)
                seen_conditions = len(conditions)
                elapsed = duration(time.monotonic() - started)
                status_line.update(f"{label}: {styled_status(current.status)} · {elapsed}")
                if current.status in DONE_STATUSES:
                    break
                # The log stream ends when the run does: that wakes this loop at once.
                printer.finished.wait(POLL_SECONDS)
    finally:
        # Logs arrive until the stream ends; don't wait long for a server that went away.
        printer.finished.wait(timeout=5)
        printer.stop_event.set()
    return current


def _print_condition(status: str, reason: str | None, message: str | None) -> None:
    if status in ("created", "compiled"):
        return
    detail = reason or ""
    if message and message != reason:
        detail = f"{detail}: {message}" if detail else message
    suffix = f" [dim]({detail})[/dim]" if detail else ""
    console.print(f"[bold]●[/bold] {styled_status(status)}{suffix}", highlight=False)


def ended_well(run: RunRead) -> bool:
    """Succeeded, or a service that was stopped: a service runs until someone stops it, so a stop
    is its normal end (`mizzen run` exits 0)."""
    return run.status == "succeeded" or (run.kind == "service" and run.status == "stopped")


def print_summary(client: MizzenClient, run: RunRead, *, embedded: bool) -> None:
    ok = ended_well(run)
    mark = "[green]✓[/green]" if ok else "[red]✗[/red]"
    took = f" in {duration(run.duration)}" if run.duration is not None else ""
    normal = " (stopping is a service's normal end)" if ok and run.status != "succeeded" else ""
    console.print(f"{mark} run [bold]{run.name or run.uuid}[/bold] {styled_status(run.status)}{took}{normal}")
    if run.outputs:
        outputs = ", ".join(f"{k}={v}" for k, v in sorted(run.outputs.items()))
        console.print(f"  outputs: {outputs}", highlight=False)
    try:
        summaries = client.metrics.summaries(run.uuid)
    except ApiError:
        summaries = []
    for index, m in enumerate(summaries):
        label = "metrics:" if index == 0 else ""
        console.print(
            f"  {label:9}{m.name} {m.last:.4g} (min {m.min:.4g}, max {m.max:.4g})",
            highlight=False,
            markup=False,
        )
    short = run.uuid[:8]
    where = "" if not embedded else "  (stored in MIZZEN_HOME; these work after this command ends)\n"
    console.print(
        f"\nLook further:\n{where}"
        f"  mizzen ops get {short}        the run: params, outputs, statuses, metrics\n"
        f"  mizzen ops logs {short}       its logs\n"
        f"  mizzen ops artifacts {short}  its files (model, outputs)\n"
        f"  mizzen ops ls                 every run of the project",
        highlight=False,
        markup=False,
    )
