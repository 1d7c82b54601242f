"""`mizzen ops`: look at runs — list, get, statuses, metrics.

The commands that act on runs live in ``ops_act`` (stop, restart, resume, copy, delete) and
``ops_files`` (logs, artifacts, sync); all of them hang off ``ops_app``. A RUN argument is a uuid,
a unique prefix of one (4+ characters), or nothing for the latest run (see ``runs_resolve``).
Only typer and the standard library are imported here at module level: `mizzen --help` stays fast.
"""

from __future__ import annotations

import typer

from mizzen.cli.main import app

ops_app = typer.Typer(
    name="ops",
    help=(
        "List, inspect, follow, stop, restart and delete runs.\n\n"
        "The commands that end or drop something (stop, delete, invalidate) ask first, unless "
        "--yes/-y; without a terminal to ask on they refuse. Every command exits 0 when it did what it "
        "was asked, and 1 with a message saying why when it did nothing (refused, cancelled, or nothing "
        "to do: a finished run to stop, a run not in the cache to invalidate, a run not waiting for "
        "approval). approve and restart never ask: nothing is lost."
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
)
app.add_typer(ops_app, name="ops")

RUN_HELP = "The run: its uuid or a unique prefix (4+ characters). Default: the latest run."
JSON_HELP = "Print JSON for scripts instead of a table."
MAX_METRIC_COLUMNS = 3


def run_argument() -> str | None:
    return typer.Argument(None, metavar="RUN", help=RUN_HELP, show_default=False)


def json_option() -> bool:
    return typer.Option(False, "--json", help=JSON_HELP)


@ops_app.command("ls")
def list_runs(
    project: str | None = typer.Option(
        None, "--project", "-p", help="Only this project's runs. Default: the configured project, or all."
    ),
    query: str | None = typer.Option(
        None, "--query", "-q", help="Filter, e.g. 'status:running|failed,metrics.loss:<0.5,tags:best'."
    ),
    sort: str | None = typer.Option(
        None, "--sort", "-s", help="Order, e.g. 'metrics.loss', '-duration', 'name'. Default: newest first."
    ),
    limit: int = typer.Option(20, "--limit", "-l", min=1, max=10_000, help="How many runs to show."),
    offset: int = typer.Option(0, "--offset", min=0, help="Skip this many runs first (paging)."),
    as_json: bool = json_option(),
) -> None:
    """List runs in a table, newest first.

    Filtering or sorting by a metric adds a column with its last value. A pipeline's runs:
    -q "pipeline:UUID" (or pipeline_uuid:), UUID being the pipeline's uuid or a unique prefix.

    Example: mizzen ops ls -q "status:succeeded,metrics.loss:<0.5" -s metrics.loss -l 5
    """
    from mizzen.cli.connect import api, load_settings
    from mizzen.cli.output import console, print_json
    from mizzen.cli.runs_resolve import current_project, resolve_pipeline_terms

    settings = load_settings()
    project = project or current_project(settings)
    metric_names = metric_columns(query, sort)
    with api(settings) as client:
        query = resolve_pipeline_terms(client, query)
        page = client.runs.list(
            project=project, query=query, sort=sort or "-created_at", limit=limit, offset=offset
        )
        if metric_names:
            for run in page.items:
                run.metrics = client.metrics.summaries(run.uuid)
    if as_json:
        print_json(page.items)
        return
    if not page.items:
        scope = f" in project '{project}'" if project else ""
        matching = f" matching '{query}'" if query else ""
        past = f" after the first {offset}" if offset and page.count else ""
        console.print(f"No runs{scope}{matching}{past}.", markup=False, soft_wrap=True)
        return
    from mizzen.cli.ops_views import runs_table

    console.print(runs_table(page.items, metric_names, show_project=project is None))
    shown_to = offset + len(page.items)
    if page.count > shown_to or offset:
        console.print(
            f"[dim]Runs {offset + 1}-{shown_to} of {page.count}; --offset {shown_to} for more.[/dim]"
            if page.count > shown_to
            else f"[dim]Runs {offset + 1}-{shown_to} of {page.count}.[/dim]"
        )


def metric_columns(query: str | None, sort: str | None) -> list[str]:
    """The metrics a query filters on or a sort orders by, in order of appearance (at most 3)."""
    names: list[str] = []
    fields = [term.split(":", 1)[0] for term in (query or "").split(",")]
    fields += [term.strip().lstrip("+-") for term in (sort or "").split(",")]
    for field in (f.strip() for f in fields):
        if field.startswith("metrics.") and len(field) > len("metrics."):
            name = field.removeprefix("metrics.")
            if name not in names:
                names.append(name)
    return names[:MAX_METRIC_COLUMNS]


@ops_app.command("get")
def get_run(
    run: str | None = run_argument(),
    as_json: bool = json_option(),
    metric: str | None = typer.Option(
        None, "--metric", "-m", help="A sweep: rank its trials by this metric (default: the sweep's own)."
    ),
    maximize: bool = typer.Option(False, "--maximize", help="With --metric: the higher the better."),
) -> None:
    """Show a run: its status, params, inputs, outputs, metric summaries and status history.

    A sweep also shows its trials, best first, and names the best; a DAG its ops with their statuses.

    Example: mizzen ops get 3f2a --json
    """
    from mizzen.cli.connect import api, load_settings
    from mizzen.cli.output import print_json
    from mizzen.cli.runs_resolve import resolve_uuid

    settings = load_settings()
    with api(settings) as client:
        read = client.runs.get(resolve_uuid(client, run, settings))
        from mizzen.schemas.pipelines import PIPELINE_KINDS

        if read.kind in PIPELINE_KINDS:
            from mizzen.cli.ops_pipelines import show_pipeline

            show_pipeline(client, read, metric=metric, maximize=maximize, as_json=as_json)
            return
    if as_json:
        print_json(read)
        return
    from mizzen.cli.ops_views import show_run

    show_run(read)


@ops_app.command("statuses")
def list_statuses(run: str | None = run_argument(), as_json: bool = json_option()) -> None:
    """Show the status history of a run, with the reason and message of each change.

    Example: mizzen ops statuses 3f2a
    """
    from mizzen.cli.connect import api, load_settings
    from mizzen.cli.output import console, print_json
    from mizzen.cli.runs_resolve import resolve_uuid

    settings = load_settings()
    with api(settings) as client:
        conditions = client.statuses.list(resolve_uuid(client, run, settings))
    if as_json:
        print_json(conditions)
        return
    from mizzen.cli.ops_views import conditions_table

    console.print(conditions_table(conditions))


@ops_app.command("metrics")
def show_metrics(
    run: str | None = run_argument(),
    name: str | None = typer.Argument(
        None, help="A metric: print its history. Default: a summary of every metric.", show_default=False
    ),
    max_points: int | None = typer.Option(
        None, "--max-points", min=2, help="Downsample a history to about this many points."
    ),
    as_json: bool = json_option(),
) -> None:
    """Show a run's metrics: last/min/max of each, or the history of one.

    Example: mizzen ops metrics 3f2a loss --max-points 20
    """
    from mizzen.cli.connect import api, load_settings
    from mizzen.cli.output import console, print_json
    from mizzen.cli.runs_resolve import resolve_uuid

    settings = load_settings()
    with api(settings) as client:
        uuid = resolve_uuid(client, run, settings)
        if name is None:
            summaries = client.metrics.summaries(uuid)
        else:
            history = client.metrics.history(uuid, name, max_points=max_points)
    from mizzen.cli.ops_views import history_table, summaries_table

    if name is None:
        if as_json:
            print_json(summaries)
        elif summaries:
            console.print(summaries_table(summaries))
        else:
            console.print(f"Run {uuid} has no metrics yet.", soft_wrap=True)
        return
    if as_json:
        print_json(history)
    elif history.values:
        console.print(history_table(history))
    else:
        console.print(f"Run {uuid} has no points for metric '{name}'.", markup=False, soft_wrap=True)
