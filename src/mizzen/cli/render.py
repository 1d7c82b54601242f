"""`mizzen render`: print the Kubernetes manifests a polyaxonfile would become, like `helm template`,
so that they can be read, diffed and checked before anything is submitted."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer

from mizzen.cli.main import app
from mizzen.errors import MizzenError


class Target(StrEnum):
    kubernetes = "kubernetes"


class Format(StrEnum):
    yaml = "yaml"
    json = "json"


@app.command("render")
def render_command(
    files: list[Path] = typer.Option(
        ...,
        "-f",
        "--file",
        metavar="FILE",
        help="The polyaxonfile; repeat -f to lay presets/overlays over it, in order.",
    ),
    params: list[str] = typer.Option(
        None, "-P", "--param", metavar="NAME=VALUE", help="An input value, name=value (repeatable)."
    ),
    target: Target = typer.Option(Target.kubernetes, "--target", help="What to render for."),
    namespace: str = typer.Option("default", "--namespace", "-n", help="The namespace of the objects."),
    output: Format = typer.Option(Format.yaml, "--output", "-o", help="yaml (documents) or json (a List)."),
    trials: int = typer.Option(3, "--trials", min=1, max=1000, help="Trials of a matrix to show."),
    project: str | None = typer.Option(None, "--project", "-p", help="Project (default: settings)."),
    connections: Path | None = typer.Option(
        None,
        "--connections",
        metavar="FILE",
        help="The connections catalog to render with (default: $MIZZEN_HOME/connections.yaml).",
    ),
) -> None:
    """Print the Kubernetes objects of each run the polyaxonfile makes (nothing is submitted).

    A dag shows each op's objects in topological order, upstream values as placeholders; a matrix
    its first trials with their params; a scheduled run one of its runs. A connection that is not
    in the catalog is rendered as a <placeholder>, with a warning on stderr.

    Example: mizzen render -f train.yaml -P lr=0.01 | kubectl apply --dry-run=server -f -
    """
    import json
    import os

    import yaml

    from mizzen.cli.check import parse_params
    from mizzen.cli.connect import load_settings
    from mizzen.cli.render_runs import KubernetesRender
    from mizzen.connections_catalog import load_connections

    for file in [*files, *([connections] if connections else [])]:
        if not file.is_file():
            raise MizzenError(f"{file}: no such file")
    settings = load_settings()
    catalog = load_connections(connections) if connections else None
    renderer = KubernetesRender(settings, os.environ, namespace, catalog)
    runs = renderer.render(files, parse_params(params), project or settings.project, trials)
    for warning in renderer.warnings:
        typer.echo(warning, err=True)
    if output is Format.json:
        items = [obj for run in runs for obj in run.objects]
        typer.echo(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}, indent=2))
        return
    parts = [f"# {note}" for note in renderer.notes]
    for run in runs:
        parts.append("---")
        parts += [f"# {line}" for line in run.comments]
        for index, obj in enumerate(run.objects):
            if index:
                parts.append("---")
            parts.append(yaml.safe_dump(obj, sort_keys=False, default_flow_style=False).rstrip())
    typer.echo("\n".join(parts))
