"""`mizzen agent`: run the API's runs on a Kubernetes namespace; `mizzen agent ls`: list agents.

The agent process itself is ``mizzen.agent.process.Agent`` (imported when the command runs: the
kubernetes client and the scheduler stay out of `mizzen --help`).
"""

from __future__ import annotations

import typer

from mizzen.cli.main import app
from mizzen.errors import MizzenError

agent_app = typer.Typer(
    name="agent",
    help=(
        "Run the API's runs on a Kubernetes namespace (`mizzen agent --namespace NS`), or list agents. "
        "Needs the Kubernetes client: pip install 'mizzen[kubernetes]'."
    ),
    rich_markup_mode="rich",
    invoke_without_command=True,
)
app.add_typer(agent_app, name="agent")


@agent_app.callback()
def agent_command(
    ctx: typer.Context,
    namespace: str | None = typer.Option(None, "--namespace", "-n", help="The namespace runs go to."),
    kubeconfig: str | None = typer.Option(
        None, "--kubeconfig", help="A kubeconfig (default ~/.kube/config)."
    ),
    kube_context: str | None = typer.Option(None, "--context", help="The kubeconfig context to use."),
    in_cluster: bool = typer.Option(False, "--in-cluster", help="Use the pod's service account."),
    queue: str | None = typer.Option(None, "--queue", "-q", help="Only runs of this queue (default: all)."),
    name: str | None = typer.Option(None, "--name", help="The agent's name (default: NAMESPACE[-QUEUE])."),
    host: str | None = typer.Option(None, "--host", help="The Mizzen API (default: MIZZEN_HOST)."),
) -> None:
    """Claim created runs from the API and run them on Kubernetes until SIGTERM or Ctrl-C.

    Runs keep going in the cluster when the agent stops; an agent with the same name adopts them
    when it starts again (nothing is created twice).
    """
    if ctx.invoked_subcommand is not None:
        return
    if not namespace:
        raise MizzenError("mizzen agent needs --namespace NAMESPACE (where runs go)")
    if kubeconfig and in_cluster:
        raise MizzenError("--kubeconfig and --in-cluster exclude each other: give one")
    _run_agent(namespace, kubeconfig, kube_context, in_cluster, queue, name, host)


def _run_agent(
    namespace: str,
    kubeconfig: str | None,
    kube_context: str | None,
    in_cluster: bool,
    queue: str | None,
    name: str | None,
    host: str | None,
) -> None:
    import logging
    import os
    import signal
    import sys

    from mizzen.agent.options import RUNS_API_HOST_ENV, AgentConfig, default_agent_name
    from mizzen.agent.process import Agent
    from mizzen.cli.connect import load_settings

    settings = load_settings()
    host = host or settings.host
    if not host:
        raise MizzenError("mizzen agent needs the Mizzen API: pass --host URL or set MIZZEN_HOST")
    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request otherwise
    config = AgentConfig(
        name=name or default_agent_name(namespace, queue),
        namespace=namespace,
        host=host,
        token=settings.token,
        queue=queue,
        kubeconfig=kubeconfig,
        kube_context=kube_context,
        in_cluster=in_cluster,
        runs_host=os.environ.get(RUNS_API_HOST_ENV) or None,
    )
    agent = Agent(settings, config)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: agent.stop())
    agent.run()
    logging.getLogger("mizzen.agent").info("agent %s stopped", config.name)


@agent_app.command("token-secret")
def token_secret(
    namespace: str = typer.Option(..., "--namespace", "-n", help="Where the Secret goes."),
    name: str = typer.Option("mizzen-token", "--name", help="The Secret's name."),
    kubeconfig: str | None = typer.Option(
        None, "--kubeconfig", help="A kubeconfig (default ~/.kube/config)."
    ),
    kube_context: str | None = typer.Option(None, "--context", help="The kubeconfig context to use."),
    in_cluster: bool = typer.Option(False, "--in-cluster", help="Use the pod's service account."),
) -> None:
    """Create the Secret holding the server's API token (key `token`, random) unless it exists.

    The kustomize deployment runs it once as a Job; the server and the agent read MIZZEN_TOKEN from
    it. An existing token is kept.
    """
    from mizzen.cli.output import console
    from mizzen.executors.kubernetes.adapter import KubeAdapter
    from mizzen.executors.kubernetes.token_secret import ensure_token_secret

    if kubeconfig and in_cluster:
        raise MizzenError("--kubeconfig and --in-cluster exclude each other: give one")
    adapter = (
        KubeAdapter.in_cluster() if in_cluster else KubeAdapter.from_kubeconfig(kubeconfig, kube_context)
    )
    try:
        created = ensure_token_secret(adapter, namespace, name)
    finally:
        adapter.close()
    what = "created with a new token" if created else "already exists: its token is kept"
    console.print(f"Secret {namespace}/{name} {what}", markup=False)


@agent_app.command("ls")
def list_agents(as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts.")) -> None:
    """List the agents that reported to the API, and whether they are healthy."""
    from rich.table import Table

    from mizzen.cli.connect import api, load_settings
    from mizzen.cli.output import console, print_json, when

    with api(load_settings()) as client:
        agents = client.agents.list()
    if as_json:
        print_json(agents)
        return
    if not agents:
        console.print(
            "No agents have reported yet. Start one with: mizzen agent --namespace NS", markup=False
        )
        return
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    for column in ("name", "namespace", "queue", "version", "last seen", "health", "cannot run"):
        table.add_column(column)
    for agent in agents:
        missing = sorted((agent.capabilities.get("missing_operators") or {}).keys())
        table.add_row(
            agent.name,
            agent.namespace or "-",
            agent.queue or "all",
            agent.version or "-",
            when(agent.last_seen_at),
            "[green]healthy[/green]" if agent.healthy else "[red]not seen lately[/red]",
            ", ".join(missing) or "-",
        )
    console.print(table)
