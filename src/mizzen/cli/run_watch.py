"""Watching a run to its end (`mizzen run`, and `mizzen ops restart|resume|copy` without a server):
its logs as they come, its status changes, a live status line; then `mizzen run`'s summary."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from mizzen.cli.log_follow import LogPrinter
from mizzen.cli.output import console, duration, err_console, styled_status
from mizzen.errors import ApiError
from mizzen.schemas.statuses import DONE_STATUSES

if TYPE_CHECKING:
    from mizzen.client import MizzenClient
    from mizzen.schemas.api import LogLine, RunRead

POLL_SECONDS = 0.25
STALL_SECONDS = 10.0  # once the run is done, a log stream silent this long is given up
EXECUTOR_CONTAINER = "mizzen"  # the executor's own lines about the run


def print_run_line(line: LogLine) -> None:
    """`mizzen run`'s log line: the main container's text as it is, others' prefixed by their name.
    Written straight to stdout when it is not a terminal (a pipe, a file): rich costs ~60 µs a line,
    which a chatty job outruns."""
    if line.container == EXECUTOR_CONTAINER and _is_verdict(line.line):
        return  # the final status, which the watcher prints as a status line
    prefix = "" if line.container in ("main", "mizzen-main") else f"{line.container} | "
    if not console.is_terminal:
        sys.stdout.write(f"{prefix}{line.line}\n")
        return
    from rich.text import Text

    # One print per line: the live status line redraws between prints.
    text = Text(prefix, style="dim")
    text.append(line.line)
    console.print(text, highlight=False, soft_wrap=True)


def _is_verdict(text: str) -> bool:
    """The executor's last line, ``failed: exit code 2 (...)``: stored for `mizzen ops logs`."""
    head = text.split(":", 1)[0]
    return head in DONE_STATUSES


class RunWatch:
    """Follows a run: its logs as they come, each new status once, a live status line. ``follow``
    may be interrupted (Ctrl-C) and called again: it goes on from where it was."""

    def __init__(
        self,
        client: MizzenClient,
        run: RunRead,
        *,
        first_line: int = 0,
        print_line: Callable[[LogLine], None] = print_run_line,
    ) -> None:
        self.client = client
        self.run = run
        self.printer = LogPrinter(client, run.uuid, first_line, print_line)
        self.seen_conditions = len(run.conditions or [])
        self.last_status = run.conditions[-1].type if run.conditions else None
        self.started = time.monotonic()

    def follow(self) -> RunRead:
        """Until the run is done and its log stream is printed; returns its final state."""
        if not self.printer.is_alive() and not self.printer.finished.is_set():
            self.printer.start()
        self.printer.resume()
        label = self.run.name or self.run.uuid[:8]
        with console.status(f"{label}: {self.run.status}", spinner="dots") as status_line:
            while True:
                current = self.client.runs.get(self.run.uuid)
                elapsed = duration(time.monotonic() - self.started)
                status_line.update(f"{label}: {styled_status(current.status)} · {elapsed}")
                if current.status in DONE_STATUSES:
                    break
                self._print_new_conditions(current)
                # The log stream ends when the run does: that wakes this loop at once.
                self.printer.finished.wait(POLL_SECONDS)
            self._drain()  # the final status goes after the last log line
            self._print_new_conditions(current)
        return current

    def _print_new_conditions(self, current: RunRead) -> None:
        conditions = current.conditions or []
        for condition in conditions[self.seen_conditions :]:
            if condition.type != self.last_status:  # a status once, however many reasons it gets
                _print_condition(condition.type, condition.reason, condition.message)
            self.last_status = condition.type
        self.seen_conditions = len(conditions)

    def _drain(self) -> None:
        """Print the rest of the logs. As long as lines come, wait: a slow terminal gets them all.
        A stream that stalls (the server went away) is given up, saying what was not shown."""
        printed = self.printer.offset
        while not self.printer.finished.wait(STALL_SECONDS):
            if self.printer.offset == printed and not self.printer.writing:
                break
            printed = self.printer.offset
        if self.printer.finished.is_set():
            return
        self.printer.stop()
        self._say_what_was_not_shown()

    def _say_what_was_not_shown(self) -> None:
        uuid, shown = self.run.uuid, self.printer.offset
        try:
            offset = shown
            while (chunk := self.client.logs.get(uuid, offset=offset)).lines:
                offset = chunk.next_offset
            missing = offset - shown
            count = f"{missing} log line{'s' if missing != 1 else ''}"
        except ApiError:
            count = "the remaining log lines"
        err_console.print(
            f"[yellow]the log stream stalled: {count} after line {shown} not shown here; they are "
            f"stored: mizzen ops logs {uuid[:12]}[/yellow]",
            soft_wrap=True,
        )

    def pause(self) -> None:
        """Hold the log lines (while a question is asked); ``follow`` prints them afterwards."""
        self.printer.pause()

    def close(self) -> None:
        self.printer.stop()


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
    watcher = RunWatch(client, run, first_line=first_line, print_line=print_line)
    try:
        return watcher.follow()
    finally:
        watcher.close()


def _print_condition(status: str, reason: str | None, message: str | None) -> None:
    if status in ("created", "compiled"):
        return
    detail = reason or ""
    if message and message != reason:
        detail = f"{detail}: {message}" if detail else message
    suffix = f" [dim]({detail})[/dim]" if detail else ""
    console.print(f"[bold]●[/bold] {styled_status(status)}{suffix}", highlight=False, soft_wrap=True)


def ended_well(run: RunRead) -> bool:
    """Succeeded, or a service that was stopped: a service runs until someone stops it, so a stop
    is its normal end (`mizzen run` exits 0); or skipped by the cache, reusing a succeeded run."""
    from mizzen.schemas.run_meta import CACHE_HIT_KEY

    if run.status == "skipped" and (run.meta or {}).get(CACHE_HIT_KEY):
        return True
    return run.status == "succeeded" or (run.kind == "service" and run.status == "stopped")


def print_summary(client: MizzenClient, run: RunRead, *, embedded: bool) -> None:
    ok = ended_well(run)
    mark = "[green]✓[/green]" if ok else "[red]✗[/red]"
    took = f" in {duration(run.duration)}" if run.duration is not None else ""
    normal = " (stopping is a service's normal end)" if ok and run.status == "stopped" else ""
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
