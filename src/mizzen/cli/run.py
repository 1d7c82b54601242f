"""`mizzen run`: compile a polyaxonfile, submit it, and watch it to the end."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from mizzen.cli.main import app

if TYPE_CHECKING:
    from mizzen.cli.pipeline_watch import PipelineWatch
    from mizzen.cli.run_submit import Submission
    from mizzen.cli.run_watch import RunWatch
    from mizzen.client import MizzenClient
    from mizzen.compiler.compile import Compiled
    from mizzen.schemas.api import RunRead
    from mizzen.settings import Settings

HOOKS_CLOSE_SECONDS = 3.0  # after the visible wait for hooks: what closing still gives one mid-way


@app.command(
    "run",
    epilog=(
        "\b\nExamples:\n"
        "  mizzen run -f polyaxonfile.yaml -u               this folder is the run's code\n"
        "  mizzen run -f train.yaml -P lr=0.01 -P epochs=5  set inputs\n"
        "  MIZZEN_HOST=http://server:8000 mizzen run -f train.yaml --detach"
    ),
)
def run_command(
    files: list[Path] = typer.Option(
        ...,
        "-f",
        "--file",
        metavar="FILE",
        help="Polyaxonfile; repeat to lay overlays/presets on it, in order.",
    ),
    params: list[str] = typer.Option(
        [],
        "-P",
        "--param",
        metavar="NAME=VALUE",
        help="An input value, name=value (repeatable); an unknown name is refused.",
    ),
    project: str | None = typer.Option(None, "--project", "-p", help="Project (default: settings)."),
    name: str | None = typer.Option(None, "--name", help="Name of the run (default: the spec's name)."),
    description: str | None = typer.Option(None, "--description", help="Description of the run."),
    tags: list[str] = typer.Option([], "--tag", metavar="TAG", help="A tag for the run (repeatable)."),
    queue: str | None = typer.Option(None, "--queue", "-q", help="Queue to submit to."),
    upload: bool = typer.Option(
        False,
        "-u",
        "--upload",
        help="Use the current folder as the run's code (uploaded once, then copied in; "
        ".gitignore, .mizzenignore and .polyaxonignore are honoured).",
    ),
    watch: bool = typer.Option(
        True,
        "--watch/--detach",
        help="Follow the run to the end (default) or return at once (needs a server).",
    ),
) -> None:
    """Run a polyaxonfile: on this machine by default, or on the server in MIZZEN_HOST.

    Exits 0 only when the run succeeded (or, for a service, was stopped: its normal end).
    SIGTERM or SIGHUP stops the run (all its processes) and exits 143 or 129.
    """
    from mizzen.cli.check import parse_params
    from mizzen.cli.connect import load_settings, server_url
    from mizzen.cli.run_submit import Submission, compile_submission

    settings = load_settings()
    submission = Submission(
        files=list(files),
        params=parse_params(params),
        project=project or settings.project,
        name=name,
        description=description,
        tags=list(tags),
        queue=queue,
        upload=Path.cwd() if upload else None,
    )
    compiled = compile_submission(submission, settings)
    if not watch and not server_url(settings):
        from mizzen.errors import MizzenError

        raise MizzenError(
            "--detach needs a Mizzen server to keep the run going after this command ends: start one "
            "with `mizzen server` and point the CLI at it (`mizzen config set host http://127.0.0.1:8000`)"
        )
    code = 1
    with _stop_on_termination() as terminated, contextlib.suppress(_Terminated):
        code = _submit_and_watch(settings, submission, compiled, watch)
    raise typer.Exit(128 + terminated[0] if terminated else code)


class _Terminated(BaseException):
    """SIGTERM/SIGHUP arrived: unwinds like Ctrl-C, but asks nothing (no one may be there)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


