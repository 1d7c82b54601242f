"""The UI's Jinja2 environment: templates from the package, and the filters they use."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from mizzen import __version__
from mizzen.server.ui import auth, views

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
TEMPLATES.env.filters.update(
    tone=views.status_tone,
    duration=views.duration_text,
    ago=views.ago,
    moment=views.moment_text,
    value=views.value_text,
    run_duration=views.run_duration,
)
TEMPLATES.env.globals.update(version=__version__, is_done=views.is_done)


def render(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200, **headers: str
) -> HTMLResponse:
    logged_in = auth.server_token(request) is not None and auth.is_logged_in(request)
    context = {"logout": logged_in, **context}
    response = TEMPLATES.TemplateResponse(request, name, context, status_code=status_code)
    response.headers["Vary"] = "HX-Request"  # a page and its fragment share a URL
    response.headers.update(headers)
    return response


def is_fragment(request: Request) -> bool:
    """An htmx swap asks for a part; a page load, or htmx restoring history, needs the page."""
    return request.headers.get("hx-request") == "true" and "hx-history-restore-request" not in request.headers
