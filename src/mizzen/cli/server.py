"""`mizzen server`: the API and the local executor as a long-running process; `mizzen ui`: the same,
on 127.0.0.1, with the web UI opened in a browser."""

from __future__ import annotations

from collections.abc import Callable

import typer

from mizzen.cli.main import app


@app.command("server")
def server_command(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (0.0.0.0: every interface)."),
    port: int = typer.Option(8000, "--port", help="Port to listen on."),
    log_level: str = typer.Option("info", "--log-level", help="uvicorn log level: warning, info, debug."),
    insecure: bool = typer.Option(
        False,
        "--insecure",
        help="Listen beyond 127.0.0.1 without MIZZEN_TOKEN (only behind a proxy that authenticates).",
    ),
) -> None:
    """Serve the Mizzen API (and run jobs on this machine, unless MIZZEN_EXECUTOR=kubernetes).

    Commands on this machine with the same MIZZEN_HOME use it by themselves (faster: no API to
    start each time). From elsewhere, point the CLI and the tracking client at it with
    MIZZEN_HOST=http://HOST:PORT or `mizzen config set host http://HOST:PORT`.

    Listening beyond 127.0.0.1 needs a token (MIZZEN_TOKEN, which clients send too) or --insecure.
    The web UI is served at / (docs/ui.md).
    """
    serve(host, port, log_level, insecure)


def serve(
    host: str, port: int, log_level: str, insecure: bool, on_ready: Callable[[str], None] | None = None
) -> None:
    """Serve until Ctrl-C or SIGTERM; ``on_ready(url)`` once the server answers."""
    import signal

    from mizzen.cli.connect import announce_server, load_settings
    from mizzen.cli.output import console
    from mizzen.server.embedded import EmbeddedServer
    from mizzen.server.exposure import check_exposure

    settings = load_settings()
    check_exposure(host, settings.token, insecure)
    server = EmbeddedServer(
        settings,
        host=host,
        port=port,
        run_executor=True,
        drive_pipelines=True,
        adopt_pipelines=True,
        log_level=log_level,
    )
    url = server.start()
    announced = announce_server(settings.home, url)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    executor = (
        f"local executor, {settings.max_concurrency} runs at once"
        if server.run_executor
        else f"runs go to the '{settings.executor}' executor (agents)"
    )
    console.print(f"Mizzen API on [bold]{url}[/bold] (docs: {url}/docs) · {executor}")
    database = settings.resolved_database_url.split("@")[-1]  # never print a password
    console.print(f"store: {database} · artifacts: {settings.resolved_artifacts_store}")
    console.print("Ctrl-C to stop; runs still going are stopped first.")
    if on_ready is not None:
        on_ready(url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        console.print("stopping...")
        server.close()
    finally:
        announced.unlink(missing_ok=True)


@app.command("ui")
def ui_command(
    port: int = typer.Option(8000, "--port", help="Port to listen on (127.0.0.1 only)."),
    no_browser: bool = typer.Option(False, "--no-browser", help="Print the URL; do not open a browser."),
) -> None:
    """Open the web UI: serves the API and the UI on 127.0.0.1 (and runs jobs, like `mizzen server`).

    When a `mizzen server` of this MIZZEN_HOME already runs, or MIZZEN_HOST names one, its UI is
    opened instead of starting another.
    """
    from mizzen.cli.connect import load_settings, server_url
    from mizzen.cli.output import console
    from mizzen.cli.ui_links import open_in_browser

    settings = load_settings()
    running = server_url(settings)

    def ready(url: str) -> None:
        console.print(f"Mizzen UI: [bold]{url}/[/bold]", soft_wrap=True)
        if settings.token:
            console.print("this server has a token: log in with MIZZEN_TOKEN")
        if not no_browser:
            open_in_browser(f"{url}/")

    if running:
        ready(running.rstrip("/"))
        return
    serve("127.0.0.1", port, "warning", insecure=False, on_ready=ready)