@contextmanager
def _stop_on_termination() -> Iterator[list[int]]:
    """While open, SIGTERM and SIGHUP raise ``_Terminated`` in the main thread, once: the run is
    stopped and waited for (a second signal must not cut that short). Yields the signals received."""
    import signal

    received: list[int] = []

    def handle(signum: int, _frame: object) -> None:
        if not received:
            received.append(signum)
            raise _Terminated(signum)

    previous = {signum: signal.signal(signum, handle) for signum in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield received
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _submit_and_watch(settings: Settings, submission: Submission, compiled: Compiled, watch: bool) -> int:
    from mizzen.cli.code_upload import check_code_folder, upload_code
    from mizzen.cli.connect import api, server_url
    from mizzen.cli.hooks_wait import wait_for_hooks
    from mizzen.cli.output import console, err_console
    from mizzen.cli.pipeline_watch import print_pipeline_summary
    from mizzen.cli.run_submit import create_run
    from mizzen.cli.run_watch import ended_well, print_summary
    from mizzen.schemas.pipelines import PIPELINE_KINDS

    embedded = not server_url(settings)
    # A folder that cannot be uploaded makes no run.
    code = check_code_folder(submission.upload) if submission.upload is not None else None
    # the hooks were waited for (and shown) above: closing only finishes what is mid-way
    with api(settings, run_executor=True, hooks_drain_seconds=HOOKS_CLOSE_SECONDS) as client:
        run = create_run(client, submission, compiled)
        where = "this machine" if embedded else client.host
        err_console.print(f"[bold]run[/bold] {run.name or ''} [dim]{run.uuid}[/dim] created on {where}")
        try:
            if code is not None:
                with err_console.status(f"uploading {code.root} as the run's code"):
                    count = upload_code(client, run.uuid, code)
                err_console.print(
                    f"uploaded {count} files ({code.total_bytes / 2**20:.1f} MiB) from {code.root}"
                )
                if code.skipped_links:
                    shown = ", ".join(str(p.relative_to(code.root)) for p in code.skipped_links[:5])
                    more = f" and {len(code.skipped_links) - 5} more" if len(code.skipped_links) > 5 else ""
                    err_console.print(
                        f"[yellow]not uploaded: {shown}{more} (links to a folder or to outside "
                        f"{code.root}; copy what the run needs into the folder)[/yellow]",
                        soft_wrap=True,
                    )
            if not watch:
                console.print(run.uuid)
                how = "get" if run.kind in PIPELINE_KINDS else "logs"
                tail = "" if run.kind in PIPELINE_KINDS else " --follow"
                err_console.print(f"follow it with: mizzen ops {how} {run.uuid[:8]}{tail}")
                return 0
            final = _watch_interruptibly(client, run, embedded)
        except _Terminated:  # before watching began (while uploading, say)
            final = _stop_and_watch(client, run)
        with contextlib.suppress(OSError):  # after SIGHUP the terminal may be gone
            summary = print_pipeline_summary if final.kind in PIPELINE_KINDS else print_summary
            summary(client, final, embedded=embedded)
            wait_for_hooks(client, final, settings.hooks_wait_seconds)
        return 0 if ended_well(final) else 1


def _stop_when_terminated(client: MizzenClient, run: RunRead) -> None:
    from mizzen.cli.output import err_console

    with contextlib.suppress(OSError):
        err_console.print("terminated: stopping the run...")
    client.runs.stop(run.uuid)


def _stop_and_watch(client: MizzenClient, run: RunRead) -> RunRead:
    _stop_when_terminated(client, run)
    watcher = _watcher(client, run)
    try:
        return watcher.follow()
    finally:
        watcher.close()


def _watcher(client: MizzenClient, run: RunRead) -> RunWatch | PipelineWatch:
    """A pipeline (sweep, DAG, schedule) shows its progress; any other run its logs."""
    from mizzen.cli.pipeline_watch import PipelineWatch
    from mizzen.cli.run_watch import RunWatch
    from mizzen.schemas.pipelines import PIPELINE_KINDS

    return PipelineWatch(client, run) if run.kind in PIPELINE_KINDS else RunWatch(client, run)


def _watch_interruptibly(client: MizzenClient, run: RunRead, embedded: bool) -> RunRead:
    """Ctrl-C while watching asks whether to stop the run (a second Ctrl-C stops it). The log lines
    wait while the question is asked; watching goes on from where it stopped."""
    watcher = _watcher(client, run)
    try:
        while True:
            try:
                return watcher.follow()
            except KeyboardInterrupt:
                watcher.pause()
                if not _keep_going(client, run, embedded):
                    return client.runs.get(run.uuid)
            except _Terminated:  # stop the run and watch it end, from where the logs were
                _stop_when_terminated(client, run)
    finally:
        watcher.close()


def _keep_going(client: MizzenClient, run: RunRead, embedded: bool) -> bool:
    """After a Ctrl-C: stop the run (and watch it end), or leave it running. False: stop watching."""
    import sys

    from mizzen.cli.output import err_console

    stop = True
    if sys.stdin.isatty():
        try:
            what = "the pipeline and its runs" if run.kind in _pipeline_kinds() else "the run"
            stop = typer.confirm(f"\nStop {what}?", default=True)
        except (KeyboardInterrupt, typer.Abort):
            stop = True
    if stop:
        err_console.print("stopping the run...")
        client.runs.stop(run.uuid)
        return True
    if not embedded:
        how = "get" if run.kind in _pipeline_kinds() else "logs"
        tail = "" if run.kind in _pipeline_kinds() else " --follow"
        err_console.print(f"the run goes on; follow it with: mizzen ops {how} {run.uuid[:8]}{tail}")
        return False
    err_console.print("the run goes on in this process; watching again")
    return True


def _pipeline_kinds() -> frozenset[str]:
    from mizzen.schemas.pipelines import PIPELINE_KINDS

    return PIPELINE_KINDS
