"""`mizzen ops dashboard [RUN]`: the run's page in the web UI (Polyaxon's verb)."""

from __future__ import annotations

import typer

from mizzen.cli.ops import ops_app, run_argument


@ops_app.command("dashboard")
def dashboard(
    run: str | None = run_argument(),
    url_only: bool = typer.Option(False, "--url", help="Print the URL only; do not open a browser."),
) -> None:
    """Print the run's page in the web UI and open it in a browser when there is one.

    The page is served by the server this command talks to (MIZZEN_HOST, or a `mizzen server` of
    this MIZZEN_HOME); without one, start `mizzen ui` and open the printed address.

    Example: mizzen ops dashboard 3f2a
    """
    from mizzen.cli.connect import api, load_settings, server_url
    from mizzen.cli.output import err_console
    from mizzen.cli.runs_resolve import resolve_uuid
    from mizzen.cli.ui_links import DEFAULT_UI, open_in_browser, run_page

    settings = load_settings()
    with api(settings) as client:
        uuid = resolve_uuid(client, run, settings)
    served = server_url(settings)
    url = run_page(served or DEFAULT_UI, uuid)
    print(url, flush=True)
    if served is None:
        err_console.print("no server runs for this MIZZEN_HOME: `mizzen ui` serves this page")
    elif not url_only:
        open_in_browser(url)
