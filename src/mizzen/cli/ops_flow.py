"""`mizzen ops approve | invalidate`: let a run held by `isApproved: false` start; drop a run from
the cache so that no later run reuses its outputs."""

from __future__ import annotations

import typer

from mizzen.cli.ops import ops_app


def _required_run() -> str:
    return typer.Argument(..., metavar="RUN", help="The run: its uuid or a unique prefix (4+ characters).")


@ops_app.command("approve")
def approve_run(run: str = _required_run()) -> None:
    """Approve a run (or a sweep, DAG or schedule) held by `isApproved: false`: it starts.

    Does not ask (nothing is lost). Exit code 0 once approved; 1 when the run is not waiting for
    approval.

    Example: mizzen ops approve 3f2a
    """
    from mizzen.cli.connect import api, load_settings, server_url
    from mizzen.cli.output import console, styled_status
    from mizzen.cli.runs_resolve import resolve_uuid

    settings = load_settings()
    with api(settings) as client:
        uuid = resolve_uuid(client, run, settings)
        read = client.flow.approve(uuid)
    console.print(
        f"Approved run {read.uuid} ({styled_status(read.status.value)}): it may start now.", soft_wrap=True
    )
    if server_url(settings) is None:
        console.print(
            "A `mizzen run` still watching it starts it; otherwise it starts with the next Mizzen process "
            "that runs jobs here (`mizzen server`).",
            soft_wrap=True,
        )


@ops_app.command("invalidate")
def invalidate_run(
    run: str = _required_run(),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Drop a run from the cache: later runs with the same `cache:` key run again instead of reusing
    its outputs. For a sweep or a DAG, its runs are dropped too.

    Asks first unless --yes/-y. Exit code 0 once dropped; 1 when refused, cancelled, or when
    nothing of it was in the cache.

    Example: mizzen ops invalidate 3f2a --yes
    """
    from mizzen.cli.confirm import confirm_or_refuse
    from mizzen.cli.connect import api, load_settings
    from mizzen.cli.output import console
    from mizzen.cli.runs_resolve import describe, resolve_ref
    from mizzen.errors import MizzenError
    from mizzen.schemas.pipelines import PIPELINE_KINDS

    settings = load_settings()
    with api(settings) as client:
        target = resolve_ref(client, run)
        uuid = target.uuid
        runs = " and its runs" if target.kind in PIPELINE_KINDS else ""
        confirm_or_refuse(
            f"Drop run {describe(target)}{runs} from the cache (later identical runs run again)?",
            yes=yes,
            action="invalidating the run",
        )
        answer = client.flow.invalidate(uuid)
    if not answer.dropped:
        raise MizzenError(
            f"run {uuid} is not in the cache (it ran without `cache:`, or was invalidated already): "
            "nothing to invalidate"
        )
    count = len(answer.dropped)
    what = "run" if count == 1 else "runs"
    console.print(
        f"Dropped {count} {what} from the cache: the next identical run runs again.", soft_wrap=True
    )
