"""`mizzen ops logs | artifacts | sync`: what runs wrote — logs, files, and tracking journals left
behind (after an outage, a crash, or training done offline)."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from mizzen.cli.ops import json_option, ops_app, run_argument

if TYPE_CHECKING:
    from mizzen.client import MizzenClient
    from mizzen.schemas.api import LogLine
    from mizzen.settings import Settings
    from mizzen.tracking.sync import SyncReport


@ops_app.command("logs")
def show_logs(
    run: str | None = run_argument(),
    follow: bool = typer.Option(False, "--follow", "-f", help="Keep printing new lines until the run ends."),
    as_json: bool = typer.Option(
        False, "--json", help="JSON for scripts: an array of lines; with --follow, one object per line."
    ),
) -> None:
    """Print a run's logs (every container, with timestamps).

    Example: mizzen ops logs 3f2a --follow
    """
    from mizzen.cli.connect import api, load_settings
    from mizzen.cli.output import print_json
    from mizzen.cli.runs_resolve import resolve_uuid

    settings = load_settings()
    with api(settings) as client:
        uuid = resolve_uuid(client, run, settings)
        if follow:
            try:
                for line in client.logs.follow(uuid):
                    if as_json:
                        sys.stdout.write(line.model_dump_json() + "\n")
                        sys.stdout.flush()
                    else:
                        print_log_line(line)
            except KeyboardInterrupt:
                raise typer.Exit(130) from None
            return
        lines = read_all_logs(client, uuid)
        if not lines and not as_json:
            _hint_if_pipeline(client, uuid)
    if as_json:
        print_json(lines)
        return
    for line in lines:
        print_log_line(line)


def _hint_if_pipeline(client: MizzenClient, uuid: str) -> None:
    """A sweep, DAG or schedule has no logs of its own: say where they are."""
    from mizzen.cli.output import err_console
    from mizzen.schemas.pipelines import PIPELINE_KINDS

    run = client.runs.get(uuid)
    if run.kind in PIPELINE_KINDS:
        err_console.print(
            f"a {run.kind} pipeline has no logs of its own: its runs do. List them with "
            f"`mizzen ops ls -q pipeline:{uuid}`, then `mizzen ops logs RUN`."
        )


def read_all_logs(client: MizzenClient, uuid: str) -> list[LogLine]:
    """Every line stored so far, read page by page."""
    lines: list[LogLine] = []
    offset = 0
    while True:
        chunk = client.logs.get(uuid, offset=offset)
        lines.extend(chunk.lines)
        if not chunk.lines or chunk.next_offset <= offset:
            return lines
        offset = chunk.next_offset


def print_log_line(line: LogLine) -> None:
    """``12:03:04 line`` for the main container, ``12:03:04 worker-1 sidecar | line`` for others."""
    from mizzen.cli.output import console

    moment = datetime.fromtimestamp(line.timestamp).strftime("%H:%M:%S")
    source = " ".join(p for p in (line.replica, None if line.container == "main" else line.container) if p)
    if not console.is_terminal:
        sys.stdout.write(f"{moment} {source} | {line.line}\n" if source else f"{moment} {line.line}\n")
        return
    from rich.text import Text

    text = Text(moment + " ", style="dim")
    if source:
        text.append(f"{source} | ", style="cyan")
    text.append(line.line)
    console.print(text, soft_wrap=True)


@ops_app.command("artifacts")
def artifacts(
    run: str | None = run_argument(),
    prefix: str | None = typer.Option(
        None, "--prefix", help="Only the files under this folder (or this file)."
    ),
    download: Path | None = typer.Option(
        None, "--download", "-d", help="Download the files into this folder (keeping their paths)."
    ),
    as_json: bool = json_option(),
) -> None:
    """List a run's artifacts, or download them.

    Example: mizzen ops artifacts 3f2a --prefix outputs --download ./results
    """
    from mizzen.cli.connect import api, load_settings
    from mizzen.cli.output import console, print_json
    from mizzen.cli.runs_resolve import resolve_uuid

    settings = load_settings()
    with api(settings) as client:
        uuid = resolve_uuid(client, run, settings)
        found = client.artifacts.list(uuid, prefix)
        saved = (
            [client.artifacts.download_to(uuid, a.path, download / a.path) for a in found] if download else []
        )
    if as_json:
        records = [a.model_dump(mode="json") for a in found]
        for record, local in zip(records, saved, strict=False):
            record["local_path"] = str(local)
        print_json(records)
        return
    under = f" under '{prefix}'" if prefix else ""
    if not found:
        console.print(f"Run {uuid} has no artifacts{under}.", markup=False, soft_wrap=True)
        return
    from mizzen.cli.ops_views import artifacts_table, size_text

    if download is None:
        console.print(artifacts_table(found))
        return
    total = size_text(sum(a.size for a in found))
    console.print(
        f"Downloaded {len(saved)} files{under} ({total}) to {download}", markup=False, soft_wrap=True
    )


@ops_app.command("sync")
def sync(
    run: str | None = typer.Argument(
        None,
        metavar="RUN",
        help="The run (uuid or prefix) or an offline run's id. Default: the latest run.",
        show_default=False,
    ),
    path: Path | None = typer.Option(
        None, "--path", help="The run's folder holding the .tracking/ journal (its RUN_ARTIFACTS_PATH)."
    ),
    as_json: bool = json_option(),
) -> None:
    """Upload what a run's tracking journal still holds (metrics, outputs, files) to the API.

    Training keeps going when the API cannot be reached; its tracking calls wait in a journal in the
    run's folder. This sends them; running it again sends nothing twice.

    Example: mizzen ops sync --path ~/.mizzen/artifacts/3f2a9c1d0b7e4f...
    """
    from mizzen.cli.connect import api, load_settings
    from mizzen.cli.output import console, print_json
    from mizzen.errors import MizzenError
    from mizzen.tracking.sync import sync_journal

    if run is not None and path is not None:
        raise MizzenError("give either a run or --path, not both")
    settings = load_settings()
    with api(settings) as client:
        target = path if path is not None else journal_folder(client, run, settings)
        report = sync_journal(target, client)
    if as_json:
        print_json(
            {
                "run": report.run_uuid,
                "folder": str(report.run_dir),
                "journals": report.journals,
                "metrics": report.metrics,
                "entries": report.entries,
                "busy": [str(p) for p in report.busy],
            }
        )
        return
    console.print(sync_summary(report), markup=False, soft_wrap=True)


def journal_folder(client: MizzenClient, ref: str | None, settings: Settings) -> Path:
    """Where the journal of ``ref`` is: an offline run's folder under ``$MIZZEN_HOME/tracking``, or
    the run's folder in the local artifacts store."""
    from mizzen.cli.runs_resolve import resolve_uuid
    from mizzen.errors import NotFound
    from mizzen.runtime_env import TRACKING_DIR
    from mizzen.tracking.sync import find_run_dir

    if ref is not None:
        try:
            return find_run_dir(ref)  # an offline run's id, or a uuid it was created with
        except NotFound:
            pass
    uuid = resolve_uuid(client, ref, settings)
    try:
        return find_run_dir(uuid)
    except NotFound:
        pass
    store = settings.resolved_artifacts_store.removeprefix("file://")
    if "://" not in store and (Path(store).expanduser() / uuid / TRACKING_DIR).is_dir():
        return Path(store).expanduser() / uuid
    raise NotFound(
        f"run {uuid} left no tracking journal on this machine; if it ran elsewhere, pass its folder "
        f"with --path (the one holding {TRACKING_DIR}/)"
    )


def sync_summary(report: SyncReport) -> str:
    sent = f"{report.metrics} metric points and {report.entries} other entries"
    lines = [
        f"Run {report.run_uuid}: sent {sent} from {report.journals} journal(s) in {report.run_dir}"
        if report.metrics or report.entries
        else f"Run {report.run_uuid}: nothing to send, the server has everything in {report.run_dir}"
    ]
    lines += [f"skipped {p}: a running process still uploads it itself" for p in report.busy]
    return "\n".join(lines)
