"""`mizzen ops stop | restart | resume | copy | delete`: the commands that change runs.

In embedded mode (no server configured) nothing else executes a run, so a restarted, resumed or
copied run is executed by this process and watched to its end; with a server, it is handed to the
server and the command returns at once (``--watch`` follows it there).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import typer

from mizzen.cli.ops import ops_app, run_argument

if TYPE_CHECKING:
    from mizzen.client import MizzenClient
    from mizzen.schemas.api import RunRead

STOP_POLL_SECONDS = 0.2


@ops_app.command("stop")
def stop_run(
    run: str | None = run_argument(),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    wait: bool = typer.Option(True, "--wait/--no-wait", help="Wait until the run has stopped."),
    timeout: float = typer.Option(60.0, "--timeout", min=0, help="Seconds to wait at most."),
) -> None:
    """Stop a run: its processes get SIGTERM, then SIGKILL after a grace period.

    A pipeline (sweep, DAG, schedule) is stopped with every run of it not finished yet.
    Waits (at most --timeout seconds) until the run is stopped. Asks first unless --yes/-y.
    Exit code 0 once stopped (or the stop requested, with --no-wait); 1 when refused, cancelled or
    already finished.

    Example: mizzen ops stop 3f2a --yes
    """
    from mizzen.cli.confirm import confirm_or_refuse
    from mizzen.cli.connect import api, load_settings
    from mizzen.cli.output import console, err_console, styled_status
    from mizzen.cli.runs_resolve import resolve_uuid
    from mizzen.errors import MizzenError
    from mizzen.schemas.pipelines import PIPELINE_KINDS
    from mizzen.schemas.statuses import DONE_STATUSES

    settings = load_settings()
    with api(settings) as client:
        uuid = resolve_uuid(client, run, settings)
        current = client.runs.get(uuid)
        if current.status in DONE_STATUSES:
            raise MizzenError(f"run {uuid} has already finished ({current.status.value}): nothing to stop")
        runs = " and every run of it not finished yet" if current.kind in PIPELINE_KINDS else ""
        confirm_or_refuse(
            f"Stop run {uuid} ({current.kind}, {current.status.value}){runs}?",
            yes=yes,
            action="stopping the run",
        )
        read = client.runs.stop(uuid)
        if wait and read.status not in DONE_STATUSES:
            with err_console.status(f"Stopping run {uuid}..."):
                read = _wait_until_done(client, uuid, timeout)
    if read.status in DONE_STATUSES:
        console.print(f"Run {uuid} {styled_status(read.status.value)}.", soft_wrap=True)
    elif wait:
        raise MizzenError(
            f"run {uuid} is still '{read.status.value}' after {timeout:g}s: the process executing it has "
            f"not confirmed the stop; check `mizzen ops statuses {uuid[:12]}`"
        )
    else:
        console.print(f"Run {uuid} is {styled_status(read.status.value)}: stop requested.", soft_wrap=True)


def _wait_until_done(client: MizzenClient, uuid: str, timeout: float) -> RunRead:
    from mizzen.schemas.statuses import DONE_STATUSES

    deadline = time.monotonic() + timeout
    while True:
        read = client.runs.get(uuid)
        if read.status in DONE_STATUSES or time.monotonic() >= deadline:
            return read
        time.sleep(STOP_POLL_SECONDS)


def params_option() -> list[str] | None:
    return typer.Option(
        None, "-P", "--param", help="Override a param of the new run: -P name=value (repeatable)."
    )


def name_option() -> str | None:
    return typer.Option(None, "--name", help="Name of the new run (default: the original's).")


def watch_option() -> bool | None:
    return typer.Option(
        None,
        "--watch/--detach",
        help="Follow the run's logs until it ends (the default without a server), or return at once.",
        show_default=False,
    )


@ops_app.command("restart")
def restart_run(
    run: str | None = run_argument(),
    params: list[str] | None = params_option(),
    name: str | None = name_option(),
    watch: bool | None = watch_option(),
) -> None:
    """Run a run again, as a new run (same polyaxonfile, params overridden by -P).

    A pipeline restarts as a new pipeline with runs of its own. Does not ask (nothing is lost).
    Exit code 0 when the new run succeeded (or was handed to a server, with --detach); 1 otherwise.

    Example: mizzen ops restart 3f2a -P lr=0.01 --name lr-0.01
    """
    _clone(run, "restart", params, name, watch)


@ops_app.command("resume")
def resume_run(
    run: str | None = run_argument(),
    params: list[str] | None = params_option(),
    name: str | None = name_option(),
    watch: bool | None = watch_option(),
) -> None:
    """Run a finished run again in place: same uuid, same artifacts (checkpoints are kept).

    Example: mizzen ops resume 3f2a
    """
    _clone(run, "resume", params, name, watch)


@ops_app.command("copy")
def copy_run(
    run: str | None = run_argument(),
    params: list[str] | None = params_option(),
    name: str | None = name_option(),
    watch: bool | None = watch_option(),
) -> None:
    """Run a run again as a new run that starts with a copy of the original's artifacts.

    Example: mizzen ops copy 3f2a -P epochs=20
    """
    _clone(run, "copy", params, name, watch)


def _clone(ref: str | None, how: str, params: list[str] | None, name: str | None, watch: bool | None) -> None:
    from mizzen.cli import run_watch
    from mizzen.cli.check import parse_params
    from mizzen.cli.connect import api, load_settings, server_url
    from mizzen.cli.ops_files import print_log_line
    from mizzen.cli.output import console, styled_status
    from mizzen.cli.runs_resolve import resolve_uuid
    from mizzen.schemas.pipelines import PIPELINE_KINDS
    from mizzen.schemas.statuses import RunStatus

    overrides = parse_params(params)
    settings = load_settings()
    embedded = server_url(settings) is None
    watch = embedded if watch is None else watch
    with api(settings, run_executor=embedded and watch) as client:
        uuid = resolve_uuid(client, ref, settings)
        # A resumed run keeps its logs: show only what the new attempt writes.
        first_line = log_end(client, uuid) if how == "resume" and watch else 0
        clone = {"restart": client.runs.restart, "copy": client.runs.copy, "resume": client.runs.resume}
        read = clone[how](uuid, name, overrides or None)
        done = {"restart": f"Restarted run {uuid} as", "copy": f"Copied run {uuid} to", "resume": "Resumed"}
        console.print(
            f"{done[how]} run [bold]{read.uuid}[/bold]{f' ({read.name})' if read.name else ''}.",
            soft_wrap=True,
        )
        if not watch:
            if embedded:
                console.print(
                    "It runs once a Mizzen process with the local executor starts: `mizzen server`, "
                    "or the next `mizzen run`.",
                    soft_wrap=True,
                )
            console.print(
                f"Follow it with: mizzen ops logs {read.uuid[:12]} --follow", markup=False, soft_wrap=True
            )
            return
        if read.kind in PIPELINE_KINDS:  # its progress, not logs (a pipeline has none)
            from mizzen.cli.pipeline_watch import PipelineWatch

            watcher = PipelineWatch(client, read)
            try:
                final = watcher.follow()
            finally:
                watcher.close()
        else:
            final = run_watch.watch(client, read, first_line=first_line, print_line=print_log_line)
    reason = next((c.message or c.reason for c in reversed(final.conditions or [])), None)
    tail = f": {reason}" if reason and final.status != RunStatus.SUCCEEDED else ""
    console.print(f"Run {final.uuid} {styled_status(final.status.value)}{tail}", soft_wrap=True)
    if not run_watch.ended_well(final):
        raise typer.Exit(1)


def log_end(client: MizzenClient, uuid: str) -> int:
    """The offset after the last log line stored so far."""
    offset = 0
    while (chunk := client.logs.get(uuid, offset=offset)).lines and chunk.next_offset > offset:
        offset = chunk.next_offset
    return offset


@ops_app.command("delete")
def delete_run(
    run: str = typer.Argument(
        ..., metavar="RUN", help="The run: its uuid or a unique prefix (4+ characters)."
    ),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Delete a run with its metrics, logs and artifacts (a running run is stopped first).

    A pipeline (sweep, DAG, schedule) is deleted with the runs it made.

    Asks first unless --yes/-y. Exit code 0 once deleted; 1 when refused or cancelled.

    Example: mizzen ops delete 3f2a --yes
    """
    from mizzen.cli.confirm import confirm_or_refuse
    from mizzen.cli.connect import api, load_settings
    from mizzen.cli.output import console
    from mizzen.cli.runs_resolve import describe, resolve_ref

    settings = load_settings()
    with api(settings) as client:
        target = resolve_ref(client, run)
        pipeline = target.kind in ("matrix", "dag", "schedule")
        runs = " and every run it made (sweeps inside it too)" if pipeline else ""
        confirm_or_refuse(
            f"Delete run {describe(target)}{runs} with its metrics, logs and artifacts?",
            yes=yes,
            action="deleting the run",
        )
        client.runs.delete(target.uuid)
    console.print(f"Deleted run {target.uuid}{' and its runs' if pipeline else ''}.", soft_wrap=True)
