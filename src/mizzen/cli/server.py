"""`mizzen server`: the API and the local executor as a long-running process."""

from __future__ import annotations

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
    """
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
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        console.print("stopping...")
        server.close()
    finally:
        announced.unlink(missing_ok=True)
