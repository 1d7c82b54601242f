"""`mizzen sidecar`: the container next to a run's main container that archives its outputs to the
artifacts store and flushes its tracking journal, every ``--poll-interval`` seconds and once more at
the end (see ``mizzen.render.k8s.sidecar`` for the contract).

It ends on SIGTERM (a native sidecar: the kubelet stops it once the main containers are done) or,
with ``--wait-main``, by itself once the main container has terminated.
"""

from __future__ import annotations

from pathlib import Path

import typer

from mizzen.cli.main import app
from mizzen.runtime_env import ARTIFACTS_STORE as STORE_ENV


@app.command("sidecar", hidden=True)
def sidecar_command(
    run_uuid: str = typer.Option(..., "--run-uuid", help="The run whose outputs to archive."),
    artifacts_path: Path = typer.Option(..., "--artifacts-path", help="The run's folder in this pod."),
    poll_interval: float = typer.Option(10.0, "--poll-interval", min=0.1, help="Seconds between rounds."),
    main_container: str = typer.Option(..., "--main-container", help="The container to wait for."),
    store: str | None = typer.Option(None, "--store", help=f"The artifacts store. Default: ${STORE_ENV}."),
    no_logs: bool = typer.Option(False, "--no-logs", help="Do not keep the main container's log."),
    no_outputs: bool = typer.Option(False, "--no-outputs", help="Do not archive the run's files."),
    wait_main: bool = typer.Option(False, "--wait-main", help="Exit once the main container has ended."),
) -> None:
    """Archive a run's outputs and flush its tracking journal (Mizzen's sidecar container)."""
    import logging
    import os
    import signal
    import sys

    from mizzen.cli.init_runner import open_store
    from mizzen.cli.sidecar_sync import Sidecar, SidecarOptions

    env = dict(os.environ)
    store_url = store or env.get(STORE_ENV) or ""
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(asctime)s sidecar: %(message)s")
    if not store_url and not no_outputs:
        # Crashing would restart a native sidecar forever: keep flushing the journal instead.
        logging.getLogger("mizzen.sidecar").warning(
            "no artifacts store (--store URL or %s): the run's files are not archived", STORE_ENV
        )
        no_outputs = True
    options = SidecarOptions(
        run_uuid=run_uuid,
        artifacts_path=artifacts_path,
        poll_interval=poll_interval,
        main_container=main_container,
        logs=not no_logs,
        outputs=not no_outputs,
        wait_main=wait_main,
    )
    sidecar = Sidecar(options, open_store(store_url, env) if store_url else None, env)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: sidecar.stopped.set())
    logging.getLogger("mizzen.sidecar").info(
        "archiving %s of run %s to %s every %gs", artifacts_path, run_uuid, store_url, poll_interval
    )
    raise typer.Exit(sidecar.run())
