"""`mizzen project create | ls | get | delete`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from mizzen.cli.main import app

if TYPE_CHECKING:
    from pydantic import ValidationError

project_app = typer.Typer(
    name="project", help="Create, list, inspect and delete projects.", no_args_is_help=True
)
app.add_typer(project_app, name="project")

JSON_HELP = "Print JSON for scripts instead of a table."
RECENT_RUNS = 5


@project_app.command("create")
def create_project(
    name: str = typer.Argument(..., help="lowercase letters, digits, '-', '_' and '.'"),
    description: str | None = typer.Option(None, "--description", "-d", help="What the project is for."),
    tags: list[str] | None = typer.Option(None, "--tag", "-t", help="A tag (repeatable)."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Create a project (runs create theirs when it does not exist; this sets a description).

    Example: mizzen project create mnist -d "digits, small CNNs"
    """
    from pydantic import ValidationError

    from mizzen.cli.connect import api
    from mizzen.cli.output import console, print_json
    from mizzen.errors import MizzenError

    with api() as client:
        try:
            created = client.projects.create(name, description, tags)
        except ValidationError as error:  # checked by the client before sending
            raise MizzenError(_invalid_project(name, error)) from None
    if as_json:
        print_json(created)
    else:
        console.print(f"Created project [bold]{created.name}[/bold].", soft_wrap=True)


def _invalid_project(name: str, error: ValidationError) -> str:
    fields = {str(e["loc"][0]) for e in error.errors() if e["loc"]}
    if "name" in fields:
        return (
            f"'{name}' is not a valid project name: lowercase letters, digits, '-', '_' and '.', "
            "starting and ending with a letter or digit (at most 128 characters)"
        )
    return f"invalid project: {error}"


@project_app.command("ls")
def list_projects(as_json: bool = typer.Option(False, "--json", help=JSON_HELP)) -> None:
    """List projects with how many runs each has.

    Example: mizzen project ls --json
    """
    from mizzen.cli.connect import api
    from mizzen.cli.output import console, print_json, when

    with api() as client:
        projects = client.projects.list()
    if as_json:
        print_json(projects)
        return
    if not projects:
        console.print(
            "No projects yet: `mizzen run -f FILE` creates one, or `mizzen project create NAME`.",
            soft_wrap=True,
        )
        return
    from rich.table import Table
    from rich.text import Text

    table = Table(header_style="bold", box=None, pad_edge=False)
    for column in ("name", "runs", "created", "description"):
        table.add_column(column, overflow="fold")
    for project in projects:
        table.add_row(
            Text(project.name),
            str(project.runs_count),
            when(project.created_at),
            Text(project.description or ""),
        )
    console.print(table)


@project_app.command("get")
def get_project(
    name: str = typer.Argument(..., help="The project's name."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Show a project and its latest runs.

    Example: mizzen project get mnist
    """
    from mizzen.cli.connect import api
    from mizzen.cli.output import console, print_json, when

    with api() as client:
        project = client.projects.get(name)
        recent = (
            client.runs.list(project=name, sort="-created_at", limit=RECENT_RUNS) if not as_json else None
        )
    if as_json:
        print_json(project)
        return
    from rich.text import Text

    console.print(Text(project.name, style="bold"))
    console.print(Text(f"  uuid         {project.uuid}"))
    if project.description:
        console.print(Text(f"  description  {project.description}"))
    if project.tags:
        console.print(Text(f"  tags         {', '.join(project.tags)}"))
    console.print(Text(f"  created      {when(project.created_at)}"))
    console.print(Text(f"  runs         {project.runs_count}"))
    if recent is not None and recent.items:
        from mizzen.cli.ops_views import runs_table

        console.print()
        console.print(runs_table(recent.items, [], show_project=False))


@project_app.command("delete")
def delete_project(
    name: str = typer.Argument(..., help="The project's name."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Delete a project with all its runs, their metrics, logs and artifacts. Asks first unless --yes.

    Example: mizzen project delete scratch --yes
    """
    from mizzen.cli.confirm import confirm_or_refuse
    from mizzen.cli.connect import api
    from mizzen.cli.output import console

    with api() as client:
        project = client.projects.get(name)
        confirm_or_refuse(
            f"Delete project '{project.name}' and its {project.runs_count} run(s), with their artifacts?",
            yes=yes,
            action="deleting the project",
        )
        client.projects.delete(project.name)
    console.print(
        f"Deleted project {project.name} ({project.runs_count} run(s)).", markup=False, soft_wrap=True
    )
