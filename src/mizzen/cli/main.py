"""Entry point of the `mizzen` command: assembles the command groups."""

from __future__ import annotations

import os
import sys

# Plain help: typer's rich help imports markdown and traceback renderers (~50 ms), which would
# double what `mizzen --help` costs. Set only while typer reads it, so jobs never inherit it.
_USER_CHOICE = os.environ.get("TYPER_USE_RICH")
os.environ["TYPER_USE_RICH"] = _USER_CHOICE or "0"
import typer  # noqa: E402

if _USER_CHOICE is None:
    del os.environ["TYPER_USE_RICH"]

from mizzen import __version__  # noqa: E402

app = typer.Typer(
    name="mizzen",
    help="Run machine-learning workloads from polyaxonfiles, on this machine or on Kubernetes.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mizzen {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Run machine-learning workloads from polyaxonfiles, on this machine or on Kubernetes."""


def _register() -> None:
    # Each module adds its commands to `app`; none of them imports anything heavy at import time.
    from mizzen.cli import (  # noqa: F401
        agent,
        check,
        config,
        init,
        ops,
        ops_act,
        ops_dashboard,
        ops_files,
        ops_flow,
        project,
        render,
        run,
        server,
        sidecar,
    )


def main() -> None:
    from mizzen.cli.errors import run_app

    _register()
    sys.exit(run_app(app))
