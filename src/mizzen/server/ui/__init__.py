"""The web UI: server-rendered pages (Jinja2) made live with htmx, charts drawn by uPlot.

``install_ui(app)`` adds the pages at ``/``, their fragments and actions under ``/ui/``, the login
pages, and the static files (``/static``, vendored libraries included: nothing comes from a CDN).
Design and how to extend it: docs/ui.md.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

from mizzen.server.ui import login, pages, run_parts
from mizzen.server.ui.auth import LoginRequired, login_redirect

STATIC = Path(__file__).resolve().parent.parent / "static"
# Every UI route is in one of these: the protected ones need the login (a router-wide dependency,
# which tests/ui/test_ui_auth.py checks for each route), the open ones are the login itself.
PROTECTED_ROUTERS = (pages.router, run_parts.router)
OPEN_ROUTERS = (login.router,)


def install_ui(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for router in (*OPEN_ROUTERS, *PROTECTED_ROUTERS):
        app.include_router(router)

    async def on_login_required(request: Request, _error: Exception) -> Response:
        return login_redirect(request)

    app.add_exception_handler(LoginRequired, on_login_required)
